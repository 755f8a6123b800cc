"""Work-injury recognition clocks (工伤保险条例 第十七条、第二十条): the filing limit from the
accident, the decision due from acceptance (60 days, or 15 when the facts are marked clear),
a warning within the last days and overdue after; on the officer's page and workbench."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from shuhui.approval.items import load_catalogue
from shuhui.core.clock import SHANGHAI, local_today, utcnow
from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.hrss import injury
from tests.approval.made_cases import case as made_case
from tests.fixtures import as_user

RULES = injury.clocks()


def case(**form: Any) -> Any:
    return SimpleNamespace(
        code="BJ-1",
        applicant_name="甲",
        applicant_id="x",
        applicant_kind="person",
        state="accepted",
        form=form,
        submitted_at=None,
        accepted_at=None,
    )


def test_the_filing_limit_is_a_year_for_the_worker_and_30_days_for_the_employer() -> None:
    worker = injury.application(
        case(injury_date="2025-03-01", applicant_relation="本人"), RULES, False, date(2026, 1, 1)
    )
    assert worker.filing_deadline == date(2026, 3, 1)
    employer = injury.application(
        case(injury_date="2025-03-01", applicant_relation="用人单位"),
        RULES,
        False,
        date(2026, 1, 1),
    )
    assert employer.filing_deadline == date(2025, 3, 31)
    leap = injury.application(
        case(injury_date="2024-02-29", applicant_relation="近亲属"), RULES, False, date(2024, 3, 1)
    )
    assert leap.filing_deadline == date(2025, 2, 28)


days = st.dates(date(2015, 1, 1), date(2030, 12, 31))


@given(accepted=days, offset=st.integers(-100, 100), clear=st.booleans())
def test_days_left_warning_and_overdue_agree(accepted: date, offset: int, clear: bool) -> None:
    made = case(injury_date=None)
    made.accepted_at = datetime.combine(accepted, time(10), tzinfo=SHANGHAI)
    today = accepted + timedelta(days=offset)
    a = injury.application(made, RULES, clear, today)
    limit = RULES.clear_decision_days if clear else RULES.decision_days
    assert a.decision_due == accepted + timedelta(days=limit)
    assert a.days_left == limit - offset
    assert a.warning == (0 <= limit - offset <= RULES.warn_days)
    assert a.overdue == (limit - offset < 0)
    assert not (a.warning and a.overdue)


def test_the_officer_sees_the_clocks_marks_facts_clear_and_is_warned(city_app: FastAPI) -> None:
    item = load_catalogue().items["QD-RS-0003"]
    with transaction(city_app.state.session_factory) as db:
        waiting = made_case(
            db, item, applicant_id="370202199003151233", applicant_kind="person",
            applicant_name="王某", state="submitted",
            form={"injury_date": "2026-11-20", "applicant_relation": "本人"},
        )  # fmt: skip
        accepted = made_case(
            db, item, applicant_id="370202199003151233", applicant_kind="person",
            applicant_name="王某", state="accepted", accepted_at=utcnow(),
            form={"injury_date": "2025-10-01", "applicant_relation": "近亲属"},
        )  # fmt: skip
        codes = waiting.code, accepted.code
    officer = as_user(city_app, "officer")
    rows = {a["case"]: a for a in officer.get("/api/v1/hrss/injury/applications").json()}
    assert rows[codes[0]]["accepted"] is None and rows[codes[0]]["days_left"] is None
    assert rows[codes[1]]["days_left"] == 60
    assert rows[codes[1]]["filing_deadline"] == "2026-10-01"
    today = local_today()
    assert rows[codes[1]]["filed_late"] == (today > date(2026, 10, 1))
    # Marking before acceptance is refused; another department may not mark.
    assert officer.post(f"/api/v1/hrss/injury/applications/{codes[0]}/clear").status_code == 409
    approver = as_user(city_app, "approver")
    assert approver.post(f"/api/v1/hrss/injury/applications/{codes[1]}/clear").status_code == 403

    marked = officer.post(f"/api/v1/hrss/injury/applications/{codes[1]}/clear")
    assert marked.status_code == 200 and marked.json()["facts_clear"] is True
    assert marked.json()["decision_due"] == (today + timedelta(days=15)).isoformat()
    with transaction(city_app.state.session_factory) as db:
        soon = {a.case_code: a for a in injury.open_applications(db, today=today + timedelta(10))}
        late = {a.case_code: a for a in injury.open_applications(db, today=today + timedelta(20))}
        assert injury.due_soon(db) == 0  # 15 days left today
    assert soon[codes[1]].warning and soon[codes[1]].days_left == 5
    assert late[codes[1]].overdue and late[codes[1]].days_left == -5

    page = officer.get("/hrss/injury")
    assert page.status_code == 200 and codes[1] in page.text and "事实清楚，15日内" in page.text
    assert approver.get("/hrss/injury").status_code == 403
    workbench = officer.get("/")
    assert "即将到期的工伤认定" in workbench.text


def test_the_disability_subsidy_follows_the_grade_by_the_rule_book(city_app: FastAPI) -> None:
    core = DataCore.from_settings(city_app.state.settings)
    row = core.sql(
        "SELECT citizen_id, arg_max(monthly_wage_fen, start_date) AS wage FROM employment_spells"
        " GROUP BY citizen_id ORDER BY citizen_id LIMIT 1"
    ).to_pylist()[0]
    officer = as_user(city_app, "officer")
    path = "/api/v1/hrss/injury/benefits"
    months = {1: 27, 4: 21, 5: 18, 7: 13, 10: 7}  # 工伤保险条例 第三十五至三十七条
    for grade, expected in months.items():
        got = officer.get(
            path,
            params={"citizen_id": row["citizen_id"], "grade": grade, "purpose": "核定伤残待遇"},
        )
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["outcome"], body["months"], body["wage_fen"]) == (
            "eligible",
            expected,
            row["wage"],
        )
        assert body["subsidy_fen"] == expected * row["wage"]
    refused = officer.get(
        path, params={"citizen_id": row["citizen_id"], "grade": 11, "purpose": "x1"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"].endswith("grade")
    assert (
        as_user(city_app, "approver")
        .get(path, params={"citizen_id": row["citizen_id"], "grade": 5, "purpose": "想看看"})
        .status_code
        == 403
    )


def test_the_employers_application_runs_on_its_30_days_and_names_the_employee(
    city_app: FastAPI,
) -> None:
    item = load_catalogue().items["QD-RS-0018"]
    assert item.holder == "enterprise" and "QD-RS-0018" in RULES.items
    accident = local_today() - timedelta(days=40)
    with transaction(city_app.state.session_factory) as db:
        late = made_case(
            db, item, applicant_id="91370202MAMQR5UY0W", applicant_name="青岛示范餐饮管理有限公司",
            state="accepted", accepted_at=utcnow(),
            form={"injury_date": accident.isoformat(), "employee_name": "王某",
                  "employee_citizen_id": "370202199003151233"},
        )  # fmt: skip
        code = late.code
    rows = {a["case"]: a for a in as_user(city_app, "officer").get(
        "/api/v1/hrss/injury/applications").json()}  # fmt: skip
    row = rows[code]
    assert row["relation"] == "用人单位"
    assert row["filing_deadline"] == (accident + timedelta(days=30)).isoformat()
    assert row["filed_late"] is True  # 40 days after the accident: past the employer's 30
    assert row["applicant_name"].startswith("王某")
