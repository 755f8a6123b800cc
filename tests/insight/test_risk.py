"""The risk map's indicators (风险防控一张图) on the small city: fund-risk alerts found on three
dates and worked through their lifecycle in known months, and a certification cycle with its
overpayment. Each figure, read through ``insight.service.Reader``, equals a count written here
by hand over the operational database (plain SQL) and the population register (DuckDB); a
district and a time range filter it; the people figure withholds its small cells; the lists
behind figures are masked, for the answerable department only, and each view is in the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.core.regions import qingdao_districts
from shuhui.datacore.store import DataCore
from shuhui.insight import engine, service
from shuhui.insight.engine import Figure, Scope
from shuhui.programs.certification import service as cert_service
from shuhui.programs.fundrisk import service as risk_service
from shuhui.programs.fundrisk.models import Alert
from shuhui.trust.ledger.models import LedgerEntry

HRSS = "青岛市人力资源和社会保障局"
TODAY = date(2026, 12, 7)
DETECTED_ON = (date(2026, 3, 31), date(2026, 6, 30), date(2026, 10, 31))
CERTIFIED_ON = date(2026, 10, 31)
DISTRICTS = [r.code for r in qingdao_districts()]
CHAINS = ("policy", "funds", "business", "information")


def at(day: date) -> datetime:
    """Noon in Qingdao on ``day`` (04:00 UTC): well inside the day and its month."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


def month(day: date) -> date:
    return day.replace(day=1)


def local_month(stored: Any) -> date:
    """The month in Qingdao of a moment the database stored in UTC (SQLite: text)."""
    moment = datetime.fromisoformat(str(stored)) if not isinstance(stored, datetime) else stored
    return month((moment.replace(tzinfo=None) + timedelta(hours=8)).date())


def rows(app: FastAPI, sql: str) -> list[Any]:
    with app.state.session_factory() as db:
        return list(db.execute(text(sql)).all())


def residence(app: FastAPI) -> dict[str, str]:
    """Where each resident lives, from the population register itself."""
    con = DataCore.from_settings(app.state.settings).connect()
    try:
        return dict(con.execute("SELECT citizen_id, district_code FROM residents").fetchall())
    finally:
        con.close()


def list_views(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.action == "insight.list_viewed")
            )
            or 0
        )


def figure(app: FastAPI, code: str, scope: Scope | None = None) -> Figure:
    settings = app.state.settings
    with app.state.session_factory() as db:
        shown = service.Reader(settings, db, TODAY).outcome(
            service.indicator(settings, code), scope or Scope()
        )
    assert shown.problem is None, shown.problem
    assert shown.figure is not None
    return shown.figure


def cells(found: tuple[engine.Cell, ...]) -> dict[str, float | None]:
    return {c.key: c.value for c in found}


def expected_cells(keys: list[str], sums: dict[str, float], scale: float = 1.0) -> dict[str, Any]:
    return {k: (sums[k] * scale if k in sums else None) for k in keys}


def approx(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v is None else pytest.approx(v)) for k, v in values.items()}


# --- the city's alerts, worked through their lifecycle -------------------------------------------


@dataclass
class Worked:
    app: FastAPI
    codes: dict[str, str]  # what was done → the alert's code


def _act(app: FastAPI, code: str, action: str, day: date, **kw: Any) -> None:
    with transaction(app.state.session_factory) as db:
        a = risk_service.alert(db, code)
        risk_service.act(db, a, action, actor="test", now=at(day), **kw)


