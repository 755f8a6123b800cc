"""Mandates (委托授权) and certificate-use authorisations (用证授权): signed, revocable, recorded.

Through the API as the people involved would use it, the decision function directly where time
must move, OpenSSL for the signatures, and the ledger for every use and refusal.
"""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, text

from shuhui.core.clock import utcnow
from shuhui.core.content import load_items
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.trust.authorisations import service as authz
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import add_account, as_user

pytestmark = pytest.mark.both_backends

CITIZEN_ID = "370202199003151233"  # the demo account "citizen"
AGENT_ID = "370212193805117155"
SUBAGENT_ID = "370215195511196992"
BANK_CODE = "9137021460181590X0"  # the demo account "bank"
PENSION = "QD-RS-0001"
UNEMPLOYMENT = "QD-RS-0002"
PENSION_CERTIFICATION = "QD-RS-0006"  # must be done in person


@pytest.fixture
def people(app: FastAPI) -> FastAPI:
    with transaction(app.state.session_factory) as db:
        for username, name, cid in (
            ("agent", "李代办", AGENT_ID),
            ("subagent", "王转办", SUBAGENT_ID),
        ):
            add_account(
                db,
                UserCreate(
                    username=username,
                    display_name=name,
                    password=DEMO_PASSWORD,
                    roles=[Role.citizen],
                    citizen_id=cid,
                ),
            )
    return app


def in_days(days: float) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


def draft_mandate(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
        "scope": [PENSION],
        "actions": ["apply", "query"],
        "valid_to": in_days(30),
        **overrides,
    }
    response = client.post("/api/v1/authorisations/mandates", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return dict(response.json())


def sign(client: TestClient, code: str, password: str = DEMO_PASSWORD) -> Any:
    return client.post(f"/api/v1/authorisations/{code}/sign", json={"password": password})


def use(client: TestClient, matter: str = PENSION, action: str = "apply", **extra: Any) -> Any:
    body = {"principal_id": CITIZEN_ID, "matter": matter, "action": action, **extra}
    return client.post("/api/v1/authorisations/mandates/use", json=body)


def ledger_actions(app: FastAPI, grant: str) -> list[tuple[str, dict[str, Any]]]:
    with app.state.session_factory() as db:
        rows = db.scalars(
            select(LedgerEntry).where(LedgerEntry.grant == grant).order_by(LedgerEntry.seq)
        )
        return [(r.action, json.loads(r.leaf)["detail"]) for r in rows]


def active_mandate(app: FastAPI, **overrides: Any) -> tuple[TestClient, str]:
    principal = as_user(app, "citizen")
    code = draft_mandate(principal, **overrides)["code"]
    signed = sign(principal, code)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "active"
    return principal, code


# --- the mandate lifecycle -----------------------------------------------------------------------


def test_signed_mandate_lets_the_agent_act_and_every_use_is_in_the_ledger(people: FastAPI) -> None:
    principal = as_user(people, "citizen")
    code = draft_mandate(principal, max_uses=2)["code"]
    agent = as_user(people, "agent")

    # Drafted but not signed: it allows nothing yet.
    pending = use(agent)
    assert pending.status_code == 403
    assert pending.json()["reason"] == authz.R_PENDING[0]

    wrong = sign(principal, code, password="not-my-password")
    assert wrong.status_code == 401
    assert principal.get(f"/api/v1/authorisations/{code}").json()["status"] == "pending"
    # Only the signatory can sign.
    assert sign(agent, code).status_code == 403

    assert sign(principal, code).json()["status"] == "active"
    first = use(agent)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "allowed": True,
        "reason": None,
        "reason_zh": None,
        "chain": [code],
        "at_fault": None,
    }
    assert use(agent, action="query").status_code == 200
    exhausted = use(agent)
    assert exhausted.status_code == 403
    assert exhausted.json()["reason"] == authz.R_EXHAUSTED[0]
    assert principal.get(f"/api/v1/authorisations/{code}").json()["status"] == "exhausted"

    actions = [a for a, _ in ledger_actions(people, code)]
    assert actions == [
        "mandate.created",
        "mandate.refused",  # the use before signing
        "mandate.signed",
        "mandate.used",
        "mandate.used",
        "mandate.exhausted",
        "mandate.refused",
    ]
    events = principal.get(f"/api/v1/authorisations/{code}/events").json()
    assert [e["action"] for e in events][:2] == ["mandate.refused", "mandate.exhausted"]


