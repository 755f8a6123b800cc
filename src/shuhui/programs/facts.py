"""The programs' figures as facts (``core.facts.Fact``), for ``shuhui.insight``'s risk map: the
fund-risk alerts (基金监管，四链合一) and their money, pension certification (领取待遇资格认证)
and its overpayments. Each function reports at the finest grain the tables keep — a chain, a
stage, a month, a district — and insight sums and breaks them down for whatever is asked, so no
page counts these tables itself.

Read only: nothing here writes, and each function is one or two grouped queries. Money is fen.

Where a figure is about a person whose district the programs' own tables do not hold (an
alert's holder), the caller says how to find it: ``districts`` takes the citizen IDs and gives
their region codes (insight reads them from the population register in the data core). Without
it, or for a holder it does not know, a fact has no district: it still counts in the city's
total, in no district's.

The lists behind the figures (:func:`open_alerts`, :func:`overpayments`) name people: their
rows carry the citizen ID for the caller to mask.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import local
from shuhui.core.facts import Fact, month_of
from shuhui.programs.certification.models import Certification, Overpayment
from shuhui.programs.fundrisk.models import ALERT_STATES, CHAINS, Alert, AlertEvent

__all__ = [
    "ALERT_STATES",
    "CHAINS",
    "CONFIRMED_STATES",
    "OPEN_STATES",
    "AlertRow",
    "Districts",
    "OverpaymentRow",
    "alert_amounts_confirmed",
    "alert_recoveries",
    "alert_recovery_shares",
    "alerts_open",
    "alerts_opened",
    "certification_shares",
    "open_alert_holders",
    "open_alerts",
    "overpayment_facts",
    "overpayments",
]

# Citizen IDs → the region codes of their districts (6 digits); an ID it does not know is left out.
Districts = Callable[[Collection[str]], Mapping[str, str]]

# Alerts still to be dealt with: not dismissed and not wholly recovered.
OPEN_STATES: Final = ("new", "checking", "confirmed", "recovering")
# Alerts confirmed as breaches (what follows a confirmation): their amounts are owed to the fund.
CONFIRMED_STATES: Final = ("confirmed", "recovering", "recovered")
# The parts of an overpayment a figure shows.
RECOVERED: Final = "recovered"
OUTSTANDING: Final = "outstanding"

Key = tuple[str | None, date | None, str | None]  # district, month, group


def _local_month(moment: datetime) -> date:
    """The month a moment falls in for people in Qingdao (events are stored in UTC)."""
    return month_of(local(moment).date())


def _holders(districts: Districts | None, ids: Iterable[str | None]) -> Mapping[str, str]:
    wanted = {i for i in ids if i}
    return {} if districts is None or not wanted else districts(wanted)


def _facts(sums: Mapping[Key, list[float]]) -> list[Fact]:
    return [
        Fact(
            value=v[0],
            base=v[1] if len(v) > 1 else None,
            district=district,
            month=month,
            group=group,
        )
        for (district, month, group), v in sums.items()
    ]


def _count_facts(
    rows: Iterable[tuple[str | None, date | None, str | None, float]],
    holders: Mapping[str, str],
) -> list[Fact]:
    """Rows of (holder, month, group, value) summed per district, month and group."""
    sums: dict[Key, list[float]] = defaultdict(lambda: [0.0])
    for holder, month, group, value in rows:
        sums[(holders.get(holder or ""), month, group)][0] += float(value)
    return _facts(sums)


# --- fund-risk alerts ---------------------------------------------------------------------------


def alerts_opened(db: Session, districts: Districts | None = None) -> list[Fact]:
    """Alerts opened, per chain (group), month of the detection date they were found on, and
    the holder's district; whatever became of them later."""
    rows = db.execute(
        select(Alert.citizen_id, Alert.evaluated_on, Alert.chain, func.count()).group_by(
            Alert.citizen_id, Alert.evaluated_on, Alert.chain
        )
    ).all()
    holders = _holders(districts, (r[0] for r in rows))
    return _count_facts(((c, month_of(d), g, n) for c, d, g, n in rows), holders)


