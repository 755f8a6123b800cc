"""What smart approval achieves, in figures: per service item, department and domain, and
overall, over the cases submitted in a date range (local dates, both ends included).

- **Fields spared** (少填): fields whose offered value the applicant kept, by where it came from
  (身份自动填 identity, 历史选择填 history, 共享系统填 shared); and fields typed — those with no
  offer, and those whose offer the applicant changed.
- **Materials spared** (免提交): materials waived because an e-certificate replaces them; and
  materials uploaded.
- **Zero submission** (零提交): items of the catalogue whose every required field is filled by the
  platform and every required material can be waived (``ServiceItem.zero_submission``), and
  cases where the applicant typed nothing and uploaded nothing.
- **First-submission pass rate** (一次通过率), with and without the pre-check: of the cases whose
  first pass is known (accepted, or sent back for correction), the share accepted at once,
  grouped by whether the applicant ran the pre-check (``Case.precheck_used``).
- **Handling time**: the working days (the Chinese calendar, with its adjusted working days)
  from acceptance to the result (issued, or rejected), less the working days the case waited for
  the applicant; the share finished by the promised and by the statutory date; and the overdue
  cases — finished after the statutory date, or still open past it today.
- **Ratings** (好差评): how many, the average stars, the bad ones (1–2 stars).
- **Channels** (办理渠道): the cases by the channel they came through (``Case.channel``: online,
  agent, link, counter) and the online share (网办率): online + agent + link over all cases, the
  service-hall window being the one offline channel. Counted in the query that counts the cases.

Every figure is one SQL query aggregating in the database (GROUP BY the item, department or
domain); none loads the cases. Working days need the calendar, which SQL does not know: that
query groups the finished cases by their (acceptance date, finish date, days paused), and only
those distinct triples — a few thousand at most for a year — are counted in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal, Protocol

from sqlalchemy import (
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from shuhui.approval.calendar import working_days_between
from shuhui.approval.items import Domain, ServiceItem
from shuhui.approval.models import (
    CASE_CHANNELS,
    ONLINE_CHANNELS,
    Case,
    CaseField,
    CaseMaterial,
    Rating,
)
from shuhui.approval.schemas import BAD_STARS, MetricRow
from shuhui.core.clock import SHANGHAI, local_today

By = Literal["item", "department", "domain", "all"]
FINISHED: Final = ("issued", "rejected")
# Cases the department is working on: the statutory clock runs (it stops while a case waits
# for correction, and has not started before acceptance).
RUNNING: Final = ("accepted", "review", "approved")
OFFERED_KINDS: Final = ("identity", "history", "shared")


class CatalogueView(Protocol):
    """What the figures need of the catalogue (``items.Catalogue`` is one)."""

    @property
    def items(self) -> Mapping[str, ServiceItem]: ...

    @property
    def domains(self) -> Mapping[str, Domain]: ...


class local_date(FunctionElement[date]):
    """The date in Qingdao of a UTC time column (China keeps UTC+8 all year)."""

    type = Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date)
def _local_date_postgres(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC times as text; date() reads it and moves it by the offset.
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


def _key(by: By) -> list[Any]:  # the grouping columns
    if by == "item":
        return [Case.item_code]
    if by == "department":
        return [Case.department]
    if by == "domain":
        return [Case.domain]
    return []


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def _in_range(since: date | None, until: date | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Case.submitted_at.is_not(None)]
    if since is not None:
        where.append(Case.submitted_at >= _start(since))
    if until is not None:
        where.append(Case.submitted_at < _start(until + timedelta(days=1)))
    return where


def _select(*columns: Any) -> Select[Any]:
    # From the cases always: the overall figures select no column of them before a join.
    return select(*columns).select_from(Case)


def _grouped(db: Session, by: By, query: Select[Any]) -> dict[str, tuple[Any, ...]]:
    """Runs ``query`` (its key columns first, grouped by them) → key → the figures."""
    keys = _key(by)
    out: dict[str, tuple[Any, ...]] = {}
    for row in db.execute(query.group_by(*keys)):
        values = tuple(row)
        key = "all" if not keys else str(values[0])
        out[key] = values[len(keys) :]
    return out


def _count(value: Any) -> int:
    return int(value or 0)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _count_if(*conditions: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows of the group meet every condition."""
    return func.sum(case((and_(*conditions), 1), else_=0))


