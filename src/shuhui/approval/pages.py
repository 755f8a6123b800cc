"""The service hall (网上办事大厅), the applicant's side of smart approval: find an item (search in
Chinese or pinyin, domains and their scenarios), read its guide (办事指南), apply (the draft comes
pre-filled), complete the form with each value's source shown, upload materials and see the
pre-check at once, submit, follow the case, download the e-licence, withdraw, rate.

Visitors browse the hall and the guides; applying and everything about a case needs a citizen
or enterprise account (an agent is a citizen acting for someone else under a mandate). A case
is shown only to its parties (applicant, agent, the account that made it); anyone else is told
it does not exist. The officers' side is ``officer_pages``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.approval import diagram, process
from shuhui.approval.items import Catalogue, Scenario, ServiceItem
from shuhui.core.clock import local_today
from shuhui.core.display import yuan
from shuhui.core.errors import Problem
from shuhui.core.http import render
from shuhui.trust.identity.deps import DB, OptionalUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

pages = APIRouter(include_in_schema=False)

QUERY_MAX = 100


def catalogue_of(request: Request) -> Catalogue:
    found: Catalogue = request.app.state.approval_catalogue
    return found


def is_applicant(user: User | None) -> bool:
    """Whether the account applies for itself or as an agent: a citizen or an enterprise."""
    return user is not None and bool(user.role_set & {Role.citizen, Role.enterprise})


# --- the hall ------------------------------------------------------------------------------------


def item_view(catalogue: Catalogue, item: ServiceItem) -> dict[str, Any]:
    """An item as the hall lists it, with its badges: 零提交, 即办, 可委托."""
    return {
        "item": item,
        "zero": item.zero_submission,
        "instant": item.process == "approval-instant",
        "delegable": item.delegable,
        "scenario": catalogue.scenarios.get(item.scenario) if item.scenario else None,
    }


def _scenario_counts(catalogue: Catalogue, scenarios: list[Scenario]) -> dict[str, int]:
    today = local_today()
    return {s.code: len(catalogue.of_scenario(s.code, today)) for s in scenarios}


@pages.get("/approval", response_class=HTMLResponse)
def hall(
    request: Request, user: OptionalUser, q: str = "", scenario: str = "", domain: str = ""
) -> Response:
    catalogue = catalogue_of(request)
    today = local_today()
    query = q.strip()[:QUERY_MAX]
    chosen = catalogue.scenarios.get(scenario[:64])
    chosen_domain = catalogue.domains.get(domain[:64])
    if query:
        found = catalogue.search(query, today)
    elif chosen is not None:
        found = catalogue.of_scenario(chosen.code, today)
    elif chosen_domain is not None:
        found = [i for i in catalogue.in_force(today) if i.domain == chosen_domain.code]
    else:
        found = []
    by_domain = [
        (d, [s for s in catalogue.scenarios.values() if s.domain == d.code])
        for d in catalogue.domains.values()
    ]
    in_force = catalogue.in_force(today)
    return render(
        request,
        "approval_hall.html",
        {
            "q": query,
            "scenario": chosen,
            "domain": chosen_domain,
            "by_domain": by_domain,
            "counts": _scenario_counts(catalogue, list(catalogue.scenarios.values())),
            "found": [item_view(catalogue, i) for i in found],
            "listed": bool(query or chosen or chosen_domain),
            "totals": {
                "items": len(in_force),
                "scenarios": len(catalogue.scenarios),
                "domains": len(catalogue.domains),
                "zero": sum(1 for i in in_force if i.zero_submission),
            },
            "applicant": is_applicant(user),
        },
    )


# --- the guide (办事指南) --------------------------------------------------------------------


def _item_or_404(catalogue: Catalogue, code: str) -> ServiceItem:
    item = catalogue.get(code[:64])
    if item is None or not item.in_force(local_today()):
        raise Problem("not-found", detail=f"没有找到事项 {code[:64]}")
    return item


def process_svg(request: Request, item: ServiceItem, current: set[str], done: set[str]) -> str:
    """The item's process drawn from its BPMN file (safe markup: every name is escaped)."""
    path = process.process_path(item.process, request.app.state.settings.city_content)
    try:
        return diagram.render_svg(path, current=current, done=done)
    except (diagram.DiagramError, OSError):
        return ""


def guide_context(request: Request, item: ServiceItem) -> dict[str, Any]:
    catalogue = catalogue_of(request)
    domain = catalogue.domains.get(item.domain)
    return {
        "v": item_view(catalogue, item),
        "item": item,
        "domain": domain,
        "fee": yuan(item.fee_fen) if item.fee_fen else None,
        "diagram": process_svg(request, item, set(), set()),
        "waivable": sum(1 for m in item.materials if m.replaced_by),
    }


def _guide(
    request: Request,
    db: Session,
    user: User | None,
    item: ServiceItem,
    *,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    context = guide_context(request, item)
    context.update(
        {
            "applicant": is_applicant(user),
            "may_delegate": item.delegable
            and user is not None
            and user.citizen_id is not None
            and Role.citizen in user.role_set,
            "typed": typed or {},
            **shown(refusal, "apply", {"principal": ("被代理人证件号码", "Principal's ID")}),
        }
    )
    return render(
        request,
        "approval_item.html",
        context,
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/approval/items/{code}", response_class=HTMLResponse)
def guide(request: Request, db: DB, user: OptionalUser, code: str) -> Response:
    item = _item_or_404(catalogue_of(request), code)
    return _guide(request, db, user, item)


# --- shared ------------------------------------------------------------------------------------


def shown(
    refusal: Problem | None, failed: str, labels: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """A refusal as the hall's pages show it: the summary naming each field by its label (with a
    link to it), and each field's reasons beside it."""
    if refusal is None:
        return {"failed": None, "message": None, "errors": [], "field_errors": {}}
    listed: list[dict[str, Any]] = []
    by_field: dict[str, str] = {}
    for e in refusal.errors:
        zh, en = labels.get(e.field, (e.field, e.field))
        listed.append({"field": e.field, "zh": zh, "en": en, "reason": e.reason})
        by_field[e.field] = f"{by_field[e.field]}；{e.reason}" if e.field in by_field else e.reason
    message = refusal.detail if refusal.slug != "validation" or not refusal.errors else None
    return {"failed": failed, "message": message, "errors": listed, "field_errors": by_field}


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)
