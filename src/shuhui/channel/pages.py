"""The data channel's pages for a consumer (数据通道): the console (zones, products,
applications, grants, keys, usage and the month's statement), registration, and the forms that
apply, resubmit and manage keys.

Thin: every decision is the service's, and every form is checked by the model the API checks
its body with. A refused form comes back with the problem's field and reason next to that
field, and the status the API would answer.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from shuhui.channel import asks, billing, grants, keys, onboarding, privacy
from shuhui.channel.city import CityChannel
from shuhui.channel.common import month_of
from shuhui.channel.deps import ConsumerUser, city_now, consumer_of, engine_of, parse_month
from shuhui.channel.engine import ProductUnavailable
from shuhui.channel.models import CONSUMER_TYPES, USAGES, ApiKey, Consumer
from shuhui.channel.schemas import (
    ApplicationIn,
    ConsumerIn,
    KeyIn,
    MembershipIn,
    ResubmitIn,
)
from shuhui.channel.views import (
    KIND_TITLES,
    LIST_FIELDS,
    USAGE_DAYS,
    application_view,
    chart,
    form_text,
    grant_view,
    key_view,
    local,
    membership_view,
    product_view,
    shown_days,
    shown_errors,
    typed_values,
)
from shuhui.core.clock import local_today, utcnow
from shuhui.core.confirm import ask_first, confirmed
from shuhui.core.display import yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.forms import validate_form
from shuhui.core.http import render, tr
from shuhui.core.i18n import Text
from shuhui.trust.authorisations.service import PURPOSE_RULE
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role, roles_needed

pages = APIRouter(include_in_schema=False)


# --- the consumer console ------------------------------------------------------------------------


def _usage(
    request: Request, db: Session, city: CityChannel, consumer: Consumer, days: int
) -> dict[str, Any]:
    now = utcnow()
    since = now - timedelta(days=days)
    rows = billing.usage_by_day(db, consumer.id, since)
    first, today = local_today(since), local_today(now)
    span = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    answered: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for row in rows:
        (answered if row["answered"] else refused)[row["day"]] += row["calls"]
    names = {p.code: p for p in city.products}
    table = [
        {
            **row,
            "name": tr(request, names[row["product"]].name_zh, names[row["product"]].name_en)
            if row["product"] in names
            else row["product"],
        }
        for row in rows
    ]
    drawn = chart(
        "bar",
        [d.isoformat() for d in span],
        [
            {
                "name": tr(request, "成功应答", "Answered"),
                "data": [answered[d.isoformat()] for d in span],
                "color": "#1456a0",
            },
            {
                "name": tr(request, "拒绝", "Refused"),
                "data": [refused[d.isoformat()] for d in span],
                "color": "#b42318",
            },
        ],
    )
    return {
        "usage_rows": table,
        "usage_chart": drawn,
        "usage_answered": sum(answered.values()),
        "usage_refused": sum(refused.values()),
        "usage_days": days,
    }


def _statement(city: CityChannel, db: Session, consumer: Consumer, month: date) -> dict[str, Any]:
    found = billing.statement(db, city, consumer, month)
    lines = []
    for line in found.lines:
        p = city.products.get(line.product)
        lines.append(
            {
                "product": line.product,
                "zh": p.name_zh if p else line.product,
                "en": p.name_en if p else line.product,
                "usage": line.usage,
                "usage_title": USAGES.get(line.usage, (line.usage, line.usage)),
                "calls": line.calls,
                "tiers": [
                    {"band": band, "calls": n, "each": yuan(each), "yuan": yuan(fen)}
                    for band, n, each, fen in line.tiers
                ],
                "yuan": yuan(line.fen),
            }
        )
    return {
        "month": month.strftime("%Y-%m"),
        "lines": lines,
        "answered": sum(line.calls for line in found.lines),
        "refused": found.refused,
        "total_yuan": yuan(found.fen),
        "issued": None
        if found.issued is None
        else {
            "code": found.issued.code,
            "at": local(found.issued.issued_at),
            "seal": billing.issued_seal(found.issued)["name"],
        },
    }


def _console(
    request: Request,
    db: Session,
    consumer: Consumer,
    *,
    month: date | None = None,
    days: int = 30,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    city = city_now(request, db)
    now = utcnow()
    today = local_today(now)
    held = {m.zone: m for m in onboarding.memberships(db, consumer.id)}
    zones = []
    for z in city.zones.in_force(today):
        m = held.get(z.code)
        zones.append(
            {
                "code": z.code,
                "zh": z.name_zh,
                "en": z.name_en,
                "types": [CONSUMER_TYPES.get(t, (t, t)) for t in z.attrs.get("consumer_types", [])],
                "may_join": consumer.type in z.attrs.get("consumer_types", []),
                "membership": membership_view(city, m) if m else None,
                "can_apply": consumer.type in z.attrs.get("consumer_types", [])
                and (m is None or m.status == "rejected"),
            }
        )
    members = onboarding.member_zones(db, consumer.id)
    held_grants = [grant_view(city, g, now) for g in grants.grants(db, consumer.id)]
    _budgets_left(request, db, consumer, held_grants)
    applications = [
        application_view(city, a) for a in grants.applications(db, consumer_id=consumer.id)
    ]
    own_keys = keys.consumer_keys(db, consumer.id)
    used = billing.quota_use(db, consumer, own_keys, now)
    held_keys = [key_view(k, now, used[k.prefix]) for k in own_keys]
    active_grants = [g for g in held_grants if g["shown_status"] == "active"]
    forms = {"application", "usage", "statement"}
    forms |= {"membership"} if any(z["can_apply"] for z in zones) else set()
    forms |= {"key"} if active_grants else set()
    forms |= {f"resubmit:{a['code']}" for a in applications if a["status"] == "returned"}
    forms |= {f"keyrow:{k['prefix']}" for k in held_keys}
    context = {
        "consumer": consumer,
        "consumer_type": CONSUMER_TYPES.get(consumer.type, (consumer.type,) * 2),
        "zones": zones,
        "products": [product_view(city, p) for p in city.products.in_force(today)],
        "member_zones": members,
        "applications": applications,
        "grants": held_grants,
        "active_grants": active_grants,
        "approved_purposes": _approved_purposes(db, consumer),
        "purpose_rule": PURPOSE_RULE,
        "keys": held_keys,
        "statement": _statement(city, db, consumer, month or month_of(now)),
        "usages": USAGES,
        "kind_titles": KIND_TITLES,
        "usage_choices": USAGE_DAYS,
        "key_days": keys.KEY_DAYS,
        "typed": typed or {},
        # A refusal about a form no longer on the page (a key revoked meanwhile) shows on top.
        "page_error": refusal is not None and failed not in forms,
        **_usage(request, db, city, consumer, days),
        **shown_errors(failed, refusal),
    }
    return render(
        request,
        "channel_console.html",
        context,
        status=refusal.http_status if refusal else 200,
    )


def _budgets_left(
    request: Request, db: Session, consumer: Consumer, held: list[dict[str, Any]]
) -> None:
    """Adds to each noised product of the consumer's active grants what is left of its privacy
    budget on the current versions of its tables (隐私预算 剩余 x / 共 y)."""
    city, engine = city_now(request, db), engine_of(request.app)
    for g in held:
        if g["shown_status"] != "active":
            continue
        for budget in g["privacy_budgets"]:
            product = city.products.by_code[budget["code"]]
            try:
                versions = engine.versions(product)
            except ProductUnavailable:
                continue  # not computable now: nothing to spend
            total = float(budget["total"])
            left = privacy.standing(db, consumer.id, product, versions, total, utcnow())
            budget["remaining"] = privacy.shown(left.remaining)
            budget["versions"] = privacy.versions_of(product, versions)


def _register_form(
    request: Request,
    user: User,
    *,
    typed: dict[str, Any] | None = None,
    refusal: Problem | None = None,
) -> HTMLResponse:
    form = typed or {
        "name": user.department or user.display_name,
        "type": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
    }
    return render(
        request,
        "channel_register.html",
        {
            "form": form,
            "credit_code": user.credit_code,
            "consumer_types": CONSUMER_TYPES,
            **shown_errors("register", refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/channel", response_class=HTMLResponse)
def console(
    request: Request, db: DB, user: CurrentUser, month: str = "", days: str = "30"
) -> Response:
    """The consumer's console; reviewers are sent on to their queue."""
    if Role.consumer not in user.role_set:
        if user.role_set & {Role.data_operator, Role.officer}:
            return RedirectResponse("/channel/review", status_code=303)
        raise Problem("forbidden", detail=roles_needed(Role.consumer))
    if not user.credit_code:
        raise Problem("forbidden", detail="该账户未绑定机构统一社会信用代码")
    consumer = onboarding.consumer_by_code(db, user.credit_code)
    if consumer is None:
        return _register_form(request, user)
    failed: str | None = None
    refusal: Problem | None = None
    chosen_month: date | None = None
    chosen_days = 30
    try:
        chosen_month = parse_month(month[:16]) if month else None
    except Problem as exc:
        failed, refusal = "statement", exc
    try:
        chosen_days = shown_days(days[:16])
    except Problem as exc:
        failed, refusal = "usage", exc
    return _console(
        request,
        db,
        consumer,
        month=chosen_month,
        days=chosen_days,
        failed=failed,
        refusal=refusal,
        typed={"month": month[:16], "days": days[:16]},
    )


