"""The operations map (经办管理一张图): each indicator, read through the insight engine, equals a
count made by hand over the operational database: cases filed, finished and open per department,
the cases near or past their promised date (and the list behind them, masked, for the department
answerable only), one-thing bundles filed, how long a bundle and each of its parts took (working
days across the National Day holiday and its adjusted working days); with a month or a district
asked. One test files a real bundle through the API and has each department decide its part, the
figures following the ledger without being told."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import and_, func, select

from shuhui.approval.models import Case
from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import Problem
from shuhui.hrss.models import BundleCase, BundlePart
from shuhui.insight import engine, service
from shuhui.insight.engine import Scope
from tests.approval.made_cases import case, item
from tests.hrss.test_bundles import OFFICERS, _near_retirement, decide_all, file_retirement
from tests.insight.test_services import (
    HEALTH,
    HRSS,
    OCTOBER,
    TODAY,
    City,
    applicants,
    local,
    make_cases,
    month_range,
    read,
    scalar,
)
from tests.programs.conftest import resident

OWNER = "青岛市行政审批服务局"
MEDICAL = "青岛市医疗保障局"
FUND = "青岛住房公积金管理中心"
OPEN = ("submitted", "correction", "accepted", "review", "approved")
# Two working days after Monday 3 November 2025: the last promised date that is due soon.
WARN_UNTIL = date(2025, 11, 5)


@pytest.fixture
def city(city_app: FastAPI) -> City:
    return applicants(city_app)


def count() -> Any:
    return select(func.count()).select_from(Case)


def test_cases_filed_per_month_department_and_district(city_app: FastAPI, city: City) -> None:
    make_cases(city_app, city)
    filed = Case.submitted_at.is_not(None)
    whole = read(city_app, "cases-filed")
    assert whole.value == scalar(city_app, count().where(filed)) == 7  # the draft is not
    first, after = month_range(date(2025, 10, 1))
    october = and_(Case.submitted_at >= first, Case.submitted_at < after)
    shown = read(city_app, "cases-filed", OCTOBER)
    assert shown.value == scalar(city_app, count().where(filed, october)) == 5
    assert shown.previous == 2  # September
    assert {c.key: c.value for c in shown.by_group} == {
        HRSS: scalar(city_app, count().where(filed, october, Case.department == HRSS)),
        HEALTH: scalar(city_app, count().where(filed, october, Case.department == HEALTH)),
    }
    district = city.districts[city.a]
    mine = Case.applicant_id.in_(city.of(district))
    assert read(city_app, "cases-filed", Scope(district=district)).value == scalar(
        city_app, count().where(filed, mine)
    )
    months = {c.key: c.value for c in whole.by_month}
    assert months["2025-09-01"] == 2 and months["2025-10-01"] == 5


def test_cases_finished_by_the_local_month_they_ended(city_app: FastAPI, city: City) -> None:
    make_cases(city_app, city)
    finished = Case.state.in_(("issued", "rejected"))
    whole = read(city_app, "cases-finished")
    assert whole.value == scalar(city_app, count().where(finished)) == 3  # not the withdrawn
    first, after = month_range(date(2025, 10, 1))
    ended = func.coalesce(Case.issued_at, Case.decided_at)
    in_october = and_(ended >= first, ended < after)
    # Issued at 00:30 on 1 November in Qingdao, 31 October in UTC: November's.
    assert read(city_app, "cases-finished", OCTOBER).value == scalar(
        city_app, count().where(finished, in_october)
    )
    assert {c.key: c.value for c in whole.by_month}["2025-11-01"] == 1


def test_cases_open_now_per_department(city_app: FastAPI, city: City) -> None:
    make_cases(city_app, city)
    shown = read(city_app, "cases-open")
    assert shown.value == scalar(city_app, count().where(Case.state.in_(OPEN))) == 3
    assert shown.start is None  # a stock: as it is now
    assert {c.key: c.value for c in shown.by_group} == {
        HRSS: scalar(city_app, count().where(Case.state.in_(OPEN), Case.department == HRSS)),
        HEALTH: scalar(city_app, count().where(Case.state.in_(OPEN), Case.department == HEALTH)),
    }
    district = city.districts[city.b]
    assert read(city_app, "cases-open", Scope(district=district)).value == scalar(
        city_app,
        count().where(Case.state.in_(OPEN), Case.applicant_id.in_(city.of(district))),
    )


def test_deadlines_at_risk_are_those_the_queues_warn_of(city_app: FastAPI, city: City) -> None:
    make_cases(city_app, city)
    running = Case.state.in_(("accepted", "review", "approved"))
    soon = count().where(running, Case.promised_due <= WARN_UNTIL)
    shown = read(city_app, "deadlines-at-risk")
    assert shown.value == scalar(city_app, soon) == 2  # not the one waiting for a correction
    groups = {c.key: c.value for c in shown.by_group}
    assert groups == {
        "overdue": scalar(city_app, soon.where(Case.promised_due < TODAY)),
        "due_soon": scalar(city_app, soon.where(Case.promised_due >= TODAY)),
    }
    assert groups == {"overdue": 1, "due_soon": 1}
    district = city.districts[city.firm]
    assert read(city_app, "deadlines-at-risk", Scope(district=district)).value == scalar(
        city_app, soon.where(Case.applicant_id.in_(city.of(district)))
    )


def test_the_list_of_cases_at_risk_is_the_owners_and_masked(city_app: FastAPI, city: City) -> None:
    make_cases(city_app, city)
    settings = city_app.state.settings
    ind = service.indicator(settings, "deadlines-at-risk")
    assert ind.owner == OWNER
    engine.forget()
    with transaction(city_app.state.session_factory) as db:
        reader = service.Reader(settings, db, TODAY)
        with pytest.raises(Problem):
            service.listing(reader, ind, Scope(), actor="user:o", department=HRSS, is_officer=True)
        with pytest.raises(Problem):
            service.listing(
                reader, ind, Scope(), actor="user:o", department=OWNER, is_officer=False
            )
        found = service.listing(
            reader, ind, Scope(), actor="user:o", department=OWNER, is_officer=True
        )
        in_a = service.listing(
            reader,
            ind,
            Scope(district=city.districts[city.a]),
            actor="user:o",
            department=OWNER,
            is_officer=True,
        )
    assert found.personal and found.total == 2
    first, second = found.rows
    assert first["warning"] == "已超期" and first["promised_due"] == "2025-10-31"
    assert first["applicant"] == mask_citizen_id(city.a) != city.a
    assert first["days_left"] == -1 and first["state"] == "审查中"
    assert second["warning"] == "即将到期" and second["applicant"] == city.firm
    assert second["days_left"] == 1
    expected = 1 + (city.districts[city.firm] == city.districts[city.a])
    assert in_a.total == expected


# --- one-thing bundles ------------------------------------------------------------------------


def make_bundles(app: FastAPI, city: City) -> dict[str, int]:
    """A retirement bundle filed on Friday 26 September 2025 (before the National Day holiday),
    its parts ending on 10 and 13 October; a hiring bundle filed in October and still running;
    and a filing none of whose parts could be filed."""
    made: dict[str, int] = {}
    with transaction(app.state.session_factory) as db:

        def bundle(
            n: int, kind: str, who: str, filed: datetime, finished: datetime | None
        ) -> BundleCase:
            row = BundleCase(
                code=f"YJS-20250926-{n:06d}",
                bundle=kind,
                bundle_name=kind,
                applicant_id=who,
                created_by="someone",
                form={},
                filed_at=filed,
                finished_at=finished,
            )
            db.add(row)
            db.flush()
            return row

        def part(of: BundleCase, n: int, department: str, made_case: Case | None) -> None:
            db.add(
                BundlePart(
                    bundle_case_id=of.id,
                    position=n,
                    item_code=f"QD-T-{n}",
                    item_name="事项",
                    department=department,
                    case_code=None if made_case is None else made_case.code,
                    refusal={"detail": "无法受理", "errors": []} if made_case is None else None,
                    ended=None
                    if made_case is None
                    or made_case.state not in ("issued", "rejected", "withdrawn")
                    else made_case.state,
                )
            )

        def sub_case(
            department: str, who: str, filed: datetime, state: str, **columns: Any
        ) -> Case:
            return case(
                db,
                item(f"QD-T-{department}", department=department, holder="person", issues=None),
                applicant_id=who,
                applicant_kind="person",
                submitted_at=filed,
                state=state,
                **columns,
            )

        filed = local(2025, 9, 26, 10)
        retirement = bundle(1, "retirement", city.a, filed, local(2025, 10, 13, 15))
        # Filed on the 26th, issued on 10 October: 5 working days (the adjusted Sunday 28
        # September, 29 and 30 September, 9 and 10 October), one of them waiting: 4.
        part(
            retirement,
            0,
            HRSS,
            sub_case(
                HRSS, city.a, filed, "issued", issued_at=local(2025, 10, 10, 11), paused_days=1
            ),
        )
        # Rejected on Monday 13 October: 7 (and the adjusted Saturday 11 October, and the 13th).
        part(
            retirement,
            1,
            MEDICAL,
            sub_case(MEDICAL, city.a, filed, "rejected", decided_at=local(2025, 10, 13, 15)),
        )
        part(retirement, 2, FUND, None)  # could not be filed
        part(retirement, 3, FUND, sub_case(FUND, city.a, filed, "withdrawn"))
        hiring = bundle(2, "hiring", city.firm, local(2025, 10, 20, 9), None)
        part(hiring, 0, HRSS, sub_case(HRSS, city.firm, local(2025, 10, 20, 9), "review"))
        nothing = bundle(3, "retirement", city.b, local(2025, 10, 21, 9), local(2025, 10, 21, 9))
        part(nothing, 0, HRSS, None)
        made["retirement"] = retirement.id
    return made


def test_bundles_filed_per_month_kind_and_district(city_app: FastAPI, city: City) -> None:
    make_bundles(city_app, city)
    bundles = select(func.count()).select_from(BundleCase)
    first, after = month_range(date(2025, 10, 1))
    october = and_(BundleCase.filed_at >= first, BundleCase.filed_at < after)
    shown = read(city_app, "bundles-filed", OCTOBER)
    assert shown.value == scalar(city_app, bundles.where(october)) == 2
    assert {c.key: c.value for c in shown.by_group} == {"retirement": 1, "hiring": 1}
    assert shown.previous == 1
    assert read(city_app, "bundles-filed").value == scalar(city_app, bundles) == 3
    district = city.districts[city.a]
    assert read(city_app, "bundles-filed", Scope(district=district)).value == scalar(
        city_app, bundles.where(BundleCase.applicant_id.in_(city.of(district)))
    )


def test_bundle_and_part_days_are_working_days_across_the_holiday(
    city_app: FastAPI, city: City
) -> None:
    made = make_bundles(city_app, city)
    with transaction(city_app.state.session_factory) as db:
        ended = db.execute(
            select(BundlePart.department, Case.state, Case.paused_days)
            .join(Case, Case.code == BundlePart.case_code)
            .where(
                BundlePart.bundle_case_id == made["retirement"],
                Case.state.in_(("issued", "rejected")),
            )
            .order_by(BundlePart.position)
        ).all()
    # The parts that ended with a result, and their working days counted by hand above.
    assert [(d, s, p) for d, s, p in ended] == [(HRSS, "issued", 1), (MEDICAL, "rejected", 0)]
    days = {HRSS: 5 - 1, MEDICAL: 7}
    parts = read(city_app, "bundle-part-days", OCTOBER)
    assert parts.value == pytest.approx(sum(days.values()) / len(days))
    assert {c.key: c.value for c in parts.by_group} == days
    assert read(city_app, "bundle-part-days", Scope(district=city.districts[city.b])).value is None

    whole = read(city_app, "bundle-days", OCTOBER)
    # Filing to the last part's end, the wait for the applicant included: 26 September to 13
    # October; the filing none of whose parts could be filed is left out.
    assert whole.value == 7
    assert {c.key: c.value for c in whole.by_group} == {"retirement": 7, "hiring": None}
    finished = scalar(
        city_app,
        select(func.count()).select_from(BundleCase).where(BundleCase.finished_at.is_not(None)),
    )
    assert finished == 2 and whole.by_month[-1].value == 7


def test_a_real_bundle_is_followed_through_the_ledger(city_app: FastAPI) -> None:
    """Filed through the API and decided by each department's officer: a live figure follows
    each step without being told (the ledger grows); an hourly one keeps what it computed
    within the hour, then tells the same."""
    person = resident(city_app, "insight-retiree", _near_retirement(city_app))
    settings = city_app.state.settings
    today = local_today()
    this_month = Scope(today.replace(day=1), today.replace(day=1))
    engine.forget()

    def now(code: str) -> Any:
        with transaction(city_app.state.session_factory) as db:
            found = service.Reader(settings, db, today).outcome(
                service.indicator(settings, code), this_month
            )
        assert found.problem is None and found.figure is not None
        return found.figure

    status = file_retirement(city_app, person)
    assert now("bundles-filed").value == 1
    assert now("cases-open").value == len(status["parts"]) == 4
    assert now("bundle-days").value is None
    for p in status["parts"]:
        assert p["department"] in OFFICERS
        decide_all(city_app, p["case"], p["department"])
    assert now("cases-open").value == 0  # live
    assert now("bundle-days").value is None  # hourly: as computed within the hour
    assert now("cases-finished").value == 4
    assert now("bundle-part-days").value == 0  # all on the same day
    engine.forget()
    assert now("bundle-days").value == 0
    assert now("bundles-filed").value == 1
