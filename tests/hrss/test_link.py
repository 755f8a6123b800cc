"""The enterprise direct link (人社政企直连): an enterprise's system connects with a key bound to
its credit code and signs each batch with its SM2 key; every record gets its own result, the
good ones are kept exactly once, a batch id is idempotent, the refused can be sent again alone,
a wrong signature is refused and recorded — and a batch signed with the OpenSSL CLI verifies."""

from __future__ import annotations

import base64
import json
import runpy
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.hrss.models import LinkBatch, LinkRecord
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import add_account, as_user

PATH = "/api/v1/hrss/link/batches"


def city(settings: Settings) -> tuple[str, str, list[str]]:
    """A live enterprise, another one, and residents who never worked at the first (of the city
    ``settings`` name: a test app's, or the served demo's)."""
    core = DataCore.from_settings(settings)
    firms = [
        str(r["credit_code"])
        for r in core.sql(
            "SELECT credit_code FROM enterprises WHERE status = '存续' ORDER BY credit_code LIMIT 2"
        ).to_pylist()
    ]
    people = [
        str(r["citizen_id"])
        for r in core.sql(
            "SELECT citizen_id FROM residents WHERE citizen_id NOT IN (SELECT citizen_id FROM"
            f" employment_spells WHERE credit_code = '{firms[0]}') ORDER BY citizen_id LIMIT 6"
        ).to_pylist()
    ]
    return firms[0], firms[1], people


def connected(app: FastAPI, code: str) -> tuple[TestClient, SM2PrivateKey, str]:
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="hr-system",
                display_name="人事专员",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=code,
            ),
        )
    operator = as_user(app, "hr-system")
    private = SM2PrivateKey.generate()
    made = operator.post(
        "/api/v1/hrss/link/client", json={"public_key_pem": private.public_key.to_pem()}
    )
    assert made.status_code == 201, made.text
    return operator, private, made.json()["key"]


def send(
    app: FastAPI,
    key: str,
    private: SM2PrivateKey,
    body: bytes,
    *,
    csv: dict[str, str] | None = None,
) -> Any:
    signature = base64.b64encode(private.sign(body)).decode()
    headers = {
        "X-Link-Key": key,
        "X-Link-Signature": signature,
        "Content-Type": "text/csv" if csv else "application/json",
    }
    return TestClient(app).post(PATH, content=body, headers=headers, params=csv or {})


def hire(citizen: str, **extra: Any) -> dict[str, Any]:
    return {"citizen_id": citizen, "hire_date": "2026-11-02", "monthly_wage_yuan": "6800", **extra}


def count(app: FastAPI, model: Any, *where: Any) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_each_record_gets_its_reason_and_the_good_ones_are_kept_once(city_app: FastAPI) -> None:
    own, other, people = city(city_app.state.settings)
    _, private, key = connected(city_app, own)
    bad_check = people[1][:17] + ("0" if people[1][17] != "0" else "1")
    unknown_firm = "91370200MA" + "0" * 7
    unknown_firm += "X" if unknown_firm[-1] != "X" else "Y"
    records = [
        hire(people[0]),
        hire(bad_check),
        hire(people[0]),  # the same hire again in the batch
        hire(people[2], credit_code=other),
        hire(people[3], monthly_wage_yuan="-5"),
        hire(people[4], hire_date="2026-02-30"),
        hire(people[5], credit_code=unknown_firm),
    ]
    body = json.dumps({"batch_id": "B-001", "kind": "hire", "records": records}).encode()
    answer = send(city_app, key, private, body)
    assert answer.status_code == 201, answer.text
    results = {r["position"]: r for r in answer.json()["results"]}
    assert results[1]["status"] == "accepted"
    assert (results[2]["field"], results[2]["status"]) == ("citizen_id", "refused")
    assert "公民身份号码无效" in results[2]["reason"]
    assert "重复" in results[3]["reason"]
    assert results[4]["field"] == "credit_code" and "不是本接口所属企业" in results[4]["reason"]
    assert results[5]["field"] == "monthly_wage_yuan"
    assert results[6]["field"] == "hire_date"
    assert results[7]["field"] == "credit_code"
    assert answer.json()["accepted"] == 1 and answer.json()["refused"] == 6

    # The same batch again: its stored result, nothing doubled; another body under its id: 409.
    again = send(city_app, key, private, body)
    assert again.status_code == 200 and again.json()["already_received"] is True
    assert again.json()["results"] == answer.json()["results"]
    changed = body.replace(b"6800", b"6900")
    assert send(city_app, key, private, changed).status_code == 409

    # The refused, corrected, sent alone; the accepted one sent again is refused, not doubled.
    fixed = [hire(people[2]), hire(people[3]), hire(people[0])]
    body2 = json.dumps({"batch_id": "B-002", "kind": "hire", "records": fixed}).encode()
    second = send(city_app, key, private, body2).json()
    assert [r["status"] for r in second["results"]] == ["accepted", "accepted", "refused"]
    assert "此前已受理" in second["results"][2]["reason"]
    assert count(city_app, LinkRecord, LinkRecord.status == "accepted") == 3
    assert count(city_app, LedgerEntry, LedgerEntry.action == "hrss.link_batch") == 2
    assert count(city_app, LedgerEntry, LedgerEntry.action == "hrss.link_record") == 10

    # A departure in CSV: for someone hired here, accepted; for someone never hired, refused.
    csv_body = (
        "citizen_id,name,leave_date,reason\n"
        f"{people[0]},张三,2026-11-30,合同到期\n"
        f"{people[1]},李四,2026-11-30,辞职\n"
    ).encode()
    out = send(city_app, key, private, csv_body, csv={"batch_id": "D-1", "kind": "departure"})
    assert out.status_code == 201, out.text
    assert [r["status"] for r in out.json()["results"]] == ["accepted", "refused"]
    assert "没有该人员的招用" in out.json()["results"][1]["reason"]