@pages.post("/channel/register", response_class=HTMLResponse)
async def register(request: Request, db: DB, user: ConsumerUser) -> Response:
    form = await request.form()
    typed = typed_values(form)
    try:
        if not user.credit_code:
            raise invalid(
                "credit_code",
                Text(
                    "这个账户没有登记单位的统一社会信用代码",
                    "the account has no organisation credit code",
                ),
            )
        body = validate_form(ConsumerIn, form, LIST_FIELDS)
        onboarding.register_consumer(
            db, credit_code=user.credit_code, actor=user.username, **body.model_dump()
        )
    except Problem as exc:
        db.rollback()
        return _register_form(request, user, typed=typed, refusal=exc)
    return RedirectResponse("/channel", status_code=303)


@pages.post("/channel/memberships", response_class=HTMLResponse)
async def join_zone(request: Request, db: DB, user: ConsumerUser) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        joined = validate_form(MembershipIn, form, LIST_FIELDS)
        onboarding.apply_membership(
            db, city_now(request, db), consumer, joined.zone, joined.statement, actor=user.username
        )
    except Problem as exc:
        db.rollback()
        return _console(
            request, db, consumer, failed="membership", refusal=exc, typed=typed_values(form)
        )
    return RedirectResponse("/channel#zones", status_code=303)


