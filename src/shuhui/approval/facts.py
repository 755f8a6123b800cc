"""Smart approval's figures as facts (``core.facts.Fact``), for ``shuhui.insight``'s maps: the
items offered online, the cases filed and the channels they came through (网办率), the fields
and materials spared (免填、免交), cases finished by their promised date, ratings (好差评), the
cases open, and those near or past their promised date.

Each function reads approval's own tables in one grouped query (no case is loaded whole) and
reports at the grain the maps break a figure down by: the local month (Qingdao's calendar, as
``metrics`` counts days), a group (the department; for the deadlines, overdue or due soon) and
the applicant's district — a person's district of residence, an enterprise's of registration,
read from the registers through approval's key indexes (:class:`Districts`), each applicant
once. What makes a field spared, a case finished on time or a rating bad is what ``metrics``
and ``queues`` say, so a map and the approval pages never disagree on a case.

For the services above approval (``hrss``'s bundles and reminders), :func:`spans` and
:func:`submissions` read what they need of given cases, since they may not read the tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Protocol, TypeVarTuple, get_args

from sqlalchemy import Row, Select, and_, case, false, func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shuhui.approval import calendar
from shuhui.approval.items import ServiceItem
from shuhui.approval.journal import ENDED
from shuhui.approval.lookups import ENTERPRISES, RESIDENTS, lookups_for

# The metrics' own tests of a field the applicant typed and of a finished case: one definition.
from shuhui.approval.metrics import FINISHED, OFFERED_KINDS, local_date
from shuhui.approval.metrics import _typed as _field_typed
from shuhui.approval.models import CASE_STATES, ONLINE_CHANNELS, Case, CaseField, CaseMaterial
from shuhui.approval.models import Rating as RatingRow
from shuhui.approval.queues import CLOCK_RUNS, WARN_WITHIN, DueWarning, warn_from
from shuhui.approval.schemas import BAD_STARS
from shuhui.core.clock import local_today
from shuhui.core.facts import Fact, month_of
from shuhui.core.regions import qingdao_districts
from shuhui.datacore.store import DataCore

# The data-core registers an applicant's district is read from: a figure using
# :class:`Districts` follows their versions.
DISTRICT_TABLES: Final = (RESIDENTS, ENTERPRISES)
# A case still being handled: filed and not ended (the applicant's drafts are not filed).
OPEN: Final = tuple(s for s in CASE_STATES if s != "draft" and s not in ENDED)
# Enough codes per IN (…) for any database's bound-parameter limit.
CHUNK: Final = 500


class DistrictOf(Protocol):
    """Where an applicant is: (applicant kind, ID) → region code, or None where not known."""

    def __call__(self, kind: str | None, applicant_id: str) -> str | None: ...

    def prefetch(self, wanted: Iterable[tuple[str | None, str]]) -> None:
        """Reads many at once, before they are asked one by one."""
        ...


class Districts:
    """The district of an applicant: a person's of residence (``residents.district_code``), an
    enterprise's of registration (``enterprises.district_code``). A kind of None tries both
    registers (a bundle's filing names no kind). A figure over every case :meth:`prefetch`-es
    its applicants in one semi-join per register (30,000 applicants of a 200,000-resident city:
    about 0.1 s, where as many keyed reads take seconds); one asked alone is read by key
    through approval's indexes of the registers. Each is read once per instance: make one per
    computation, so a new version of a register is read by the next."""

    def __init__(self, core: DataCore) -> None:
        self._core = core
        self._known: dict[tuple[str | None, str], str | None] = {}

    def __call__(self, kind: str | None, applicant_id: str) -> str | None:
        key = (kind, applicant_id)
        if key not in self._known:
            self._known[key] = self._read(kind, applicant_id)
        return self._known[key]

    def _read(self, kind: str | None, applicant_id: str) -> str | None:
        lookups = lookups_for(self._core)
        if kind in (None, "person"):
            found = lookups.resident(applicant_id)
            row = found.first() if found else None
            if row and row.get("district_code"):
                return str(row["district_code"])
        if kind in (None, "enterprise"):
            found = lookups.enterprise(applicant_id)
            row = found.first() if found else None
            if row and row.get("district_code"):
                return str(row["district_code"])
        return None

    def prefetch(self, wanted: Iterable[tuple[str | None, str]]) -> None:
        missing = {key for key in wanted if key not in self._known}
        if not missing:
            return
        present = {info.name for info in self._core.tables()}
        people = {i for kind, i in missing if kind in (None, "person")}
        firms = {i for kind, i in missing if kind in (None, "enterprise")}
        lived = self._many(RESIDENTS, _RESIDENTS_SQL, people) if RESIDENTS in present else {}
        firms_at = (
            self._many(ENTERPRISES, _ENTERPRISES_SQL, firms) if ENTERPRISES in present else {}
        )
        for kind, i in missing:
            found = lived.get(i) if kind in (None, "person") else None
            if found is None and kind in (None, "enterprise"):
                found = firms_at.get(i)
            self._known[(kind, i)] = found

    def _many(self, table: str, sql: str, ids: set[str]) -> dict[str, str]:
        if not ids:
            return {}
        con = self._core.connect(tables=(table,))
        try:
            rows = con.execute(sql, [sorted(ids)]).fetchall()
        finally:
            con.close()
        return {str(i): str(d) for i, d in rows if d is not None}


_RESIDENTS_SQL: Final = (
    "SELECT citizen_id, district_code FROM residents "
    "WHERE citizen_id IN (SELECT unnest(?::VARCHAR[]))"
)
_ENTERPRISES_SQL: Final = (
    "SELECT credit_code, district_code FROM enterprises "
    "WHERE credit_code IN (SELECT unnest(?::VARCHAR[]))"
)


class _Tally:
    """Sums by (district, month, group), then the facts: a count (value) or a share (value over
    base)."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str | None, date | None, str | None], list[float]] = defaultdict(
            lambda: [0.0, 0.0]
        )

    def add(
        self, district: str | None, month: date | None, group: str | None, value: float, base: float
    ) -> None:
        cell = self._sums[(district, month, group)]
        cell[0] += value
        cell[1] += base

    def counts(self) -> list[Fact]:
        return [
            Fact(value=v, district=d, month=m, group=g)
            for (d, m, g), (v, _) in self._sums.items()
            if v
        ]

    def shares(self) -> list[Fact]:
        return [
            Fact(value=v, base=b, district=d, month=m, group=g)
            for (d, m, g), (v, b) in self._sums.items()
            if b
        ]