def _given() -> ColumnElement[bool]:
    # A value is there: neither SQL NULL nor JSON null nor an empty string (an optional field
    # nobody filled is not one the applicant typed).
    text = cast(CaseField.value, String)
    return and_(CaseField.value.is_not(None), text.not_in(("null", '""')))


def _typed() -> ColumnElement[bool]:
    # Typed: nothing was offered and the applicant gave a value, or they changed what was.
    return or_(and_(CaseField.fill == "typed", _given()), CaseField.kept == false())


def metrics(
    db: Session,
    *,
    by: By,
    since: date | None = None,
    until: date | None = None,
    catalogue: CatalogueView | None = None,
    today: date | None = None,
) -> list[MetricRow]:
    """The figures per group (see the module's docstring), ordered by key. ``catalogue`` gives
    the items counted for zero submission (those in force ``today``) and the domains' names;
    without it those counts are 0 and groups are named by their codes."""
    today = today or local_today()
    keys = _key(by)
    where = _in_range(since, until)
    by_channel = [_count_if(Case.channel == channel) for channel in CASE_CHANNELS]
    cases = _grouped(
        db,
        by,
        _select(*keys, func.count(), func.max(Case.item_name), *by_channel).where(*where),
    )
    fields = _grouped(
        db,
        by,
        _select(
            *keys,
            *[_count_if(CaseField.fill == k, CaseField.kept == true()) for k in OFFERED_KINDS],
            _count_if(_typed()),
        )
        .join(CaseField, CaseField.case_id == Case.id)
        .where(*where),
    )
    materials = _grouped(
        db,
        by,
        _select(
            *keys,
            _count_if(CaseMaterial.waived == true()),
            _count_if(CaseMaterial.waived == false(), CaseMaterial.sha256.is_not(None)),
        )
        .join(CaseMaterial, CaseMaterial.case_id == Case.id)
        .where(*where),
    )
    typed_any = exists().where(CaseField.case_id == Case.id, _typed())
    uploaded_any = exists().where(CaseMaterial.case_id == Case.id, CaseMaterial.waived == false())
    zero = _grouped(db, by, _select(*keys, func.count()).where(*where, ~typed_any, ~uploaded_any))
    checked, unchecked = Case.precheck_used == true(), Case.precheck_used == false()
    known, passed = Case.first_pass.is_not(None), Case.first_pass == true()
    first_pass = _grouped(
        db,
        by,
        _select(
            *keys,
            _count_if(checked, known),
            _count_if(checked, passed),
            _count_if(unchecked, known),
            _count_if(unchecked, passed),
        ).where(*where),
    )
    finish = func.coalesce(Case.issued_at, Case.decided_at)
    finished = Case.state.in_(FINISHED)
    on_time = _grouped(
        db,
        by,
        _select(
            *keys,
            _count_if(finished),
            _count_if(finished, local_date(finish) <= Case.promised_due),
            _count_if(finished, local_date(finish) <= Case.statutory_due),
            func.sum(
                case(
                    (and_(finished, local_date(finish) > Case.statutory_due), 1),
                    (and_(Case.state.in_(RUNNING), Case.statutory_due < today), 1),
                    else_=0,
                )
            ),
        ).where(*where),
    )
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)  # key → (working days, cases)
    accepted_on, finished_on = local_date(Case.accepted_at), local_date(finish)
    span_query = (
        _select(*keys, accepted_on, finished_on, Case.paused_days, func.count())
        .where(*where, finished, Case.accepted_at.is_not(None))
        .group_by(*keys, accepted_on, finished_on, Case.paused_days)
    )
    for row in db.execute(span_query):
        values = tuple(row)
        key = "all" if not keys else str(values[0])
        accepted, ended, paused, count = values[len(keys) :]
        days = max(0, working_days_between(_as_date(accepted), _as_date(ended)) - int(paused or 0))
        spans[key].append((days, int(count)))
    ratings = _grouped(
        db,
        by,
        _select(
            *keys,
            func.count(Rating.id),
            func.avg(Rating.stars),
            _count_if(Rating.stars <= BAD_STARS),
        )
        .join(Rating, Rating.case_id == Case.id)
        .where(*where),
    )

    items = [] if catalogue is None else [i for i in catalogue.items.values() if i.in_force(today)]
    catalogued: dict[str, list[ServiceItem]] = defaultdict(list)
    for item in items:
        catalogued[_item_key(item, by)].append(item)
    names = _names(by, cases, items, catalogue)

    rows: list[MetricRow] = []
    for key in sorted(set(cases) | set(catalogued)):
        f = fields.get(key, (0, 0, 0, 0))
        identity, history, shared, typed = (_count(v) for v in f)
        m = materials.get(key, (0, 0))
        fp = [_count(v) for v in first_pass.get(key, (0, 0, 0, 0))]
        t = [_count(v) for v in on_time.get(key, (0, 0, 0, 0))]
        done = t[0]
        r = ratings.get(key, (0, None, 0))
        timed = spans.get(key, [])
        timed_cases = sum(n for _, n in timed)
        counted = cases.get(key, (0, None, *(0 for _ in CASE_CHANNELS)))
        total = _count(counted[0])
        channels = dict(zip(CASE_CHANNELS, (_count(v) for v in counted[2:]), strict=True))
        rows.append(
            MetricRow(
                by=by,
                key=key,
                name=names.get(key, key),
                cases=total,
                fields_identity=identity,
                fields_history=history,
                fields_shared=shared,
                fields_typed=typed,
                fields_spared=identity + history + shared,
                materials_waived=_count(m[0]),
                materials_uploaded=_count(m[1]),
                items=len(catalogued.get(key, [])),
                zero_submission_items=sum(1 for i in catalogued.get(key, []) if i.zero_submission),
                zero_submission_cases=_count(zero.get(key, (0,))[0]),
                first_pass_with_precheck=_share(fp[1], fp[0]),
                first_pass_without_precheck=_share(fp[3], fp[2]),
                decided_with_precheck=fp[0],
                decided_without_precheck=fp[2],
                finished=done,
                working_days_avg=(
                    None if timed_cases == 0 else sum(d * n for d, n in timed) / timed_cases
                ),
                on_time_promised=_share(t[1], done),
                on_time_statutory=_share(t[2], done),
                overdue=t[3],
                ratings=_count(r[0]),
                stars_avg=None if r[1] is None else float(r[1]),
                bad_ratings=_count(r[2]),
                channel_online=channels["online"],
                channel_agent=channels["agent"],
                channel_link=channels["link"],
                channel_counter=channels["counter"],
                online_share=_share(sum(channels[c] for c in ONLINE_CHANNELS), total),
            )
        )
    return rows


def _as_date(value: Any) -> date:
    # SQLite's date() answers text; the Date type reads it back, but a bare value may be text.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _item_key(item: ServiceItem, by: By) -> str:
    if by == "item":
        return item.code
    if by == "department":
        return item.department
    if by == "domain":
        return item.domain
    return "all"


def _names(
    by: By,
    cases: dict[str, tuple[Any, ...]],
    items: list[ServiceItem],
    catalogue: CatalogueView | None,
) -> dict[str, str]:
    if by == "item":
        named = {key: str(values[1]) for key, values in cases.items() if values[1]}
        named.update({i.code: i.name_zh for i in items})
        return named
    if by == "domain" and catalogue is not None:
        return {code: d.name_zh for code, d in catalogue.domains.items()}
    if by == "all":
        return {"all": "全部事项"}
    return {}
