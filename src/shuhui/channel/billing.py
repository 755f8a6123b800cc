"""Billing and the bureau's figures: a consumer's statement for a month, computed from the
metered calls and the products' price tiers, and issued once the month is over as a document
sealed with the billing seal the city's content names; a hosted product's provider's view of
the same calls (:func:`provider_statement`); calls per day, and the bureau's dashboard."""

from __future__ import annotations

import json
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.channel.city import BillingSeal, CityChannel
from shuhui.channel.common import ANSWERED, LOCAL, month_of, new_code
from shuhui.channel.grants import DEFAULT_MONTHLY_QUOTA, application_products, grants
from shuhui.channel.limits import month_windows
from shuhui.channel.models import USAGES, ApiKey, Call, Consumer, Counter, IssuedStatement
from shuhui.channel.products import Product
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import invalid
from shuhui.core.i18n import Text
from shuhui.trust.crypto.canonical import JsonValue, canonical_json
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals import service as seals


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


def statement(db: Session, city: CityChannel, consumer: Consumer, month: date) -> Statement:
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
    return _computed(db, city, consumer, month)


def _computed(db: Session, city: CityChannel, consumer: Consumer, month: date) -> Statement:
    rows = db.execute(
        select(Call.product, Call.usage, Call.status, func.count())
        .where(Call.consumer_id == consumer.id, Call.month == month)
        .group_by(Call.product, Call.usage, Call.status)
    ).all()
    answered: Tally[tuple[str, str]] = Tally()
    refused = 0
    for product, usage, status, n in rows:
        if status == ANSWERED:
            answered[(product, usage or "industry")] += n
        else:
            refused += n
    lines: list[StatementLine] = []
    for (code, usage), n in sorted(answered.items()):
        priced = city.products.get(code)
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


def usage_title(usage: str) -> tuple[str, str]:
    """How a usage is named to people (zh, en)."""
    return USAGES.get(usage, (usage, usage))


@dataclass(frozen=True)
class ProviderLine:
    """A consumer's answered calls of one of a provider's products in a month, and what they
    come to: the consumer's sealed statement's line once the month is issued, else computed
    as that statement computes it."""

    consumer: Consumer
    product: str
    usage: str
    calls: int
    fen: int
    issued: bool  # taken from the consumer's issued (sealed) statement


@dataclass(frozen=True)
class ProviderStatement:
    """What a hosted data's provider is owed for a month: its products' calls per consumer."""

    provider: str  # credit code
    month: date
    lines: list[ProviderLine]
    refused: int  # calls its consumers made of its products that were refused (not billed)

    @property
    def fen(self) -> int:
        return sum(line.fen for line in self.lines)

    @property
    def calls(self) -> int:
        return sum(line.calls for line in self.lines)


def _month_span(month: date) -> tuple[datetime, datetime]:
    """The month (local, Asia/Shanghai) as UTC instants: [its first moment, the next's)."""
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start, end = (datetime.combine(d, time(), LOCAL) for d in (month, after))
    return as_utc(start), as_utc(end)


def provider_statement(
    db: Session, city: CityChannel, provider_code: str, month: date
) -> ProviderStatement:
    """The calls of a provider's hosted products in a month, per consumer, product and usage,
    with the amounts the consumers are billed for them (``city``: the current city, which
    knows the hosted products, withdrawn ones too). Read through the consumers that hold or
    held a grant of them, by the metering's consumer-and-time index: the gateway's metering
    has no index by product, and gets none for this page."""
    codes = {p.code for p in city.products if p.provider_code == provider_code}
    holders = {g.consumer_id for g in grants(db) if codes.intersection(application_products(g))}
    if not codes or not holders:
        return ProviderStatement(provider_code, month, [], 0)
    start, end = _month_span(month)
    rows = db.execute(
        select(Call.consumer_id, Call.product, Call.usage, Call.status, func.count())
        .where(
            Call.consumer_id.in_(holders),
            Call.at >= start,
            Call.at < end,
            Call.month == month,
            Call.product.in_(codes),
        )
        .group_by(Call.consumer_id, Call.product, Call.usage, Call.status)
    ).all()
    # Which consumers called what: the figures are their statements' (one way to count).
    answered: set[tuple[int, str, str]] = set()
    refused = 0
    for consumer_id, product, usage, status, n in rows:
        if status != ANSWERED:
            refused += n
        elif consumer_id is not None:
            answered.add((consumer_id, product, usage or "industry"))
    lines: list[ProviderLine] = []
    consumers: dict[int, Statement] = {}
    for consumer_id, code, usage in sorted(answered):
        if consumer_id not in consumers:
            consumers[consumer_id] = statement(db, city, db.get_one(Consumer, consumer_id), month)
        billed = consumers[consumer_id]
        line = next((x for x in billed.lines if (x.product, x.usage) == (code, usage)), None)
        if line is None:  # not in the consumer's statement (a product no longer known)
            continue
        lines.append(
            ProviderLine(
                billed.consumer, code, usage, line.calls, line.fen, billed.issued is not None
            )
        )
    lines.sort(key=lambda x: (x.consumer.name, x.product, x.usage))
    return ProviderStatement(provider_code, month, lines, refused)