def test_refusals_name_the_reason_and_are_recorded(people: FastAPI) -> None:
    principal, code = active_mandate(people)
    agent = as_user(people, "agent")

    outside = use(agent, matter=UNEMPLOYMENT)
    assert outside.status_code == 403
    body = outside.json()
    assert body["type"] == "/problems/authorisation-refused"
    assert body["reason"] == authz.R_SCOPE[0]
    assert body["detail"] == authz.R_SCOPE[1]
    assert use(agent, action="withdraw").json()["reason"] == authz.R_ACTION[0]

    revoked = principal.post(f"/api/v1/authorisations/{code}/revoke", json={"reason": "已自行办理"})
    assert revoked.json()["status"] == "revoked"
    after = use(agent)
    assert after.status_code == 403
    assert after.json()["reason"] == authz.R_REVOKED[0]
    assert after.json()["at_fault"] == code

    # Someone with no mandate at all.
    stranger = use(as_user(people, "subagent"))
    assert stranger.json()["reason"] == authz.R_NONE[0]

    recorded = ledger_actions(people, code)
    refusals = [d["reason"] for a, d in recorded if a == "mandate.refused"]
    assert refusals == [authz.R_SCOPE[0], authz.R_ACTION[0], authz.R_REVOKED[0]]
    assert ("mandate.revoked", {"from": "active", "reason": "已自行办理"}) in recorded
    with people.state.session_factory() as db:
        none = db.scalars(
            select(LedgerEntry).where(
                LedgerEntry.action == "mandate.refused", LedgerEntry.grant.is_(None)
            )
        ).all()
        assert len(none) == 1 and json.loads(none[0].leaf)["detail"]["reason"] == authz.R_NONE[0]


def test_a_mandate_expires_with_its_window_and_the_expiry_is_recorded(people: FastAPI) -> None:
    _, code = active_mandate(people, valid_to=in_days(2))
    agent = authz.Party("person", AGENT_ID, "李代办")
    with transaction(people.state.session_factory) as db:
        now = authz.decide_mandate(
            db, agent=agent, action="apply", matter=PENSION, principal_id=CITIZEN_ID
        )
        assert now.allowed and now.chain == (code,)
        later = utcnow() + timedelta(days=3)
        expired = authz.decide_mandate(
            db, agent=agent, action="apply", matter=PENSION, principal_id=CITIZEN_ID, now=later
        )
        assert not expired.allowed and expired.reason == authz.R_EXPIRED
        authz.record_use(
            db,
            expired,
            kind="mandate",
            actor="agent",
            grantee=agent,
            principal_id=CITIZEN_ID,
            detail={"matter": PENSION},
            now=later,
        )
        assert authz.settle(db, authz.get_or_404(db, code), later) == "expired"
    actions = [a for a, _ in ledger_actions(people, code)]
    assert actions[-2:] == ["mandate.refused", "mandate.expired"]


def test_a_mandate_not_valid_yet_allows_nothing(people: FastAPI) -> None:
    active_mandate(people, valid_from=in_days(1), valid_to=in_days(10))
    response = use(as_user(people, "agent"))
    assert response.json()["reason"] == authz.R_NOT_YET[0]


# --- sub-delegation ------------------------------------------------------------------------------


