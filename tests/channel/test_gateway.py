"""The data channel end to end through the API: consent, grants, keys, limits, metering,
billing and the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shuhui.trust.authorisations.service import entries_about
from tests.channel.conftest import PURPOSE, Channel, grant_for, register
from tests.fixtures import add_account, as_user

pytestmark = pytest.mark.both_backends

UNDERWRITING = "/api/v1/channel/products/underwriting-health-check"


def consent(ch: Channel, *, purpose: str = PURPOSE, max_uses: int | None = None) -> str:
    """The patient authorises the insurer (用证授权) and signs with their password."""
    from datetime import timedelta

    from shuhui.core.clock import utcnow

    drafted = ch.patient.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {
                "kind": "enterprise",
                "id": "91370200MA3R7B9K1L",
                "name": "青岛示范人寿",
            },
            "certificate_types": ["就诊记录"],
            "purpose": purpose,
            "valid_to": (utcnow() + timedelta(days=30)).isoformat(),
            "max_uses": max_uses,
        },
    )
    assert drafted.status_code == 201, drafted.text
    code = str(drafted.json()["code"])
    signed = ch.patient.post(
        f"/api/v1/authorisations/{code}/sign", json={"password": "Shuhui@2026"}
    )
    assert signed.json()["status"] == "active", signed.text
    return code


def check(ch: Channel, key: str | None = None, **body: Any) -> Any:
    payload = {"purpose": PURPOSE, "params": {"citizen_id": ch.patient_id, "years": 5}, **body}
    headers = {} if key == "" else {"X-API-Key": key or ch.key}
    return TestClient(ch.app).post(UNDERWRITING, json=payload, headers=headers)


def test_an_insurer_checks_a_consenting_citizen_and_the_citizen_sees_it(channel: Channel) -> None:
    ch = channel
    refused = check(ch)  # no authorisation from the patient yet
    assert refused.status_code == 403
    assert refused.json()["reason"] == "consent-refused"
    assert refused.headers["content-type"].startswith("application/problem+json")
    authorisation = consent(ch)
    answered = check(ch)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    result = body["result"]
    assert result["insured_person"] == ch.patient_id[:6] + "*" * 8 + ch.patient_id[14:]
    assert set(result) == {
        "insured_person",
        "years",
        "visits_total",
        "inpatient_total",
        "visits_by_chapter",
        "flag_neoplasm",
        "flag_endocrine",
        "flag_circulatory",
        "flag_respiratory",
        "risk_tier",
    }
    assert result["visits_total"] == sum(c["visits"] for c in result["visits_by_chapter"]) > 0
    assert result["risk_tier"] in ("A", "B", "C")
    assert body["authorisation"] == authorisation and body["grant"] == ch.grant
    digest = hashlib.sha256(
        json.dumps(result, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    ).hexdigest()
    assert body["answer_sha256"] == digest
    # Nothing of the diagnosis rows: no dates, hospitals, costs or diagnosis names.
    text = answered.text
    for leak in ("hospital", "visit_date", "diagnosis", "cost", "医院"):
        assert leak not in text
    limit = int(answered.headers["X-RateLimit-Limit"])
    assert limit == 30 and int(answered.headers["X-RateLimit-Remaining"]) == limit - 2
    # The ledger holds the call: consumer, product, subject, purpose, grant, answer hash.
    with ch.app.state.session_factory() as db:
        entries = entries_about(db, [ch.patient_id])
    used = [e for e in entries if e.action == "cert_use.used"]
    assert len(used) == 1
    detail = json.loads(used[0].leaf)["detail"]
    assert used[0].grant == authorisation and used[0].purpose == PURPOSE
    assert detail["product"] == "underwriting-health-check"
    assert detail["consumer"] == "91370200MA3R7B9K1L" and detail["channel_grant"] == ch.grant
    assert detail["answer_sha256"] == digest
    assert any(e.action == "cert_use.refused" for e in entries)
    # …and the citizen sees it in 谁用了我的数据: who, when, under which authorisation.
    page = ch.patient.get("/me/data-uses")
    assert page.status_code == 200
    assert "青岛示范人寿" in page.text and authorisation in page.text
    assert "underwriting-health-check" in page.text or "保险核保健康核验" in page.text


def test_refusals_have_their_status_reason_and_ledger_entry(channel: Channel) -> None:
    ch = channel
    consent(ch)
    assert check(ch, key="").status_code == 401
    wrong = check(ch, key="shk_deadbeef_" + "x" * 43)
    assert wrong.status_code == 401 and wrong.json()["reason"] == "key-unknown"
    assert check(ch, key="not a key").json()["reason"] == "key-unknown"
    bad_id = check(ch, params={"citizen_id": ch.patient_id[:-1] + "0", "years": 5})
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["field"] == "params.citizen_id"
    assert check(ch, params={"citizen_id": ch.patient_id, "years": 11}).json()["errors"][0] == {
        "field": "params.years",
        "reason": "must be at most 10",
    }
    assert check(ch, params={"citizen_id": ch.patient_id, "sql": "1"}).status_code == 422
    other = check(ch, purpose="营销推广")
    assert other.status_code == 403 and other.json()["reason"] == "purpose-mismatch"
    outside = TestClient(ch.app).post(
        "/api/v1/channel/products/enterprise-credit-check",
        json={"purpose": PURPOSE, "params": {"credit_code": "9137021460181590X0"}},
        headers={"X-API-Key": ch.key},
    )
    assert outside.status_code == 403 and outside.json()["reason"] == "product-not-granted"
    unknown = TestClient(ch.app).post(
        "/api/v1/channel/products/no-such-product",
        json={"purpose": PURPOSE},
        headers={"X-API-Key": ch.key},
    )
    assert unknown.status_code == 404
    malformed = TestClient(ch.app).post(
        UNDERWRITING,
        content=b"{not json",
        headers={"X-API-Key": ch.key, "content-type": "application/json"},
    )
    assert malformed.status_code == 422
    # A revoked key, then a rotated one.
    keys = ch.insurer.get("/api/v1/channel/keys").json()
    prefix = keys[0]["prefix"]
    rotated = ch.insurer.post(f"/api/v1/channel/keys/{prefix}/rotate")
    assert rotated.status_code == 200
    assert check(ch).json()["reason"] == "key-revoked"
    assert check(ch, key=rotated.json()["secret"]).status_code == 200
    # Every refusal is in the ledger and on the bureau's dashboard, by reason.
    dashboard = ch.bureau.get("/api/v1/channel/dashboard").json()
    refusals = dashboard["refusals"]
    for reason in (
        "key-missing",
        "key-unknown",
        "invalid-params",
        "purpose-mismatch",
        "product-not-granted",
        "product-unknown",
        "key-revoked",
    ):
        assert refusals.get(reason, 0) >= 1, reason
    assert dashboard["by_product"]["underwriting-health-check"] == 1
    with ch.app.state.session_factory() as db:
        from sqlalchemy import select

        from shuhui.trust.ledger.models import LedgerEntry

        actions = [e.action for e in db.scalars(select(LedgerEntry))]
    assert actions.count("channel.refused") == sum(refusals.values())


def test_a_revoked_or_expired_authorisation_refuses_the_check(channel: Channel) -> None:
    ch = channel
    code = consent(ch, max_uses=1)
    assert check(ch).status_code == 200
    exhausted = check(ch)
    assert exhausted.status_code == 403
    assert exhausted.json()["authorisation"]["reason"] == "authorisation has no uses left"
    again = consent(ch)
    assert check(ch).status_code == 200
    ch.patient.post(f"/api/v1/authorisations/{again}/revoke", json={"reason": "不再投保"})
    revoked = check(ch)
    assert revoked.status_code == 403
    assert revoked.json()["authorisation"]["reason"] == "authorisation was revoked"
    assert code != again


def test_rate_limit_is_429_with_retry_after(
    channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit counts calls by the clock's minute: the gateway's clock is held still, so
    that the 32 calls cannot straddle two minutes (on a loaded machine they took over one)."""
    from datetime import UTC, datetime, timedelta

    ch = channel
    consent(ch)
    # After the consent was signed (it is valid from then), mid-minute.
    held = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=30, microsecond=0)
    monkeypatch.setattr("shuhui.channel.gateway.utcnow", lambda: held)
    statuses = [check(ch).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30  # the grant's 30 a minute
    last = check(ch)
    assert last.status_code == 429 and last.json()["reason"] == "rate-limited"
    assert int(last.headers["Retry-After"]) >= 1
    assert last.headers["X-RateLimit-Remaining"] == "0"


def test_statement_prices_industry_use_in_cumulative_tiers(channel: Channel) -> None:
    ch = channel
    consent(ch)
    for _ in range(3):
        assert check(ch).status_code == 200
    check(ch, purpose="营销推广")
    from shuhui.channel.common import month_of
    from shuhui.core.clock import utcnow

    month = month_of(utcnow()).strftime("%Y-%m")
    bill = ch.insurer.get(f"/api/v1/channel/statements/{month}").json()
    (line,) = bill["lines"]
    assert line["product"] == "underwriting-health-check" and line["calls"] == 3
    assert line["tiers"] == [{"band": "1–10000", "calls": 3, "fen_each": 200, "fen": 600}]
    assert bill["total_fen"] == 600 and bill["refused_calls"] == 1
    assert ch.insurer.get("/api/v1/channel/statements/2026-13").status_code == 422


def test_no_request_returns_raw_rows_of_a_non_open_table(channel: Channel) -> None:
    """Aggregates are suppressed below k and every answer is a computed one; the open product
    serves open data only."""
    ch = channel
    officer = as_user(ch.app, "officer")  # 人社局: provides district statistics
    register_public = ch.bureau  # the bureau itself reviews
    bank = as_user(ch.app, "bank")
    register(bank, "青岛示范银行", "bank", "finance", register_public)
    # The bank cannot join the public-governance zone (not a public body).
    assert (
        bank.post(
            "/api/v1/channel/memberships", json={"zone": "public", "statement": "x"}
        ).status_code
        == 422
    )
    # A research institute can; it applies for statistics and for open data.
    from shuhui.core.db import transaction
    from shuhui.trust.identity.demo import DEMO_PASSWORD
    from shuhui.trust.identity.roles import Role
    from shuhui.trust.identity.schemas import UserCreate

    with transaction(ch.app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="academy",
                display_name="青岛社科院",
                password=DEMO_PASSWORD,
                roles=[Role.consumer],
                credit_code="12370200MB12345671",
            ),
        )
    institute = as_user(ch.app, "academy")
    register(institute, "青岛市社会科学院", "research", "public", ch.bureau)
    stats = grant_for(
        institute,
        officer,
        ch.bureau,
        ["district-statistics"],
        "人口老龄化研究",
        usage="public_governance",
        privacy_budget=40,  # the 61 distinct queries below, at ε = 0.5 each
    )
    opened = grant_for(
        institute,
        None,
        ch.bureau,
        ["open-enterprise-electricity"],
        "企业用电研究",
        usage="public_governance",
    )
    key = institute.post(
        "/api/v1/channel/keys", json={"grants": [stats, opened], "label": "研究"}
    ).json()["secret"]
    client = TestClient(ch.app)

    def stats_call(**params: Any) -> Any:
        return client.post(
            "/api/v1/channel/products/district-statistics",
            json={"purpose": "人口老龄化研究", "params": params},
            headers={"X-API-Key": key},
        )

    whole = stats_call()
    assert whole.status_code == 200, whole.text
    result = whole.json()["result"]
    assert (
        result["privacy"]["k_min"] == 10
        and result["privacy"]["noise"]["mechanism"] == "discrete_laplace"
    )
    assert result["rows"]
    for row in result["rows"]:
        assert set(row) == {
            "district_code",
            "age_band",
            "sex",
            "residents",
            "insured_pension",
            "insured_medical",
        }
    # However narrowed (every district × age band × sex), no group shown has fewer than k
    # people, and no count shown singles out fewer than k: checked against the true counts.
    from shuhui.core.clock import local_today, utcnow
    from shuhui.core.regions import qingdao_districts

    product = ch.app.state.city_channel.products.by_code["district-statistics"]
    prepared = ch.app.state.channel_engine.prepared(product, local_today(utcnow()))

    def truth(row: dict[str, Any]) -> tuple[int, int, int]:
        found = prepared.con.execute(
            "SELECT residents, insured_pension, insured_medical FROM prepared "
            "WHERE district_code = ? AND age_band = ? AND sex = ?",
            (row["district_code"], row["age_band"], row["sex"]),
        ).fetchone()
        return tuple(found) if found else (0, 0, 0)

    suppressed = 0
    districts = [d.code for d in qingdao_districts() if d.kind != "city"]
    for district in districts:
        for band in ("0-14", "15-59", "60+"):
            for sex in ("男", "女"):
                answer = stats_call(district_code=district, age_band=band, sex=sex).json()["result"]
                suppressed += answer["privacy"]["suppressed_groups"]
                for row in answer["rows"]:
                    size, pension, medical = truth(row)
                    assert size >= 10
                    for shown, true in (
                        (row["insured_pension"], pension),
                        (row["insured_medical"], medical),
                    ):
                        if shown is not None:
                            assert true == 0 or (
                                true >= 10 and size - true in (0, *range(10, size + 1))
                            )
    assert suppressed > 0  # a 1,500-resident city has groups below k: they were left out
    # The open product gives rows of an open table, without personal columns…
    rows = client.post(
        "/api/v1/channel/products/open-enterprise-electricity",
        json={"purpose": "企业用电研究", "params": {"limit": 5}},
        headers={"X-API-Key": key},
    )
    assert rows.status_code == 200, rows.text
    assert len(rows.json()["result"]["rows"]) == 5
    assert set(rows.json()["result"]["rows"][0]) == {
        "credit_code",
        "month",
        "electricity_kwh",
        "fee_fen",
    }
    # …and if the catalog closes that table, nothing at all.
    from sqlalchemy import update

    from shuhui.catalog.models import Dataset, ResourceClass

    with transaction(ch.app.state.session_factory) as db:
        class_id = db.scalar(
            __import__("sqlalchemy")
            .select(Dataset.class_id)
            .where(Dataset.table_name == "enterprise_electricity")
        )
        db.execute(
            update(ResourceClass).where(ResourceClass.id == class_id).values(open_level="closed")
        )
    closed = client.post(
        "/api/v1/channel/products/open-enterprise-electricity",
        json={"purpose": "企业用电研究", "params": {}},
        headers={"X-API-Key": key},
    )
    assert closed.status_code == 403 and closed.json()["reason"] == "dataset-not-open"


