"""How the data channel's pages show things: the titles of kinds, steps, states and fields,
the view of a product, an application, a grant, a key and a membership, a chart's data, a
form's values as the API's models take them, and a refusal next to the field at fault."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from shuhui.channel.billing import QuotaUse
from shuhui.channel.city import CityChannel
from shuhui.channel.grants import (
    ORGANISATION,
    application_products,
    grant_active,
    providers_to_review,
)
from shuhui.channel.keys import KEY_PREFIX
from shuhui.channel.models import (
    APPLICATION_STATES,
    CONSUMER_TYPES,
    GRANT_STATES,
    MEMBERSHIP_STATES,
    USAGES,
    AccessApplication,
    ApiKey,
    Grant,
    Membership,
)
from shuhui.channel.products import Product
from shuhui.channel.schemas import DaysIn, application_out, grant_out
from shuhui.core import display, forms
from shuhui.core.clock import format_local
from shuhui.core.display import yuan
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text

LIST_FIELDS: Final = ("products", "grants")  # checkbox groups
KIND_TITLES: dict[str, tuple[str, str]] = {
    "subject": (
        "个体核验（须数据主体用证授权）",
        "Check about one subject (needs their authorisation)",
    ),
    "aggregate": ("统计汇总（小组抑制、差分隐私）", "Aggregate statistics (privacy-protected)"),
    "open": ("开放数据", "Open data"),
    "hosted": (
        "企业托管数据（按行查询，个人信息脱敏）",
        "Data hosted by its provider (rows; personal values masked)",
    ),
}
PARAM_TYPES: dict[str, tuple[str, str]] = {
    "citizen_id": ("公民身份号码", "citizen ID"),
    "credit_code": ("统一社会信用代码", "credit code"),
    "division": ("行政区划代码", "division code"),
    "integer": ("整数", "integer"),
    "choice": ("选项", "choice"),
    "date": ("日期", "date"),
    "string": ("文本", "text"),
}
STEP_TITLES: dict[str, tuple[str, str]] = {
    "submitted": ("提交申请", "Submitted"),
    "department": ("提供部门审核", "Providing department"),
    "provider": ("数据提供方审核", "Providing organisation"),
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
    "privacy_budget": ("隐私预算（ε）", "Privacy budget (ε)"),
    "month": ("账单月份", "Statement month"),
}
FORM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "key": {"days": ("密钥有效期（天）", "Key valid for (days)")},
    "usage": {"days": ("统计天数", "Days shown")},
    "dashboard": {"days": ("统计天数", "Days shown")},
}


# --- helpers ------------------------------------------------------------------------------------


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def shown_days(text: str) -> int:
    """The days a chart covers, as typed into its form (30 when left blank)."""
    return forms.validate(DaysIn, {"days": text} if text.strip() else {}).days


def typed_values(form: Any) -> dict[str, Any]:
    """What was typed into a form, to show it again (checkbox groups as lists)."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for group in LIST_FIELDS:
        values[group] = [str(v) for v in form.getlist(group)]
    return values