def test_sub_delegation_only_narrows_and_falls_with_its_parent(people: FastAPI) -> None:
    principal, parent = active_mandate(
        people, scope=[PENSION, UNEMPLOYMENT], subdelegation=True, valid_to=in_days(20)
    )
    agent = as_user(people, "agent")
    sub = {"kind": "person", "id": SUBAGENT_ID, "name": "王转办"}

    def attempt(**overrides: Any) -> Any:
        body = {
            "agent": sub,
            "scope": [PENSION],
            "actions": ["apply"],
            "valid_to": in_days(10),
            "parent": parent,
            **overrides,
        }
        return agent.post("/api/v1/authorisations/mandates", json=body)

    wider = attempt(scope=[PENSION, "QD-RS-0003"])
    assert wider.status_code == 422 and wider.json()["field"] == "scope"
    assert attempt(actions=["apply", "withdraw"]).json()["field"] == "actions"
    assert attempt(valid_to=in_days(25)).json()["field"] == "valid_to"
    assert attempt(agent={"kind": "person", "id": CITIZEN_ID, "name": "张小青"}).status_code == 422
    # Only the parent's agent can sub-delegate from it.
    hijack = as_user(people, "subagent").post(
        "/api/v1/authorisations/mandates",
        json={
            "agent": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
            "scope": [PENSION],
            "actions": ["apply"],
            "valid_to": in_days(5),
            "parent": parent,
        },
    )
    assert hijack.status_code == 403

    child = attempt()
    assert child.status_code == 201, child.text
    child_code = child.json()["code"]
    assert child.json()["principal"]["id"] == CITIZEN_ID
    assert child.json()["grantor"] == {"kind": "person", "id": AGENT_ID}
    assert sign(agent, child_code).json()["status"] == "active"

    subagent = as_user(people, "subagent")
    acted = use(subagent)
    assert acted.status_code == 200
    assert acted.json()["chain"] == [parent, child_code]
    # The parent counted the use too.
    assert principal.get(f"/api/v1/authorisations/{parent}").json()["uses"] == 1
    assert use(subagent, matter=UNEMPLOYMENT).json()["reason"] == authz.R_SCOPE[0]

    # The principal takes back the parent: the sub-delegation ends with it.
    principal.post(f"/api/v1/authorisations/{parent}/revoke", json={})
    assert principal.get(f"/api/v1/authorisations/{child_code}").json()["status"] == "revoked"
    refused = use(subagent)
    assert refused.status_code == 403 and refused.json()["reason"] == authz.R_REVOKED[0]
    assert ("mandate.revoked", {"from": "active", "reason": f"parent {parent} revoked"}) in (
        ledger_actions(people, child_code)
    )


def test_a_mandate_that_forbids_sub_delegation_cannot_be_sub_delegated(people: FastAPI) -> None:
    _, parent = active_mandate(people)
    response = as_user(people, "agent").post(
        "/api/v1/authorisations/mandates",
        json={
            "agent": {"kind": "person", "id": SUBAGENT_ID, "name": "王转办"},
            "scope": [PENSION],
            "actions": ["apply"],
            "valid_to": in_days(5),
            "parent": parent,
        },
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "上级委托不允许转委托"


def test_a_start_earlier_today_means_now_through_the_api_as_on_the_page(people: FastAPI) -> None:
    principal = as_user(people, "citizen")
    asked = utcnow()
    drafted = draft_mandate(principal, valid_from=in_days(-0.5))
    starts = datetime.fromisoformat(drafted["valid_from"].replace("Z", "+00:00"))
    assert starts >= asked.replace(microsecond=0)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"agent": {"kind": "person", "id": "370212193805117150", "name": "x"}}, "agent.id"),
        ({"scope": ["QD-NO-SUCH"]}, "scope"),
        ({"scope": [PENSION_CERTIFICATION]}, "scope"),  # not delegable
        ({"scope": ["QD-SP-0001"]}, "scope"),  # an enterprise's matter
        ({"actions": ["sell"]}, "actions"),
        ({"valid_to": in_days(-1)}, "valid_to"),
        ({"valid_from": in_days(-3)}, "valid_from"),
        ({"valid_to": in_days(4000)}, "valid_to"),
        ({"max_uses": 0}, "max_uses"),
        ({"agent": {"kind": "person", "id": CITIZEN_ID, "name": "张小青"}}, "agent"),
        ({"grantor": "enterprise"}, "grantor"),  # the citizen has no enterprise
    ],
)
def test_bad_drafts_are_refused_naming_the_field_and_store_nothing(
    people: FastAPI, overrides: dict[str, Any], field: str
) -> None:
    principal = as_user(people, "citizen")
    body = {
        "agent": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
        "scope": [PENSION],
        "actions": ["apply"],
        "valid_to": in_days(30),
        **overrides,
    }
    response = principal.post("/api/v1/authorisations/mandates", json=body)
    assert response.status_code in (403, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field
    assert principal.get("/api/v1/authorisations").json() == []


def test_an_account_without_a_citizen_id_cannot_sign(people: FastAPI) -> None:
    officer = as_user(people, "officer")
    body = {
        "agent": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
        "scope": [PENSION],
        "actions": ["apply"],
        "valid_to": in_days(30),
    }
    response = officer.post("/api/v1/authorisations/mandates", json=body)
    assert response.status_code == 403


# --- signatures ----------------------------------------------------------------------------------


def test_openssl_verifies_the_principals_signature(people: FastAPI, tmp_path: Path) -> None:
    principal, code = active_mandate(people)
    env = principal.get(f"/api/v1/authorisations/{code}/envelope").json()
    document = base64.b64decode(env["document"])
    assert json.loads(document)["code"] == code
    (tmp_path / "doc.json").write_bytes(document)
    (tmp_path / "sig.der").write_bytes(base64.b64decode(env["signature"]))
    (tmp_path / "pub.pem").write_text(env["public_key_pem"])

    def openssl_verify(doc: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-rawin",
                "-digest",
                "sm3",
                "-pubin",
                "-inkey",
                "pub.pem",
                "-in",
                doc,
                "-sigfile",
                "sig.der",
                "-pkeyopt",
                f"distid:{env['distinguishing_id']}",
            ],
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )

    ok = openssl_verify("doc.json")
    assert ok.returncode == 0, ok.stderr
    assert b"Signature Verified Successfully" in ok.stdout
    (tmp_path / "forged.json").write_bytes(document.replace(b"apply", b"apple"))
    assert openssl_verify("forged.json").returncode != 0