def test_every_providing_department_reviews_before_the_bureau(channel: Channel) -> None:
    ch = channel
    applied = ch.insurer.post(
        "/api/v1/channel/applications",
        json={
            "products": ["underwriting-health-check", "enterprise-credit-check"],
            "purpose": "团体保险核保",
            "legal_basis": "投保人及投保企业授权",
            "usage": "industry",
            "days": 30,
        },
    )
    code = applied.json()["code"]
    tax = as_user(ch.app, "tax")

    def review(client: TestClient, decision: str = "approve", reason: str = "") -> Any:
        return client.post(
            f"/api/v1/channel/applications/{code}/review",
            json={"decision": decision, "reason": reason},
        )

    assert review(ch.bureau).status_code == 403  # not the bureau's turn yet
    assert review(ch.health).json()["status"] == "department_review"  # the tax office still
    assert review(ch.health).status_code == 403  # the health commission has had its say
    returned = review(tax, "return", "请补充企业授权书")
    assert returned.json()["status"] == "returned"
    again = ch.insurer.post(
        f"/api/v1/channel/applications/{code}/resubmit",
        json={"legal_basis": "投保人及投保企业授权（附授权书）"},
    )
    assert again.json()["status"] == "department_review"
    # After a resubmission both departments review again.
    assert review(tax).json()["status"] == "department_review"
    assert review(ch.health).json()["status"] == "bureau_review"
    assert review(ch.bureau).json()["status"] == "approved"


