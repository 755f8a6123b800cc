"""Onboarding to the data channel: the consumer organisations (registered once, by credit code)
and their memberships of the zones, applied for and reviewed by the data bureau."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.channel.city import CityChannel
from shuhui.channel.common import bump
from shuhui.channel.models import CONSUMER_TYPES, Consumer, Membership
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text, codes
from shuhui.core.ids import InvalidIdentifier, parse_credit_code
from shuhui.trust.ledger import service as ledger


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
        raise invalid(
            "type",
            Text("必须是以下之一：" + codes(CONSUMER_TYPES), f"one of {', '.join(CONSUMER_TYPES)}"),
        )
    for where, value, limit in (
        ("name", name, 256),
        ("contact_name", contact_name, 64),
        ("contact_phone", contact_phone, 32),
        ("contact_email", contact_email, 128),
    ):
        if not value.strip() or len(value) > limit:
            raise invalid(where, Text(f"1 到 {limit} 个字", f"1-{limit} characters"))
    if "@" not in contact_email:
        raise invalid("contact_email", Text("请填写电子邮箱地址", "an e-mail address"))
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
    city: CityChannel,
    consumer: Consumer,
    zone: str,
    statement: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Membership:
    now = as_utc(now or utcnow())
    item = city.zones.get(zone)
    if item is None or not item.in_force(local_today(now)):
        raise invalid("zone", Text("没有这个专区", "no such zone"))
    if consumer.type not in item.attrs.get("consumer_types", []):
        raise invalid("zone", f"{item.name_zh}不接受{CONSUMER_TYPES[consumer.type][0]}加入")
    if not statement.strip() or len(statement) > 2048:
        raise invalid("statement", Text("1 到 2048 个字", "1-2048 characters"))
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
        raise invalid("reason", Text("拒绝时请说明原因", "a refusal says why"))
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