def test_a_key_the_person_holds_signs_through_openssl(people: FastAPI, tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "SM2", "-out", "me.pem"], cwd=tmp_path, check=True
    )
    subprocess.run(
        ["openssl", "pkey", "-in", "me.pem", "-pubout", "-out", "me.pub"], cwd=tmp_path, check=True
    )
    principal = as_user(people, "citizen")
    registered = principal.post(
        "/api/v1/authorisations/keys", json={"public_key_pem": (tmp_path / "me.pub").read_text()}
    )
    assert registered.status_code == 201 and registered.json()["custody"] == "holder"
    code = draft_mandate(principal)["code"]
    document = base64.b64decode(
        principal.get(f"/api/v1/authorisations/{code}").json()["document_base64"]
    )
    (tmp_path / "doc.json").write_bytes(document)
    subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-sign",
            "-rawin",
            "-digest",
            "sm3",
            "-inkey",
            "me.pem",
            "-in",
            "doc.json",
            "-out",
            "sig.der",
            "-pkeyopt",
            "distid:1234567812345678",
        ],
        cwd=tmp_path,
        check=True,
    )
    signature = base64.b64encode((tmp_path / "sig.der").read_bytes()).decode()

    # A signature over anything else is refused and the mandate stays pending.
    other = base64.b64encode(b"0" * 70).decode()
    bad = principal.post(f"/api/v1/authorisations/{code}/sign", json={"signature_base64": other})
    assert bad.status_code == 422 and bad.json()["field"] == "signature"

    signed = principal.post(
        f"/api/v1/authorisations/{code}/sign", json={"signature_base64": signature}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "active"
    assert use(as_user(people, "agent")).status_code == 200


def test_a_row_edited_behind_the_platforms_back_allows_nothing(people: FastAPI) -> None:
    _, code = active_mandate(people)
    with transaction(people.state.session_factory) as db:
        db.execute(
            text("UPDATE authorisations SET scope = :s WHERE code = :c"),
            {"s": json.dumps([PENSION, UNEMPLOYMENT]), "c": code},
        )
    response = use(as_user(people, "agent"), matter=UNEMPLOYMENT)
    assert response.status_code == 403
    assert response.json()["reason"] == authz.R_TAMPERED[0]
    verified = as_user(people, "officer").post("/api/v1/authorisations/verify", json={"code": code})
    assert verified.status_code == 200
    assert verified.json()["signature_valid"] is False
    assert verified.json()["problem"] == authz.R_TAMPERED[0]


# --- certificate-use authorisations ------------------------------------------------------------


def test_certificate_use_is_bound_to_relying_party_purpose_and_count(people: FastAPI) -> None:
    holder = as_user(people, "citizen")
    purpose = "个人住房贷款审批"
    drafted = holder.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {"kind": "enterprise", "id": BANK_CODE, "name": "青岛示范银行"},
            "certificate_types": ["毕业证书", "结婚证"],
            "purpose": purpose,
            "valid_to": in_days(10),
            "max_uses": 1,
        },
    )
    assert drafted.status_code == 201, drafted.text
    code = drafted.json()["code"]
    assert code.startswith("YZ")
    assert sign(holder, code).json()["status"] == "active"

    bank = as_user(people, "bank")

    def use_cert(**overrides: Any) -> Any:
        body = {
            "holder_id": CITIZEN_ID,
            "certificate_type": "毕业证书",
            "purpose": purpose,
            **overrides,
        }
        return bank.post("/api/v1/authorisations/cert-uses/use", json=body)

    assert use_cert(purpose="营销推广").json()["reason"] == authz.R_PURPOSE[0]
    assert use_cert(certificate_type="残疾人证").json()["reason"] == authz.R_CERT[0]
    ok = use_cert(purpose=f"  {purpose} ")
    assert ok.status_code == 200 and ok.json()["chain"] == [code]
    again = use_cert()
    assert again.status_code == 403 and again.json()["reason"] == authz.R_EXHAUSTED[0]
    # A party that was never authorised.
    assert (
        as_user(people, "agent")
        .post(
            "/api/v1/authorisations/cert-uses/use",
            json={"holder_id": CITIZEN_ID, "certificate_type": "毕业证书", "purpose": purpose},
        )
        .status_code
        == 403
    )
    # The holder sees who used what.
    actions = [e["action"] for e in holder.get(f"/api/v1/authorisations/{code}/events").json()]
    assert actions.count("cert_use.used") == 1
    assert actions.count("cert_use.refused") == 3
    # The decision later modules call.
    with people.state.session_factory() as db:
        decision = authz.decide_cert_use(
            db,
            relying_party=authz.Party("enterprise", BANK_CODE, "青岛示范银行"),
            holder_id=CITIZEN_ID,
            certificate_type="毕业证书",
            purpose=purpose,
        )
        assert not decision.allowed and decision.reason == authz.R_EXHAUSTED


