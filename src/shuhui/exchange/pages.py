"""The data channel's pages (数据通道): the consumer's console, the review queue of the providing
departments and the data bureau, and the bureau's dashboard.

Thin: every decision is the service's. A refused form comes back with the problem's field and
reason next to that field, and the status the API would answer.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.clock import format_local, local_today, utcnow
from shuhui.core.display import yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.http import render, tr
from shuhui.exchange import service
from shuhui.exchange.models import (
    APPLICATION_STATES,
    CONSUMER_TYPES,
    GRANT_STATES,
    MEMBERSHIP_STATES,
    USAGES,
    AccessApplication,
    ApiKey,
    Consumer,
    Grant,
    Membership,
)
from shuhui.exchange.products import Product
from shuhui.exchange.routes import (
    Bureau,
    ConsumerUser,
    Reviewer,
    application_out,
    consumer_of,
    exchange_of,
    grant_out,
    parse_month,
)
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.models import Role, User

pages = APIRouter(include_in_schema=False)

KIND_TITLES: dict[str, tuple[str, str]] = {
    "subject": (
        "个体核验（须数据主体用证授权）",
        "Check about one subject (needs their authorisation)",
    ),
    "aggregate": ("统计汇总（小组抑制、差分隐私）", "Aggregate statistics (privacy-protected)"),
    "open": ("开放数据", "Open data"),
}
PARAM_TYPES: dict[str, tuple[str, str]] = {
    "citizen_id": ("公民身份号码", "citizen ID"),
    "credit_code": ("统一社会信用代码", "credit code"),
    "division": ("行政区划代码", "division code"),
    "integer": ("整数", "integer"),
    "choice": ("选项", "choice"),
    "date": ("日期", "date"),
}
STEP_TITLES: dict[str, tuple[str, str]] = {
    "submitted": ("提交申请", "Submitted"),
    "department": ("提供部门审核", "Providing department"),
    "bureau": ("大数据局审核", "Data bureau"),
    "resubmitted": ("补充后重新提交", "Resubmitted"),
}
DECISION_TITLES: dict[str, tuple[str, str]] = {
    "approve": ("同意", "Approved"),
    "reject": ("不予批准", "Rejected"),
    "return": ("退回补充材料", "Returned"),
}
KEY_STATES: dict[str, tuple[str, str]] = {
    "active": ("有效", "Active"),
    "replaced": ("已轮换", "Rotated"),
    "revoked": ("已撤销", "Revoked"),
    "expired": ("已过期", "Expired"),
}
GRANT_SHOWN: dict[str, tuple[str, str]] = {
    **GRANT_STATES,
    "expired": ("已过期", "Expired"),
    "not_yet": ("未到生效时间", "Not yet valid"),
}
USAGE_DAYS = (7, 30, 90, 366)
WHOLE = re.compile(r"-?[0-9]{1,12}")

# What each field is called on the pages, so a refusal names the field as the form does.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "credit_code": ("统一社会信用代码", "Credit code"),
    "name": ("机构名称", "Organisation name"),
    "type": ("机构类型", "Organisation type"),
    "contact_name": ("联系人", "Contact person"),
    "contact_phone": ("联系电话", "Contact phone"),
    "contact_email": ("电子邮箱", "Contact e-mail"),
    "zone": ("专区", "Zone"),
    "statement": ("申请说明", "Statement"),
    "products": ("数据产品", "Data products"),
    "fields": ("输出字段", "Output fields"),
    "purpose": ("用途", "Purpose"),
    "legal_basis": ("法律依据", "Legal basis"),
    "usage": ("使用类别", "Usage"),
    "days": ("使用期限（天）", "Term (days)"),
    "note": ("补充说明", "Note"),
    "grants": ("数据使用授权", "Grants"),
    "label": ("密钥名称", "Key label"),
    "decision": ("审核结论", "Decision"),
    "reason": ("审核意见", "Reason"),
    "rate_per_minute": ("每分钟调用上限", "Calls per minute"),
    "monthly_quota": ("每月调用配额", "Monthly quota"),
    "month": ("账单月份", "Statement month"),
}
FORM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "key": {"days": ("密钥有效期（天）", "Key valid for (days)")},
    "usage": {"days": ("统计天数", "Days shown")},
    "dashboard": {"days": ("统计天数", "Days shown")},
}


# --- helpers ------------------------------------------------------------------------------------


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _whole(text: str, name: str, default: int | None = None) -> int:
    """A whole number typed into a form, or a 422 naming the field."""
    cleaned = text.strip().replace(",", "")
    if not cleaned and default is not None:
        return default
    if not WHOLE.fullmatch(cleaned):
        raise invalid(name, "must be a whole number")
    return int(cleaned)


def _typed(form: Any) -> dict[str, Any]:
    """What was typed into a form, to show it again (checkbox groups as lists)."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for group in ("products", "grants"):
        values[group] = [str(v) for v in form.getlist(group)]
    return values


