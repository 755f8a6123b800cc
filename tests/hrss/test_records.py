"""A person's social-insurance record: what the data core holds about them, read by key; the
person reads their own, an HR & social-security officer anyone's with a purpose (in the
ledger), everyone else is refused and nothing is written."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from shuhui.approval.lookups import lookups_for
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.hrss import certificates, records
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.hrss.conftest import People
from tests.programs.conftest import resident


def core_of(app: FastAPI) -> DataCore:
    return DataCore.from_settings(app.state.settings)


def entries(app: FastAPI, action: str) -> list[LedgerEntry]:
    with transaction(app.state.session_factory) as db:
        return list(db.scalars(select(LedgerEntry).where(LedgerEntry.action == action)))


def test_the_record_says_what_the_data_core_holds(city_app: FastAPI, people: People) -> None:
    core = core_of(city_app)
    record = records.read_record(lookups_for(core), people.worker)

    # Counted apart, in DuckDB: the months each insurance was paid in full.
    expected = {
        row["insurance_type"]: row["n"]
        for row in core.sql(
            "SELECT insurance_type, count(DISTINCT month) AS n FROM ("
            " SELECT insurance_type, month, sum(amount_fen) AS due, sum(paid_fen) AS paid"
            f" FROM insurance_contributions WHERE citizen_id = '{people.worker}'"
            " GROUP BY insurance_type, month) WHERE paid >= due AND due > 0 GROUP BY 1"
        ).to_pylist()
    }
    assert {s.insurance_type: s.months_paid for s in record.summary if s.months_paid} == expected
    held = core.sql(
        "SELECT count(*) AS n FROM (SELECT DISTINCT month, credit_code FROM"
        f" insurance_contributions WHERE citizen_id = '{people.worker}')"
    ).to_pylist()[0]["n"]
    assert len(record.months) == held
    assert [m.month for m in record.months] == sorted(
        (m.month for m in record.months), reverse=True
    )
    assert record.name and record.insured and record.known
    assert {s.table for s in record.sources} >= {"residents", "insurance_contributions"}
    # A unit's name comes from the enterprise register, not its code.
    assert all(m.unit_name for m in record.months)

    window = records.read_record(
        lookups_for(core), people.worker, start=record.months[2].month, end=record.months[1].month
    )
    assert [m.month for m in window.months] == [record.months[1].month, record.months[2].month]
    assert window.summary == record.summary  # the summary counts every month held


def test_a_month_owed_is_marked_and_not_counted_as_paid(city_app: FastAPI, people: People) -> None:
    record = records.read_record(lookups_for(core_of(city_app)), people.owing)
    owed = [m for m in record.months if m.in_arrears]
    assert owed
    assert sum(s.months_owed for s in record.summary) >= 1


def test_a_pensioner_sees_the_pension_paid(city_app: FastAPI, people: People) -> None:
    record = records.read_record(lookups_for(core_of(city_app)), people.pensioner)
    assert record.payments and all(p.kind == "养老金" for p in record.payments)
    assert all(p.amount_fen > 0 for p in record.payments)


def test_a_person_reads_their_own_record_through_the_api(city_app: FastAPI, people: People) -> None:
    worker = resident(city_app, "worker1", people.worker)
    whole = worker.get("/api/v1/hrss/me/record")
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["citizen_id"] == people.worker and body["found"] and body["insured"]
    months = [m["month"] for m in body["months"]]
    shown = worker.get(
        "/api/v1/hrss/me/record", params={"months_from": months[3], "months_to": months[1]}
    ).json()
    assert [m["month"] for m in shown["months"]] == months[1:4]
    # Reading one's own record is one's own business: no ledger entry.
    assert entries(city_app, "hrss.record_viewed") == []

    page = worker.get("/hrss/record")
    assert page.status_code == 200
    assert "我的社保" in page.text and "缴费明细" in page.text and "开具参保证明" in page.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"months_from": "2024-13"}, "months_from"),
        ({"months_to": "24-01"}, "months_to"),
        ({"months_from": "2024-05", "months_to": "2024-01"}, "months_from"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(
    city_app: FastAPI, people: People, params: dict[str, str], field: str
) -> None:
    worker = resident(city_app, "worker2", people.worker)
    answer = worker.get("/api/v1/hrss/me/record", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"].split(".")[-1] for e in answer.json()["errors"]}
    page = worker.get("/hrss/record", params=params)
    assert page.status_code == 422
    assert "起始月份" in page.text or "截止月份" in page.text


def test_an_officer_reads_with_a_purpose_and_the_person_sees_it(
    city_app: FastAPI, people: People
) -> None:
    officer = as_user(city_app, "officer")  # 青岛市人力资源和社会保障局
    no_purpose = officer.get(f"/api/v1/hrss/people/{people.worker}/record")
    assert no_purpose.status_code == 422
    assert "purpose" in {e["field"].split(".")[-1] for e in no_purpose.json()["errors"]}
    assert entries(city_app, "hrss.record_viewed") == []

    read = officer.get(
        f"/api/v1/hrss/people/{people.worker}/record", params={"purpose": "本人来电咨询缴费情况"}
    )
    assert read.status_code == 200, read.text
    assert read.json()["found"]
    (entry,) = entries(city_app, "hrss.record_viewed")
    assert entry.subject == people.worker and entry.actor == "officer"
    assert entry.purpose == "本人来电咨询缴费情况"

    # Someone the data core does not hold: an answer saying so, and the look still recorded.
    none = officer.get(
        f"/api/v1/hrss/people/{people.nobody}/record", params={"purpose": "核对身份"}
    ).json()
    assert none["found"] is False and none["months"] == []
    assert len(entries(city_app, "hrss.record_viewed")) == 2

    # The page at the counter does the same through the same schema.
    counter = officer.get("/hrss/counter")
    assert counter.status_code == 200 and "查询事由" in counter.text
    shown = officer.post("/hrss/counter", data={"citizen_id": people.worker, "purpose": "窗口查询"})
    assert shown.status_code == 200 and "缴费明细" in shown.text
    refused = officer.post("/hrss/counter", data={"citizen_id": "123", "purpose": "窗口查询"})
    assert refused.status_code == 422 and "公民身份号码" in refused.text
    assert len(entries(city_app, "hrss.record_viewed")) == 3


def test_others_are_refused_and_nothing_is_written(city_app: FastAPI, people: People) -> None:
    approver = as_user(city_app, "approver")  # 行政审批服务局: not a reader
    answer = approver.get(
        f"/api/v1/hrss/people/{people.worker}/record", params={"purpose": "想看看"}
    )
    assert answer.status_code == 403
    assert approver.get("/hrss/counter").status_code == 403
    citizen = resident(city_app, "worker3", people.owing)
    assert (
        citizen.get(
            f"/api/v1/hrss/people/{people.worker}/record", params={"purpose": "想看看"}
        ).status_code
        == 403
    )
    assert as_user(city_app, "operator").get("/api/v1/hrss/me/record").status_code == 403
    assert entries(city_app, "hrss.record_viewed") == []


KIND = certificates.DocumentKind(
    code="insured-status",
    title="t",
    issuer="i",
    prefix="SBCBZM",
    default_months=12,
    max_months=60,
    item="",
    readers=(),
    reference="",
)
months = st.dates(date(1990, 1, 1), date(2030, 12, 1)).map(lambda d: d.replace(day=1))


@given(latest=st.none() | months, today=months, start=st.none() | months, end=st.none() | months)
def test_a_period_is_within_bounds_or_refused_naming_a_field(
    latest: date | None, today: date, start: date | None, end: date | None
) -> None:
    try:
        first, last = certificates.period(KIND, latest, today, start, end)
    except Problem as refusal:
        assert refusal.errors and refusal.errors[0].field in ("months_from", "months_to")
        return
    assert first <= last <= today
    assert certificates.months_between(first, last) <= KIND.max_months
    if start is None and end is None:
        assert certificates.months_between(first, last) == KIND.default_months
    assert first.day == last.day == 1