@dataclass(frozen=True)
class Issued:
    month: date
    issued: list[IssuedStatement]  # by this run
    already: int  # issued before


def _called_and_billed(db: Session, month: date) -> tuple[set[int], set[int]]:
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
    return {c for c in called if c is not None}, billed


def unbilled(db: Session, month: date) -> list[int]:
    """The consumers that called in ``month`` and have no statement for it yet (ids, sorted):
    whom issuing the month would bill."""
    called, billed = _called_and_billed(db, month)
    return sorted(called - billed)


def issue_statements(
    db: Session,
    city: CityChannel,
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
        raise invalid("month", Text("应写成“年-月”，如 2024-05", "YYYY-MM"))
    if month >= month_of(now):
        raise invalid(
            "month",
            Text(
                "这个月还没结束：月末之后才能出账",
                "not over yet: a month is billed after its last day",
            ),
        )
    called, billed = _called_and_billed(db, month)
    todo = sorted(called - billed)
    out: list[IssuedStatement] = []
    seal = city.billing_seal(local_today(now))
    if todo:
        billing_seal(db, data_dir, seal, actor=actor)
    for consumer_id in todo:
        consumer = db.get_one(Consumer, consumer_id)
        computed = _computed(db, city, consumer, month)
        code = new_code("ZD", now)
        body = statement_body(computed) | {
            "format": STATEMENT_FORMAT,
            "code": code,
            "consumer_name": consumer.name,
            "issuer": seal.biller,
            "issued_at": seals.iso(now),  # whole seconds, as the seal's signed_at
        }
        document = canonical_json(body)
        envelope = seals.sign_document(db, data_dir, seal.code, document, signer=actor, at=now)
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


def issued_seal(issued: IssuedStatement) -> dict[str, str]:
    """The code and name of the seal an issued statement was sealed with, from its envelope."""
    seal = json.loads(issued.seal)["seal"]
    return {"code": str(seal["code"]), "name": str(seal["name"])}


def issued_statements(db: Session, month: date) -> list[IssuedStatement]:
    return list(
        db.scalars(
            select(IssuedStatement)
            .where(IssuedStatement.month == month)
            .order_by(IssuedStatement.consumer_id)
        )
    )


def billing_seal(
    db: Session, data_dir: Path, seal: BillingSeal, *, actor: str, since: datetime | None = None
) -> str:
    """The bureau's billing seal, issued the first time a statement needs it (in force from
    ``since``: see :func:`seals.ensure_seal`)."""
    return seals.ensure_seal(
        db,
        data_dir,
        code=seal.code,
        name=seal.name,
        department=seal.biller,
        actor=actor,
        since=since,
    )


@dataclass(frozen=True)
class QuotaUse:
    """A key's month as the gateway counts it: answered calls against the quota, and refused
    calls, which do not spend it."""

    answered: int
    quota: int
    refused: int


def quota_use(
    db: Session, consumer: Consumer, keys: list[ApiKey], now: datetime | None = None
) -> dict[str, QuotaUse]:
    """This month's :class:`QuotaUse` of each of a consumer's keys, by prefix: the counters
    the gateway keeps, and the quota it applies (the largest of the key's grants')."""
    month, refused = month_windows(as_utc(now or utcnow()))
    counts = {
        (key_id, window): count
        for key_id, window, count in db.execute(
            select(Counter.key_id, Counter.window, Counter.count).where(
                Counter.key_id.in_([k.id for k in keys]), Counter.window.in_((month, refused))
            )
        )
    }
    quotas = {g.code: g.monthly_quota for g in grants(db, consumer.id)}
    return {
        k.prefix: QuotaUse(
            counts.get((k.id, month), 0),
            max(
                (quotas[code] for code in json.loads(k.grants) if code in quotas),
                default=DEFAULT_MONTHLY_QUOTA,
            ),
            counts.get((k.id, refused), 0),
        )
        for k in keys
    }


def usage_by_day(db: Session, consumer_id: int | None, since: datetime) -> list[dict[str, Any]]:
    """Calls per local day and product, answered and refused (for the charts)."""
    rows = db.execute(
        select(Call.at, Call.product, Call.status).where(
            Call.at >= since, *(() if consumer_id is None else (Call.consumer_id == consumer_id,))
        )
    ).all()
    tally: Tally[tuple[str, str, bool]] = Tally()
    for at, product, status in rows:
        tally[(as_utc(at).astimezone(LOCAL).date().isoformat(), product, status == ANSWERED)] += 1
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
        if status == ANSWERED:
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