def shown_errors(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    """A refusal as a page shows it: which form failed, a summary naming each field by its
    label, and each reason keyed by the field it goes next to."""
    labels = {**FIELD_LABELS, **FORM_LABELS.get((failed or "").split(":", 1)[0], {})}
    return display.shown_errors(refusal, display.labels_from(labels), failed)


def _local(at: str | datetime) -> str:
    return format_local(datetime.fromisoformat(at) if isinstance(at, str) else at)


def _status_of_grant(g: Grant, now: datetime) -> str:
    if g.status != "active":
        return g.status
    if service.grant_active(g, now):
        return "active"
    return "not_yet" if now < g.valid_from else "expired"


def _status_of_key(k: ApiKey, now: datetime) -> str:
    if k.revoked_at is not None:
        return "replaced" if k.replaced_by else "revoked"
    return "expired" if now >= k.expires_at else "active"


def _names(exchange: service.CityExchange, codes: list[str]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        p = exchange.products.get(code)
        out.append(
            {
                "code": code,
                "zh": p.name_zh if p else code,
                "en": p.name_en if p else code,
                "provider": p.provider if p else "",
            }
        )
    return out


def price_bands(p: Product) -> list[dict[str, str]]:
    """The cumulative tiers as a price list: which calls of the month cost how much."""
    bands: list[dict[str, str]] = []
    start = 0
    for tier in p.tiers:
        if tier.up_to is None:
            zh, en = f"第 {start + 1:,} 次起", f"from call {start + 1:,}"
        else:
            zh = f"第 {start + 1:,}–{tier.up_to:,} 次"
            en = f"calls {start + 1:,}–{tier.up_to:,}"
            start = tier.up_to
        bands.append({"zh": zh, "en": en, "yuan": yuan(tier.fen)})
    return bands


def product_view(exchange: service.CityExchange, p: Product) -> dict[str, Any]:
    zone = exchange.zones.get(p.zone)
    return {
        "code": p.code,
        "zh": p.name_zh,
        "en": p.name_en,
        "kind": p.kind,
        "zone": p.zone,
        "zone_zh": zone.name_zh if zone else p.zone,
        "zone_en": zone.name_en if zone else p.zone,
        "provider": p.provider,
        "summary": p.summary,
        "consent": p.consent,
        "dataset": p.dataset,
        "params": [
            {
                "name": x.name,
                "type": PARAM_TYPES.get(x.type, (x.type, x.type)),
                "required": x.required,
                "title": x.title_zh,
                "choices": list(x.choices),
            }
            for x in p.params
        ],
        "output": [{"name": f.name, "title": f.title_zh} for f in p.output],
        "prices": price_bands(p),
        "public_governance_yuan": yuan(p.public_governance_fen),
        "endpoint": f"/api/v1/channel/products/{p.code}",
    }


def application_view(exchange: service.CityExchange, a: AccessApplication) -> dict[str, Any]:
    shown = application_out(a)
    history = []
    for h in shown["history"]:
        history.append(
            {
                "at": _local(str(h.get("at", ""))) if h.get("at") else "",
                "by": h.get("by", ""),
                "step": STEP_TITLES.get(str(h.get("step")), (str(h.get("step")),) * 2),
                "decision": DECISION_TITLES.get(str(h.get("decision")))
                if h.get("decision")
                else None,
                "reason": h.get("reason") or "",
            }
        )
    return {
        **shown,
        "consumer_type": CONSUMER_TYPES.get(a.consumer.type, (a.consumer.type,) * 2),
        "status_title": APPLICATION_STATES[a.status],
        "usage_title": USAGES.get(a.usage, (a.usage, a.usage)),
        "product_names": _names(exchange, shown["products"]),
        "submitted": format_local(a.submitted_at),
        "history_view": history,
        "reviewers": {str(h.get("by")) for h in shown["history"] if h.get("step") != "submitted"},
    }


def grant_view(exchange: service.CityExchange, g: Grant, now: datetime) -> dict[str, Any]:
    status = _status_of_grant(g, now)
    return {
        **grant_out(g),
        "consumer_name": g.consumer.name,
        "product_names": _names(exchange, service.application_products(g)),
        "usage_title": USAGES.get(g.usage, (g.usage, g.usage)),
        "valid_from_local": format_local(g.valid_from),
        "valid_to_local": format_local(g.valid_to),
        "shown_status": status,
        "status_title": GRANT_SHOWN[status],
    }


def key_view(k: ApiKey, now: datetime) -> dict[str, Any]:
    status = _status_of_key(k, now)
    return {
        "prefix": k.prefix,
        "masked": f"{service.KEY_PREFIX}{k.prefix}_…",
        "label": k.label,
        "grants": json.loads(k.grants),
        "created": format_local(k.created_at),
        "expires": format_local(k.expires_at),
        "revoked": format_local(k.revoked_at),
        "replaced_by": k.replaced_by,
        "status": status,
        "status_title": KEY_STATES[status],
    }


def membership_view(exchange: service.CityExchange, m: Membership) -> dict[str, Any]:
    zone = exchange.zones.get(m.zone)
    return {
        "id": m.id,
        "zone": m.zone,
        "zone_zh": zone.name_zh if zone else m.zone,
        "zone_en": zone.name_en if zone else m.zone,
        "consumer_name": m.consumer.name,
        "credit_code": m.consumer.credit_code,
        "consumer_type": CONSUMER_TYPES.get(m.consumer.type, (m.consumer.type,) * 2),
        "status": m.status,
        "status_title": MEMBERSHIP_STATES[m.status],
        "statement": m.statement,
        "applied": format_local(m.applied_at),
        "reviewer": m.reviewer,
        "reviewed": format_local(m.reviewed_at),
        "review_reason": m.review_reason or "",
    }


def _chart(kind: str, categories: list[str], series: list[dict[str, Any]]) -> dict[str, Any]:
    """What the page's ECharts script draws: bar (stacked by day), hbar or pie."""
    return {"kind": kind, "categories": categories, "series": series}


# --- the consumer console ------------------------------------------------------------------------


def _usage(
    request: Request, db: Session, exchange: service.CityExchange, consumer: Consumer, days: int
) -> dict[str, Any]:
    now = utcnow()
    since = now - timedelta(days=days)
    rows = service.usage_by_day(db, consumer.id, since)
    first, today = local_today(since), local_today(now)
    span = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    answered: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for row in rows:
        (answered if row["answered"] else refused)[row["day"]] += row["calls"]
    names = {p.code: p for p in exchange.products}
    table = [
        {
            **row,
            "name": tr(request, names[row["product"]].name_zh, names[row["product"]].name_en)
            if row["product"] in names
            else row["product"],
        }
        for row in rows
    ]
    chart = _chart(
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
        "usage_chart": chart,
        "usage_answered": sum(answered.values()),
        "usage_refused": sum(refused.values()),
        "usage_days": days,
    }


def _statement(
    exchange: service.CityExchange, db: Session, consumer: Consumer, month: date
) -> dict[str, Any]:
    found = service.statement(db, exchange, consumer, month)
    lines = []
    for line in found.lines:
        p = exchange.products.get(line.product)
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
            "at": _local(found.issued.issued_at),
            "seal": service.BILLING_SEAL_NAME,
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
    exchange = exchange_of(request)
    now = utcnow()
    today = local_today(now)
    held = {m.zone: m for m in service.memberships(db, consumer.id)}
    zones = []
    for z in exchange.zones.in_force(today):
        m = held.get(z.code)
        zones.append(
            {
                "code": z.code,
                "zh": z.name_zh,
                "en": z.name_en,
                "types": [CONSUMER_TYPES.get(t, (t, t)) for t in z.attrs.get("consumer_types", [])],
                "may_join": consumer.type in z.attrs.get("consumer_types", []),
                "membership": membership_view(exchange, m) if m else None,
                "can_apply": consumer.type in z.attrs.get("consumer_types", [])
                and (m is None or m.status == "rejected"),
            }
        )
    members = service.member_zones(db, consumer.id)
    grants = [grant_view(exchange, g, now) for g in service.grants(db, consumer.id)]
    applications = [
        application_view(exchange, a) for a in service.applications(db, consumer_id=consumer.id)
    ]
    keys = [key_view(k, now) for k in service.keys(db, consumer.id)]
    active_grants = [g for g in grants if g["shown_status"] == "active"]
    forms = {"application", "usage", "statement"}
    forms |= {"membership"} if any(z["can_apply"] for z in zones) else set()
    forms |= {"key"} if active_grants else set()
    forms |= {f"resubmit:{a['code']}" for a in applications if a["status"] == "returned"}
    forms |= {f"keyrow:{k['prefix']}" for k in keys}
    context = {
        "consumer": consumer,
        "consumer_type": CONSUMER_TYPES.get(consumer.type, (consumer.type,) * 2),
        "zones": zones,
        "products": [product_view(exchange, p) for p in exchange.products.in_force(today)],
        "member_zones": members,
        "applications": applications,
        "grants": grants,
        "active_grants": active_grants,
        "keys": keys,
        "statement": _statement(exchange, db, consumer, month or service.month_of(now)),
        "usages": USAGES,
        "kind_titles": KIND_TITLES,
        "usage_choices": USAGE_DAYS,
        "key_days": service.KEY_DAYS,
        "typed": typed or {},
        # A refusal about a form no longer on the page (a key revoked meanwhile) shows on top.
        "page_error": refusal is not None and failed not in forms,
        **_usage(request, db, exchange, consumer, days),
        **shown_errors(failed, refusal),
    }
    return render(
        request,
        "channel_console.html",
        context,
        status=refusal.http_status if refusal else 200,
    )


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


def _days(text: str, allowed: int = 366) -> int:
    days = _whole(text, "days", 30)
    if not 1 <= days <= allowed:
        raise invalid("days", f"1-{allowed}")
    return days


@pages.get("/channel", response_class=HTMLResponse)
def console(
    request: Request, db: DB, user: CurrentUser, month: str = "", days: str = "30"
) -> Response:
    """The consumer's console; reviewers are sent on to their queue."""
    if Role.consumer not in user.role_set:
        if user.role_set & {Role.data_operator, Role.officer}:
            return RedirectResponse("/channel/review", status_code=303)
        raise Problem("forbidden", detail="需要以下角色之一：consumer")
    if not user.credit_code:
        raise Problem("forbidden", detail="该账户未绑定机构统一社会信用代码")
    consumer = service.consumer_by_code(db, user.credit_code)
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
        chosen_days = _days(days[:16])
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
    typed = _typed(form)
    try:
        if not user.credit_code:
            raise invalid("credit_code", "the account has no organisation credit code")
        service.register_consumer(
            db,
            credit_code=user.credit_code,
            name=_text(form, "name"),
            type=_text(form, "type"),
            contact_name=_text(form, "contact_name"),
            contact_phone=_text(form, "contact_phone"),
            contact_email=_text(form, "contact_email"),
            actor=user.username,
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
        service.apply_membership(
            db,
            exchange_of(request),
            consumer,
            _text(form, "zone"),
            _text(form, "statement"),
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed="membership", refusal=exc, typed=_typed(form))
    return RedirectResponse("/channel#zones", status_code=303)


@pages.post("/channel/applications", response_class=HTMLResponse)
async def apply(request: Request, db: DB, user: ConsumerUser) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        service.apply_access(
            db,
            exchange_of(request),
            consumer,
            products=[str(p) for p in form.getlist("products")],
            fields=None,
            purpose=_text(form, "purpose"),
            legal_basis=_text(form, "legal_basis"),
            usage=_text(form, "usage"),
            days=_whole(_text(form, "days"), "days"),
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        typed = _typed(form)
        return _console(request, db, consumer, failed="application", refusal=exc, typed=typed)
    return RedirectResponse("/channel#applications", status_code=303)


@pages.post("/channel/applications/{code}/resubmit", response_class=HTMLResponse)
async def resubmit(request: Request, db: DB, user: ConsumerUser, code: str) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        service.resubmit(
            db,
            exchange_of(request),
            code,
            consumer,
            legal_basis=_text(form, "legal_basis"),
            note=_text(form, "note"),
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        failed = f"resubmit:{code}"
        return _console(request, db, consumer, failed=failed, refusal=exc, typed=_typed(form))
    return RedirectResponse("/channel#applications", status_code=303)


def _secret_page(request: Request, key: ApiKey, secret: str, *, rotated: str | None) -> Response:
    """The one page that ever shows a key's secret: not cached, not shown again."""
    page = render(
        request,
        "channel_key.html",
        {"key": key_view(key, utcnow()), "secret": secret, "rotated": rotated},
        status=201,
    )
    page.headers["cache-control"] = "no-store"
    return page


@pages.post("/channel/keys", response_class=HTMLResponse)
async def issue_key(request: Request, db: DB, user: ConsumerUser) -> Response:
    form = await request.form()
    consumer = consumer_of(db, user)
    try:
        key, secret = service.issue_key(
            db,
            consumer,
            grant_codes=[str(g) for g in form.getlist("grants")],
            label=_text(form, "label"),
            days=_whole(_text(form, "days"), "days", service.KEY_DAYS),
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed="key", refusal=exc, typed=_typed(form))
    return _secret_page(request, key, secret, rotated=None)


@pages.post("/channel/keys/{prefix}/rotate", response_class=HTMLResponse)
def rotate_key(request: Request, db: DB, user: ConsumerUser, prefix: str) -> Response:
    consumer = consumer_of(db, user)
    try:
        key, secret = service.rotate_key(db, consumer, prefix, actor=user.username)
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed=f"keyrow:{prefix}", refusal=exc)
    return _secret_page(request, key, secret, rotated=prefix)


@pages.post("/channel/keys/{prefix}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, db: DB, user: ConsumerUser, prefix: str) -> Response:
    consumer = consumer_of(db, user)
    try:
        service.revoke_key(db, consumer, prefix, actor=user.username)
    except Problem as exc:
        db.rollback()
        return _console(request, db, consumer, failed=f"keyrow:{prefix}", refusal=exc)
    return RedirectResponse("/channel#keys", status_code=303)


# --- the review queue ---------------------------------------------------------------------------


def _reviewer(user: User) -> tuple[str | None, bool]:
    """The department an officer reviews for, and whether the user is the data bureau."""
    department = user.department if Role.officer in user.role_set else None
    return department, Role.data_operator in user.role_set


def _review(
    request: Request,
    db: Session,
    user: User,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    exchange = exchange_of(request)
    department, is_bureau = _reviewer(user)
    now = utcnow()
    queue: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for a in service.applications(db):
        step = service.reviewer_step(exchange, a, department, is_bureau)
        view = application_view(exchange, a)
        if step is not None:
            queue.append({**view, "step": step})
        elif is_bureau or user.username in view["reviewers"]:
            # An officer sees what waits for his department, and what he reviewed himself.
            others.append(view)
    memberships = (
        [membership_view(exchange, m) for m in service.memberships(db)] if is_bureau else []
    )
    grants = [grant_view(exchange, g, now) for g in service.grants(db)] if is_bureau else []
    forms = {f"application:{a['code']}" for a in queue}
    forms |= {f"membership:{m['id']}" for m in memberships if m["status"] == "pending"}
    forms |= {f"grant:{g['code']}" for g in grants if g["status"] == "active"}
    return render(
        request,
        "channel_review.html",
        {
            "is_bureau": is_bureau,
            "department": department,
            "queue": queue,
            "others": others,
            "pending_memberships": [m for m in memberships if m["status"] == "pending"],
            "decided_memberships": [m for m in memberships if m["status"] != "pending"],
            "grants": grants,
            "defaults": {
                "rate_per_minute": service.DEFAULT_RATE_PER_MINUTE,
                "monthly_quota": service.DEFAULT_MONTHLY_QUOTA,
            },
            "typed": typed or {},
            # A refusal about a form no longer on the page (reviewed meanwhile) shows on top.
            "page_error": refusal is not None and failed not in forms,
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/channel/review", response_class=HTMLResponse)
def review_queue(request: Request, db: DB, user: Reviewer) -> Response:
    return _review(request, db, user)


@pages.post("/channel/review/applications/{code}", response_class=HTMLResponse)
async def review_application(request: Request, db: DB, user: Reviewer, code: str) -> Response:
    form = await request.form()
    department, is_bureau = _reviewer(user)
    try:
        service.review_access(
            db,
            exchange_of(request),
            code,
            decision=_text(form, "decision"),
            reason=_text(form, "reason"),
            actor=user.username,
            department=department,
            is_bureau=is_bureau,
            rate_per_minute=_whole(
                _text(form, "rate_per_minute"), "rate_per_minute", service.DEFAULT_RATE_PER_MINUTE
            ),
            monthly_quota=_whole(
                _text(form, "monthly_quota"), "monthly_quota", service.DEFAULT_MONTHLY_QUOTA
            ),
        )
    except Problem as exc:
        db.rollback()
        failed = f"application:{code}"
        return _review(request, db, user, failed=failed, refusal=exc, typed=_typed(form))
    return RedirectResponse("/channel/review", status_code=303)


@pages.post("/channel/review/memberships/{membership_id}", response_class=HTMLResponse)
async def review_membership(request: Request, db: DB, user: Bureau, membership_id: int) -> Response:
    form = await request.form()
    try:
        decision = _text(form, "decision")
        if decision not in ("approve", "reject"):
            raise invalid("decision", "approve or reject")
        service.review_membership(
            db,
            membership_id,
            approve=decision == "approve",
            reason=_text(form, "reason"),
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        failed = f"membership:{membership_id}"
        return _review(request, db, user, failed=failed, refusal=exc, typed=_typed(form))
    return RedirectResponse("/channel/review#memberships", status_code=303)


@pages.post("/channel/review/grants/{code}/revoke", response_class=HTMLResponse)
async def revoke_grant(request: Request, db: DB, user: Bureau, code: str) -> Response:
    form = await request.form()
    try:
        service.revoke_grant(db, code, reason=_text(form, "reason"), actor=user.username)
    except Problem as exc:
        db.rollback()
        return _review(request, db, user, failed=f"grant:{code}", refusal=exc, typed=_typed(form))
    return RedirectResponse("/channel/review#grants", status_code=303)


# --- the bureau's dashboard ---------------------------------------------------------------------


def _billing(db: Session, month: date) -> dict[str, Any]:
    rows = []
    for x in service.issued_statements(db, month):
        rows.append(
            {
                "code": x.code,
                "consumer": x.consumer.name,
                "credit_code": x.consumer.credit_code,
                "yuan": yuan(x.total_fen),
                "at": _local(x.issued_at),
                "by": x.issued_by,
            }
        )
    return {"month": month.strftime("%Y-%m"), "statements": rows}


def _last_month(now: datetime) -> date:
    return (service.month_of(now) - timedelta(days=1)).replace(day=1)


@pages.post("/channel/dashboard/statements", response_class=HTMLResponse)
async def issue_statements(request: Request, db: DB, user: Bureau) -> Response:
    form = await request.form()
    month_text = _text(form, "month")
    try:
        month = parse_month(month_text[:16])
        done = service.issue_statements(
            db,
            exchange_of(request),
            Path(request.app.state.settings.data_dir),
            month,
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        return _dashboard(request, db, failed="billing", refusal=exc, typed={"month": month_text})
    return RedirectResponse(
        f"/channel/dashboard?month={month:%Y-%m}&issued={len(done.issued)}#billing",
        status_code=303,
    )


@pages.get("/channel/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, db: DB, user: Bureau, days: str = "30", month: str = "", issued: str = ""
) -> Response:
    return _dashboard(request, db, days, month, issued)


def _dashboard(
    request: Request,
    db: Session,
    days: str = "30",
    month: str = "",
    issued: str = "",
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    exchange = exchange_of(request)
    chosen = 30
    if refusal is None:
        try:
            chosen = _days(days[:16])
        except Problem as exc:
            failed, refusal = "dashboard", exc
    billed = _last_month(utcnow())
    if refusal is None and month:
        try:
            billed = parse_month(month[:16])
        except Problem as exc:
            failed, refusal, typed = "billing", exc, {"month": month[:16]}
    numbers = service.dashboard(db, utcnow() - timedelta(days=chosen))

    def zone_name(code: str) -> str:
        z = exchange.zones.get(code)
        return tr(request, z.name_zh, z.name_en) if z else code

    def product_name(code: str) -> str:
        p = exchange.products.get(code)
        return tr(request, p.name_zh, p.name_en) if p else code

    def reason_name(code: str) -> str:
        return tr(request, service.REASONS[code], code) if code in service.REASONS else code

    groups: tuple[tuple[str, str, str, Callable[[str], str], str], ...] = (
        ("by_zone", "按专区的成功调用", "Answered calls by zone", zone_name, "pie"),
        ("by_product", "按数据产品的成功调用", "Answered calls by product", product_name, "hbar"),
        ("by_consumer", "按数据使用方的成功调用", "Answered calls by consumer", str, "hbar"),
        ("refusals", "按原因的拒绝调用", "Refused calls by reason", reason_name, "hbar"),
    )
    tables: list[dict[str, Any]] = []
    for key, zh, en, name, kind in groups:
        counts: dict[str, int] = numbers[key]
        rows: list[dict[str, Any]] = [
            {"key": k, "name": name(k), "calls": n} for k, n in counts.items()
        ]
        series = [
            {
                "name": tr(request, "调用次数", "Calls"),
                "data": [r["calls"] for r in rows],
                "color": "#b42318" if key == "refusals" else "#1456a0",
            }
        ]
        tables.append(
            {
                "id": key.replace("_", "-"),
                "zh": zh,
                "en": en,
                "rows": rows,
                "total": sum(counts.values()),
                "chart": _chart(kind, [r["name"] for r in rows], series),
            }
        )
    return render(
        request,
        "channel_dashboard.html",
        {
            "tables": tables,
            "days": chosen,
            "day_choices": USAGE_DAYS,
            "answered": sum(numbers["by_product"].values()),
            "refused": sum(numbers["refusals"].values()),
            "billing": _billing(db, billed),
            "just_issued": issued if issued.isdigit() else None,
            "typed": typed or {"days": days[:16]},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )
