"""The data channel's logic: consumers and zones, access applications and grants, API keys,
the gateway's decision for each call, metering and billing. No HTTP here.

Who may call what is decided in this order, and each refusal is metered and written to the
audit ledger before it is answered: the key (401), the rate limit and the monthly quota (429),
the product and the purpose against the key's grants and the zone membership (403), the
parameters (422), the subject's certificate-use authorisation for products about one person or
enterprise (403). Only then is the product computed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from shuhui.catalog import service as catalog_service
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import Items, load_items
from shuhui.core.errors import Problem, invalid
from shuhui.core.ids import InvalidIdentifier, parse_credit_code
from shuhui.exchange import products as product_defs
from shuhui.exchange.engine import Answer, Engine, ProductUnavailable
from shuhui.exchange.models import (
    APPLICATION_STATES,
    CONSUMER_TYPES,
    USAGES,
    AccessApplication,
    ApiKey,
    Call,
    Consumer,
    Grant,
    IssuedStatement,
    Membership,
)
from shuhui.exchange.products import Product, Products
from shuhui.trust import authorisations, ledger, seals
from shuhui.trust.canonical import JsonValue, canonical_json

LOCAL: Final = ZoneInfo("Asia/Shanghai")
KEY_PREFIX: Final = "shk_"
DEFAULT_RATE_PER_MINUTE: Final = 600
DEFAULT_MONTHLY_QUOTA: Final = 1_000_000
MAX_DAYS: Final = 3 * 366
KEY_DAYS: Final = 366

# Refusal reasons: a stable code (metered, charted, in the ledger) and the Chinese words.
# Refusals that count against the key's rate limit and quota: every call made with a valid key.
COUNTED: Final = frozenset(
    {
        "product-unknown",
        "product-not-granted",
        "purpose-mismatch",
        "grant-inactive",
        "not-a-member",
        "invalid-params",
        "consent-refused",
        "dataset-not-open",
        "product-unavailable",
    }
)
REASONS: Final[dict[str, str]] = {
    "key-missing": "未提供 API 密钥",
    "key-unknown": "API 密钥无效",
    "key-revoked": "API 密钥已撤销",
    "key-expired": "API 密钥已过期",
    "rate-limited": "调用频率超过限制",
    "quota-exhausted": "本月调用配额已用完",
    "product-unknown": "数据产品不存在",
    "product-not-granted": "该数据产品不在授权范围内",
    "purpose-mismatch": "用途与批准的用途不符",
    "grant-inactive": "数据使用授权已撤销或不在有效期内",
    "not-a-member": "未加入该产品所属专区",
    "invalid-params": "参数校验失败",
    "consent-refused": "数据主体未授权或授权不适用",
    "dataset-not-open": "数据集不是无条件开放数据",
    "product-unavailable": "数据产品暂不可用",
}


@dataclass(frozen=True)
class CityExchange:
    zones: Items
    products: Products
    certificate_types: Items


def city_exchange(content: Path) -> CityExchange:
    zones = load_items(content / "exchange-zones.yaml", "exchange-zones")
    types = load_items(content / "certificate-types.yaml", "certificate-types")
    holders = {t.code: str(t.attrs.get("holder", "any")) for t in types}
    return CityExchange(zones, product_defs.load(content, {z.code for z in zones}, holders), types)


def prepare_products_later(engine: Engine, exchange: CityExchange) -> None:
    """Starts preparing every product in force, in the background (at server start)."""
    today = local_today(utcnow())
    engine.prepare_later(exchange.products.in_force(today), today)


def month_of(now: datetime) -> date:
    return local_today(now).replace(day=1)


def _code(prefix: str, now: datetime) -> str:
    return f"{prefix}-{local_today(now):%Y%m%d}-{secrets.token_hex(3).upper()}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --- what the gateway remembers about a key ----------------------------------------------------

CALLS: Final = cast(Table, Call.__table__)  # metering rows go in as plain INSERTs
BUMP = text("UPDATE channel_state SET revision = revision + 1 WHERE id = 1")
REVISION = text("SELECT revision FROM channel_state WHERE id = 1")


def bump(db: Session) -> None:
    """Marks keys, grants or memberships changed, in the caller's transaction: every process
    forgets what it remembered about keys (see :class:`KeyCache`)."""
    db.execute(BUMP)


@dataclass(frozen=True)
class KeyFacts:
    """A key as the gateway needs it: the key, its consumer, its grants, the zones joined."""

    key: ApiKey
    grants: list[Grant]
    zones: frozenset[str]


class KeyCache:
    """Keys looked up at a channel revision, kept while the revision stands: a call reads one
    number instead of the key, its grants and the consumer's zones. A revoked key, grant or
    membership bumps the revision in the same transaction, so the next call sees it."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._keys: dict[str, KeyFacts | None] = {}

    def facts(self, db: Session, prefix: str) -> KeyFacts | None:
        revision = int(db.execute(REVISION).scalar_one())
        with self._lock:
            if revision != self._revision:
                self._keys.clear()
                self._revision = revision
            if prefix in self._keys:
                return self._keys[prefix]
        key = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        found = None
        if key is not None:
            codes = set(json.loads(key.grants))
            held = [g for g in grants(db, key.consumer_id) if g.code in codes]
            found = KeyFacts(key, held, frozenset(member_zones(db, key.consumer_id)))
        with self._lock:
            if revision == self._revision:
                if len(self._keys) >= self.capacity:
                    self._keys.clear()
                self._keys[prefix] = found
        return found


# --- consumers and zones -------------------------------------------------------------------


def consumer_by_code(db: Session, credit_code: str) -> Consumer | None:
    return db.scalar(select(Consumer).where(Consumer.credit_code == credit_code))


def register_consumer(
    db: Session,
    *,
    credit_code: str,
    name: str,
    type: str,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    actor: str,
    now: datetime | None = None,
) -> Consumer:
    """Registers the organisation an account acts for (once; the credit code is its identity)."""
    now = as_utc(now or utcnow())
    try:
        code = parse_credit_code(credit_code).code
    except InvalidIdentifier as exc:
        raise invalid("credit_code", exc.reason) from None
    if type not in CONSUMER_TYPES:
        raise invalid("type", f"one of {', '.join(CONSUMER_TYPES)}")
    for where, value, limit in (
        ("name", name, 256),
        ("contact_name", contact_name, 64),
        ("contact_phone", contact_phone, 32),
        ("contact_email", contact_email, 128),
    ):
        if not value.strip() or len(value) > limit:
            raise invalid(where, f"1-{limit} characters")
    if "@" not in contact_email:
        raise invalid("contact_email", "an e-mail address")
    if consumer_by_code(db, code) is not None:
        raise Problem("conflict", detail=f"机构 {code} 已登记")
    consumer = Consumer(
        credit_code=code,
        name=name.strip(),
        type=type,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        created_at=now,
        created_by=actor,
    )
    db.add(consumer)
    db.flush()
    ledger.record(db, actor, "channel.consumer.registered", detail={"consumer": code, "type": type})
    return consumer


