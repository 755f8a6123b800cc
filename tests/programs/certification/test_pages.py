"""The certification pages through the app: the dashboard's figures and chart, a run asked
first (and a future date refused next to its field, nothing run), the lists, a recipient's
evidence, the pensioner's page and declaration (a wrong password refused next to the field),
the street office's visits (a death asked first), the overpayments (a refused amount shown
next to its field), and who may open which."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.programs.certification.models import Certification, CycleRun, HomeVisit, PaymentHold
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from tests.fixtures import add_account, as_user, csrf_from
from tests.jobs.support import result_of
from tests.programs.conftest import resident

BASE = "/hrss/certification"
SPRING, AUTUMN = "2026-03-15", "2026-09-15"


def post(client: TestClient, path: str, data: dict[str, str]) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf_from(client)}, follow_redirects=False)


def runs(app: FastAPI) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(CycleRun)) or 0)


def ran(client: TestClient, day: str) -> str:
    """The dashboard after a cycle the page ran (a background job, run here to its end)."""
    started = post(client, f"{BASE}/run", {"date": day, "confirm": "yes"})
    return result_of(cast(FastAPI, client.app), started)


def test_the_dashboard_runs_a_cycle_only_once_asked_and_shows_its_figures(
    city_app: FastAPI,
) -> None:
    hr = as_user(city_app, "officer")
    empty = hr.get(BASE)
    assert empty.status_code == 200 and 'id="run-form"' in empty.text
    assert "尚未开展认证" in empty.text

    future = (local_today() + timedelta(days=3)).isoformat()
    refused = post(hr, f"{BASE}/run", {"date": future})
    assert refused.status_code == 422
    assert 'data-field="date"' in refused.text and "晚于今天" in refused.text
    assert runs(city_app) == 0

    asked = post(hr, f"{BASE}/run", {"date": SPRING})
    assert asked.status_code == 200 and 'id="confirm-summary"' in asked.text
    assert SPRING in asked.text and 'id="running"' in asked.text and "<progress" in asked.text
    assert (
        'name="confirm" value="yes"' in asked.text
        and 'name="date" value="2026-03-15"' in asked.text
    )
    assert runs(city_app) == 0  # asking changes nothing

    done = ran(hr, SPRING)
    assert done.startswith(f"{BASE}?ran={SPRING}")
    page = hr.get(done)
    assert 'data-again="false"' in page.text and f'data-run="{SPRING}"' in page.text
    data = int(re.search(r'id="count-data">(\d+)<', page.text).group(1))  # type: ignore[union-attr]
    assert data > 0 and 'id="cert-chart"' in page.text and 'data-month="2026-03"' in page.text
    assert "元" in page.text and 'id="overpaid"' in page.text

    again = ran(hr, SPRING)
    assert "again=1" in again
    assert 'data-again="true"' in hr.get(again).text
    assert runs(city_app) == 1
    desk = hr.get("/").text  # the workbench: the not yet certified and the overpayments
    assert 'data-todo="certification.undetermined"' in desk
    assert 'data-todo="certification.overpayments"' in desk
    assert 'data-todo="certification.' not in as_user(city_app, "civil").get("/").text

    listing = hr.get(f"{BASE}/lists/undetermined")
    assert listing.status_code == 200
    found = re.findall(r'<tr data-citizen="(\d{17}[\dX])">', listing.text)
    assert found
    assert hr.get(f"{BASE}/lists/nonsense").status_code == 404

    why = hr.get(f"{BASE}/recipients/{found[0]}")
    assert why.status_code == 200
    assert 'data-outcome="undetermined"' in why.text and 'id="evidence"' in why.text
    assert hr.get(f"{BASE}/recipients/110101199001011237").status_code == 404

    # Other departments and citizens are kept out; a citizen is sent to their own page.
    assert as_user(city_app, "civil").get(BASE).status_code == 403
    assert (
        as_user(city_app, "citizen")
        .get(BASE, follow_redirects=False)
        .headers["location"]
        .endswith("/mine")
    )


def test_the_pensioner_signs_the_declaration_after_the_password_and_is_paid_back(
    city_app: FastAPI,
) -> None:
    hr = as_user(city_app, "officer")
    ran(hr, SPRING)
    with transaction(city_app.state.session_factory) as db:
        for c in db.scalars(select(Certification).where(Certification.notified_at.is_not(None))):
            c.notified_at = datetime(2026, 3, 15, 2, tzinfo=UTC)  # the notices of that run
    ran(hr, AUTUMN)
    with transaction(city_app.state.session_factory) as db:
        citizen = db.scalars(
            select(PaymentHold.citizen_id).where(PaymentHold.status == "suspended").limit(1)
        ).one()
    person = resident(city_app, "pensioner2", citizen)
    mine = person.get(f"{BASE}/mine")
    assert mine.status_code == 200
    assert 'data-outcome="undetermined"' in mine.text and 'data-payment="suspended"' in mine.text
    assert 'id="certify-button"' in mine.text and 'id="suspended-note"' in mine.text
    home = person.get("/")
    assert 'data-todo="certification.mine"' in home.text

    declare = person.get(f"{BASE}/mine/declare")
    assert declare.status_code == 200 and "本人郑重声明" in declare.text
    wrong = post(person, f"{BASE}/mine/declare", {"password": "nope"})
    assert wrong.status_code == 401 and 'data-field="password"' in wrong.text
    assert 'data-payment="suspended"' in person.get(f"{BASE}/mine").text

    signed = post(person, f"{BASE}/mine/declare", {"password": DEMO_PASSWORD})
    assert signed.status_code == 303
    done = person.get(signed.headers["location"])
    assert 'data-outcome="certified"' in done.text and 'data-method="self"' in done.text
    assert 'data-payment="normal"' in done.text and 'id="back-pay"' in done.text
    assert 'id="done"' in done.text and "补发" in done.text
    assert 'id="certify-button"' not in done.text
    assert "nothing-to-sign" in person.get(f"{BASE}/mine/declare").text

    nobody = resident(city_app, "younger", "110101199001011237")
    assert 'id="nothing"' in nobody.get(f"{BASE}/mine").text


def test_the_street_office_records_visits_asking_first_before_a_death(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    ran(hr, SPRING)
    ran(hr, AUTUMN)
    with transaction(city_app.state.session_factory) as db:
        visit = db.scalars(select(HomeVisit).where(HomeVisit.status == "open").limit(1)).one()
        office, visit_id = visit.department, visit.id
        add_account(
            db,
            UserCreate(
                username="streety",
                display_name="街道",
                password=DEMO_PASSWORD,
                roles=[Role.officer],
                department=office,
            ),
        )
    street = as_user(city_app, "streety")
    page = street.get(f"{BASE}/visits")
    assert page.status_code == 200 and f'id="visit-{visit_id}" data-status="open"' in page.text
    assert street.get(BASE, follow_redirects=False).headers["location"].endswith("/visits")
    assert 'data-todo="certification.visits"' in street.get("/").text
    assert hr.get(f"{BASE}/visits").status_code == 403

    missing = post(street, f"{BASE}/visits/{visit_id}", {"outcome": "deceased"})
    assert missing.status_code == 200 and 'id="confirm-summary"' in missing.text  # asked first
    refused = post(street, f"{BASE}/visits/{visit_id}", {"outcome": "deceased", "confirm": "yes"})
    assert refused.status_code == 422 and 'data-field="died_on"' in refused.text
    seen = post(street, f"{BASE}/visits/{visit_id}", {"outcome": "certified", "note": "见到本人"})
    assert seen.status_code == 303
    after = street.get(f"{BASE}/visits?status=done").text
    assert f'id="visit-{visit_id}" data-status="done" data-outcome="certified"' in after


def test_an_overpayment_refused_amount_is_shown_next_to_its_field(city_app: FastAPI) -> None:
    hr = as_user(city_app, "officer")
    ran(hr, SPRING)
    ran(hr, AUTUMN)
    page = hr.get(f"{BASE}/overpayments")
    assert page.status_code == 200
    ids = re.findall(r'id="overpayment-(\d+)" data-status="open"', page.text)
    assert ids
    refused = post(hr, f"{BASE}/overpayments/{ids[0]}/recoveries", {"amount": "99999999"})
    assert refused.status_code == 422 and 'data-field="amount"' in refused.text
    typo = post(hr, f"{BASE}/overpayments/{ids[0]}/recoveries", {"amount": "abc"})
    assert typo.status_code == 422 and 'data-field="amount"' in typo.text
    part = post(
        hr, f"{BASE}/overpayments/{ids[0]}/recoveries", {"amount": "10.00", "note": "银行退回"}
    )
    assert part.status_code == 303
    shown = hr.get(f"{BASE}/overpayments?status=all").text
    assert "银行退回" in shown and 'class="recovered">10.00<' in shown