def alerts_open(db: Session, districts: Districts | None = None) -> list[Fact]:
    """Alerts open now (a stock: no month), per stage (group: new, checking, confirmed,
    recovering) and the holder's district."""
    rows = db.execute(
        select(Alert.citizen_id, Alert.state, func.count())
        .where(Alert.state.in_(OPEN_STATES))
        .group_by(Alert.citizen_id, Alert.state)
    ).all()
    holders = _holders(districts, (r[0] for r in rows))
    return _count_facts(((c, None, s, n) for c, s, n in rows), holders)


def alert_amounts_confirmed(db: Session, districts: Districts | None = None) -> list[Fact]:
    """The amounts of alerts confirmed as breaches (fen): each counted in the month it was
    confirmed, per chain and the holder's district. An alert whose detector states no amount
    adds nothing."""
    rows = db.execute(
        select(Alert.citizen_id, AlertEvent.at, Alert.chain, Alert.amount_fen)
        .join(AlertEvent, AlertEvent.alert_id == Alert.id)
        .where(
            AlertEvent.action == "confirm",
            Alert.state.in_(CONFIRMED_STATES),
            Alert.amount_fen.is_not(None),
        )
    ).all()
    holders = _holders(districts, (r[0] for r in rows))
    return _count_facts(((c, _local_month(at), g, fen or 0) for c, at, g, fen in rows), holders)


def alert_recoveries(db: Session, districts: Districts | None = None) -> list[Fact]:
    """What was recovered of confirmed alerts (fen): each recovery in the month it was
    recorded, per chain and the holder's district."""
    rows = db.execute(
        select(Alert.citizen_id, AlertEvent.at, Alert.chain, AlertEvent.amount_fen)
        .join(AlertEvent, AlertEvent.alert_id == Alert.id)
        .where(AlertEvent.action == "recover", AlertEvent.amount_fen.is_not(None))
    ).all()
    holders = _holders(districts, (r[0] for r in rows))
    return _count_facts(((c, _local_month(at), g, fen or 0) for c, at, g, fen in rows), holders)