def apply_membership(
    db: Session,
    exchange: CityExchange,
    consumer: Consumer,
    zone: str,
    statement: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Membership:
    now = as_utc(now or utcnow())
    item = exchange.zones.get(zone)
    if item is None or not item.in_force(local_today(now)):
        raise invalid("zone", "no such zone")
    if consumer.type not in item.attrs.get("consumer_types", []):
        raise invalid("zone", f"{item.name_zh}不接受{CONSUMER_TYPES[consumer.type][0]}加入")
    if not statement.strip() or len(statement) > 2048:
        raise invalid("statement", "1-2048 characters")
    held = db.scalar(
        select(Membership).where(Membership.consumer_id == consumer.id, Membership.zone == zone)
    )
    if held is not None and held.status in ("pending", "approved"):
        raise Problem("conflict", detail=f"已申请或已加入{item.name_zh}")
    if held is None:
        held = Membership(consumer_id=consumer.id, zone=zone)
        db.add(held)
    held.status, held.statement, held.applied_at = "pending", statement.strip(), now
    held.reviewer = held.reviewed_at = held.review_reason = None
    db.flush()
    ledger.record(
        db,
        actor,
        "channel.membership.applied",
        detail={"consumer": consumer.credit_code, "zone": zone},
    )
    return held


def review_membership(
    db: Session,
    membership_id: int,
    *,
    approve: bool,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Membership:
    now = as_utc(now or utcnow())
    held = db.get(Membership, membership_id)
    if held is None:
        raise Problem("not-found", detail="没有该入驻申请")
    if held.status != "pending":
        raise Problem("conflict", detail="该申请已审核")
    if not approve and not reason.strip():
        raise invalid("reason", "a refusal says why")
    held.status = "approved" if approve else "rejected"
    held.reviewer, held.reviewed_at, held.review_reason = actor, now, reason.strip() or None
    bump(db)
    ledger.record(
        db,
        actor,
        f"channel.membership.{held.status}",
        detail={"consumer": held.consumer.credit_code, "zone": held.zone, "reason": reason},
    )
    return held


def memberships(db: Session, consumer_id: int | None = None) -> list[Membership]:
    query = select(Membership).order_by(Membership.applied_at.desc())
    if consumer_id is not None:
        query = query.where(Membership.consumer_id == consumer_id)
    return list(db.scalars(query))


def member_zones(db: Session, consumer_id: int) -> set[str]:
    return set(
        db.scalars(
            select(Membership.zone).where(
                Membership.consumer_id == consumer_id, Membership.status == "approved"
            )
        )
    )


# --- access applications and grants ----------------------------------------------------------


def apply_access(
    db: Session,
    exchange: CityExchange,
    consumer: Consumer,
    *,
    products: Sequence[str],
    fields: dict[str, list[str]] | None,
    purpose: str,
    legal_basis: str,
    usage: str,
    days: int,
    actor: str,
    now: datetime | None = None,
) -> AccessApplication:
    """Applies to use products for one purpose; the providing department reviews first."""
    now = as_utc(now or utcnow())
    wanted = _check_products(exchange, products, local_today(now))
    zones = member_zones(db, consumer.id)
    for code in wanted:
        zone = exchange.products.by_code[code].zone
        if zone not in zones:
            raise invalid("products", f"{code}: 须先加入{exchange.zones.by_code[zone].name_zh}")
    chosen = _check_fields(exchange, wanted, fields or {})
    text = authorisations.normalise_purpose(purpose)
    if not text:
        raise invalid("purpose", "required")
    if not legal_basis.strip() or len(legal_basis) > 1024:
        raise invalid("legal_basis", "1-1024 characters")
    if usage not in USAGES:
        raise invalid("usage", f"one of {', '.join(USAGES)}")
    if not 1 <= days <= MAX_DAYS:
        raise invalid("days", f"1-{MAX_DAYS}")
    application = AccessApplication(
        code=_code("SQ", now),
        consumer_id=consumer.id,
        products=_json(wanted),
        fields=_json(chosen),
        purpose=text,
        legal_basis=legal_basis.strip(),
        usage=usage,
        days=days,
        status="department_review",
        applicant=actor,
        submitted_at=now,
        history=_json([{"at": now.isoformat(), "by": actor, "step": "submitted"}]),
    )
    application.status = first_status(exchange, application)
    db.add(application)
    db.flush()
    ledger.record(
        db,
        actor,
        "channel.application.submitted",
        purpose=text,
        detail={
            "application": application.code,
            "consumer": consumer.credit_code,
            "products": wanted,
            "usage": usage,
        },
    )
    return application


def _check_products(exchange: CityExchange, products: Sequence[str], today: date) -> list[str]:
    wanted = sorted(set(products))
    if not wanted:
        raise invalid("products", "at least one product")
    for code in wanted:
        product = exchange.products.get(code)
        if product is None or not product.item.in_force(today):
            raise invalid("products", f"{code}: no such product")
    return wanted


def _check_fields(
    exchange: CityExchange, products: list[str], fields: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The output fields asked for, per product (all of them where none are named)."""
    chosen: dict[str, list[str]] = {}
    for code, names in fields.items():
        if code not in products:
            raise invalid("fields", f"{code}: not one of the products applied for")
        known = exchange.products.by_code[code].output_names
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise invalid("fields", f"{code}: no output field {', '.join(unknown)}")
    for code in products:
        names = fields.get(code) or list(exchange.products.by_code[code].output_names)
        chosen[code] = sorted(set(names))
    return chosen


def application_products(application: AccessApplication | Grant) -> list[str]:
    return list(json.loads(application.products))


def application_history(application: AccessApplication) -> list[dict[str, Any]]:
    return list(json.loads(application.history))


def _department(name: str) -> str:
    for prefix in ("青岛市", "市"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def providers_to_review(exchange: CityExchange, application: AccessApplication) -> set[str]:
    """The providing departments that must still approve: those of its products that are not
    open data, less those that approved since the application was last submitted."""
    needed = {
        _department(product.provider)
        for code in application_products(application)
        if (product := exchange.products.by_code.get(code)) is not None and product.kind != "open"
    }
    for step in reversed(application_history(application)):
        if step.get("step") in ("submitted", "resubmitted"):
            break
        if step.get("step") == "department" and step.get("decision") == "approve":
            needed.discard(str(step.get("department", "")))
    return needed


def first_status(exchange: CityExchange, application: AccessApplication) -> str:
    """Open data needs no provider's consent: the bureau alone reviews its use."""
    return "department_review" if providers_to_review(exchange, application) else "bureau_review"


def reviewer_step(
    exchange: CityExchange, application: AccessApplication, department: str | None, is_bureau: bool
) -> str | None:
    """Which step this reviewer may take now: 'department' for an officer of a providing
    department that has not approved yet, while the application awaits the departments (each
    of them must approve); 'bureau' for the data bureau after that."""
    if application.status == "bureau_review" and is_bureau:
        return "bureau"
    if application.status != "department_review" or not department:
        return None
    needed = providers_to_review(exchange, application)
    return "department" if _department(department) in needed else None


def review_access(
    db: Session,
    exchange: CityExchange,
    code: str,
    *,
    decision: str,
    reason: str,
    actor: str,
    department: str | None,
    is_bureau: bool,
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
    monthly_quota: int = DEFAULT_MONTHLY_QUOTA,
    now: datetime | None = None,
) -> AccessApplication:
    """approve | reject | return, by the providing department and then the data bureau; the
    bureau's approval makes the grant."""
    now = as_utc(now or utcnow())
    application = db.scalar(select(AccessApplication).where(AccessApplication.code == code))
    if application is None:
        raise Problem("not-found", detail=f"没有申请 {code}")
    step = reviewer_step(exchange, application, department, is_bureau)
    if step is None:
        raise Problem(
            "forbidden",
            detail=f"该申请处于“{APPLICATION_STATES[application.status][0]}”，您不能审核",
        )
    if decision not in ("approve", "reject", "return"):
        raise invalid("decision", "approve, reject or return")
    if decision != "approve" and not reason.strip():
        raise invalid("reason", "a rejection or return says why")
    if len(reason) > 1024:
        raise invalid("reason", "at most 1024 characters")
    if not 1 <= rate_per_minute <= 100_000:
        raise invalid("rate_per_minute", "1-100000")
    if not 1 <= monthly_quota <= 100_000_000:
        raise invalid("monthly_quota", "1-100000000")
    history = application_history(application)
    entry: dict[str, Any] = {
        "at": now.isoformat(),
        "by": actor,
        "step": step,
        "decision": decision,
        "reason": reason.strip(),
    }
    if step == "department":
        assert department is not None
        entry["department"] = _department(department)
    history.append(entry)
    application.history = _json(history)
    if decision == "reject":
        application.status = "rejected"
    elif decision == "return":
        application.status = "returned"
    elif step == "department":
        # The bureau reviews once every providing department has approved.
        if not providers_to_review(exchange, application):
            application.status = "bureau_review"
    else:
        application.status = "approved"
        grant = Grant(
            code=_code("SQX", now),
            consumer_id=application.consumer_id,
            products=application.products,
            fields=application.fields,
            purpose=application.purpose,
            usage=application.usage,
            valid_from=now,
            valid_to=now + timedelta(days=application.days),
            rate_per_minute=rate_per_minute,
            monthly_quota=monthly_quota,
            status="active",
            granted_at=now,
        )
        db.add(grant)
        db.flush()
        bump(db)
        application.grant_id = grant.id
        ledger.record(
            db,
            actor,
            "channel.grant.issued",
            purpose=grant.purpose,
            grant=grant.code,
            detail={
                "application": application.code,
                "consumer": application.consumer.credit_code,
                "products": application_products(application),
                "usage": grant.usage,
                "valid_to": grant.valid_to.isoformat(),
            },
        )
    db.flush()
    ledger.record(
        db,
        actor,
        f"channel.application.{decision}",
        purpose=application.purpose,
        detail={"application": application.code, "step": step, "reason": reason.strip()},
    )
    return application


def resubmit(
    db: Session,
    exchange: CityExchange,
    code: str,
    consumer: Consumer,
    *,
    legal_basis: str,
    note: str,
    actor: str,
    now: datetime | None = None,
) -> AccessApplication:
    """A returned application, completed, goes back to the providing department."""
    now = as_utc(now or utcnow())
    application = db.scalar(select(AccessApplication).where(AccessApplication.code == code))
    if application is None or application.consumer_id != consumer.id:
        raise Problem("not-found", detail=f"没有申请 {code}")
    if application.status != "returned":
        raise Problem("conflict", detail="只有退回的申请可以补充后重新提交")
    if not legal_basis.strip() or len(legal_basis) > 1024:
        raise invalid("legal_basis", "1-1024 characters")
    application.legal_basis = legal_basis.strip()
    history = application_history(application)
    history.append(
        {"at": now.isoformat(), "by": actor, "step": "resubmitted", "reason": note.strip()}
    )
    application.history = _json(history)
    application.status = first_status(exchange, application)
    ledger.record(db, actor, "channel.application.resubmitted", detail={"application": code})
    return application


def applications(
    db: Session, *, consumer_id: int | None = None, statuses: Sequence[str] | None = None
) -> list[AccessApplication]:
    query = select(AccessApplication).order_by(AccessApplication.submitted_at.desc())
    if consumer_id is not None:
        query = query.where(AccessApplication.consumer_id == consumer_id)
    if statuses:
        query = query.where(AccessApplication.status.in_(statuses))
    return list(db.scalars(query))


def grants(db: Session, consumer_id: int | None = None) -> list[Grant]:
    query = select(Grant).order_by(Grant.granted_at.desc())
    if consumer_id is not None:
        query = query.where(Grant.consumer_id == consumer_id)
    return list(db.scalars(query))


def revoke_grant(
    db: Session, code: str, *, reason: str, actor: str, now: datetime | None = None
) -> Grant:
    now = as_utc(now or utcnow())
    grant = db.scalar(select(Grant).where(Grant.code == code))
    if grant is None:
        raise Problem("not-found", detail=f"没有授权 {code}")
    if grant.status != "active":
        raise Problem("conflict", detail="该授权已撤销")
    if not reason.strip():
        raise invalid("reason", "a revocation says why")
    grant.status, grant.revoked_at, grant.revoked_reason = "revoked", now, reason.strip()
    bump(db)
    ledger.record(db, actor, "channel.grant.revoked", grant=code, detail={"reason": reason.strip()})
    return grant


def grant_active(grant: Grant, now: datetime) -> bool:
    return grant.status == "active" and grant.valid_from <= now < grant.valid_to


# --- API keys ---------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    # Keys are 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(api_key: str) -> tuple[str, str] | None:
    parts = api_key.split("_", 2)  # the secret part may hold "_" itself
    if len(parts) != 3 or parts[0] + "_" != KEY_PREFIX or len(parts[1]) != 8:
        return None
    return parts[1], api_key


def issue_key(
    db: Session,
    consumer: Consumer,
    *,
    grant_codes: Sequence[str],
    label: str,
    actor: str,
    days: int = KEY_DAYS,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for some of the consumer's active grants; the secret is returned once."""
    now = as_utc(now or utcnow())
    wanted = sorted(set(grant_codes))
    if not wanted:
        raise invalid("grants", "a key serves at least one grant")
    held = {g.code: g for g in grants(db, consumer.id)}
    for code in wanted:
        if code not in held or not grant_active(held[code], now):
            raise invalid("grants", f"{code}: not an active grant of this consumer")
    if not label.strip() or len(label) > 64:
        raise invalid("label", "1-64 characters")
    if not 1 <= days <= KEY_DAYS:
        raise invalid("days", f"1-{KEY_DAYS}")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        digest=_digest(secret),
        consumer_id=consumer.id,
        label=label.strip(),
        grants=_json(wanted),
        created_at=now,
        created_by=actor,
        expires_at=now + timedelta(days=days),
    )
    db.add(key)
    db.flush()
    bump(db)
    ledger.record(
        db,
        actor,
        "channel.key.issued",
        detail={"consumer": consumer.credit_code, "key": prefix, "grants": list[JsonValue](wanted)},
    )
    return key, secret


def keys(db: Session, consumer_id: int) -> list[ApiKey]:
    return list(
        db.scalars(
            select(ApiKey).where(ApiKey.consumer_id == consumer_id).order_by(ApiKey.id.desc())
        )
    )


def _own_key(db: Session, consumer: Consumer, prefix: str) -> ApiKey:
    key = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.consumer_id != consumer.id:
        raise Problem("not-found", detail=f"没有密钥 {prefix}")
    return key


def revoke_key(
    db: Session, consumer: Consumer, prefix: str, *, actor: str, now: datetime | None = None
) -> ApiKey:
    now = as_utc(now or utcnow())
    key = _own_key(db, consumer, prefix)
    if key.revoked_at is not None:
        raise Problem("conflict", detail="该密钥已撤销")
    key.revoked_at = now
    bump(db)
    ledger.record(
        db, actor, "channel.key.revoked", detail={"consumer": consumer.credit_code, "key": prefix}
    )
    return key


def rotate_key(
    db: Session, consumer: Consumer, prefix: str, *, actor: str, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key with the same grants; the old one stops working at once."""
    now = as_utc(now or utcnow())
    old = _own_key(db, consumer, prefix)
    if old.revoked_at is not None:
        raise Problem("conflict", detail="该密钥已撤销，不能轮换")
    active = [
        c
        for c in json.loads(old.grants)
        if any(g.code == c and grant_active(g, now) for g in grants(db, consumer.id))
    ]
    new, secret = issue_key(db, consumer, grant_codes=active, label=old.label, actor=actor, now=now)
    old.revoked_at, old.replaced_by = now, new.prefix
    bump(db)
    ledger.record(
        db,
        actor,
        "channel.key.rotated",
        detail={"consumer": consumer.credit_code, "key": prefix, "new_key": new.prefix},
    )
    return new, secret


# --- the gateway --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the gateway answers: status, JSON body, headers (rate-limit headers included)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass
class _Call:
    product_code: str
    started: float
    now: datetime
    key: ApiKey | None = None
    grant: Grant | None = None
    product: Product | None = None
    purpose: str | None = None
    subject: str | None = None
    held: list[Grant] = field(default_factory=list)  # the key's grants
    headers: dict[str, str] = field(default_factory=dict)
    counts: tuple[int, int] | None = None  # the key's calls this minute and month, this one in


@dataclass
class _Writes:
    """What a batch of calls writes besides the counters and the uses: ledger entries and
    metering rows, appended together once the batch is decided."""

    entries: list[ledger.Entry] = field(default_factory=list)
    # Each metering row with the index of its call's entry in ``entries``.
    meters: list[tuple[dict[str, Any], int | None]] = field(default_factory=list)

    def flush(self, db: Session) -> None:
        seqs = ledger.record_many(db, self.entries)
        rows = [
            {**row, "ledger_seq": None if entry is None else seqs[entry]}
            for row, entry in self.meters
        ]
        if rows:
            db.execute(insert(CALLS), rows)


def _actor(c: _Call) -> str:
    return f"consumer:{c.key.consumer.credit_code}" if c.key else "anonymous"


def _meter(
    writes: _Writes,
    c: _Call,
    status: int,
    reason: str | None,
    answer_sha: str | None,
    entry: int | None,
) -> None:
    writes.meters.append(
        (
            {
                "at": c.now,
                "month": month_of(c.now),
                "consumer_id": c.key.consumer_id if c.key else None,
                "key_prefix": c.key.prefix if c.key else None,
                "grant_code": c.grant.code if c.grant else None,
                "product": c.product_code[:64],
                "zone": c.product.zone if c.product else None,
                "usage": c.grant.usage if c.grant else None,
                "status": status,
                "reason": reason,
                "micros": int((time.perf_counter() - c.started) * 1e6),
                "answer_sha256": answer_sha,
            },
            entry,
        )
    )


def _refuse(
    writes: _Writes,
    c: _Call,
    reason: str,
    problem: Problem,
    *,
    recorded: int | None = None,
) -> Outcome:
    """Meters the refusal, writes it to the ledger (unless the consent check did: ``recorded``
    is then its entry's index in ``writes``), answers."""
    entry = recorded
    if entry is None:
        entry = len(writes.entries)
        writes.entries.append(
            ledger.Entry(
                _actor(c),
                "channel.refused",
                subject=c.subject,
                purpose=c.purpose,
                grant=c.grant.code if c.grant else None,
                detail={
                    "product": c.product_code[:64],
                    "reason": reason,
                    "status": problem.http_status,
                    "key": c.key.prefix if c.key else None,
                },
            )
        )
    _meter(writes, c, problem.http_status, reason, None, entry)
    problem.extra.setdefault("reason", reason)
    problem.extra.setdefault("reason_zh", REASONS[reason])
    return Outcome(problem.http_status, problem.body(), dict(c.headers), reason)


def _find_key(
    db: Session, keys: KeyCache, api_key: str | None
) -> tuple[KeyFacts | None, str | None]:
    if not api_key:
        return None, "key-missing"
    parts = _split(api_key.strip())
    if parts is None:
        return None, "key-unknown"
    facts = keys.facts(db, parts[0])
    if facts is None or not secrets.compare_digest(facts.key.digest, _digest(parts[1])):
        return None, "key-unknown"
    return facts, None


# Standard SQL both databases take (SQLite 3.35+, PostgreSQL 9.5+); as text, it is compiled once.
COUNT_CALLS = text(
    'INSERT INTO channel_counters (key_id, "window", count) VALUES (:key, :minute, :n), '
    '(:key, :month, :n) ON CONFLICT (key_id, "window") DO UPDATE SET '
    'count = channel_counters.count + excluded.count RETURNING "window", count'
)


# substr, not LIKE: SQLite's LIKE ignores case, and would take the month windows ("M:…") too.
OLD_MINUTES = text(
    "DELETE FROM channel_counters WHERE key_id = :key AND substr(\"window\", 1, 2) = 'm:' "
    'AND "window" < :before'
)


def _count(db: Session, calls: Sequence[_Call]) -> None:
    """Adds calls to their keys' minute and month windows, one statement per key and minute,
    safe with any number of writers (the database adds, not this process). The k-th of n calls
    in a window gets the count it would have got counted alone, after the k-1 before it."""
    windows: dict[tuple[int, str, str], list[_Call]] = {}
    for c in calls:
        assert c.key is not None
        local = c.now.astimezone(LOCAL)
        windows.setdefault((c.key.id, f"m:{local:%Y%m%d%H%M}", f"M:{local:%Y%m}"), []).append(c)
    for (key_id, minute, month), counted in windows.items():
        n = len(counted)
        rows = db.execute(COUNT_CALLS, {"key": key_id, "minute": minute, "month": month, "n": n})
        totals = {str(window): int(total) for window, total in rows}
        before_minute, before_month = totals[minute] - n, totals[month] - n
        if before_minute == 0:
            # The key's first calls this minute clear its minute windows before the last hour,
            # so the table holds about an hour of them per key (the month windows stay).
            local = counted[0].now.astimezone(LOCAL)
            earlier = f"m:{local - timedelta(hours=1):%Y%m%d%H%M}"
            db.execute(OLD_MINUTES, {"key": key_id, "before": earlier})
        for k, c in enumerate(counted, 1):
            c.counts = (before_minute + k, before_month + k)


def _limits(c: _Call) -> str | None:
    """Checks the counted call against the key's rate limit and monthly quota; sets the
    headers."""
    assert c.key is not None and c.counts is not None
    limit = max((g.rate_per_minute for g in c.held), default=DEFAULT_RATE_PER_MINUTE)
    quota = max((g.monthly_quota for g in c.held), default=DEFAULT_MONTHLY_QUOTA)
    local = c.now.astimezone(LOCAL)
    minute, month = c.counts
    reset = 60 - local.second
    c.headers.update(
        {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - minute)),
            "X-RateLimit-Reset": str(reset),
            "X-Quota-Limit": str(quota),
            "X-Quota-Remaining": str(max(0, quota - month)),
        }
    )
    if minute > limit:
        c.headers["Retry-After"] = str(reset)
        return "rate-limited"
    if month > quota:
        first = (local.replace(day=1) + timedelta(days=32)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        c.headers["Retry-After"] = str(int((first - local).total_seconds()) + 1)
        return "quota-exhausted"
    return None


def answer_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(_json(body).encode()).hexdigest()


@dataclass
class _Verdict:
    """What the read phase decided; the write phase records it."""

    reason: str | None = None  # a refusal's reason, None for an answer
    problem: Problem | None = None
    decision: authorisations.Decision | None = None  # the consent check, if one was made
    relying: authorisations.Party | None = None
    body: dict[str, Any] | None = None
    counted: bool = False  # the call counts against the key's limits
    used: authorisations.Decision | None = None  # the consent as recorded (write phase)


@dataclass
class Pending:
    """A call decided and computed, not yet recorded (see :func:`record_call`)."""

    call: _Call
    verdict: _Verdict


def decide_call(
    db: Session,
    exchange: CityExchange,
    engine: Engine,
    *,
    api_key: str | None,
    product_code: str,
    payload: Any,
    keys: KeyCache | None = None,
    now: datetime | None = None,
) -> Pending:
    """The read phase of a call: who is calling, whether they may, and the answer. Writes
    nothing, so it holds no write lock however long a product takes to prepare. ``keys`` is
    the process's :class:`KeyCache` (without one, the key is looked up afresh)."""
    c = _Call(product_code, time.perf_counter(), as_utc(now or utcnow()))
    verdict = _read_phase(db, exchange, engine, keys or KeyCache(), c, api_key, payload)
    return Pending(c, verdict)


def call(
    db: Session,
    exchange: CityExchange,
    engine: Engine,
    *,
    api_key: str | None,
    product_code: str,
    payload: Any,
    now: datetime | None = None,
) -> Outcome:
    """One call through the gateway, decided and recorded in one session. The caller commits
    whatever the outcome: a refusal is metered and in the ledger just like an answer."""
    pending = decide_call(
        db, exchange, engine, api_key=api_key, product_code=product_code, payload=payload, now=now
    )
    return record_call(db, pending)


def record_call(db: Session, pending: Pending) -> Outcome:
    """The write phase of one call (see :func:`record_calls`)."""
    return record_calls(db, [pending])[0]


def record_calls(db: Session, pending: Sequence[Pending]) -> list[Outcome]:
    """The write phase of calls, in order, in the caller's transaction: the rate and quota
    counters, the uses of the subjects' authorisations, the ledger entries and the metering.
    Several calls recorded together cost a few statements more than one (one per counter
    window and per use; one ledger append and one metering insert for all), so a server under
    load commits its calls in groups (:class:`shuhui.exchange.writes.GroupWriter`). A call
    over its key's limits is refused here, whatever else was decided."""
    _count(db, [p.call for p in pending if p.verdict.counted])
    writes = _Writes()
    outcomes = [_record(db, p, writes) for p in pending]
    writes.flush(db)
    return outcomes


def _record(db: Session, pending: Pending, writes: _Writes) -> Outcome:
    c, verdict = pending.call, pending.verdict
    if verdict.counted:
        limited = _limits(c)
        if limited is not None:
            return _refuse(writes, c, limited, Problem("rate-limited", detail=REASONS[limited]))
    decision = verdict.decision
    if verdict.reason is not None:
        assert verdict.problem is not None
        if verdict.reason == "consent-refused":
            entry = _record_consent(db, c, verdict, None, writes)
            return _refuse(writes, c, verdict.reason, verdict.problem, recorded=entry)
        return _refuse(writes, c, verdict.reason, verdict.problem)
    body = verdict.body
    assert body is not None and c.grant is not None
    digest = answer_digest(body["result"])
    if decision is not None:
        entry = _record_consent(db, c, verdict, digest, writes)
        used = verdict.used
        assert used is not None
        if not used.allowed:  # the last use went to someone else in the meantime
            exhausted = Problem(
                "authorisation-refused",
                detail=REASONS["consent-refused"],
                extra={"authorisation": used.as_dict()},
            )
            return _refuse(writes, c, "consent-refused", exhausted, recorded=entry)
        body["authorisation"] = decision.chain[-1]
    else:
        entry = len(writes.entries)
        writes.entries.append(
            ledger.Entry(
                _actor(c),
                "channel.answered",
                purpose=c.purpose,
                grant=c.grant.code,
                detail=_call_detail(c, digest),
            )
        )
    body["answer_sha256"] = digest
    _meter(writes, c, 200, None, digest, entry)
    return Outcome(200, body, dict(c.headers))


def _record_consent(
    db: Session, c: _Call, verdict: _Verdict, digest: str | None, writes: _Writes
) -> int:
    """The subject's authorisation used (or its refusal), in the ledger where they see it;
    returns the index of that entry in ``writes``."""
    assert verdict.decision is not None and verdict.relying is not None and c.subject
    entry = len(writes.entries)
    used = authorisations.record_use(
        db,
        verdict.decision,
        kind="cert_use",
        actor=_actor(c),
        grantee=verdict.relying,
        principal_id=c.subject,
        detail=_call_detail(c, digest),
        purpose=c.purpose,
        now=c.now,
        entries=writes.entries,
    )
    verdict.used = used
    return entry


def _read_phase(
    db: Session,
    exchange: CityExchange,
    engine: Engine,
    keys: KeyCache,
    c: _Call,
    api_key: str | None,
    payload: Any,
) -> _Verdict:
    """Decides the call and computes its answer without writing anything."""

    def refuse(reason: str, problem: Problem) -> _Verdict:
        return _Verdict(reason, problem, counted=c.key is not None and reason in COUNTED)

    facts, failure = _find_key(db, keys, api_key)
    if facts is None:
        assert failure is not None
        return refuse(failure, Problem("unauthenticated", detail=REASONS[failure], status=401))
    key = c.key = facts.key
    if key.revoked_at is not None:
        return refuse("key-revoked", Problem("unauthenticated", detail=REASONS["key-revoked"]))
    if c.now >= key.expires_at:
        return refuse("key-expired", Problem("unauthenticated", detail=REASONS["key-expired"]))
    c.held = facts.grants
    product = exchange.products.get(c.product_code)
    today = local_today(c.now)
    if product is None or not product.item.in_force(today):
        return refuse("product-unknown", Problem("not-found", detail=REASONS["product-unknown"]))
    c.product = product
    if not isinstance(payload, dict):
        return refuse("invalid-params", invalid("body", "a JSON object: {purpose, params}"))
    purpose = payload.get("purpose")
    if not isinstance(purpose, str) or not purpose.strip():
        return refuse("invalid-params", invalid("purpose", "required: the purpose of this call"))
    c.purpose = " ".join(purpose.split())[:256]
    covering = [g for g in c.held if product.code in application_products(g)]
    if not covering:
        return refuse("product-not-granted", _forbidden("product-not-granted", product.code))
    matching = [g for g in covering if g.purpose == c.purpose]
    if not matching:
        c.grant = covering[0]
        return refuse("purpose-mismatch", _forbidden("purpose-mismatch", product.code))
    live = [g for g in matching if grant_active(g, c.now)]
    c.grant = (live or matching)[0]
    if not live:
        return refuse("grant-inactive", _forbidden("grant-inactive", product.code))
    if product.zone not in facts.zones:
        return refuse("not-a-member", _forbidden("not-a-member", product.code))
    raw = payload.get("params", {})
    if not isinstance(raw, dict):
        return refuse("invalid-params", invalid("params", "a JSON object"))
    unknown = sorted(set(raw) - {p.name for p in product.params})
    if unknown:
        where = f"params.{unknown[0]}"
        return refuse("invalid-params", invalid(where, "not a parameter of this product"))
    try:
        params = {p.name: p.parse(raw.get(p.name), today) for p in product.params}
    except Problem as problem:
        return refuse("invalid-params", problem)
    consumer = key.consumer
    relying = authorisations.Party("enterprise", consumer.credit_code, consumer.name)
    decision: authorisations.Decision | None = None
    if product.kind == "subject":
        assert product.subject_param is not None and product.consent is not None
        c.subject = params[product.subject_param]
        decision = authorisations.decide_cert_use(
            db,
            relying_party=relying,
            holder_id=c.subject,
            certificate_type=product.consent,
            purpose=c.purpose,
            now=c.now,
        )
        if not decision.allowed:
            why = decision.reason[1] if decision.reason else ""
            refused = Problem(
                "authorisation-refused",
                detail=f"{REASONS['consent-refused']}：{why}",
                extra={"authorisation": decision.as_dict()},
            )
            return _Verdict("consent-refused", refused, decision, relying, counted=True)
    try:
        answer = _compute(db, engine, product, params, today)
    except _NotOpen:
        return refuse("dataset-not-open", _forbidden("dataset-not-open", product.code))
    except ProductUnavailable as exc:
        return refuse("product-unavailable", Problem("not-ready", detail=str(exc)))
    body = _answer_body(product, c, answer, json.loads(c.grant.fields).get(product.code))
    return _Verdict(None, None, decision, relying, body, counted=True)


class _NotOpen(Exception):
    pass


def _forbidden(reason: str, product: str) -> Problem:
    return Problem("forbidden", detail=f"{REASONS[reason]}（{product}）")


def _call_detail(c: _Call, digest: str | None) -> dict[str, JsonValue]:
    assert c.key is not None
    return {
        "product": c.product_code,
        "product_name": c.product.name_zh if c.product else None,
        "consumer": c.key.consumer.credit_code,
        "consumer_name": c.key.consumer.name,
        "channel_grant": c.grant.code if c.grant else None,
        "usage": c.grant.usage if c.grant else None,
        "key": c.key.prefix,
        "answer_sha256": digest,
    }


def _compute(
    db: Session, engine: Engine, product: Product, params: dict[str, Any], today: date
) -> Answer:
    if product.kind != "open":
        return engine.answer(product, params, today)
    assert product.dataset is not None
    if catalog_service.open_level_of_table(db, product.dataset) != "open":
        raise _NotOpen
    limit, offset = params.pop("limit", 100), params.pop("offset", 0)
    return engine.open_rows(db, product, params, limit, offset)


def _answer_body(
    product: Product, c: _Call, answer: Answer, fields: list[str] | None
) -> dict[str, Any]:
    """The answer, reduced to the output fields the grant allows."""
    allowed = set(fields or answer.columns)
    columns = [col for col in answer.columns if col in allowed]
    rows = [{col: row[col] for col in columns} for row in answer.rows]
    result: dict[str, Any]
    if product.kind == "subject":
        result = rows[0]
    else:
        result = {"rows": rows, "count": len(rows)}
        if product.kind == "aggregate":
            result["privacy"] = {
                "k_min": product.privacy.k_min,
                "suppressed_groups": answer.suppressed_groups,
                "suppressed_cells": answer.suppressed_cells,
                "noise": None
                if answer.noise_scale is None
                else {"mechanism": "laplace", "scale": answer.noise_scale},
            }
    assert c.grant is not None
    return {
        "product": product.code,
        "purpose": c.purpose,
        "grant": c.grant.code,
        "answered_at": c.now.astimezone(UTC).isoformat(timespec="milliseconds"),
        "result": result,
    }


# --- metering and billing -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    product: str
    usage: str
    calls: int
    tiers: list[tuple[str, int, int, int]]  # (band, calls, fen each, fen)
    fen: int


@dataclass(frozen=True)
class Statement:
    consumer: Consumer
    month: date
    lines: list[StatementLine]
    refused: int
    issued: IssuedStatement | None = None  # once issued, the lines are the sealed document's

    @property
    def fen(self) -> int:
        return sum(line.fen for line in self.lines)


STATEMENT_FORMAT: Final = "shuhui.channel-statement/1"
BILLER: Final = "青岛市大数据发展管理局"
BILLING_SEAL: Final = "QDSJJ-SJTD-0001"
BILLING_SEAL_NAME: Final = "青岛市大数据发展管理局数据通道结算专用章"


def tiered(product: Product, calls: int) -> tuple[list[tuple[str, int, int, int]], int]:
    """Cumulative tiers: the first tier's price for the calls up to its end, and so on."""
    out: list[tuple[str, int, int, int]] = []
    start = 0
    for tier in product.tiers:
        end = calls if tier.up_to is None else min(calls, tier.up_to)
        n = max(0, end - start)
        band = f"{start + 1}–{tier.up_to}" if tier.up_to is not None else f"{start + 1}–"
        if n:
            out.append((band, n, tier.fen, n * tier.fen))
        if tier.up_to is not None:
            start = max(start, tier.up_to)
        if calls <= start:
            break
    return out, sum(x[3] for x in out)


def statement(db: Session, exchange: CityExchange, consumer: Consumer, month: date) -> Statement:
    """A month's bill: answered calls per product and usage, priced by tiers (industry use) or
    free (public-governance use). Once issued, it is the sealed document, whatever the price
    list says now."""
    issued = db.scalar(
        select(IssuedStatement).where(
            IssuedStatement.consumer_id == consumer.id, IssuedStatement.month == month
        )
    )
    if issued is not None:
        return _from_document(consumer, issued)
    return _computed(db, exchange, consumer, month)


def _computed(db: Session, exchange: CityExchange, consumer: Consumer, month: date) -> Statement:
    rows = db.execute(
        select(Call.product, Call.usage, Call.status, func.count())
        .where(Call.consumer_id == consumer.id, Call.month == month)
        .group_by(Call.product, Call.usage, Call.status)
    ).all()
    answered: Tally[tuple[str, str]] = Tally()
    refused = 0
    for product, usage, status, n in rows:
        if status == 200:
            answered[(product, usage or "industry")] += n
        else:
            refused += n
    lines: list[StatementLine] = []
    for (code, usage), n in sorted(answered.items()):
        priced = exchange.products.get(code)
        if priced is None:
            continue
        if usage == "public_governance":
            fen = priced.public_governance_fen * n
            lines.append(
                StatementLine(code, usage, n, [("全部", n, priced.public_governance_fen, fen)], fen)
            )
        else:
            tiers, fen = tiered(priced, n)
            lines.append(StatementLine(code, usage, n, tiers, fen))
    return Statement(consumer, month, lines, refused)


def statement_body(s: Statement) -> dict[str, JsonValue]:
    """The statement as JSON: what the API answers and what an issued document holds."""
    return {
        "consumer": s.consumer.credit_code,
        "month": s.month.strftime("%Y-%m"),
        "lines": [
            {
                "product": x.product,
                "usage": x.usage,
                "usage_zh": USAGES.get(x.usage, (x.usage,))[0],
                "calls": x.calls,
                "fen": x.fen,
                "tiers": [
                    {"band": b, "calls": n, "fen_each": e, "fen": f} for b, n, e, f in x.tiers
                ],
            }
            for x in s.lines
        ],
        "refused_calls": s.refused,
        "total_fen": s.fen,
    }


def _from_document(consumer: Consumer, issued: IssuedStatement) -> Statement:
    body = json.loads(issued.document)
    lines = [
        StatementLine(
            x["product"],
            x["usage"],
            x["calls"],
            [(t["band"], t["calls"], t["fen_each"], t["fen"]) for t in x["tiers"]],
            x["fen"],
        )
        for x in body["lines"]
    ]
    return Statement(consumer, issued.month, lines, body["refused_calls"], issued)


@dataclass(frozen=True)
class Issued:
    month: date
    issued: list[IssuedStatement]  # by this run
    already: int  # issued before


def issue_statements(
    db: Session,
    exchange: CityExchange,
    data_dir: Path,
    month: date,
    *,
    actor: str,
    now: datetime | None = None,
) -> Issued:
    """Closes a month that is over: each consumer that called in it gets its statement as a
    document sealed with the bureau's billing seal, kept as issued (later price changes do not
    touch it). Consumers already billed for the month are left alone, so issuing again only
    bills the ones that were not. All or nothing: a seal that cannot be used issues none."""
    now = as_utc(now or utcnow())
    if month.day != 1:
        raise invalid("month", "YYYY-MM")
    if month >= month_of(now):
        raise invalid("month", "not over yet: a month is billed after its last day")
    called = set(
        db.scalars(
            select(Call.consumer_id)
            .where(Call.month == month, Call.consumer_id.is_not(None))
            .distinct()
        )
    )
    billed = set(
        db.scalars(select(IssuedStatement.consumer_id).where(IssuedStatement.month == month))
    )
    todo = sorted(c for c in called - billed if c is not None)
    out: list[IssuedStatement] = []
    if todo:
        seal = _billing_seal(db, data_dir, actor=actor)
    for consumer_id in todo:
        consumer = db.get_one(Consumer, consumer_id)
        computed = _computed(db, exchange, consumer, month)
        code = _code("ZD", now)
        body = statement_body(computed) | {
            "format": STATEMENT_FORMAT,
            "code": code,
            "consumer_name": consumer.name,
            "issuer": BILLER,
            "issued_at": seals.iso(now),  # whole seconds, as the seal's signed_at
        }
        document = canonical_json(body)
        envelope = seals.sign_document(db, data_dir, seal, document, signer=actor, at=now)
        row = IssuedStatement(
            code=code,
            consumer_id=consumer.id,
            month=month,
            total_fen=computed.fen,
            document=document.decode("utf-8"),
            seal=json.dumps(envelope, ensure_ascii=False),
            issued_at=now.replace(microsecond=0),
            issued_by=actor,
        )
        db.add(row)
        ledger.record(
            db,
            actor,
            "channel.statement_issued",
            subject=consumer.credit_code,
            purpose="monthly statement",
            grant=code,
            detail={
                "month": body["month"],
                "total_fen": computed.fen,
                "document_sm3": envelope["document_sm3"],
            },
        )
        out.append(row)
    db.flush()
    return Issued(month, out, len(billed))


def issued_statements(db: Session, month: date) -> list[IssuedStatement]:
    return list(
        db.scalars(
            select(IssuedStatement)
            .where(IssuedStatement.month == month)
            .order_by(IssuedStatement.consumer_id)
        )
    )


def _billing_seal(db: Session, data_dir: Path, *, actor: str) -> str:
    """The bureau's billing seal, issued the first time a statement needs it."""
    return seals.ensure_seal(
        db, data_dir, code=BILLING_SEAL, name=BILLING_SEAL_NAME, department=BILLER, actor=actor
    )


def usage_by_day(db: Session, consumer_id: int | None, since: datetime) -> list[dict[str, Any]]:
    """Calls per local day and product, answered and refused (for the charts)."""
    rows = db.execute(
        select(Call.at, Call.product, Call.status).where(
            Call.at >= since, *(() if consumer_id is None else (Call.consumer_id == consumer_id,))
        )
    ).all()
    tally: Tally[tuple[str, str, bool]] = Tally()
    for at, product, status in rows:
        tally[(as_utc(at).astimezone(LOCAL).date().isoformat(), product, status == 200)] += 1
    return [
        {"day": day, "product": product, "answered": ok, "calls": n}
        for (day, product, ok), n in sorted(tally.items())
    ]


def dashboard(db: Session, since: datetime) -> dict[str, Any]:
    """The bureau's view: calls by zone, product and consumer; refusals by reason."""
    names = dict(db.execute(select(Consumer.id, Consumer.name)).all())
    by_zone: Tally[str] = Tally()
    by_product: Tally[str] = Tally()
    by_consumer: Tally[str] = Tally()
    refusals: Tally[str] = Tally()
    for zone, product, consumer_id, status, reason, n in db.execute(
        select(Call.zone, Call.product, Call.consumer_id, Call.status, Call.reason, func.count())
        .where(Call.at >= since)
        .group_by(Call.zone, Call.product, Call.consumer_id, Call.status, Call.reason)
    ):
        if status == 200:
            by_zone[zone or "-"] += n
            by_product[product] += n
            by_consumer[names.get(consumer_id or 0, "-")] += n
        else:
            refusals[reason or "-"] += n
    return {
        "by_zone": dict(by_zone.most_common()),
        "by_product": dict(by_product.most_common()),
        "by_consumer": dict(by_consumer.most_common()),
        "refusals": dict(refusals.most_common()),
    }