def _zeros(groups: Iterable[str] = ()) -> list[Fact]:
    """A stock with nothing in it is 0 — in every district and in each of its named groups —
    rather than no data: no case overdue is news, not a gap."""
    return [Fact(0.0, district=r.code) for r in qingdao_districts()] + [
        Fact(0.0, group=g) for g in groups
    ]


def _day(value: Any) -> date:
    # SQLite's date() answers text; PostgreSQL a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _rows(
    db: Session, query: Select[str, str, str, *Columns], districts: DistrictOf
) -> Sequence[Row[str, str, str, *Columns]]:
    """The query's rows (department, applicant kind, applicant ID, …), their applicants'
    districts read together first."""
    rows = db.execute(query).all()
    districts.prefetch((row[1], row[2]) for row in rows)
    return rows


def _count_if(*conditions: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((and_(*conditions), 1), else_=0))


Columns = TypeVarTuple("Columns")
# Who a case is of, as the facts are grouped: its department and its applicant.
_APPLICANT: Final = (Case.department, Case.applicant_kind, Case.applicant_id)


# --- the catalogue --------------------------------------------------------------------------


def items_online(items: Iterable[ServiceItem], today: date) -> list[Fact]:
    """The service items in force ``today``, per department: every item of the catalogue is
    applied for in the online hall (and over the API), so these are the items handled online.
    A stock: no month, no district."""
    per: dict[str, int] = defaultdict(int)
    for item in items:
        if item.in_force(today):
            per[item.department] += 1
    return [Fact(value=n, group=department) for department, n in sorted(per.items())]


# --- cases filed ----------------------------------------------------------------------------


def _filed(db: Session, districts: DistrictOf) -> _Tally:
    """Cases filed (submitted at least once), by the month filed: value the online ones
    (online, agent, link), base all."""
    day = local_date(Case.submitted_at)
    query = (
        select(
            Case.department,
            Case.applicant_kind,
            Case.applicant_id,
            day,
            func.count(),
            _count_if(Case.channel.in_(ONLINE_CHANNELS)),
        )
        .where(Case.submitted_at.is_not(None))
        .group_by(*_APPLICANT, day)
    )
    tally = _Tally()
    for department, kind, applicant, on, n, online in _rows(db, query, districts):
        month = month_of(_day(on))
        tally.add(districts(kind, applicant), month, department, float(online or 0), float(n))
    return tally


def cases_filed(db: Session, districts: DistrictOf) -> list[Fact]:
    """How many cases were filed, per department, month filed and applicant's district."""
    return [
        Fact(f.base or 0.0, None, f.district, f.month, f.group)
        for f in _filed(db, districts).shares()
    ]


def online_share(db: Session, districts: DistrictOf) -> list[Fact]:
    """Cases filed online (online, agent under a mandate, enterprise direct link) over all
    cases filed (the window being the one offline channel), per department, month and district."""
    return _filed(db, districts).shares()