@pytest.fixture
def worked(city_app: FastAPI) -> Worked:
    """Detection on three dates, then: one alert recovered whole in two parts over two months,
    one confirmed and part recovered, one dismissed, one being checked, the rest new."""
    app = city_app
    engine.forget()
    for on in DETECTED_ON:
        with transaction(app.state.session_factory) as db:
            risk_service.detect(
                db, app.state.settings, app.state.policy_library, on, actor="test", now=at(on)
            )
    with app.state.session_factory() as db:
        alerts = list(db.scalars(select(Alert).order_by(Alert.id)))
        db.expunge_all()
    owed = [a for a in alerts if a.amount_fen and a.citizen_id]
    assert len(owed) >= 2 and len(alerts) >= 5, "the small city injects each anomaly"
    whole, part = owed[0], owed[1]
    others = [a for a in alerts if a.id not in (whole.id, part.id)]
    dismissed, checking = others[0], others[1]
    assert whole.amount_fen is not None and part.amount_fen is not None
    first = whole.amount_fen // 3
    _act(app, whole.code, "check", date(2026, 11, 5))
    _act(app, whole.code, "confirm", date(2026, 11, 10))
    _act(app, whole.code, "recover", date(2026, 11, 20), amount_fen=first)
    _act(app, whole.code, "recover", date(2026, 12, 3), amount_fen=whole.amount_fen - first)
    _act(app, part.code, "check", date(2026, 11, 6))
    _act(app, part.code, "confirm", date(2026, 12, 1))
    _act(app, part.code, "recover", date(2026, 12, 2), amount_fen=part.amount_fen // 2)
    _act(app, dismissed.code, "dismiss", date(2026, 11, 15), reason="核实为正常领取")
    _act(app, checking.code, "check", date(2026, 11, 16))
    return Worked(
        app,
        {
            "recovered": whole.code,
            "recovering": part.code,
            "dismissed": dismissed.code,
            "checking": checking.code,
        },
    )


ALERTS_SQL = (
    "SELECT id, code, chain, state, citizen_id, evaluated_on, amount_fen, recovered_fen "
    "FROM fundrisk_alerts"
)
EVENTS_SQL = (
    "SELECT a.citizen_id, a.chain, a.state, a.amount_fen, e.action, e.amount_fen, e.at "
    "FROM fundrisk_alert_events e JOIN fundrisk_alerts a ON a.id = e.alert_id"
)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def test_alerts_found_count_by_chain_month_and_district(worked: Worked) -> None:
    app = worked.app
    lives = residence(app)
    alerts = rows(app, ALERTS_SQL)
    # The twelve months to the latest detection hold all three dates.
    shown = figure(app, "risk-alerts")
    assert (shown.start, shown.end) == (date(2025, 11, 1), date(2026, 10, 1))
    assert shown.value == len(alerts) and not shown.withheld
    by_chain: dict[str, float] = defaultdict(float)
    by_month: dict[str, float] = defaultdict(float)
    by_district: dict[str, float] = defaultdict(float)
    for a in alerts:
        by_chain[a.chain] += 1
        by_month[month(_day(a.evaluated_on)).isoformat()] += 1
        if a.citizen_id in lives:
            by_district[lives[a.citizen_id]] += 1
    assert cells(shown.by_group) == expected_cells(list(CHAINS), by_chain)
    assert {k: v for k, v in cells(shown.by_month).items() if v is not None} == by_month
    assert cells(shown.by_district) == expected_cells(DISTRICTS, by_district)
    # A time range: June alone holds what the June run opened.
    june = figure(app, "risk-alerts", Scope(date(2026, 6, 1), date(2026, 6, 1)))
    assert june.value == sum(1 for a in alerts if _day(a.evaluated_on) == DETECTED_ON[1])
    # A district: the alerts of those living there.
    place = max(by_district, key=lambda d: by_district[d])
    there = figure(app, "risk-alerts", Scope(district=place))
    assert there.value == by_district[place]


def test_open_alerts_by_stage_and_the_list_behind_them(worked: Worked) -> None:
    app = worked.app
    lives = residence(app)
    alerts = rows(app, ALERTS_SQL)
    open_states = ("new", "checking", "confirmed", "recovering")
    still = [a for a in alerts if a.state in open_states]
    shown = figure(app, "risk-alerts-open")
    assert shown.start is None and shown.end is None  # a stock: as it is now
    assert shown.value == len(still) == len(alerts) - 2  # one dismissed, one recovered
    by_state: dict[str, float] = defaultdict(float)
    for a in still:
        by_state[a.state] += 1
    assert cells(shown.by_group) == expected_cells(list(open_states), by_state)
    assert by_state["checking"] == 1 and by_state["recovering"] == 1
    place = lives[next(a.citizen_id for a in still if a.citizen_id in lives)]
    there = figure(app, "risk-alerts-open", Scope(district=place))
    assert there.value == sum(1 for a in still if lives.get(a.citizen_id) == place)

    # The list: the fund supervisors' only, masked, each view in the ledger.
    ind = service.indicator(app.state.settings, "risk-alerts-open")
    with transaction(app.state.session_factory) as db:
        reader = service.Reader(app.state.settings, db, TODAY)
        listed = service.listing(
            reader, ind, Scope(), actor="user:auditor", department=HRSS, is_officer=True
        )
        with pytest.raises(Problem) as refused:
            service.listing(
                reader,
                ind,
                Scope(),
                actor="user:civil",
                department="青岛市民政局",
                is_officer=True,
            )
        assert refused.value.http_status == 403
    assert listed.personal and listed.total == len(still) == len(listed.rows)
    assert {r["code"] for r in listed.rows} == {a.code for a in still}
    assert worked.codes["recovered"] not in {r["code"] for r in listed.rows}
    for r in listed.rows:
        assert "*" * 8 in r["holder"] or r["holder"] == "—"
        assert not any(a.citizen_id and a.citizen_id in str(r.values()) for a in alerts)
    assert list_views(app) == 1
    with transaction(app.state.session_factory) as db:
        reader = service.Reader(app.state.settings, db, TODAY)
        local = service.listing(
            reader,
            ind,
            Scope(district=place),
            actor="user:auditor",
            department=HRSS,
            is_officer=True,
        )
    assert local.total == there.value


def test_money_confirmed_recovered_and_the_share_recovered(worked: Worked) -> None:
    app = worked.app
    lives = residence(app)
    events = rows(app, EVENTS_SQL)
    confirmed: dict[str, float] = defaultdict(float)
    confirmed_chain: dict[str, float] = defaultdict(float)
    recovered: dict[str, float] = defaultdict(float)
    recovered_district: dict[str, float] = defaultdict(float)
    for holder, chain, _state, owed, action, fen, moment in events:
        if action == "confirm" and owed is not None:
            confirmed[local_month(moment).isoformat()] += owed
            confirmed_chain[chain] += owed
        if action == "recover":
            recovered[local_month(moment).isoformat()] += fen
            if holder in lives:
                recovered_district[lives[holder]] += fen
    assert set(confirmed) == {"2026-11-01", "2026-12-01"}
    assert set(recovered) == {"2026-11-01", "2026-12-01"}

    # 元 from fen: the months of confirmation, the latest twelve by default.
    shown = figure(app, "risk-amount-confirmed")
    assert shown.end == date(2026, 12, 1)
    assert shown.value == pytest.approx(sum(confirmed.values()) / 100)
    assert cells(shown.by_group) == approx(expected_cells(list(CHAINS), confirmed_chain, 0.01))
    november = figure(app, "risk-amount-confirmed", Scope(date(2026, 11, 1), date(2026, 11, 1)))
    assert november.value == pytest.approx(confirmed["2026-11-01"] / 100)

    back = figure(app, "risk-amount-recovered")
    assert back.value == pytest.approx(sum(recovered.values()) / 100)
    months = {k: v for k, v in cells(back.by_month).items() if v is not None}
    assert months == approx({k: v / 100 for k, v in recovered.items()})
    assert cells(back.by_district) == approx(expected_cells(DISTRICTS, recovered_district, 0.01))
    december = figure(app, "risk-amount-recovered", Scope(date(2026, 12, 1), date(2026, 12, 1)))
    assert december.value == pytest.approx(recovered["2026-12-01"] / 100)
    place = next(iter(recovered_district))
    assert figure(app, "risk-amount-recovered", Scope(district=place)).value == pytest.approx(
        recovered_district[place] / 100
    )

    # The share recovered of what confirmed alerts owe, as it stands now.
    alerts = rows(app, ALERTS_SQL)
    owing = [a for a in alerts if a.state in ("confirmed", "recovering", "recovered")]
    rate = figure(app, "risk-recovery-rate")
    got = sum(a.recovered_fen for a in owing)
    due = sum(a.amount_fen for a in owing)
    assert 0 < got < due
    assert rate.value == pytest.approx(got / due * 100)
    by_chain = {
        c: sum(a.recovered_fen for a in owing if a.chain == c)
        / sum(a.amount_fen for a in owing if a.chain == c)
        * 100
        for c in {a.chain for a in owing}
    }
    assert {k: v for k, v in cells(rate.by_group).items() if v is not None} == approx(by_chain)


# --- certification ------------------------------------------------------------------------------


@pytest.fixture
def certified(city_app: FastAPI) -> FastAPI:
    """The certification cycle run on the city's date; one overpayment recovered in part."""
    app = city_app
    engine.forget()
    with transaction(app.state.session_factory) as db:
        cert_service.run(
            db,
            app.state.policy_library,
            app.state.settings,
            CERTIFIED_ON,
            actor="test",
            now=at(CERTIFIED_ON),
        )
    with transaction(app.state.session_factory) as db:
        over = cert_service.overpayments(db)
        assert over, "the small city has a pension paid after death"
        cert_service.record_recovery(
            db, over[0].id, over[0].amount_fen // 4, actor="finance", now=at(date(2026, 11, 15))
        )
    return app


def _share(certified: float, base: float) -> tuple[float | None, bool]:
    """The rule of k = 10 written out: a share is withheld where fewer than 10 are counted,
    or where fewer than 10 are not (unless none are)."""
    for n in (certified, base, base - certified):
        if 0 < n < 10:
            return None, True
    return (certified / base * 100 if base else None), False


def test_the_certification_rate_with_its_small_cells_withheld(certified: FastAPI) -> None:
    app = certified
    found = rows(
        app,
        "SELECT district_code, window_start, outcome, count(*) FROM cert_certifications "
        "GROUP BY district_code, window_start, outcome",
    )
    counts: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for district, start, outcome, n in found:
        if outcome == "deceased":
            continue  # neither certified nor to certify
        cell = counts[(district, month(_day(start)).isoformat())]
        cell[1] += n
        if outcome == "certified":
            cell[0] += n

    def total(keep: Callable[[str, str], bool]) -> tuple[float, float]:
        picked = [v for k, v in counts.items() if keep(*k)]
        return sum(v[0] for v in picked), sum(v[1] for v in picked)

    shown = figure(app, "pension-certification-rate")
    # Each recipient's window opened in the twelve months to the run: each counted once.
    assert (shown.start, shown.end) == (date(2025, 11, 1), date(2026, 10, 1))
    ok, base = total(lambda d, m: True)
    assert base == int(
        rows(app, "SELECT count(*) FROM cert_certifications WHERE outcome <> 'deceased'")[0][0]
    )
    assert (shown.value, shown.withheld) == _share(ok, base)
    for cell in shown.by_district:
        got, hidden = _share(*total(lambda d, m, c=cell.key: d == c))
        assert (cell.value, cell.withheld) == (got, hidden), cell.key
    for cell in shown.by_month:
        got, hidden = _share(*total(lambda d, m, c=cell.key: m == c))
        assert (cell.value, cell.withheld) == (got, hidden), cell.key
    # The small city: a handful not yet certified, so the city's figure is withheld (it would
    # single them out) while a district where all are certified shows.
    assert shown.withheld and shown.value is None
    full = [c for c in shown.by_district if c.value is not None]
    assert full and all(c.value == 100.0 for c in full)
    place = full[0].key
    there = figure(app, "pension-certification-rate", Scope(district=place))
    assert (there.value, there.withheld) == _share(*total(lambda d, m: d == place))
    # A single month in one district: too few to show.
    small = next(k for k, v in counts.items() if 0 < v[1] < 10)
    first = date.fromisoformat(small[1])
    cell = figure(app, "pension-certification-rate", Scope(first, first, small[0]))
    assert cell.value is None and cell.withheld


def test_overpayments_split_recovered_and_outstanding_with_their_list(certified: FastAPI) -> None:
    app = certified
    found = rows(
        app,
        "SELECT o.amount_fen, o.recovered_fen, o.created_at, c.district_code, o.citizen_id "
        "FROM cert_overpayments o JOIN cert_certifications c ON c.id = o.certification_id",
    )
    owed = sum(r[0] for r in found)
    back = sum(r[1] for r in found)
    assert 0 < back < owed
    shown = figure(app, "pension-overpayments")
    assert shown.end == local_month(found[0][2])
    assert shown.value == pytest.approx(owed / 100)
    assert cells(shown.by_group) == approx(
        {"recovered": back / 100, "outstanding": (owed - back) / 100}
    )
    place = found[0][3]
    assert figure(app, "pension-overpayments", Scope(district=place)).value == pytest.approx(
        sum(r[0] for r in found if r[3] == place) / 100
    )
    other = next(d for d in DISTRICTS if d != place and d not in {r[3] for r in found})
    assert figure(app, "pension-overpayments", Scope(district=other)).value is None
    earlier = figure(app, "pension-overpayments", Scope(date(2026, 1, 1), date(2026, 9, 1)))
    assert earlier.value is None  # found in October only

    ind = service.indicator(app.state.settings, "pension-overpayments")
    with transaction(app.state.session_factory) as db:
        reader = service.Reader(app.state.settings, db, TODAY)
        listed = service.listing(
            reader, ind, Scope(), actor="user:auditor", department=HRSS, is_officer=True
        )
    assert listed.personal and listed.total == len(found) == len(listed.rows)
    row = listed.rows[0]
    assert row["holder"] != found[0][4] and row["holder"].startswith(found[0][4][:6])
    assert row["status"] == "待追回"
    assert list_views(app) == 1