def _approved_purposes(db: Session, consumer: Consumer) -> list[str]:
    """The purposes this consumer's grants in force approve, word for word."""
    now = utcnow()
    held = grants.grants(db, consumer.id)
    return sorted({g.purpose for g in held if grants.grant_active(g, now)})


def _chosen_purpose(db: Session, consumer: Consumer, form: Any) -> Any:
    """An application for more products under a purpose already approved picks that purpose from
    the list, so it stays word for word the same; ``new`` (or no list) proposes the typed one."""
    choice = form_text(form, "purpose_choice")
    if not choice or choice == "new":
        return form
    if choice not in _approved_purposes(db, consumer):
        raise invalid("purpose", "所选用途不是本机构已获批准的用途，请重新选择或填写新用途")
    kept = [(k, v) for k, v in form.multi_items() if k != "purpose"]
    return FormData([*kept, ("purpose", choice)])


@pages.post("/channel/applications", response_class=HTMLResponse)
async def apply(request: Request, db: DB, user: ConsumerUser) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        body = validate_form(ApplicationIn, _chosen_purpose(db, consumer, form), LIST_FIELDS)
        grants.apply_access(
            db, city_now(request, db), consumer, actor=user.username, **body.model_dump()
        )
    except Problem as exc:
        db.rollback()
        typed = typed_values(form)
        return _console(request, db, consumer, failed="application", refusal=exc, typed=typed)
    return RedirectResponse("/channel#applications", status_code=303)


@pages.post("/channel/applications/{code}/resubmit", response_class=HTMLResponse)
async def resubmit(request: Request, db: DB, user: ConsumerUser, code: str) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        completed = validate_form(ResubmitIn, form, LIST_FIELDS)
        grants.resubmit(
            db,
            city_now(request, db),
            code,
            consumer,
            legal_basis=completed.legal_basis,
            note=completed.note,
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        failed = f"resubmit:{code}"
        return _console(request, db, consumer, failed=failed, refusal=exc, typed=typed_values(form))
    return RedirectResponse("/channel#applications", status_code=303)


def _secret_page(
    request: Request, db: Session, key: ApiKey, secret: str, *, rotated: str | None
) -> Response:
    """The one page that ever shows a key's secret: not cached, not shown again."""
    shown = key_view(key, utcnow())
    held = grants.grants(db, key.consumer_id)
    purposes = sorted({g.purpose for g in held if g.code in shown["grants"]})
    page = render(
        request,
        "channel_key.html",
        {"key": shown, "secret": secret, "rotated": rotated, "purposes": purposes},
        status=201,
    )
    page.headers["cache-control"] = "no-store"
    return page


@pages.post("/channel/keys", response_class=HTMLResponse)
async def issue_key(request: Request, db: DB, user: ConsumerUser) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        wanted = validate_form(KeyIn, form, LIST_FIELDS)
        key, secret = keys.issue_key(
            db,
            consumer,
            grant_codes=wanted.grants,
            label=wanted.label,
            days=wanted.days,
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed="key", refusal=exc, typed=typed_values(form))
    return _secret_page(request, db, key, secret, rotated=None)


@pages.post("/channel/keys/{prefix}/rotate", response_class=HTMLResponse)
async def rotate_key(request: Request, db: DB, user: ConsumerUser, prefix: str) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        if not confirmed(form):
            key = keys.own_key(db, consumer, prefix)
            if key.revoked_at is not None:
                raise Problem("conflict", detail="该密钥已撤销，不能轮换")
            return ask_first(request, asks.rotate_key(key), form)
        key, secret = keys.rotate_key(db, consumer, prefix, actor=user.username)
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed=f"keyrow:{prefix}", refusal=exc)
    return _secret_page(request, db, key, secret, rotated=prefix)


@pages.post("/channel/keys/{prefix}/revoke", response_class=HTMLResponse)
async def revoke_key(request: Request, db: DB, user: ConsumerUser, prefix: str) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        if not confirmed(form):
            key = keys.own_key(db, consumer, prefix)
            if key.revoked_at is not None:
                raise Problem("conflict", detail="该密钥已撤销")
            return ask_first(request, asks.revoke_key(key), form)
        keys.revoke_key(db, consumer, prefix, actor=user.username)
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed=f"keyrow:{prefix}", refusal=exc)
    return RedirectResponse("/channel#keys", status_code=303)
