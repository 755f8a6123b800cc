"""What the data channel's API takes and returns; the pages validate their forms through the
same models, so a form and an API call are refused alike, field by field."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from shuhui.channel.billing import Statement, issued_seal, statement_body
from shuhui.channel.grants import (
    DEFAULT_MONTHLY_QUOTA,
    DEFAULT_RATE_PER_MINUTE,
    MAX_DAYS,
    MAX_PRIVACY_BUDGET,
    application_history,
    application_products,
    grant_active,
)
from shuhui.channel.keys import KEY_DAYS
from shuhui.channel.models import (
    APPLICATION_STATES,
    CONSUMER_TYPES,
    AccessApplication,
    ApiKey,
    Consumer,
    Grant,
    Membership,
)
from shuhui.channel.products import Product
from shuhui.core.clock import utcnow
from shuhui.core.i18n import Text

WHOLE: Final = re.compile(r"-?[0-9]{1,12}")
Model = TypeVar("Model", bound=BaseModel)


def _whole_number(value: object) -> object:
    """A number typed into a form is text, perhaps with thousands separators; words are not
    a number."""
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "")
        if not WHOLE.fullmatch(cleaned):
            raise ValueError(Text("必须是整数", "must be a whole number"))
        return int(cleaned)
    return value


def _between(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"{low}-{high}")
        return value

    return AfterValidator(check)


def _schema(low: int, high: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


# Whole numbers in a range, refused with the words the service uses ("1-1098").
WholeNumber = BeforeValidator(_whole_number)
ApplicationDays = Annotated[int, WholeNumber, _between(1, MAX_DAYS), _schema(1, MAX_DAYS)]
KeyDays = Annotated[int, WholeNumber, _between(1, KEY_DAYS), _schema(1, KEY_DAYS)]
RatePerMinute = Annotated[int, WholeNumber, _between(1, 100_000), _schema(1, 100_000)]
MonthlyQuota = Annotated[int, WholeNumber, _between(1, 100_000_000), _schema(1, 100_000_000)]
ShownDays = Annotated[int, WholeNumber, _between(1, 366), _schema(1, 366)]


def _blank_is_none(value: object) -> object:
    """A form's field left empty: not given."""
    return None if isinstance(value, str) and not value.strip() else value


# ε per noised product and table version; None (or a blank field): the product's default.
PrivacyBudgetIn = Annotated[
    Annotated[float, Field(gt=0, le=MAX_PRIVACY_BUDGET, allow_inf_nan=False)] | None,
    BeforeValidator(_blank_is_none),
]


class DaysIn(BaseModel):
    """How many days of calls a chart covers (usage, dashboard)."""

    model_config = ConfigDict(extra="forbid")

    days: ShownDays = 30


class ConsumerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=32, description="bank, insurer, hospital, …")
    contact_name: str = Field(min_length=1, max_length=64)
    contact_phone: str = Field(min_length=1, max_length=32)
    contact_email: str = Field(min_length=3, max_length=128)


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone: str = Field(min_length=1, max_length=32)
    statement: str = Field(min_length=1, max_length=2048, description="why the consumer joins")


class MembershipReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1024)


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[str] = Field(min_length=1, max_length=20)
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="output fields wanted per product (default: all)"
    )
    purpose: str = Field(min_length=1, max_length=256)
    legal_basis: str = Field(min_length=1, max_length=1024)
    usage: Literal["public_governance", "industry"]
    days: ApplicationDays


class ApplicationReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "return"]
    reason: str = Field(default="", max_length=1024)
    rate_per_minute: RatePerMinute = DEFAULT_RATE_PER_MINUTE
    monthly_quota: MonthlyQuota = DEFAULT_MONTHLY_QUOTA
    privacy_budget: PrivacyBudgetIn = Field(
        default=None,
        description="ε the consumer may spend on each noised product per version of its "
        "tables (隐私预算); omitted: each product's default",
    )


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_basis: str = Field(min_length=1, max_length=1024)
    note: str = Field(default="", max_length=1024)


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1024)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grants: list[str] = Field(min_length=1, max_length=50)
    label: str = Field(min_length=1, max_length=64)
    days: KeyDays = KEY_DAYS


