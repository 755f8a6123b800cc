"""Pension certification through the API on the small city: the cycle run by the implementing
department (a future date named, a repeated run changing nothing), the dashboard's figures, a
recipient's evidence (an officer's look in the ledger, an unknown person a 404), the pensioner's
own status and self-certification (re-authenticated, signed, the suspended pension resumed
with back pay), the street office's visits and the overpayments' recoveries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.programs.certification.models import (
    Certification,
    CycleRun,
    HomeVisit,
    Overpayment,
    PaymentHold,
)
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import add_account, as_user
from tests.programs.conftest import resident

API = "/api/v1/programs/certification"
# The small city's pension data end in October 2026: a cycle in spring finds windows open and
# lapsed, one in September suspends those told in spring and still without evidence.
SPRING, AUTUMN = "2026-03-15", "2026-09-15"


def run(client: Any, day: str | None) -> Any:
    return client.post(f"{API}/cycles", json={} if day is None else {"date": day})


def entries(app: FastAPI, action: str, subject: str | None = None) -> int:
    with transaction(app.state.session_factory) as db:
        q = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.action == action)
        if subject is not None:
            q = q.where(LedgerEntry.subject == subject)
        return int(db.scalar(q) or 0)


def rows(app: FastAPI, model: Any) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_the_cycle_runs_once_per_date_for_its_department_only(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    future = (local_today() + timedelta(days=1)).isoformat()
    refused = run(hr, future)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in refused.json()["errors"]] == ["date"]
    assert rows(city_app, CycleRun) == 0

    civil = as_user(city_app, "civil")  # 民政局: not the certification's department
    assert run(civil, SPRING).status_code == 403
    assert civil.get(f"{API}/dashboard").status_code == 403

    first = run(hr, SPRING)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["changed"] is True and body["run_on"] == SPRING
    assert body["counts"]["certified"] > 0 and body["counts"]["undetermined"] > 0
    certs, entries_before = rows(city_app, Certification), rows(city_app, LedgerEntry)

    again = run(hr, SPRING)
    assert again.status_code == 200
    assert again.json()["changed"] is False and "没有改变" in again.json()["detail"]
    assert again.json()["counts"] == body["counts"]
    assert (rows(city_app, Certification), rows(city_app, LedgerEntry)) == (
        certs,
        entries_before,
    )

    figures = hr.get(f"{API}/dashboard").json()
    assert figures["year"] == 2026 or figures["year"] == 2025
    with transaction(city_app.state.session_factory) as db:
        data = db.scalar(
            select(func.count())
            .select_from(Certification)
            .where(Certification.year == figures["year"], Certification.method == "data")
        )
    assert figures["certified"]["data"] == data
    total = figures["certified"]["total"] + figures["undetermined"]
    assert abs(figures["rate"] - figures["certified"]["total"] / total) < 1e-6
    assert [r["run_on"] for r in hr.get(f"{API}/cycles").json()] == [SPRING]


def test_a_recipients_evidence_is_explained_and_the_look_recorded(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    assert run(hr, SPRING).status_code == 201
    unknown = hr.get(f"{API}/recipients/110101199001011237")
    assert unknown.status_code == 404
    assert "110101199001011237" in unknown.json()["detail"]
    with transaction(city_app.state.session_factory) as db:
        cert = db.scalars(
            select(Certification).where(Certification.method == "data").limit(1)
        ).one()
        citizen = cert.citizen_id
    assert entries(city_app, "certification.viewed", citizen) == 0
    got = hr.get(f"{API}/recipients/{citizen}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["current"]["outcome"] == "certified" and body["current"]["method"] == "data"
    assert body["explanation"]["outcome"] == "eligible"
    # The evidence rows: the source tables with their versions, the rows that counted.
    counted = [i for i in body["explanation"]["inputs"] if i["name"] in body["current"]["evidence"]]
    assert counted and all(i["table"] and i["version"] and i["rows"] for i in counted)
    assert entries(city_app, "certification.viewed", citizen) == 1
    page = hr.get(f"/hrss/certification/recipients/{citizen}")
    assert page.status_code == 200
    assert 'id="evidence"' in page.text and f'data-input="{counted[0]["name"]}"' in page.text
    assert entries(city_app, "certification.viewed", citizen) == 2


def _undetermined_lapsed(app: FastAPI) -> str:
    """A recipient still undetermined after the autumn cycle, with a suspended pension."""
    with transaction(app.state.session_factory) as db:
        hold = db.scalars(
            select(PaymentHold).where(PaymentHold.status == "suspended").limit(1)
        ).one()
        return hold.citizen_id


def test_a_pensioner_without_evidence_is_suspended_then_resumed_on_certifying(
    city_app: FastAPI,
) -> None:
    hr = as_user(city_app, "officer")
    spring = run(hr, SPRING)
    assert spring.status_code == 201
    # The notices are dated by the run (the service takes ``now``); age them to the spring run
    # so the autumn one finds the notice period over.
    with transaction(city_app.state.session_factory) as db:
        from datetime import UTC, datetime

        for c in db.scalars(select(Certification).where(Certification.notified_at.is_not(None))):
            c.notified_at = datetime(2026, 3, 15, 2, tzinfo=UTC)
    autumn = run(hr, AUTUMN)
    assert autumn.status_code == 201 and autumn.json()["counts"]["suspended"] > 0
    assert rows(city_app, PaymentHold) > 0
    citizen = _undetermined_lapsed(city_app)
    with transaction(city_app.state.session_factory) as db:
        statuses = set(
            db.scalars(select(PaymentHold.status).where(PaymentHold.citizen_id == citizen))
        )
    assert statuses == {"suspended"}  # never stopped for lack of evidence

    person = resident(city_app, "pensioner1", citizen)
    mine = person.get(f"{API}/mine").json()
    assert mine["payment"] == "suspended" and mine["may_self_certify"] is True
    wrong = person.post(f"{API}/mine/certify", json={"password": "not-it"})
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["field"] == "password"
    assert entries(city_app, "certification.signed", citizen) == 0

    done = person.post(f"{API}/mine/certify", json={"password": DEMO_PASSWORD})
    assert done.status_code == 200, done.text
    after = done.json()
    assert after["current"]["outcome"] == "certified" and after["current"]["method"] == "self"
    assert after["current"]["signed"] is True and after["payment"] == "normal"
    (back,) = after["resumptions"]
    assert (
        back["months"] >= 1 and back["back_pay_fen"] == back["months"] * back["monthly_amount_fen"]
    )
    assert entries(city_app, "certification.signed", citizen) == 1
    assert entries(city_app, "certification.resumed", citizen) == 1
    twice = person.post(f"{API}/mine/certify", json={"password": DEMO_PASSWORD})
    assert twice.status_code == 409
    assert entries(city_app, "certification.resumed", citizen) == 1

    # Someone else's account has nothing to certify; an officer cannot use the citizen's API.
    other = resident(city_app, "notapensioner", "110101199001011237")
    assert other.get(f"{API}/mine").status_code == 404
    assert hr.get(f"{API}/mine").status_code == 403


def test_a_street_office_records_its_visits_and_only_its_own(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    assert run(hr, SPRING).status_code == 201
    assert run(hr, AUTUMN).status_code == 201
    with transaction(city_app.state.session_factory) as db:
        visit = db.scalars(select(HomeVisit).where(HomeVisit.status == "open").limit(1)).one()
        office, visit_id, citizen = visit.department, visit.id, visit.citizen_id
        cert_id = visit.certification_id
        add_account(
            db,
            UserCreate(
                username="streetx",
                display_name="街道",
                password=DEMO_PASSWORD,
                roles=[Role.officer],
                department=office,
            ),
        )
    street = as_user(city_app, "streetx")
    listed = street.get(f"{API}/visits").json()
    assert visit_id in [v["id"] for v in listed["items"]]
    assert all(v["department"] == office for v in listed["items"])
    # Whom to visit and where, from the population register; each read is in the ledger.
    mine = next(v for v in listed["items"] if v["id"] == visit_id)
    with city_app.state.datacore.connect() as con:
        name, address = con.execute(
            "SELECT r.name, h.address FROM residents r JOIN households h USING (household_id)"
            " WHERE r.citizen_id = ?",
            [citizen],
        ).fetchone()
    assert (mine["name"], mine["address"]) == (name, address)
    assert entries(city_app, "certification.visit_read", citizen) == 1
    assert hr.get(f"{API}/visits").status_code == 403
    other = as_user(city_app, "street")  # the demo's 黄岛区 office: another office's visit
    if office != "黄岛区街道办事处":
        assert (
            other.post(f"{API}/visits/{visit_id}", json={"outcome": "certified"}).status_code == 404
        )
    bad = street.post(f"{API}/visits/{visit_id}", json={"outcome": "deceased"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "died_on"
    done = street.post(
        f"{API}/visits/{visit_id}", json={"outcome": "certified", "note": "见到本人"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["outcome"] == "certified"
    with transaction(city_app.state.session_factory) as db:
        cert = db.get(Certification, cert_id)
        assert cert is not None and (cert.outcome, cert.method) == ("certified", "visit")
    again = street.post(f"{API}/visits/{visit_id}", json={"outcome": "certified"})
    assert again.status_code == 409
    assert entries(city_app, "certification.visited", citizen) == 1


def test_an_overpayment_is_recovered_in_parts_and_never_beyond(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    assert run(hr, SPRING).status_code == 201
    assert run(hr, AUTUMN).status_code == 201
    listed = hr.get(f"{API}/overpayments").json()
    assert listed["total"] >= 1
    o = listed["items"][0]
    assert o["amount_fen"] > 0 and o["recovered_fen"] == 0
    too_much = (o["amount_fen"] + 100) // 100
    refused = hr.post(f"{API}/overpayments/{o['id']}/recoveries", json={"amount": f"{too_much}"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "amount"
    assert hr.post(f"{API}/overpayments/999999/recoveries", json={"amount": "1"}).status_code == 404
    part = hr.post(f"{API}/overpayments/{o['id']}/recoveries", json={"amount": "1.00"})
    assert part.status_code == 200 and part.json()["recovered_fen"] == 100
    assert part.json()["status"] == "open"
    rest = o["amount_fen"] - 100
    whole = hr.post(
        f"{API}/overpayments/{o['id']}/recoveries",
        json={"amount": f"{rest // 100}.{rest % 100:02d}", "note": "银行退回"},
    )
    assert whole.status_code == 200 and whole.json()["status"] == "recovered"
    assert entries(city_app, "certification.recovered", o["citizen_id"]) == 2
    figures = hr.get(f"{API}/dashboard").json()["overpayments"]
    assert figures["recovered_fen"] >= o["amount_fen"]
    with transaction(city_app.state.session_factory) as db:
        assert db.get(Overpayment, o["id"]) is not None
    assert date.fromisoformat(o["died_on"]) < date.fromisoformat(AUTUMN)
