"""A person's social-insurance record (个人权益记录) as the data core holds it: enrolments,
monthly contributions, and the benefits paid — read by key, never scanned.

Every read goes through the approval domain's key indexes (``approval.lookups``): the first read
of a table version maps (or builds once) a file of its rows sorted by citizen ID, and a person's
rows are then a binary search away (~0.05 ms), so the most used query of the bureau does not
decompress a Parquet row group per call. Each part of a record names the table and version it
was read from, as a pre-filled form does.

Nothing here decides who may read: ``service`` does, and writes the ledger entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from shuhui.approval.lookups import Lookups, Rows
from shuhui.standard import vocabularies

CONTRIBUTIONS: Final = "insurance_contributions"
ENROLMENTS: Final = "insurance_enrolments"
PENSION_PAYMENTS: Final = "pension_payments"
UNEMPLOYMENT_BENEFITS: Final = "unemployment_benefits"
# The tables a record reads, by the key it reads them with (what ``prepare`` indexes ahead).
KEYED: Final = (
    ("residents", ("citizen_id",)),
    ("enterprises", ("credit_code",)),
    (ENROLMENTS, ("citizen_id",)),
    (CONTRIBUTIONS, ("citizen_id",)),
    (PENSION_PAYMENTS, ("citizen_id",)),
    (UNEMPLOYMENT_BENEFITS, ("citizen_id",)),
)
INSURANCE_TYPES: Final = vocabularies.INSURANCE_TYPES  # 养老, 医疗, 失业, 工伤: the columns shown


@dataclass(frozen=True)
class Source:
    """Where a part of the record was read: the table, its version, and its title."""

    table: str
    version: int


@dataclass(frozen=True)
class Enrolment:
    insurance_type: str
    scheme: str
    status: str
    start_date: date
    credit_code: str | None
    unit_name: str | None


@dataclass(frozen=True)
class MonthLine:
    """One month at one unit: the base and, per insurance type, what was due and what was paid
    (fen)."""

    month: date
    credit_code: str
    unit_name: str | None
    base_fen: int
    due_fen: dict[str, int]
    paid_fen: dict[str, int]

    @property
    def in_arrears(self) -> bool:
        return any(self.paid_fen.get(t, 0) < due for t, due in self.due_fen.items())


@dataclass(frozen=True)
class TypeSummary:
    """One insurance type over the whole record: months paid, the first and last of them, and
    the months still owed."""

    insurance_type: str
    months_paid: int
    months_owed: int
    first_month: date | None
    last_month: date | None
    paid_fen: int


@dataclass(frozen=True)
class Payment:
    kind: str  # 养老金 | 失业保险金
    month: date
    pay_date: date
    amount_fen: int


@dataclass(frozen=True)
class Record:
    citizen_id: str
    name: str | None
    enrolments: tuple[Enrolment, ...]
    months: tuple[MonthLine, ...]  # newest first, within the asked window
    summary: tuple[TypeSummary, ...]  # over every month the data core holds
    payments: tuple[Payment, ...]  # newest first
    sources: tuple[Source, ...] = field(default=())

    @property
    def known(self) -> bool:
        """Whether the data core holds anything about the person at all."""
        return self.name is not None or bool(self.enrolments or self.months or self.payments)

    @property
    def insured(self) -> bool:
        return any(e.status in ("参保缴费", "待遇领取") for e in self.enrolments)


def _source(rows: Rows | None, into: list[Source]) -> tuple[dict[str, Any], ...]:
    if rows is None:  # the data core has no such table (a city that does not load it)
        return ()
    into.append(Source(rows.table, rows.version))
    return rows.rows


def _unit_names(
    lookups: Lookups, codes: Iterable[str | None], into: list[Source]
) -> dict[str, str]:
    names: dict[str, str] = {}
    read = False
    for code in {c for c in codes if c}:
        rows = lookups.enterprise(code)
        if rows is None:
            continue
        if not read:
            into.append(Source(rows.table, rows.version))
            read = True
        first = rows.first()
        if first is not None and first.get("name"):
            names[code] = str(first["name"])
    return names


def _months(rows: Iterable[dict[str, Any]]) -> list[MonthLine]:
    grouped: dict[tuple[date, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["month"], row["credit_code"])
        line = grouped.setdefault(key, {"base": 0, "due": {}, "paid": {}})
        line["base"] = max(line["base"], int(row["base_fen"] or 0))
        kind = str(row["insurance_type"])
        line["due"][kind] = line["due"].get(kind, 0) + int(row["amount_fen"] or 0)
        line["paid"][kind] = line["paid"].get(kind, 0) + int(row["paid_fen"] or 0)
    return [
        MonthLine(month, code, None, v["base"], v["due"], v["paid"])
        for (month, code), v in sorted(grouped.items(), key=lambda kv: kv[0], reverse=True)
    ]


def _summary(lines: list[MonthLine]) -> tuple[TypeSummary, ...]:
    paid: dict[str, set[date]] = defaultdict(set)
    owed: dict[str, set[date]] = defaultdict(set)
    amount: dict[str, int] = defaultdict(int)
    for line in lines:
        for kind, due in line.due_fen.items():
            got = line.paid_fen.get(kind, 0)
            amount[kind] += got
            if got >= due and due > 0:
                paid[kind].add(line.month)
            elif got < due:
                owed[kind].add(line.month)
    out = []
    for kind in INSURANCE_TYPES:
        months = paid.get(kind, set())
        out.append(
            TypeSummary(
                kind,
                len(months),
                len(owed.get(kind, set()) - months),
                min(months) if months else None,
                max(months) if months else None,
                amount.get(kind, 0),
            )
        )
    return tuple(out)


def read_record(
    lookups: Lookups,
    citizen_id: str,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Record:
    """The person's record; ``months`` keeps the months from ``start`` to ``end`` (first days
    of months, both included), ``summary`` counts every month held."""
    sources: list[Source] = []
    resident = _source(lookups.resident(citizen_id), sources)
    name = str(resident[0]["name"]) if resident and resident[0].get("name") else None
    enrolment_rows = _source(lookups.rows(ENROLMENTS, "citizen_id", citizen_id), sources)
    contribution_rows = _source(lookups.rows(CONTRIBUTIONS, "citizen_id", citizen_id), sources)
    lines = _months(contribution_rows)
    shown = [
        line
        for line in lines
        if (start is None or line.month >= start) and (end is None or line.month <= end)
    ]
    names = _unit_names(
        lookups,
        [*(line.credit_code for line in shown), *(r.get("credit_code") for r in enrolment_rows)],
        sources,
    )
    enrolments = tuple(
        sorted(
            (
                Enrolment(
                    str(r["insurance_type"]),
                    str(r["scheme"]),
                    str(r["status"]),
                    r["start_date"],
                    r.get("credit_code"),
                    names.get(r.get("credit_code") or ""),
                )
                for r in enrolment_rows
            ),
            key=lambda e: (_order(e.insurance_type), e.scheme),
        )
    )
    payments = [
        Payment("养老金", r["month"], r["pay_date"], int(r["amount_fen"]))
        for r in _source(lookups.rows(PENSION_PAYMENTS, "citizen_id", citizen_id), sources)
    ] + [
        Payment("失业保险金", r["month"], r["pay_date"], int(r["amount_fen"]))
        for r in _source(lookups.rows(UNEMPLOYMENT_BENEFITS, "citizen_id", citizen_id), sources)
    ]
    payments.sort(key=lambda p: (p.month, p.kind), reverse=True)
    return Record(
        citizen_id=citizen_id,
        name=name,
        enrolments=enrolments,
        months=tuple(
            MonthLine(
                line.month,
                line.credit_code,
                names.get(line.credit_code),
                line.base_fen,
                line.due_fen,
                line.paid_fen,
            )
            for line in shown
        ),
        summary=_summary(lines),
        payments=tuple(payments),
        sources=tuple(sources),
    )


def _order(insurance_type: str) -> int:
    try:
        return INSURANCE_TYPES.index(insurance_type)
    except ValueError:
        return len(INSURANCE_TYPES)


def prepare(lookups: Lookups) -> None:
    """Maps (or builds) the indexes a record reads, so the first query does not wait."""
    lookups.prepare(KEYED)