class KeyOut(BaseModel):
    prefix: str
    label: str
    grants: list[str]
    created_at: str
    expires_at: str
    revoked_at: str | None
    replaced_by: str | None
    secret: str | None = Field(
        default=None, description="the whole key: shown once, at issue or rotation"
    )


class ProductCall(BaseModel):
    """The body of a gateway call (documented per product in the OpenAPI spec)."""

    purpose: str = Field(description="the purpose of this call; must be the grant's purpose")
    params: dict[str, object] = Field(default_factory=dict)


# --- what the API answers -------------------------------------------------------------------


def consumer_out(c: Consumer) -> dict[str, Any]:
    return {
        "credit_code": c.credit_code,
        "name": c.name,
        "type": c.type,
        "type_zh": CONSUMER_TYPES[c.type][0],
        "contact_name": c.contact_name,
        "contact_phone": c.contact_phone,
        "contact_email": c.contact_email,
    }


def membership_out(m: Membership) -> dict[str, Any]:
    return {
        "id": m.id,
        "consumer": m.consumer.credit_code,
        "consumer_name": m.consumer.name,
        "zone": m.zone,
        "status": m.status,
        "statement": m.statement,
        "applied_at": m.applied_at.isoformat(),
        "reviewer": m.reviewer,
        "review_reason": m.review_reason,
    }


def application_out(a: AccessApplication) -> dict[str, Any]:
    return {
        "code": a.code,
        "consumer": a.consumer.credit_code,
        "consumer_name": a.consumer.name,
        "products": application_products(a),
        "fields": json.loads(a.fields),
        "purpose": a.purpose,
        "legal_basis": a.legal_basis,
        "usage": a.usage,
        "days": a.days,
        "status": a.status,
        "status_zh": APPLICATION_STATES[a.status][0],
        "submitted_at": a.submitted_at.isoformat(),
        "history": application_history(a),
    }


def grant_out(g: Grant) -> dict[str, Any]:
    return {
        "code": g.code,
        "consumer": g.consumer.credit_code,
        "products": application_products(g),
        "fields": json.loads(g.fields),
        "purpose": g.purpose,
        "usage": g.usage,
        "valid_from": g.valid_from.isoformat(),
        "valid_to": g.valid_to.isoformat(),
        "rate_per_minute": g.rate_per_minute,
        "monthly_quota": g.monthly_quota,
        "privacy_budget": g.privacy_budget,  # None: each noised product's default
        "status": g.status,
        "active": grant_active(g, utcnow()),
        "revoked_reason": g.revoked_reason,
    }


def key_out(k: ApiKey, secret: str | None = None) -> KeyOut:
    return KeyOut(
        prefix=k.prefix,
        label=k.label,
        grants=json.loads(k.grants),
        created_at=k.created_at.isoformat(),
        expires_at=k.expires_at.isoformat(),
        revoked_at=None if k.revoked_at is None else k.revoked_at.isoformat(),
        replaced_by=k.replaced_by,
        secret=secret,
    )


def product_out(p: Product) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name_zh,
        "name_en": p.name_en,
        "kind": p.kind,
        "zone": p.zone,
        "provider": p.provider,
        "summary": p.summary,
        "consent": p.consent,
        # Hosted products: the providing organisation's credit code, and whether it reviews.
        "provider_code": p.provider_code,
        "provider_reviews": p.provider_reviews if p.kind == "hosted" else None,
        "params": [
            {"name": x.name, "type": x.type, "required": x.required, "title": x.title_zh}
            for x in p.params
        ],
        "output": [{"name": f.name, "type": f.type, "title": f.title_zh} for f in p.output],
        "pricing": {
            "tiers": [{"up_to": t.up_to, "fen": t.fen} for t in p.tiers],
            "public_governance_fen": p.public_governance_fen,
        },
        "reference": p.item.reference,
        "endpoint": f"/api/v1/channel/products/{p.code}",
    }


def statement_out(s: Statement) -> dict[str, Any]:
    out: dict[str, Any] = statement_body(s)
    out["issued"] = (
        None
        if s.issued is None
        else {
            "code": s.issued.code,
            "issued_at": s.issued.issued_at.isoformat(),
            "issued_by": s.issued.issued_by,
            "seal": issued_seal(s.issued),
        }
    )
    return out
