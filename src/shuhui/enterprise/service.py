"""What the enterprise platform's routes and pages call: the enterprise a user acts for, its
needs matched and posted. The parts live in modules named for what they hold: ``profile``
(一企一档), ``needs`` (诉求 and their steps), ``matching``, ``platforms`` and ``industry`` (the
bureau's content and figures), ``assessment`` (数字化水平评测), ``custody`` (数据托管)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.approval.lookups import Lookups
from shuhui.core.errors import Problem
from shuhui.enterprise import matching, needs
from shuhui.enterprise.access import CITY, credit_code_of
from shuhui.enterprise.models import Need
from shuhui.enterprise.platforms import PlatformCatalogue
from shuhui.enterprise.profile import ENABLEMENTS, registration_of
from shuhui.enterprise.schemas import NeedIn
from shuhui.programs.service import Library
from shuhui.trust.identity.models import User


def enterprise_of(lookups: Lookups, user: User) -> matching.Enterprise:
    """The enterprise the account acts for, as matching knows it: its industry from the
    register and the platforms' solutions it already uses."""
    code = credit_code_of(user)
    reg = registration_of(lookups, code)
    if reg is None:
        raise Problem("not-found", "数据底座中没有本企业的登记信息，请先到市场监管部门核实登记")
    enabled = lookups.rows(ENABLEMENTS, "credit_code", code)
    solutions, platforms = matching.in_use(enabled.rows if enabled is not None else ())
    return matching.Enterprise(
        credit_code=code,
        industry_code=str(reg["industry_code"]),
        industry_name=str(reg["industry_name"]),
        solutions_in_use=solutions,
        platforms_in_use=platforms,
    )


def enterprise_name(lookups: Lookups, user: User) -> str:
    reg = registration_of(lookups, credit_code_of(user))
    return str(reg["name"]) if reg is not None else user.display_name


def preview(
    lookups: Lookups,
    catalogue: PlatformCatalogue,
    library: Library,
    user: User,
    given: NeedIn,
    *,
    content: Path = CITY,
) -> matching.Matches:
    """What would answer the need, before it is posted (nothing is written)."""
    return matching.match(
        catalogue,
        library,
        lookups,
        given.kind,
        f"{given.title} {given.detail}",
        enterprise_of(lookups, user),
        content=content,
    )


def post_need(
    db: Session,
    lookups: Lookups,
    catalogue: PlatformCatalogue,
    library: Library,
    user: User,
    given: NeedIn,
    *,
    content: Path = CITY,
) -> tuple[Need, matching.Matches]:
    """Matches the need, posts it with what was matched, routed to its department."""
    found = preview(lookups, catalogue, library, user, given, content=content)
    need = needs.post(
        db,
        user,
        credit_code_of(user),
        enterprise_name(lookups, user),
        given,
        matches=found.as_list(),
        content=content,
    )
    return need, found