def test_a_wrong_signature_or_key_is_refused_recorded_and_nothing_kept(city_app: FastAPI) -> None:
    own, _, people = city(city_app.state.settings)
    _, private, key = connected(city_app, own)
    body = json.dumps({"batch_id": "B-1", "kind": "hire", "records": [hire(people[0])]}).encode()
    forged = send(city_app, key, SM2PrivateKey.generate(), body)
    assert forged.status_code == 401 and "签名验证失败" in forged.json()["detail"]
    assert count(city_app, LedgerEntry, LedgerEntry.action == "hrss.link_refused") == 1
    assert send(city_app, "hl_" + "x" * 32, private, body).status_code == 401
    assert count(city_app, LinkBatch) == 0 and count(city_app, LinkRecord) == 0
    # A body the key holder signed but that is not a batch: named, nothing kept.
    for broken, field in (
        (b"[1,2]", "body"),
        (json.dumps({"batch_id": "a b", "kind": "hire", "records": []}).encode(), "batch_id"),
        (json.dumps({"batch_id": "B-2", "kind": "fire", "records": []}).encode(), "kind"),
        (json.dumps({"batch_id": "B-3", "kind": "hire", "records": []}).encode(), "records"),
    ):
        refused = send(city_app, key, private, broken)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    assert count(city_app, LinkBatch) == 0


def test_a_batch_signed_with_the_openssl_cli_verifies(city_app: FastAPI, tmp_path: Path) -> None:
    own, _, people = city(city_app.state.settings)
    _, private, key = connected(city_app, own)
    (tmp_path / "key.pem").write_text(private.to_pem())
    body = json.dumps({"batch_id": "O-1", "kind": "hire", "records": [hire(people[0])]}).encode()
    (tmp_path / "body.json").write_bytes(body)
    done = subprocess.run(
        [
            "openssl", "pkeyutl", "-sign", "-rawin", "-inkey", str(tmp_path / "key.pem"),
            "-in", str(tmp_path / "body.json"), "-out", str(tmp_path / "sig"),
            "-pkeyopt", "distid:1234567812345678",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    signature = base64.b64encode((tmp_path / "sig").read_bytes()).decode()
    answer = TestClient(city_app).post(
        PATH,
        content=body,
        headers={
            "X-Link-Key": key,
            "X-Link-Signature": signature,
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["accepted"] == 1


def test_only_an_enterprise_connects_and_sees_its_batches(city_app: FastAPI) -> None:
    own, _, _ = city(city_app.state.settings)
    operator, _, _ = connected(city_app, own)
    assert operator.get("/api/v1/hrss/link/batches").json() == []
    citizen = as_user(city_app, "citizen")
    assert citizen.post("/api/v1/hrss/link/client", json={"public_key_pem": "x"}).status_code == 403
    bad = operator.post("/api/v1/hrss/link/client", json={"public_key_pem": "not a key"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "public_key_pem"


@pytest.mark.parametrize("size", [1, 3])
def test_the_batch_bound_is_named(
    city_app: FastAPI, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shuhui.hrss import link

    monkeypatch.setattr(link, "MAX_RECORDS", 2)
    own, _, people = city(city_app.state.settings)
    _, private, key = connected(city_app, own)
    body = json.dumps(
        {"batch_id": f"M-{size}", "kind": "hire", "records": [hire(p) for p in people[:size]]}
    ).encode()
    answer = send(city_app, key, private, body)
    if size <= 2:
        assert answer.status_code == 201
    else:
        assert answer.status_code == 413 and answer.json()["errors"][0]["field"] == "records"


def test_the_sample_client_builds_a_request_the_platform_accepts(
    city_app: FastAPI, tmp_path: Path
) -> None:
    sample = runpy.run_path(str(Path(__file__).parents[2] / "docs" / "hrss_link_client.py"))
    own, _, people = city(city_app.state.settings)
    _, private, key = connected(city_app, own)
    (tmp_path / "sm2.pem").write_text(private.to_pem())
    body = (
        f"citizen_id,name,hire_date,monthly_wage_yuan\n{people[0]},王五,2026-11-03,5600\n"
    ).encode()
    address, headers = sample["request_for"](
        "http://testserver", key, tmp_path / "sm2.pem", body, csv=("C-1", "hire")
    )
    answer = TestClient(city_app).post(address, content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["accepted"] == 1
