"""Enterprises' needs (诉求): posted and matched (solutions, platforms, the rule book's enterprise
policies, each with reasons), routed to the department with a time limit, moved 受理 → 办理 →
办结 by an officer of that department only, told to the enterprise, rated once — every step in
the ledger; bad input refused naming the field, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.enterprise.models import Need, NeedStep
from shuhui.programs.models import OutboxMessage
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import CSRF_INPUT, add_account, as_user

NEEDS = "/api/v1/enterprise/needs"
DIGITAL = {
    "kind": "digital",
    "title": "设备联网和生产排产",
    "detail": "三条生产线的数控设备想联网，做生产计划排产和质量追溯，减少停机和交期延误。",
}


def live_firm(app: FastAPI) -> str:
    """A live manufacturing enterprise of the test city with staff on record."""
    core = DataCore.from_settings(app.state.settings)
    rows = core.sql(
        "SELECT e.credit_code FROM enterprises e JOIN employment_spells s USING (credit_code)"
        " WHERE e.status = '存续' GROUP BY e.credit_code, e.industry_code"
        " ORDER BY (e.industry_code = 'C') DESC, count(*) DESC, e.credit_code LIMIT 1"
    ).to_pylist()
    assert rows
    return str(rows[0]["credit_code"])


def firm_client(app: FastAPI, username: str = "firm") -> tuple[TestClient, str]:
    code = live_firm(app)
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username=username,
                display_name="企业经办人",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=code,
            ),
        )
    return as_user(app, username), code


def entries(app: FastAPI, action: str, subject: str) -> list[LedgerEntry]:
    with transaction(app.state.session_factory) as db:
        return list(
            db.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.action == action, LedgerEntry.subject == subject
                )
            )
        )


def count(app: FastAPI, model: Any) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.both_backends  # the need's row is locked while an officer acts on it
def test_a_need_is_matched_routed_worked_and_rated(city_app: FastAPI) -> None:
    firm, code = firm_client(city_app)
    posted = firm.post(NEEDS, json=DIGITAL)
    assert posted.status_code == 201, posted.text
    need = posted.json()
    assert need["state"] == "received" and need["state_name"] == "已受理"
    assert need["department"] == "青岛市工业和信息化局"
    assert need["due_at"] > need["posted_at"]
    kinds = [m["kind"] for m in need["matches"]]
    assert "solution" in kinds and "platform" in kinds and "policy" in kinds
    solutions = [m for m in need["matches"] if m["kind"] == "solution"]
    # Ranked, each with its reasons; the best speaks of what the enterprise asked for.
    assert [s["score"] for s in solutions] == sorted((s["score"] for s in solutions), reverse=True)
    assert all(s["reasons"] for s in solutions)
    assert any("相关" in r for r in solutions[0]["reasons"])
    policies = [m for m in need["matches"] if m["kind"] == "policy"]
    assert {p["code"] for p in policies} >= {"job-stabilisation-refund"}
    assert all(p["outcome"] in ("eligible", "not_eligible", "undetermined") for p in policies)
    assert all(p["conditions"] for p in policies)
    # Eligible policies come first.
    outcomes = [p["outcome"] == "eligible" for p in policies]
    assert outcomes == sorted(outcomes, reverse=True)

    # Another department cannot act on it; the bureau's own officer can.
    commerce = as_user(city_app, "commerce")
    refused = commerce.post(f"{NEEDS}/{need['code']}/take", json={})
    assert refused.status_code == 404
    industry = as_user(city_app, "industry")
    closed_early = industry.post(f"{NEEDS}/{need['code']}/close", json={"note": "已经办好了"})
    assert closed_early.status_code == 409
    taken = industry.post(f"{NEEDS}/{need['code']}/take", json={"note": "已联系企业"})
    assert taken.status_code == 200 and taken.json()["state"] == "handling"
    too_short = industry.post(f"{NEEDS}/{need['code']}/close", json={"note": "好"})
    assert too_short.status_code == 422
    assert too_short.json()["errors"][0]["field"] == "note"
    done = industry.post(f"{NEEDS}/{need['code']}/close", json={"note": "已安排平台服务商上门诊断"})
    assert done.status_code == 200 and done.json()["state"] == "closed"
    with transaction(city_app.state.session_factory) as db:
        told = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == code)).all()
    assert any(need["code"] in (m.link or "") for m in told)

    rated = firm.post(f"{NEEDS}/{need['code']}/rating", json={"stars": 5, "comment": "很及时"})
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    again = firm.post(f"{NEEDS}/{need['code']}/rating", json={"stars": 1})
    assert again.status_code == 409
    steps = [s["step"] for s in firm.get(f"{NEEDS}/{need['code']}").json()["steps"]]
    assert steps == ["posted", "taken", "closed", "rated"]
    for action in ("posted", "taken", "closed", "rated"):
        assert len(entries(city_app, f"enterprise.need_{action}", code)) == 1, action


def test_a_need_of_another_enterprise_is_not_found(city_app: FastAPI) -> None:
    firm, _ = firm_client(city_app)
    code = firm.post(NEEDS, json=DIGITAL).json()["code"]
    core = DataCore.from_settings(city_app.state.settings)
    other = core.sql(
        "SELECT credit_code FROM enterprises WHERE status = '存续'"
        " ORDER BY credit_code DESC LIMIT 1"
    ).to_pylist()[0]["credit_code"]
    with transaction(city_app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="rival",
                display_name="另一家企业",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=str(other),
            ),
        )
    rival = as_user(city_app, "rival")
    assert rival.get(f"{NEEDS}/{code}").status_code == 404
    assert rival.post(f"{NEEDS}/{code}/rating", json={"stars": 1}).status_code == 404
    assert code not in {n["code"] for n in rival.get(NEEDS).json()}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DIGITAL, "kind": "lottery"}, "kind"),
        ({**DIGITAL, "title": ""}, "title"),
        ({**DIGITAL, "detail": "太短"}, "detail"),
        ({**DIGITAL, "detail": "长" * 2001}, "detail"),
        ({**DIGITAL, "amount": "100"}, "amount"),  # only financing states an amount
        ({**DIGITAL, "kind": "financing"}, "amount"),  # and financing must
        ({**DIGITAL, "kind": "financing", "amount": "-5"}, "amount"),
        ({**DIGITAL, "extra": 1}, "extra"),
    ],
)
def test_bad_needs_are_refused_naming_the_field_and_nothing_is_written(
    city_app: FastAPI, body: dict[str, Any], field: str
) -> None:
    firm, code = firm_client(city_app)
    answer = firm.post(NEEDS, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert count(city_app, Need) == 0 and count(city_app, NeedStep) == 0
    assert entries(city_app, "enterprise.need_posted", code) == []


def test_financing_states_its_amount_in_yuan(city_app: FastAPI) -> None:
    firm, _ = firm_client(city_app)
    body = {**DIGITAL, "kind": "financing", "title": "流动资金贷款", "amount": "1,200,000.50"}
    made = firm.post(NEEDS, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["amount_fen"] == 120_000_050
    assert made.json()["amount_text"] == "1,200,000.50"
    assert made.json()["department"] == "青岛市地方金融监督管理局"


def test_the_preview_writes_nothing(city_app: FastAPI) -> None:
    firm, _ = firm_client(city_app)
    seen = firm.post(f"{NEEDS}/preview", json=DIGITAL)
    assert seen.status_code == 200
    assert seen.json()["matches"]
    assert count(city_app, Need) == 0


def test_only_enterprises_post_and_officers_see_their_department(city_app: FastAPI) -> None:
    firm, _ = firm_client(city_app)
    firm.post(NEEDS, json=DIGITAL)
    firm.post(NEEDS, json={**DIGITAL, "kind": "market", "title": "开拓海外市场"})
    citizen = as_user(city_app, "citizen")
    assert citizen.post(NEEDS, json=DIGITAL).status_code == 403
    industry = as_user(city_app, "industry")  # the bureau: every need
    assert {n["kind"] for n in industry.get(NEEDS).json()} == {"digital", "market"}
    commerce = as_user(city_app, "commerce")  # a department: its own
    assert {n["kind"] for n in commerce.get(NEEDS).json()} == {"market"}


def test_the_pages_post_preview_take_close_and_rate(city_app: FastAPI) -> None:
    firm, _ = firm_client(city_app)
    page = firm.get("/enterprise/needs")
    assert page.status_code == 200 and "提出诉求" in page.text
    token = _token(page.text)
    preview = firm.post(
        "/enterprise/needs", data={**DIGITAL, "action": "preview", "csrf_token": token}
    )
    assert preview.status_code == 200 and 'id="matched-solutions"' in preview.text
    assert count(city_app, Need) == 0
    refused = firm.post("/enterprise/needs", data={**DIGITAL, "detail": "短", "csrf_token": token})
    assert refused.status_code == 422 and "具体情况" in refused.text
    posted = firm.post(
        "/enterprise/needs",
        data={**DIGITAL, "action": "post", "csrf_token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    shown = firm.get(posted.headers["location"])
    assert "已受理" in shown.text and 'id="matched-policies"' in shown.text
    code = posted.headers["location"].split("/")[-1].split("?")[0]

    industry = as_user(city_app, "industry")
    desk = industry.get("/enterprise/desk")
    assert code in desk.text
    token = _token(industry.get(f"/enterprise/needs/{code}").text)
    industry.post(f"/enterprise/needs/{code}/take", data={"csrf_token": token, "note": ""})
    industry.post(
        f"/enterprise/needs/{code}/close",
        data={"csrf_token": token, "note": "已上门诊断并推荐方案"},
    )
    page = firm.get(f"/enterprise/needs/{code}")
    assert "已办结" in page.text and 'id="rating-form"' in page.text
    firm.post(
        f"/enterprise/needs/{code}/rating", data={"csrf_token": _token(page.text), "stars": "4"}
    )
    assert "您的评价：4星" in firm.get(f"/enterprise/needs/{code}").text


def _token(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)