def test_only_the_parties_see_an_authorisation(people: FastAPI) -> None:
    _, code = active_mandate(people)
    assert as_user(people, "agent").get(f"/api/v1/authorisations/{code}").status_code == 200
    assert as_user(people, "subagent").get(f"/api/v1/authorisations/{code}").status_code == 403
    assert (
        as_user(people, "subagent")
        .post(f"/api/v1/authorisations/{code}/revoke", json={})
        .status_code
        == 403
    )
    anonymous = TestClient(people).get(f"/api/v1/authorisations/{code}")
    assert anonymous.status_code == 401


def test_the_officer_checks_whether_an_agent_may_act_and_the_check_is_recorded(
    people: FastAPI,
) -> None:
    _, code = active_mandate(people)
    officer = as_user(people, "officer")
    body = {
        "agent": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
        "principal_id": CITIZEN_ID,
        "matter": PENSION,
        "action": "apply",
    }
    yes = officer.post("/api/v1/authorisations/mandates/decide", json=body)
    assert yes.json()["allowed"] is True and yes.json()["chain"] == [code]
    no = officer.post(
        "/api/v1/authorisations/mandates/decide", json={**body, "matter": UNEMPLOYMENT}
    )
    assert no.json()["allowed"] is False and no.json()["reason"] == authz.R_SCOPE[0]
    # Deciding does not use the mandate up.
    assert officer.get("/api/v1/authorisations").json() == []
    assert as_user(people, "citizen").get(f"/api/v1/authorisations/{code}").json()["uses"] == 0
    assert [a for a, _ in ledger_actions(people, code)].count("mandate.checked") == 2
    assert (
        as_user(people, "citizen")
        .post("/api/v1/authorisations/mandates/decide", json=body)
        .status_code
        == 403
    )


# --- an enterprise principal, through its legal representative ---------------------------------


def test_an_enterprise_grants_only_through_its_registered_legal_representative(
    people: FastAPI,
) -> None:
    from shuhui.synth import CityConfig
    from shuhui.synth.cli import build_city

    core = people.state.datacore
    build_city(core, CityConfig(residents=400, seed=11, chunk=400), show_progress=False)
    credit_code, rep = (
        core.connect()
        .execute(
            "SELECT credit_code, legal_rep_citizen_id FROM enterprises "
            "WHERE legal_rep_citizen_id NOT IN (?, ?, ?) ORDER BY credit_code LIMIT 1",
            [CITIZEN_ID, AGENT_ID, SUBAGENT_ID],
        )
        .fetchone()
    )
    with transaction(people.state.session_factory) as db:
        for username, cid in (("boss", rep), ("clerk", "37028519410206730X")):
            add_account(
                db,
                UserCreate(
                    username=username,
                    display_name="示范企业",
                    password=DEMO_PASSWORD,
                    roles=[Role.enterprise],
                    citizen_id=cid,
                    credit_code=credit_code,
                ),
            )
    body = {
        "grantor": "enterprise",
        "agent": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
        "scope": ["QD-SP-0002"],
        "actions": ["apply", "collect"],
        "valid_to": in_days(30),
    }
    boss = as_user(people, "boss")
    drafted = boss.post("/api/v1/authorisations/mandates", json=body)
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["principal"]["kind"] == "enterprise"
    assert drafted.json()["signatory"] == rep
    assert sign(boss, drafted.json()["code"]).status_code == 200
    acted = as_user(people, "agent").post(
        "/api/v1/authorisations/mandates/use",
        json={"principal_id": credit_code, "matter": "QD-SP-0002", "action": "collect"},
    )
    assert acted.status_code == 200

    # An employee of the enterprise who is not its legal representative cannot sign for it.
    clerk = as_user(people, "clerk")
    assert clerk.post("/api/v1/authorisations/mandates", json=body).status_code == 403
    # Nor can a person make their own pension matter into an enterprise matter.
    wrong = boss.post("/api/v1/authorisations/mandates", json={**body, "scope": [PENSION]})
    assert wrong.status_code == 422 and wrong.json()["field"] == "scope"


