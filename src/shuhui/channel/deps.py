"""What the channel's API routes and its pages both take from a request: the roles they need,
the city's channel configuration, the consumer organisation an account acts for, and a month
typed as YYYY-MM."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from shuhui.channel.city import CityChannel
from shuhui.channel.engine import Engine
from shuhui.channel.models import Consumer
from shuhui.channel.onboarding import consumer_by_code
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

ConsumerUser = Annotated[User, Depends(require_role(Role.consumer))]
Bureau = Annotated[User, Depends(require_role(Role.data_operator))]
Reviewer = Annotated[User, Depends(require_role(Role.data_operator, Role.officer))]


def city_of(request: Request) -> CityChannel:
    """The city's channel as its content configures it (zones, departments, content
    products); :func:`city_now` when hosted products matter."""
    found: CityChannel = request.app.state.city_channel
    return found


def city_now(request: Request, db: Session) -> CityChannel:
    """The city's channel with the hosted products as the request's transaction sees them:
    what anything naming, pricing or reviewing products reads them from."""
    return city_of(request).current(db)


def engine_of(app: FastAPI) -> Engine:
    found: Engine = app.state.channel_engine
    return found


def consumer_of(db: Session, user: User) -> Consumer:
    """The organisation a consumer account acts for (registered once, by its credit code)."""
    if not user.credit_code:
        raise Problem("forbidden", detail="该账户未绑定机构统一社会信用代码")
    consumer = consumer_by_code(db, user.credit_code)
    if consumer is None:
        raise Problem("not-found", detail="本机构尚未登记为数据使用方，请先登记")
    return consumer


def parse_month(month: str) -> date:
    try:
        parsed = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise invalid("month", Text("应写成“年-月”，如 2024-05", "YYYY-MM")) from None
    return parsed