def shown_errors(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    """A refusal as a page shows it: which form failed, a summary naming each field by its
    label, and each reason keyed by the field it goes next to."""
    labels = {**FIELD_LABELS, **FORM_LABELS.get((failed or "").split(":", 1)[0], {})}
    return display.shown_errors(refusal, display.labels_from(labels), failed)


def local(at: str | datetime) -> str:
    return format_local(datetime.fromisoformat(at) if isinstance(at, str) else at)


def status_of_grant(g: Grant, now: datetime) -> str:
    if g.status != "active":
        return g.status
    if grant_active(g, now):
        return "active"
    return "not_yet" if now < g.valid_from else "expired"


def status_of_key(k: ApiKey, now: datetime) -> str:
    if k.revoked_at is not None:
        return "replaced" if k.replaced_by else "revoked"
    return "expired" if now >= k.expires_at else "active"


def product_names(city: CityChannel, codes: list[str]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        p = city.products.get(code)
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


def product_view(city: CityChannel, p: Product) -> dict[str, Any]:
    zone = city.zones.get(p.zone)
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
        "provider_reviews": p.kind == "hosted" and p.provider_reviews,
        "withdrawn": p.withdrawn_at is not None,
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


def application_view(city: CityChannel, a: AccessApplication) -> dict[str, Any]:
    shown = application_out(a)
    history = []
    for h in shown["history"]:
        history.append(
            {
                "at": local(str(h.get("at", ""))) if h.get("at") else "",
                "by": h.get("by", ""),
                "step": STEP_TITLES.get(str(h.get("step")), (str(h.get("step")),) * 2),
                "decision": DECISION_TITLES.get(str(h.get("decision")))
                if h.get("decision")
                else None,
                "reason": h.get("reason") or "",
            }
        )
    status_title = APPLICATION_STATES[a.status]
    waiting = providers_to_review(city, a) if a.status == "department_review" else set()
    if waiting and all(w.startswith(ORGANISATION) for w in waiting):
        # Only the organisations hosting the data are still to agree, not a department.
        status_title = ("待数据提供方审核", "Awaiting the providing organisation")
    return {
        **shown,
        "consumer_type": CONSUMER_TYPES.get(a.consumer.type, (a.consumer.type,) * 2),
        "status_title": status_title,
        "usage_title": USAGES.get(a.usage, (a.usage, a.usage)),
        "product_names": product_names(city, shown["products"]),
        "privacy_default": privacy_default(city, shown["products"]),
        "submitted": format_local(a.submitted_at),
        "history_view": history,
        "reviewers": {str(h.get("by")) for h in shown["history"] if h.get("step") != "submitted"},
    }


def noised_products(city: CityChannel, codes: list[str]) -> list[Product]:
    """The products among ``codes`` that add noise and so spend a privacy budget."""
    found = [city.products.get(code) for code in codes]
    return [p for p in found if p is not None and p.privacy.epsilon is not None]


def privacy_default(city: CityChannel, codes: list[str]) -> str | None:
    """The budget a reviewer is offered: the largest default of the noised products."""
    budgets = [p.privacy.budget for p in noised_products(city, codes)]
    return f"{max(budgets):g}" if budgets else None


def grant_view(city: CityChannel, g: Grant, now: datetime) -> dict[str, Any]:
    status = status_of_grant(g, now)
    budgets = [
        {
            "code": p.code,
            "zh": p.name_zh,
            "en": p.name_en,
            "total": f"{p.privacy.budget if g.privacy_budget is None else g.privacy_budget:g}",
            "per_query": f"{p.privacy.epsilon:g}",
            "versions_a_month": p.privacy.versions_a_month,
        }
        for p in noised_products(city, application_products(g))
    ]
    return {
        **grant_out(g),
        "consumer_name": g.consumer.name,
        "product_names": product_names(city, application_products(g)),
        "usage_title": USAGES.get(g.usage, (g.usage, g.usage)),
        "valid_from_local": format_local(g.valid_from),
        "valid_to_local": format_local(g.valid_to),
        "shown_status": status,
        "status_title": GRANT_SHOWN[status],
        "privacy_budgets": budgets,  # the console adds what is left on the current versions
    }


def quota_text(use: QuotaUse) -> Text:
    """A key's month in plain words: only answered calls spend the quota."""
    return Text(
        f"本月已用 {use.answered:,} / 配额 {use.quota:,} 次，"
        f"另有 {use.refused:,} 次被拒绝（不计入配额）",
        f"{use.answered:,} of {use.quota:,} calls used this month; "
        f"{use.refused:,} more refused (not counted)",
    )


def key_view(k: ApiKey, now: datetime, use: QuotaUse | None = None) -> dict[str, Any]:
    status = status_of_key(k, now)
    return {
        "use": None if use is None else quota_text(use),
        "prefix": k.prefix,
        "masked": f"{KEY_PREFIX}{k.prefix}_…",
        "label": k.label,
        "grants": json.loads(k.grants),
        "created": format_local(k.created_at),
        "expires": format_local(k.expires_at),
        "revoked": format_local(k.revoked_at),
        "replaced_by": k.replaced_by,
        "status": status,
        "status_title": KEY_STATES[status],
    }


def membership_view(city: CityChannel, m: Membership) -> dict[str, Any]:
    zone = city.zones.get(m.zone)
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


def chart(kind: str, categories: list[str], series: list[dict[str, Any]]) -> dict[str, Any]:
    """What the page's ECharts script draws: bar (stacked by day), hbar or pie."""
    return {"kind": kind, "categories": categories, "series": series}