# --- fields and materials spared ------------------------------------------------------------


def fields_spared(db: Session, districts: DistrictOf) -> list[Fact]:
    """Fields the platform filled (identity, history, shared) and the applicant kept, over those
    plus the fields the applicant typed (nothing offered, or the offer changed), by the month
    the case was filed. A field nobody filled counts in neither."""
    day = local_date(Case.submitted_at)
    spared = _count_if(CaseField.fill.in_(OFFERED_KINDS), CaseField.kept == true())
    query = (
        select(
            Case.department,
            Case.applicant_kind,
            Case.applicant_id,
            day,
            spared,
            _count_if(_field_typed()),
        )
        .join(CaseField, CaseField.case_id == Case.id)
        .where(Case.submitted_at.is_not(None))
        .group_by(*_APPLICANT, day)
    )
    tally = _Tally()
    for department, kind, applicant, on, kept, typed in _rows(db, query, districts):
        kept, typed = int(kept or 0), int(typed or 0)
        tally.add(districts(kind, applicant), month_of(_day(on)), department, kept, kept + typed)
    return tally.shares()


def materials_spared(db: Session, districts: DistrictOf) -> list[Fact]:
    """Materials waived because an e-certificate replaces them (免提交), over those plus the
    materials uploaded, by the month the case was filed."""
    day = local_date(Case.submitted_at)
    query = (
        select(
            *_APPLICANT,
            day,
            _count_if(CaseMaterial.waived == true()),
            _count_if(CaseMaterial.waived == false(), CaseMaterial.sha256.is_not(None)),
        )
        .join(CaseMaterial, CaseMaterial.case_id == Case.id)
        .where(Case.submitted_at.is_not(None))
        .group_by(*_APPLICANT, day)
    )
    tally = _Tally()
    for department, kind, applicant, on, waived, uploaded in _rows(db, query, districts):
        waived, uploaded = int(waived or 0), int(uploaded or 0)
        tally.add(
            districts(kind, applicant), month_of(_day(on)), department, waived, waived + uploaded
        )
    return tally.shares()


# --- cases finished -------------------------------------------------------------------------


def _finished(db: Session, districts: DistrictOf) -> _Tally:
    """Cases finished (result issued, or rejected), by the month they finished: value those
    finished by their promised date (承诺时限), base all."""
    finish = func.coalesce(Case.issued_at, Case.decided_at)
    day = local_date(finish)
    query = (
        select(
            Case.department,
            Case.applicant_kind,
            Case.applicant_id,
            day,
            func.count(),
            _count_if(day <= Case.promised_due),
        )
        .where(Case.state.in_(FINISHED), finish.is_not(None))
        .group_by(*_APPLICANT, day)
    )
    tally = _Tally()
    for department, kind, applicant, on, n, in_time in _rows(db, query, districts):
        tally.add(
            districts(kind, applicant), month_of(_day(on)), department, float(in_time or 0), n
        )
    return tally


def cases_finished(db: Session, districts: DistrictOf) -> list[Fact]:
    """How many cases were finished (issued or rejected), per department, month and district."""
    return [
        Fact(f.base or 0.0, None, f.district, f.month, f.group)
        for f in _finished(db, districts).shares()
    ]


def finished_in_time(db: Session, districts: DistrictOf) -> list[Fact]:
    """Cases finished by their promised date over all cases finished, by the month finished."""
    return _finished(db, districts).shares()


# --- ratings --------------------------------------------------------------------------------


def good_ratings(db: Session, districts: DistrictOf) -> list[Fact]:
    """Ratings above the bad ones (3 to 5 stars: 基本满意, 满意, 非常满意) over all ratings, by the
    month rated and the department rated."""
    day = local_date(RatingRow.rated_at)
    query = (
        select(
            RatingRow.department,
            Case.applicant_kind,
            Case.applicant_id,
            day,
            func.count(),
            _count_if(RatingRow.stars > BAD_STARS),
        )
        .join(Case, Case.id == RatingRow.case_id)
        .group_by(RatingRow.department, Case.applicant_kind, Case.applicant_id, day)
    )
    tally = _Tally()
    for department, kind, applicant, on, n, good in _rows(db, query, districts):
        tally.add(districts(kind, applicant), month_of(_day(on)), department, float(good or 0), n)
    return tally.shares()


# --- cases open and deadlines ---------------------------------------------------------------


def open_cases(db: Session, districts: DistrictOf) -> list[Fact]:
    """The cases being handled now (filed and not ended: waiting for acceptance or correction,
    accepted, under review, approved and not yet issued), per department and district."""
    query = select(*_APPLICANT, func.count()).where(Case.state.in_(OPEN)).group_by(*_APPLICANT)
    tally = _Tally()
    for department, kind, applicant, n in _rows(db, query, districts):
        tally.add(districts(kind, applicant), None, department, n, 0)
    return tally.counts() + _zeros()


