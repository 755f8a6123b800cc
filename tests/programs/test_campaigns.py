"""Policy campaigns end to end through the API, on SQLite and PostgreSQL: run → candidates →
the department's confirmation → offers (portal and outbox) → the recipient's answer → grant,
with every step in the ledger and nothing half-done when a step is refused."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.programs.models import BenefitGrant, Candidate, OutboxMessage
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import add_account, as_user
from tests.programs.conftest import City, resident

pytestmark = pytest.mark.both_backends

ELDERLY = "elderly-allowance"
HARDSHIP = "hardship-disability-living-subsidy"


def run(client: Any, rule: str, **extra: Any) -> Any:
    return client.post("/api/v1/programs/campaigns", json={"rule": rule, **extra})


def pending(client: Any, code: str) -> list[dict[str, Any]]:
    got = client.get(f"/api/v1/programs/campaigns/{code}/candidates?status=pending&limit=500")
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


def ledger_actions(city: City, subject: str) -> list[str]:
    with transaction(city.app.state.session_factory) as db:
        return list(
            db.scalars(
                select(LedgerEntry.action)
                .where(LedgerEntry.subject == subject, LedgerEntry.action.like("programs.%"))
                .order_by(LedgerEntry.seq)
            )
        )


def test_a_campaign_finds_confirms_offers_and_grants(city: City) -> None:
    made = run(city.civil, ELDERLY)
    assert made.status_code == 201, made.text
    campaign = made.json()
    code = campaign["code"]
    eligible = campaign["counts"]["eligible"]
    assert eligible > 3 and campaign["counts"]["undetermined"] == 0
    assert sum(campaign["counts"].values()) == 1_500  # every resident evaluated
    assert campaign["funnel"]["found"] == eligible and campaign["excluded"] == 0
    assert campaign["department"] == "青岛市民政局" and campaign["versions"]["residents"] >= 1

    found = pending(city.civil, code)
    assert len(found) == eligible
    assert all(c["outcome"] == "eligible" and c["amount_fen"] > 0 for c in found)
    first, second, third = found[0], found[1], found[2]

    # Why the first qualifies: every condition true, the birth date from its residents row.
    why = city.civil.get(f"/api/v1/programs/candidates/{first['id']}/explanation").json()
    assert why["outcome"] == "eligible" and why["id"] == first["subject"]
    assert why["conditions"]["value"] is True
    assert all(c["value"] is True for c in why["conditions"]["children"])
    birth = next(i for i in why["inputs"] if i["name"] == "birth_date")
    assert birth["table"] == "residents" and birth["rows"] == [{"citizen_id": first["subject"]}]
    assert "高龄津贴" in why["text"] and why["reference"]

    # Rejection needs a reason; confirming two, then all the rest.
    no_reason = city.civil.post(
        f"/api/v1/programs/campaigns/{code}/reject", json={"ids": [third["id"]], "reason": " "}
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    rejected = city.civil.post(
        f"/api/v1/programs/campaigns/{code}/reject",
        json={"ids": [third["id"]], "reason": "已迁出本市，户籍待更新"},
    )
    assert rejected.status_code == 200 and rejected.json()["rejected"] == 1
    confirmed = city.civil.post(
        f"/api/v1/programs/campaigns/{code}/confirm", json={"ids": [first["id"], second["id"]]}
    )
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] == 2
    rest = city.civil.post(f"/api/v1/programs/campaigns/{code}/confirm", json={})
    assert rest.json()["confirmed"] == eligible - 3
    assert pending(city.civil, code) == []

    # The first resident sees the offer with why, and accepts; the second declines.
    one = resident(city.app, "elder-one", first["subject"])
    offers = one.get("/api/v1/programs/offers").json()
    (offer,) = offers
    assert offer["id"] == first["id"] and offer["status"] == "offered"
    assert offer["policy"] == "高龄津贴" and offer["amount_fen"] == first["amount_fen"]
    mine = one.get(f"/api/v1/programs/offers/{first['id']}/explanation").json()
    assert mine["conditions"]["value"] is True
    accepted = one.post(
        f"/api/v1/programs/offers/{first['id']}/answer", json={"decision": "accept"}
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "granted"
    (grant,) = one.get("/api/v1/programs/grants").json()
    assert grant["rule"] == ELDERLY and grant["amount_fen"] == first["amount_fen"]
    again = one.post(f"/api/v1/programs/offers/{first['id']}/answer", json={"decision": "accept"})
    assert again.status_code == 409
    # Someone else's offer is not theirs to answer.
    other = one.post(f"/api/v1/programs/offers/{second['id']}/answer", json={"decision": "accept"})
    assert other.status_code == 404

    two = resident(city.app, "elder-two", second["subject"])
    declined = two.post(
        f"/api/v1/programs/offers/{second['id']}/answer",
        json={"decision": "decline", "reason": "已由子女照料，暂不需要"},
    )
    assert declined.json()["status"] == "declined"

    funnel = city.civil.get(f"/api/v1/programs/campaigns/{code}").json()["funnel"]
    assert funnel["found"] == eligible
    assert funnel["confirmed"] == eligible - 1
    assert funnel["answered"] == 2 and funnel["granted"] == 1

    # Every step in the ledger, in order; the offer in the outbox (portal and SMS).
    assert ledger_actions(city, first["subject"]) == [
        "programs.explained",  # the officer read why (personal data)
        "programs.offered",
        "programs.accepted",
        "programs.granted",
    ]
    # …and the resident sees each of them in 谁用了我的数据.
    uses = one.get("/me/data-uses").text
    assert "部门工作人员查看了政策核对依据" in uses and "开始享受政策待遇" in uses
    assert ledger_actions(city, third["subject"]) == ["programs.rejected"]
    with transaction(city.app.state.session_factory) as db:
        channels = db.scalars(
            select(OutboxMessage.channel).where(OutboxMessage.recipient == first["subject"])
        ).all()
        assert sorted(channels) == ["portal", "sms"]
        runs = db.scalars(
            select(LedgerEntry.leaf).where(LedgerEntry.action == "programs.campaign_run")
        ).all()
        assert json.loads(runs[0])["detail"]["candidates"] == eligible

    # The next campaign leaves out whoever already receives the allowance.
    later = run(city.civil, ELDERLY).json()
    assert later["excluded"] == 1 and later["funnel"]["found"] == eligible - 1
    assert first["subject"] not in {c["subject"] for c in pending(city.civil, later["code"])}


def test_only_the_implementing_department_runs_and_confirms(city: City) -> None:
    refused = run(city.hrss, ELDERLY)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "department"
    code = run(city.civil, ELDERLY).json()["code"]
    confirm = city.hrss.post(f"/api/v1/programs/campaigns/{code}/confirm", json={})
    assert confirm.status_code == 404  # another department's campaign: not theirs to see
    assert pending(city.civil, code)  # nothing confirmed
    # Its candidates are personal data: another department sees none of them.
    assert city.hrss.get(f"/api/v1/programs/campaigns/{code}/candidates").status_code == 404
    someone = pending(city.civil, code)[0]["id"]
    explained = city.hrss.get(f"/api/v1/programs/candidates/{someone}/explanation")
    assert explained.status_code == 404
    assert city.hrss.get(f"/hrss/campaigns/{code}").status_code == 404
    assert city.hrss.get(f"/hrss/candidates/{someone}").status_code == 404
    assert code not in {c["code"] for c in city.hrss.get("/api/v1/programs/campaigns").json()}
    # A citizen cannot run campaigns at all; an unknown policy is a 404 naming it.
    unknown = run(city.civil, "no-such-policy")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "rule"
    bad_date = run(city.civil, ELDERLY, evaluated_on="2026-02-30")
    assert bad_date.status_code == 422


def test_a_refused_confirmation_changes_nothing(city: City) -> None:
    code = run(city.civil, ELDERLY).json()["code"]
    found = pending(city.civil, code)
    stray = city.civil.post(
        f"/api/v1/programs/campaigns/{code}/confirm",
        json={"ids": [found[0]["id"], 999_999]},
    )
    assert stray.status_code == 409 and stray.json()["errors"][0]["field"] == "ids"
    assert len(pending(city.civil, code)) == len(found)
    with transaction(city.app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        offered = db.scalar(
            select(func.count()).select_from(Candidate).where(Candidate.status != "pending")
        )
        assert offered == 0
    assert ledger_actions(city, found[0]["subject"]) == []


def test_missing_data_leads_to_a_short_application_never_to_a_refusal(city: City) -> None:
    made = run(city.disability, HARDSHIP).json()
    assert made["counts"]["undetermined"] > 0
    assert made["missing"].get("minimum_living_allowance") == made["counts"]["undetermined"]
    found = pending(city.disability, made["code"])
    undetermined = [c for c in found if c["outcome"] == "undetermined"]
    assert undetermined and all(c["missing"] == ["minimum_living_allowance"] for c in undetermined)
    target = undetermined[0]
    city.disability.post(
        f"/api/v1/programs/campaigns/{made['code']}/confirm", json={"ids": [target["id"]]}
    )
    person = resident(city.app, "applicant", target["subject"])
    (offer,) = person.get("/api/v1/programs/offers").json()
    assert offer["outcome"] == "undetermined"
    why = person.get(f"/api/v1/programs/offers/{offer['id']}/explanation").json()
    assert why["outcome"] == "undetermined" and why["missing"] == ["minimum_living_allowance"]

    accept = person.post(
        f"/api/v1/programs/offers/{offer['id']}/answer", json={"decision": "accept"}
    )
    assert accept.status_code == 409  # the application comes first
    empty = person.post(f"/api/v1/programs/offers/{offer['id']}/answer", json={"decision": "apply"})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "answers.minimum_living_allowance"
    # The answer is read as the input's type (a yes/no here): free text is refused, nothing kept.
    vague = person.post(
        f"/api/v1/programs/offers/{offer['id']}/answer",
        json={"decision": "apply", "answers": {"minimum_living_allowance": "2025年起享受低保"}},
    )
    assert vague.status_code == 422
    (error,) = vague.json()["errors"]
    assert error["field"] == "answers.minimum_living_allowance" and "是 or 否" in error["reason"]
    assert person.get("/api/v1/programs/offers").json()[0]["status"] == "offered"
    applied = person.post(
        f"/api/v1/programs/offers/{offer['id']}/answer",
        json={"decision": "apply", "answers": {"minimum_living_allowance": " 是 "}},
    )
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    # The policy evaluated again with the answer: eligible, and now with an amount.
    body = applied.json()
    assert body["application"] == {"minimum_living_allowance": "是"}
    assert body["applied_outcome"] == "eligible" and body["applied_amount_fen"] == 10000
    assert body["outcome"] == "undetermined" and body["amount_fen"] is None  # as found
    again = person.get(f"/api/v1/programs/offers/{offer['id']}/explanation").json()
    assert again["outcome"] == "eligible" and again["missing"] == []
    answer = next(i for i in again["inputs"] if i["name"] == "minimum_living_allowance")
    assert answer["supplied"] is True and answer["value"] is True

    no_reason = city.disability.post(
        f"/api/v1/programs/candidates/{offer['id']}/review", json={"decision": "reject"}
    )
    assert no_reason.status_code == 422
    approved = city.disability.post(
        f"/api/v1/programs/candidates/{offer['id']}/review", json={"decision": "approve"}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "granted"
    assert ledger_actions(city, target["subject"]) == [
        "programs.offered",
        "programs.applied",
        "programs.application_approved",
        "programs.granted",
    ]
    with transaction(city.app.state.session_factory) as db:
        grant = db.scalars(
            select(BenefitGrant).where(BenefitGrant.subject == target["subject"])
        ).one()
        assert grant.rule == HARDSHIP and grant.amount == 10000  # the amount with the answer


def test_an_application_the_answers_do_not_qualify_can_only_be_rejected(city: City) -> None:
    made = run(city.disability, HARDSHIP).json()
    target = next(c for c in pending(city.disability, made["code"]) if c["outcome"] != "eligible")
    city.disability.post(
        f"/api/v1/programs/campaigns/{made['code']}/confirm", json={"ids": [target["id"]]}
    )
    person = resident(city.app, "not-dibao", target["subject"])
    applied = person.post(
        f"/api/v1/programs/offers/{target['id']}/answer",
        json={"decision": "apply", "answers": {"minimum_living_allowance": "否"}},
    )
    assert applied.status_code == 200
    assert applied.json()["applied_outcome"] == "not_eligible"
    assert applied.json()["applied_amount_fen"] is None
    approve = city.disability.post(
        f"/api/v1/programs/candidates/{target['id']}/review", json={"decision": "approve"}
    )
    assert approve.status_code == 409 and approve.json()["errors"][0]["field"] == "decision"
    with transaction(city.app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(BenefitGrant)) == 0
        row = db.get(Candidate, target["id"])
        assert row is not None and row.status == "applied"
    rejected = city.disability.post(
        f"/api/v1/programs/candidates/{target['id']}/review",
        json={"decision": "reject", "reason": "本人不属于低保家庭"},
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_an_enterprise_policy_reaches_the_enterprise(city: City) -> None:
    made = run(city.hrss, "job-stabilisation-refund")  # 人社局 implements 稳岗返还
    assert made.status_code == 201, made.text
    assert made.json()["entity"] == "enterprise"
    found = pending(city.hrss, made.json()["code"])
    target = next(c for c in found if c["outcome"] == "eligible")
    assert re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", target["subject"])  # a credit code
    city.hrss.post(
        f"/api/v1/programs/campaigns/{made.json()['code']}/confirm", json={"ids": [target["id"]]}
    )
    with transaction(city.app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="firm",
                display_name="示范企业",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=target["subject"],
            ),
        )
    firm = as_user(city.app, "firm")
    (offer,) = firm.get("/api/v1/programs/offers").json()
    assert offer["id"] == target["id"] and offer["policy"] == made.json()["name"]
    why = firm.get(f"/api/v1/programs/offers/{offer['id']}/explanation").json()
    assert why["entity"] == "enterprise" and why["conditions"]["value"] is True
    done = firm.post(f"/api/v1/programs/offers/{offer['id']}/answer", json={"decision": "accept"})
    assert done.json()["status"] == "granted"


def test_an_answer_the_policy_can_no_longer_read_shows_the_input_missing_again(
    city: City,
) -> None:
    """Free text kept from before answers were typed (or an input retyped since) is not an
    error on the page: the explanation shows that input missing, and approval is refused."""
    made = run(city.disability, HARDSHIP).json()
    target = pending(city.disability, made["code"])[0]
    city.disability.post(
        f"/api/v1/programs/campaigns/{made['code']}/confirm", json={"ids": [target["id"]]}
    )
    with transaction(city.app.state.session_factory) as db:
        row = db.get(Candidate, target["id"])
        assert row is not None
        row.status = "applied"
        row.application = {"minimum_living_allowance": "是，2025年起享受低保"}
    why = city.disability.get(f"/hrss/candidates/{target['id']}")
    assert why.status_code == 200 and 'id="missing-inputs"' in why.text
    approve = city.disability.post(
        f"/api/v1/programs/candidates/{target['id']}/review", json={"decision": "approve"}
    )
    assert approve.status_code == 409
