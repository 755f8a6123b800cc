"""Struggling enterprises on the small city: the score and its reasons, one run per date, bad
input, the measures started through the campaign machinery, the pages, and the evaluation's
floors against the ground truth."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.core.settings import Settings
from shuhui.programs.distress import service
from shuhui.programs.distress.evaluation import evaluate
from shuhui.programs.distress.models import DistressFinding, DistressMeasure
from shuhui.programs.evaluation import EvaluationContext
from shuhui.programs.models import Campaign, Candidate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user

pytestmark = pytest.mark.both_backends

DAY = "2026-10-31"  # the small city's as-of date
POINTS = {"arrears": 40, "headcount": 20, "power": 25, "tax": 15}
THRESHOLD = 55


@pytest.fixture
def hrss(city_app: FastAPI) -> TestClient:
    return as_user(city_app, "officer")


def run(client: TestClient, day: str = DAY) -> Any:
    return client.post("/api/v1/programs/distress/runs", json={"evaluated_on": day})


def listed(client: TestClient, **query: str) -> dict[str, Any]:
    got = client.get("/api/v1/programs/distress/enterprises", params={"limit": "500", **query})
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def count(app: FastAPI, model: Any, **where: Any) -> int:
    with transaction(app.state.session_factory) as db:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(db.scalar(q) or 0)


def test_the_score_keeps_the_struggling_with_their_reasons_and_figures(
    city_app: FastAPI, hrss: TestClient
) -> None:
    made = run(hrss)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["already_run"] is False and body["found"] >= 1
    assert (
        sum(body["counts"].values())
        == body["counts"]["eligible"]
        + body["counts"]["not_eligible"]
        + body["counts"]["undetermined"]
    )
    items = listed(hrss)["items"]
    assert len(items) == body["found"]
    for item in items:
        # The score is the points of the signals that held, and reaches the threshold.
        assert item["reasons"] and set(item["reasons"]) <= set(POINTS)
        assert item["score"] == sum(POINTS[r] for r in item["reasons"]) >= THRESHOLD
        f = item["figures"]
        if "power" in item["reasons"]:
            assert f["power_recent"] <= f["power_before"] * 0.8
        if "tax" in item["reasons"]:
            assert f["tax_recent"] <= f["tax_before"] * 0.7
        if "headcount" in item["reasons"]:
            assert f["staff_before"] >= 3 and f["staff_now"] <= f["staff_before"] * 0.9
        if "arrears" in item["reasons"]:
            assert f["arrears_months"] >= 1
    # Highest score first.
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_a_date_runs_once(city_app: FastAPI, hrss: TestClient) -> None:
    first = run(hrss)
    assert first.status_code == 201
    findings = count(city_app, DistressFinding)
    again = run(hrss)
    assert again.status_code == 200, again.text
    assert again.json()["already_run"] is True and again.json()["found"] == first.json()["found"]
    assert count(city_app, DistressFinding) == findings
    assert count(city_app, LedgerEntry, action="programs.distress_run") == 1


def test_bad_input_is_refused_with_a_problem(city_app: FastAPI, hrss: TestClient) -> None:
    nothing = hrss.get("/api/v1/programs/distress/enterprises")
    assert nothing.status_code == 404  # no run yet
    future = run(hrss, "2099-01-01")
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "evaluated_on"
    assert count(city_app, LedgerEntry, action="programs.distress_run") == 0
    assert run(hrss).status_code == 201
    unknown = hrss.get("/api/v1/programs/distress/enterprises/91370200MA00000000")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert run(hrss, "not-a-date").status_code == 422
    other = as_user(city_app, "civil")  # 民政局 runs no enterprise score
    assert run(other).status_code == 403


def test_an_officer_reading_an_enterprise_is_in_the_ledger(
    city_app: FastAPI, hrss: TestClient
) -> None:
    run(hrss)
    code = listed(hrss)["items"][0]["credit_code"]
    got = hrss.get(f"/api/v1/programs/distress/enterprises/{code}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["struggling"] is True and body["explanation"]["outcome"] == "eligible"
    assert count(city_app, LedgerEntry, action="programs.distress_viewed", subject=code) == 1


def test_a_measure_runs_its_policy_campaign_within_the_struggling(
    city_app: FastAPI, hrss: TestClient
) -> None:
    run(hrss)
    suited = {i["credit_code"] for i in listed(hrss, measure="contribution-relief")["items"]}
    assert suited
    started = hrss.post(
        "/api/v1/programs/distress/measures/contribution-relief/start",
        json={"policy": "social-insurance-deferral"},
    )
    assert started.status_code == 201, started.text
    code = started.json()["campaign"]
    assert started.json()["enterprises"] == len(suited)
    with transaction(city_app.state.session_factory) as db:
        campaign = db.scalar(select(Campaign).where(Campaign.code == code))
        assert campaign is not None and campaign.rule == "social-insurance-deferral"
        subjects = set(
            db.scalars(select(Candidate.subject).where(Candidate.campaign_id == campaign.id))
        )
    assert subjects <= suited  # the campaign's candidates are only struggling enterprises
    assert count(city_app, DistressMeasure, measure="contribution-relief") == len(suited)
    assert count(city_app, LedgerEntry, action="programs.distress_measure_started") == len(suited)
    again = hrss.post("/api/v1/programs/distress/measures/contribution-relief/start", json={})
    assert again.status_code == 409
    wrong = hrss.post(
        "/api/v1/programs/distress/measures/supply-demand-matching/start",
        json={"policy": "social-insurance-deferral"},
    )
    assert wrong.status_code in (409, 422)  # no policy carries it / none suited
    assert hrss.post("/api/v1/programs/distress/measures/nope/start", json={}).status_code == 404


def test_the_pages_show_the_list_an_enterprise_and_a_measure(
    city_app: FastAPI, hrss: TestClient
) -> None:
    empty = hrss.get("/hrss/distress")
    assert empty.status_code == 200 and 'id="no-run"' in empty.text
    ran = hrss.post(
        "/hrss/distress/runs",
        data={"evaluated_on": DAY, "csrf_token": _csrf(hrss, "/hrss/distress")},
        follow_redirects=True,
    )
    assert ran.status_code == 200 and 'id="findings"' in ran.text
    item = listed(hrss)["items"][0]
    assert item["name"] in ran.text and "困难信号" in ran.text
    page = hrss.get(f"/hrss/distress/enterprises/{item['credit_code']}")
    assert page.status_code == 200 and 'data-struggling="yes"' in page.text
    assert "数据来源记录" in page.text
    measure = hrss.get("/hrss/distress/measures/contribution-relief")
    assert measure.status_code == 200 and 'id="start-form"' in measure.text
    # Starting asks first, then runs the campaign and opens it.
    token = _csrf(hrss, "/hrss/distress/measures/contribution-relief")
    asked = hrss.post(
        "/hrss/distress/measures/contribution-relief/start",
        data={"csrf_token": token, "policy": "social-insurance-deferral"},
    )
    assert asked.status_code == 200 and "确认启动" in asked.text
    assert count(city_app, DistressMeasure) == 0


def _csrf(client: TestClient, path: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_the_evaluation_meets_its_floors_on_the_small_city(city_app: FastAPI) -> None:
    settings: Settings = city_app.state.settings
    scores = evaluate(EvaluationContext(city_app.state.datacore, date(2026, 10, 31)))
    s = scores["enterprise_distress"]
    assert s.true >= 1
    assert s.precision >= 0.6 and s.recall >= 0.6, (s, settings.data_dir)


def test_broken_measures_content_is_refused_naming_the_item(tmp_path: Any) -> None:
    from shuhui.core.content import ContentError, parse_items

    text = (
        "kind: enterprise-difficulty-measures\nitems:\n"
        "  - {code: x, name: {zh: 甲, en: X}, valid_from: 2022-01-01, reference: r,"
        " department: 人社, reasons: [weather]}\n"
    )
    with pytest.raises(ContentError) as caught:
        service.parse_measures(
            parse_items(tmp_path / "m.yaml", text, "enterprise-difficulty-measures")
        )
    assert "items[0] (x).reasons" in str(caught.value)


def test_the_score_is_never_run_as_a_campaign(hrss: TestClient) -> None:
    refused = hrss.post("/api/v1/programs/campaigns", json={"rule": "enterprise-difficulty"})
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["field"] == "rule"
    console = hrss.get("/hrss/campaigns")
    assert 'value="enterprise-difficulty"' not in console.text


def test_the_enterprise_sees_the_measures_started_for_it(
    city_app: FastAPI, hrss: TestClient
) -> None:
    from shuhui.trust.identity.demo import DEMO_PASSWORD
    from shuhui.trust.identity.roles import Role
    from shuhui.trust.identity.schemas import UserCreate
    from tests.fixtures import add_account

    run(hrss)
    items = listed(hrss)["items"]
    # A measure no policy carries: recorded as arranged for every struggling one it suits.
    measure = next(
        m
        for m in ("employment-assistance", "supply-demand-matching", "shared-employment")
        if listed(hrss, measure=m)["total"]
    )
    code = listed(hrss, measure=measure)["items"][0]["credit_code"]
    board = hrss.get("/")
    assert "待安排纾困措施的困难企业" in board.text
    started = hrss.post(f"/api/v1/programs/distress/measures/{measure}/start", json={})
    assert started.status_code == 201, started.text
    assert started.json()["campaign"] is None and started.json()["enterprises"] >= 1
    with transaction(city_app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="firm",
                display_name="困难企业",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=code,
            ),
        )
    firm = as_user(city_app, "firm")
    mine = firm.get("/api/v1/programs/distress/mine")
    assert mine.status_code == 200 and [m["measure"] for m in mine.json()] == [measure]
    page = firm.get("/hrss/distress/mine")
    assert page.status_code == 200 and f'data-measure="{measure}"' in page.text
    assert "为本企业安排的纾困措施" in firm.get("/").text
    # The enterprise sees no other enterprise's signals.
    assert firm.get("/api/v1/programs/distress/enterprises").status_code == 403
    assert len(items) >= 1
    page = hrss.get(f"/hrss/distress/enterprises/{code}")
    assert "已安排对接" in page.text


def test_a_persons_policy_reaches_the_staff_of_the_struggling(
    city_app: FastAPI, hrss: TestClient
) -> None:
    run(hrss)
    suited = [i["credit_code"] for i in listed(hrss, measure="skills-upgrading")["items"]]
    assert suited
    started = hrss.post("/api/v1/programs/distress/measures/skills-upgrading/start", json={})
    assert started.status_code == 201, started.text
    assert started.json()["policy"] == "skills-upgrading-subsidy"
    code = started.json()["campaign"]
    with city_app.state.policy_library.connection() as con:
        staff = {
            str(r[0])
            for r in con.execute(
                "SELECT citizen_id FROM employment_spells "
                "WHERE end_date IS NULL AND list_contains(?, credit_code)",
                [suited],
            ).fetchall()
        }
    with transaction(city_app.state.session_factory) as db:
        campaign = db.scalar(select(Campaign).where(Campaign.code == code))
        assert campaign is not None and campaign.entity == "person"
        subjects = set(
            db.scalars(select(Candidate.subject).where(Candidate.campaign_id == campaign.id))
        )
    assert subjects <= staff  # only the struggling enterprises' current staff
    page = hrss.get(f"/hrss/distress/enterprises/{suited[0]}")
    assert "已面向职工开展政策找人" in page.text