def test_revoking_a_grant_or_membership_takes_effect_at_the_next_call(channel: Channel) -> None:
    """The gateway remembers keys between calls; a revocation must still apply at once."""
    ch = channel
    consent(ch)
    assert check(ch).status_code == 200
    assert check(ch).status_code == 200  # answered from what the gateway remembers
    revoked = ch.bureau.post(
        f"/api/v1/channel/grants/{ch.grant}/revoke", json={"reason": "违规使用"}
    )
    assert revoked.status_code == 200
    refused = check(ch)
    assert refused.status_code == 403 and refused.json()["reason"] == "grant-inactive"


def test_an_expired_key_is_401(channel: Channel) -> None:
    from datetime import timedelta

    from shuhui.channel import gateway
    from shuhui.core.clock import utcnow
    from shuhui.core.db import transaction

    ch = channel
    consent(ch)
    short = ch.insurer.post(
        "/api/v1/channel/keys", json={"grants": [ch.grant], "label": "临时", "days": 1}
    ).json()["secret"]
    assert check(ch, key=short).status_code == 200
    state = ch.app.state
    with transaction(state.session_factory) as db:
        later = gateway.call(
            db,
            state.city_channel,
            state.channel_engine,
            api_key=short,
            product_code="underwriting-health-check",
            payload={"purpose": PURPOSE, "params": {"citizen_id": ch.patient_id}},
            now=utcnow() + timedelta(days=2),
        )
    assert later.status == 401 and later.reason == "key-expired"


def test_old_minute_windows_are_cleared_and_month_windows_kept(channel: Channel) -> None:
    from sqlalchemy import select

    from shuhui.channel.models import ApiKey, Counter
    from shuhui.core.db import transaction

    ch = channel
    consent(ch)
    with transaction(ch.app.state.session_factory) as db:
        key_id = db.scalars(select(ApiKey.id)).one()
        db.add(Counter(key_id=key_id, window="m:202001010000", count=5))
        db.add(Counter(key_id=key_id, window="M:202001", count=5))
    assert check(ch).status_code == 200
    with ch.app.state.session_factory() as db:
        windows = set(db.scalars(select(Counter.window).where(Counter.key_id == key_id)))
    assert "m:202001010000" not in windows and "M:202001" in windows
    assert any(w.startswith("m:") for w in windows)