@dataclass(frozen=True)
class AtRisk:
    """A case whose clock runs and whose promised date is near or past (``queues.warning``)."""

    code: str
    item_name: str
    department: str
    applicant_kind: str
    applicant_id: str
    applicant_name: str
    state: str
    promised_due: date
    statutory_due: date | None
    warning: DueWarning
    today: date  # the day it is seen from

    @property
    def state_name(self) -> str:
        return CASE_STATES.get(self.state, (self.state, self.state))[0]

    @property
    def days_left(self) -> int:
        """Working days to the promised date, negative once past (counted day by day, so
        only for the cases a list shows, not for every case a figure counts)."""
        return calendar.working_days_between(self.today, self.promised_due)


def at_risk(db: Session, today: date | None = None, within: int = WARN_WITHIN) -> list[AtRisk]:
    """The cases due soon (at most ``within`` working days to the promised date) or overdue, as
    the officers' queues warn of them, the earliest due first."""
    today = today or local_today()
    query = (
        select(
            Case.code,
            Case.item_name,
            Case.department,
            Case.applicant_kind,
            Case.applicant_id,
            Case.applicant_name,
            Case.state,
            Case.promised_due,
            Case.statutory_due,
        )
        .where(Case.state.in_(CLOCK_RUNS), Case.promised_due <= warn_from(today, within))
        .order_by(Case.promised_due, Case.id)
    )
    found = []
    for code, name, department, kind, applicant, who, state, promised, statutory in db.execute(
        query
    ):
        due = _day(promised)
        found.append(
            AtRisk(
                code=code,
                item_name=name,
                department=department,
                applicant_kind=kind,
                applicant_id=applicant,
                applicant_name=who,
                state=state,
                promised_due=due,
                statutory_due=None if statutory is None else _day(statutory),
                warning="overdue" if due < today else "due_soon",
                today=today,
            )
        )
    return found


def deadlines(
    db: Session, districts: DistrictOf, today: date | None = None, within: int = WARN_WITHIN
) -> list[Fact]:
    """The cases due soon or overdue now (:func:`at_risk`), grouped ``overdue`` / ``due_soon``,
    by district."""
    tally = _Tally()
    cases = at_risk(db, today, within)
    districts.prefetch((c.applicant_kind, c.applicant_id) for c in cases)
    for c in cases:
        tally.add(districts(c.applicant_kind, c.applicant_id), None, c.warning, 1, 0)
    return tally.counts() + _zeros(get_args(DueWarning))


# --- for the services above approval --------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A case's times as local dates: filed, accepted, finished (issued or rejected; None while
    it runs or when withdrawn), and the working days it waited for the applicant."""

    code: str
    department: str
    state: str
    submitted_on: date | None
    accepted_on: date | None
    finished_on: date | None
    paused_days: int

    @property
    def working_days(self) -> int | None:
        """Working days from filing to the result, less those waiting for the applicant."""
        if self.submitted_on is None or self.finished_on is None:
            return None
        spent = calendar.working_days_between(self.submitted_on, self.finished_on)
        return max(0, spent - self.paused_days)


def _chunks(values: Collection[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def spans(db: Session, codes: Collection[str]) -> dict[str, Span]:
    """The times of the cases with these codes (those that exist), by code."""
    finish = func.coalesce(Case.issued_at, Case.decided_at)
    found: dict[str, Span] = {}
    for chunk in _chunks(codes):
        query = select(
            Case.code,
            Case.department,
            Case.state,
            local_date(Case.submitted_at),
            local_date(Case.accepted_at),
            local_date(finish),
            Case.paused_days,
        ).where(Case.code.in_(chunk))
        for code, department, state, filed, accepted, ended, paused in db.execute(query):
            found[code] = Span(
                code=code,
                department=department,
                state=state,
                submitted_on=None if filed is None else _day(filed),
                accepted_on=None if accepted is None else _day(accepted),
                finished_on=None if ended is None or state not in FINISHED else _day(ended),
                paused_days=int(paused or 0),
            )
    return found


def submissions(
    db: Session, item_code: str, applicant_ids: Collection[str]
) -> Mapping[str, list[datetime]]:
    """When each of these applicants filed a case of the item (first submissions), by ID."""
    found: dict[str, list[datetime]] = defaultdict(list)
    for chunk in _chunks(applicant_ids):
        query = select(Case.applicant_id, Case.submitted_at).where(
            Case.item_code == item_code,
            Case.applicant_id.in_(chunk),
            Case.submitted_at.is_not(None),
        )
        for applicant, at in db.execute(query):
            if at is not None:
                found[applicant].append(at)
    return found
