"""Smart approval over HTTP (``/api/v1/approval/…``): for now the pre-filled form of a service
item, for the applicant or, under a mandate, for someone else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from shuhui.approval import prefill as prefilling
from shuhui.approval.items import ServiceItem, load_catalogue
from shuhui.approval.lookups import lookups_for
from shuhui.approval.schemas import PrefilledFormOut
from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/approval", tags=["smart approval (智审慧办)"])

Applicant = Annotated[User, Depends(require_role(Role.citizen, Role.enterprise))]
ItemCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
ApplicantId = Annotated[
    str | None,
    Query(
        min_length=18,
        max_length=18,
        description="apply for this citizen ID or credit code (an agent, under their mandate)",
    ),
]


def find_item(request: Request) -> Callable[[str], ServiceItem | None]:
    """How a route finds a service item by code: the city's catalogue (tests bind their own)."""
    return load_catalogue(request.app.state.settings.city_content).get


Items = Annotated[Callable[[str], ServiceItem | None], Depends(find_item)]


def item_in_force(items: Callable[[str], ServiceItem | None], code: str, on: date) -> ServiceItem:
    item = items(code)
    if item is None or not item.in_force(on):
        raise Problem(
            "not-found",
            detail=f"没有正在办理的事项 {code}",
            errors=[
                FieldError("code", Text("没有这个事项，或已停止办理", "no such item in force"))
            ],
        )
    return item


def _answer(request: Request, problem: Problem) -> JSONResponse:
    """A refusal the service has recorded in the ledger, answered rather than raised: a
    handler that returns commits the request's transaction, one that raises rolls it back."""
    return JSONResponse(
        problem.body(
            instance=request.url.path, request_id=getattr(request.state, "request_id", None)
        ),
        status_code=problem.http_status,
        media_type="application/problem+json",
    )


@api.get(
    "/items/{code}/form",
    response_model=PrefilledFormOut,
    summary="The item's form pre-filled for the applicant (身份自动填 / 历史选择填 / 共享系统填)",
    responses={403: {"description": "no mandate covers applying for this applicant"}},
)
def prefilled_form(
    request: Request,
    db: DB,
    user: Applicant,
    items: Items,
    code: ItemCode,
    applicant: ApplicantId = None,
) -> PrefilledFormOut | JSONResponse:
    """Each field with its value and source (table, version, key masked, time read), the
    materials e-certificates waive, and what could not be used. Reading the data is recorded in
    the ledger (the applicant sees it at 谁用了我的数据); so is an agent's use of a mandate, or
    its refusal (403 ``mandate-refused``)."""
    item = item_in_force(items, code, local_today())
    datacore: DataCore = request.app.state.datacore
    try:
        filled = prefilling.prefill(db, datacore, item, user=user, applicant_id=applicant)
    except Problem as refused:
        if refused.slug != "mandate-refused":
            raise
        return _answer(request, refused)
    return PrefilledFormOut.of(item, filled)


def prepare_later(datacore: DataCore, city_content: FilePath) -> None:
    """At server start: the key indexes every item's form reads, built (or mapped) in the
    background, so the first forms do not wait for them."""
    catalogue = load_catalogue(city_content)
    lookups_for(datacore).prepare_later(prefilling.lookup_needs(catalogue.items.values()))