def alert_recovery_shares(db: Session, districts: Districts | None = None) -> list[Fact]:
    """Recovered (value) of what confirmed alerts owe (base), in fen, as they stand now (a
    stock), per chain and the holder's district."""
    rows = db.execute(
        select(
            Alert.citizen_id,
            Alert.chain,
            func.sum(Alert.recovered_fen),
            func.sum(Alert.amount_fen),
        )
        .where(Alert.state.in_(CONFIRMED_STATES), Alert.amount_fen.is_not(None))
        .group_by(Alert.citizen_id, Alert.chain)
    ).all()
    holders = _holders(districts, (r[0] for r in rows))
    sums: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for holder, chain, recovered, owed in rows:
        cell = sums[(holders.get(holder or ""), None, chain)]
        cell[0] += float(recovered or 0)
        cell[1] += float(owed or 0)
    return _facts(sums)


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One open alert as a list shows it (the holder's ID for the caller to mask)."""

    code: str
    name: str  # the detector's name
    chain: str
    state: str
    citizen_id: str | None
    evaluated_on: date
    amount_fen: int | None
    recovered_fen: int


def open_alert_holders(db: Session) -> set[str]:
    """The citizen IDs the open alerts are about (to find those of one district)."""
    return set(
        db.scalars(
            select(Alert.citizen_id)
            .where(Alert.state.in_(OPEN_STATES), Alert.citizen_id.is_not(None))
            .distinct()
        )
    )


def open_alerts(
    db: Session, *, holders: Collection[str] | None = None, limit: int = 200
) -> tuple[list[AlertRow], int]:
    """The open alerts, newest first (at most ``limit``), and how many there are; with
    ``holders``, only those about them (picked out here: a district's holders may be more than
    a database takes as parameters of one query)."""
    query = (
        select(
            Alert.code,
            Alert.name,
            Alert.chain,
            Alert.state,
            Alert.citizen_id,
            Alert.evaluated_on,
            Alert.amount_fen,
            Alert.recovered_fen,
        )
        .where(Alert.state.in_(OPEN_STATES))
        .order_by(Alert.id.desc())
    )
    if holders is None:
        total = int(
            db.scalar(select(func.count()).select_from(Alert).where(Alert.state.in_(OPEN_STATES)))
            or 0
        )
        return [AlertRow(*r) for r in db.execute(query.limit(max(0, limit)))], total
    wanted = set(holders)
    rows = [AlertRow(*r) for r in db.execute(query) if r.citizen_id in wanted]
    return rows[: max(0, limit)], len(rows)


# --- pension certification ----------------------------------------------------------------------


def certification_shares(db: Session) -> list[Fact]:
    """Recipients certified (value) among those alive to certify (base: certified and not yet
    certified; the deceased are neither), per district and the month their window opened — so
    any twelve months hold each recipient once."""
    rows = db.execute(
        select(
            Certification.district_code,
            Certification.window_start,
            Certification.outcome,
            func.count(),
        )
        .where(Certification.outcome.in_(("certified", "undetermined")))
        .group_by(Certification.district_code, Certification.window_start, Certification.outcome)
    ).all()
    sums: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for district, start, outcome, n in rows:
        cell = sums[(district, month_of(start), None)]
        if outcome == "certified":
            cell[0] += n
        cell[1] += n
    return _facts(sums)


def overpayment_facts(db: Session) -> list[Fact]:
    """Pension paid after death (fen), in the month it was found, per district: its part
    recovered (group ``recovered``) and the rest (``outstanding``) — together what was
    overpaid."""
    rows = db.execute(
        select(
            Certification.district_code,
            Overpayment.created_at,
            Overpayment.amount_fen,
            Overpayment.recovered_fen,
        ).join(Certification, Certification.id == Overpayment.certification_id)
    ).all()
    sums: dict[Key, list[float]] = defaultdict(lambda: [0.0])
    for district, found, owed, recovered in rows:
        month = _local_month(found)
        sums[(district, month, RECOVERED)][0] += recovered
        sums[(district, month, OUTSTANDING)][0] += owed - recovered
    return _facts(sums)


@dataclass(frozen=True, slots=True)
class OverpaymentRow:
    """One overpayment as a list shows it (the recipient's ID for the caller to mask)."""

    pension_id: str
    citizen_id: str
    district: str | None
    died_on: date
    months: int
    amount_fen: int
    recovered_fen: int
    status: str  # open | recovered
    found_on: date


def overpayments(
    db: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    district: str | None = None,
    limit: int = 200,
) -> tuple[list[OverpaymentRow], int]:
    """The overpayments found in the months from ``start`` to ``end`` (first days, inclusive;
    None: any) in ``district``, the largest outstanding first (at most ``limit``), and how many
    there are. Months are Qingdao's; the filter reads them in Python because the moments are
    stored in UTC and a month's edge is not the same instant there."""
    query = select(
        Overpayment.pension_id,
        Overpayment.citizen_id,
        Certification.district_code,
        Overpayment.died_on,
        Overpayment.months,
        Overpayment.amount_fen,
        Overpayment.recovered_fen,
        Overpayment.status,
        Overpayment.created_at,
    ).join(Certification, Certification.id == Overpayment.certification_id)
    if district is not None:
        query = query.where(Certification.district_code == district)
    found = []
    for r in db.execute(query):
        month = _local_month(r.created_at)
        if (start is None or month >= month_of(start)) and (end is None or month <= month_of(end)):
            found.append(
                OverpaymentRow(
                    r.pension_id,
                    r.citizen_id,
                    r.district_code,
                    r.died_on,
                    r.months,
                    r.amount_fen,
                    r.recovered_fen,
                    r.status,
                    local(r.created_at).date(),
                )
            )
    found.sort(key=lambda o: (-(o.amount_fen - o.recovered_fen), o.pension_id))
    return found[: max(0, limit)], len(found)
