"""The data-asset registry's figures as facts (``core.facts``), for whatever sums them
(``shuhui.insight``): assets registered per month and kind, their latest valuations, and the
registrations themselves for the list behind a figure. Read from the registry's own table;
written nowhere.

Holders are organisations (a credit code each), so the list names them as registered."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.assets.models import AssetRegistration
from shuhui.core.clock import local_today
from shuhui.core.facts import Fact, month_of

KINDS: dict[str, tuple[str, str]] = {
    "dataset": ("数据集", "Dataset"),
    "product": ("数据产品", "Data product"),
}


def _registered_on(reviewed_at: datetime | None) -> date | None:
    # The day of registration is the day it was accepted, counted in Qingdao.
    return None if reviewed_at is None else local_today(reviewed_at)


def registered(db: Session) -> list[Fact]:
    """Assets registered (accepted, a certificate issued), per month of registration and kind
    (dataset or data product)."""
    rows = db.execute(
        select(AssetRegistration.kind, AssetRegistration.reviewed_at).where(
            AssetRegistration.status == "registered"
        )
    )
    tally: Counter[tuple[date | None, str]] = Counter()
    for kind, reviewed_at in rows:
        day = _registered_on(reviewed_at)
        tally[(None if day is None else month_of(day), str(kind))] += 1
    return [Fact(n, month=month, group=kind) for (month, kind), n in tally.items()]


def valuation_of(valuation: str | None) -> Decimal | None:
    """A stored valuation's concluded value (评估结论, 元), or None before it is valued."""
    if valuation is None:
        return None
    try:
        return Decimal(str(json.loads(valuation)["reconciled"]["value"]))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None


def valued(db: Session) -> list[Fact]:
    """The registered assets' latest concluded values in 元, per kind, as they stand now (a
    stock: a new valuation replaces the one before)."""
    rows = db.execute(
        select(AssetRegistration.kind, AssetRegistration.valuation).where(
            AssetRegistration.status == "registered", AssetRegistration.valuation.is_not(None)
        )
    )
    total: dict[str, Decimal] = {}
    for kind, valuation in rows:
        amount = valuation_of(valuation)
        if amount is not None:
            total[str(kind)] = total.get(str(kind), Decimal(0)) + amount
    return [Fact(float(amount), group=kind) for kind, amount in sorted(total.items())]


@dataclass(frozen=True)
class Registered:
    """A registered asset as the list behind a figure shows it."""

    code: str
    certificate_no: str | None
    title: str
    kind: str
    holder_name: str
    holder_code: str
    registered_on: date | None  # Qingdao's date
    value: Decimal | None  # 元, the latest valuation's conclusion


def registrations(
    db: Session, start: date | None, end: date | None, *, limit: int = 200
) -> tuple[list[Registered], int]:
    """Registered assets (at most ``limit``, latest first) whose month of registration falls
    in ``start``–``end`` (first days; None: every month), and how many there are."""
    found: list[Registered] = []
    total = 0
    a = AssetRegistration
    query = (
        select(
            a.code, a.certificate_no, a.title, a.kind, a.holder_name, a.holder_code,
            a.reviewed_at, a.valuation,
        )
        .where(a.status == "registered")
        .order_by(a.reviewed_at.desc(), a.id.desc())
    )  # fmt: skip
    # Months are Qingdao's, not UTC's: filtered here rather than in SQL. The registry is
    # small (each registration is reviewed by hand), so reading its rows' dates is cheap.
    for code, number, title, kind, holder, holder_code, reviewed_at, valuation in db.execute(query):
        day = _registered_on(reviewed_at)
        month = None if day is None else month_of(day)
        if month is not None and (
            (start is not None and month < start) or (end is not None and month > end)
        ):
            continue
        total += 1
        if len(found) < limit:
            found.append(
                Registered(
                    code, number, title, kind, holder, holder_code, day, valuation_of(valuation)
                )
            )
    return found, total