# --- the narrowing rule, as a property ---------------------------------------------------------

MATTERS = ["QD-RS-0001", "QD-RS-0002", "QD-RS-0003", "QD-RS-0004"]
ACTIONS = list(authz.MANDATE_ACTIONS)


@given(
    parent_scope=st.sets(st.sampled_from(MATTERS), min_size=1),
    child_scope=st.sets(st.sampled_from(MATTERS), min_size=1),
    parent_actions=st.sets(st.sampled_from(ACTIONS), min_size=1),
    child_actions=st.sets(st.sampled_from(ACTIONS), min_size=1),
    parent_days=st.integers(2, 60),
    child_days=st.integers(1, 90),
    parent_uses=st.none() | st.integers(1, 5),
    child_uses=st.none() | st.integers(1, 8),
)
@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_sub_delegation_is_accepted_exactly_when_it_narrows(
    people: FastAPI,
    parent_scope: set[str],
    child_scope: set[str],
    parent_actions: set[str],
    child_actions: set[str],
    parent_days: int,
    child_days: int,
    parent_uses: int | None,
    child_uses: int | None,
) -> None:
    settings = people.state.settings
    items = load_items(settings.city_content / "service-items.yaml", "service-items")
    registry = people.state.enterprise_registry
    principal = authz.Party("person", CITIZEN_ID, "张小青")
    agent = authz.Party("person", AGENT_ID, "李代办")
    now = utcnow()
    with people.state.session_factory() as db:
        try:
            parent = authz.create_mandate(
                db,
                items,
                registry,
                grantor=principal,
                signatory_id=CITIZEN_ID,
                agent=agent,
                scope=sorted(parent_scope),
                actions=sorted(parent_actions),
                valid_from=now,
                valid_to=now + timedelta(days=parent_days),
                max_uses=parent_uses,
                subdelegation=True,
                actor="test",
                now=now,
            )
            authz.sign(
                db, settings.data_dir, parent.code, signer_citizen_id=CITIZEN_ID, actor="test"
            )
            narrows = (
                child_scope <= parent_scope
                and child_actions <= parent_actions
                and child_days <= parent_days
                and (parent_uses is None or (child_uses is not None and child_uses <= parent_uses))
            )
            try:
                authz.create_mandate(
                    db,
                    items,
                    registry,
                    grantor=agent,
                    signatory_id=AGENT_ID,
                    agent=authz.Party("person", SUBAGENT_ID, "王转办"),
                    scope=sorted(child_scope),
                    actions=sorted(child_actions),
                    valid_from=now,
                    valid_to=now + timedelta(days=child_days),
                    max_uses=child_uses,
                    parent_code=parent.code,
                    actor="test",
                    now=now,
                )
                accepted = True
            except Problem as refused:
                accepted = False
                assert refused.errors and refused.errors[0].field in (
                    "scope",
                    "actions",
                    "valid_to",
                    "max_uses",
                )
            assert accepted == narrows
        finally:
            db.rollback()


def test_a_certificate_use_authorisation_names_an_institution(people: FastAPI) -> None:
    holder = as_user(people, "citizen")
    response = holder.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {"kind": "person", "id": AGENT_ID, "name": "李代办"},
            "certificate_types": ["毕业证书"],
            "purpose": "求职",
            "valid_to": in_days(10),
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "relying_party.kind"


def test_a_nul_in_a_username_is_refused_naming_the_field_not_a_crash(people: FastAPI) -> None:
    client = TestClient(people, raise_server_exceptions=False)
    response = client.post("/api/v1/session", json={"username": "ad\x00min", "password": "x"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "username"


def test_a_nul_the_database_refuses_is_bad_input_not_a_crash(people: FastAPI) -> None:
    client = as_user(people, "citizen")
    response = client.get("/api/v1/authorisations/WT2026-%00")
    assert response.status_code in (404, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
