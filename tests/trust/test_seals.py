"""E-seals (电子印章): create, seal, verify — through the API, the page, the CLI and OpenSSL."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.core.settings import Settings, get_settings
from shuhui.trust.seals import service as seals
from shuhui.trust.seals.cli import seal_app
from tests.fixtures import csrf_from, login

CODE = "QDXZSP-2026-0001"
NAME = "青岛市行政审批服务局行政审批专用章"
DEPARTMENT = "青岛市行政审批服务局"  # the demo account "approver" works here
DOCUMENT = "准予行政许可决定书\n青岛示范科技有限公司：你单位申请的事项符合法定条件。\n".encode()


def create_seal(client: TestClient, code: str = CODE, **extra: Any) -> dict[str, Any]:
    login(client, "admin")
    body = {"code": code, "name": NAME, "department": DEPARTMENT, **extra}
    response = client.post("/api/v1/seals", json=body)
    assert response.status_code == 201, response.text
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    return dict(response.json())


def sign(client: TestClient, document: bytes = DOCUMENT, code: str = CODE) -> dict[str, Any]:
    login(client, "approver")
    response = client.post(
        f"/api/v1/seals/{code}/sign", files={"file": ("decision.txt", document, "text/plain")}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def verify_json(client: TestClient, envelope: Any, document: bytes = DOCUMENT) -> Any:
    # JSON without cookies: an API client anywhere, no login and no CSRF token needed.
    bare = TestClient(client.app)
    return bare.post(
        "/api/v1/seals/verify",
        json={"document_base64": base64.b64encode(document).decode(), "envelope": envelope},
    )


@pytest.fixture
def sealed(client: TestClient) -> dict[str, Any]:
    create_seal(client)
    return sign(client)


def test_create_sign_and_verify(client: TestClient, app: FastAPI) -> None:
    seal = create_seal(client)
    assert seal["code"] == CODE and seal["revoked_at"] is None
    assert seal["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    listed = client.get("/api/v1/seals").json()
    assert [s["code"] for s in listed] == [CODE]
    svg = client.get(seal["image_url"])
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert NAME in svg.text and "<polygon" in svg.text and "@font-face" not in svg.text

    # The private key is a 0600 file in the data directory, and nowhere in the seal's record.
    key_file = Path(app.state.settings.data_dir) / "keys" / "seals" / f"{CODE}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE" not in json.dumps(seal)

    envelope = sign(client)
    assert envelope["format"] == "shuhui-seal-v1"
    assert envelope["signer"] == "approver"
    assert envelope["seal"]["code"] == CODE and envelope["seal"]["key_id"] == seal["key_id"]
    assert envelope["signed_at"].endswith("Z")

    result = verify_json(client, envelope)
    assert result.status_code == 200
    assert result.json()["valid"] is True and result.json()["reason"] is None
    assert result.json()["seal"]["name"] == NAME

    multipart = client.post(
        "/api/v1/seals/verify",
        files={
            "document": ("decision.txt", DOCUMENT),
            "envelope": ("decision.txt.seal.json", json.dumps(envelope).encode()),
        },
    )
    assert multipart.status_code == 200 and multipart.json()["valid"] is True


def test_openssl_verifies_the_envelope_signature(sealed: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "pub.pem").write_text(sealed["seal"]["public_key_pem"])
    (tmp_path / "msg").write_bytes(seals.signed_bytes(sealed))
    (tmp_path / "sig").write_bytes(base64.b64decode(sealed["signature"]))
    command = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
        "-in", "msg", "-sigfile", "sig", "-digest", "sm3",
        "-pkeyopt", "distid:1234567812345678",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr
    # And OpenSSL rejects the same signature over a changed envelope.
    (tmp_path / "msg").write_bytes(seals.signed_bytes({**sealed, "signer": "mallory"}))
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


def test_one_flipped_document_byte_fails(client: TestClient, sealed: dict[str, Any]) -> None:
    tampered = bytearray(DOCUMENT)
    tampered[10] ^= 0x01
    body = verify_json(client, sealed, bytes(tampered)).json()
    assert body["valid"] is False
    assert body["reason"] == "document does not match the sealed SM3 digest"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("signer",), "mallory"),
        (("signed_at",), "2026-01-01T00:00:00Z"),
        (("document_sm3",), "0" * 64),
        (("seal", "name"), "青岛市某某局公章"),
        (("seal", "valid_to"), "2099-12-31T00:00:00Z"),
    ],
)
def test_a_changed_envelope_field_breaks_the_signature(
    client: TestClient, sealed: dict[str, Any], path: tuple[str, ...], value: str
) -> None:
    forged = json.loads(json.dumps(sealed))
    target = forged
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    body = verify_json(client, forged).json()
    assert body["valid"] is False
    assert body["reason"] == "envelope signature does not verify"


def test_an_expired_seal_refuses_to_sign(client: TestClient) -> None:
    past = utcnow() - timedelta(days=400)
    create_seal(
        client,
        valid_from=past.isoformat(),
        valid_to=(past + timedelta(days=365)).isoformat(),
    )
    login(client, "approver")
    response = client.post(f"/api/v1/seals/{CODE}/sign", files={"file": ("a.txt", b"x")})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["reason"] == "seal has expired"


def test_a_not_yet_valid_seal_refuses_to_sign(client: TestClient) -> None:
    create_seal(client, valid_from=(utcnow() + timedelta(days=1)).isoformat())
    login(client, "approver")
    response = client.post(f"/api/v1/seals/{CODE}/sign", files={"file": ("a.txt", b"x")})
    assert response.status_code == 409
    assert response.json()["reason"] == "seal is not yet valid"


def test_a_revoked_seal_fails_verification_with_the_database(
    client: TestClient, app: FastAPI, sealed: dict[str, Any]
) -> None:
    signed_at = seals.parse_iso(sealed["signed_at"])
    with transaction(app.state.session_factory) as db:
        seal = seals.get_seal(db, CODE)
        assert seal is not None
        seal.revoked_at = signed_at - timedelta(minutes=1)
    with transaction(app.state.session_factory) as db:
        assert seals.verify_envelope(sealed, DOCUMENT, db=db).reason == "seal is revoked"
        # Offline, revocation cannot be known: the envelope alone is still consistent.
        assert seals.verify_envelope(sealed, DOCUMENT).valid is True
    body = verify_json(client, sealed).json()
    assert body == {**body, "valid": False, "reason": "seal is revoked"}
    login(client, "approver")
    refused = client.post(f"/api/v1/seals/{CODE}/sign", files={"file": ("a.txt", b"x")})
    assert refused.status_code == 409 and refused.json()["reason"] == "seal is revoked"


def test_revoking_after_signing_keeps_earlier_seals_valid(
    client: TestClient, sealed: dict[str, Any]
) -> None:
    login(client, "admin")
    revoked = client.post(f"/api/v1/seals/{CODE}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    # Signed before the revocation (signing time has whole seconds, so compare to the second).
    body = verify_json(client, sealed).json()
    assert body["valid"] is True or body["reason"] == "seal is revoked"


def _respell(signature: str) -> str:
    """The same bytes in non-canonical base64: a spare bit of the last character set."""
    stripped = signature.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(stripped[-1])
    if stripped == signature:  # 72-byte DER: no spare bits to set, so extra padding instead
        return signature + "="
    respelled = stripped[:-1] + alphabet[last ^ 1] + signature[len(stripped) :]
    assert base64.b64decode(respelled) == base64.b64decode(signature)
    return respelled


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("signature"), "envelope.signature"),
        (lambda e: e.update(format="pdf"), "envelope.format"),
        (lambda e: e.update(signed_at="yesterday"), "envelope.signed_at"),
        (lambda e: e.update(signature="***"), "envelope.signature"),
        (lambda e: e.update(signature="签名"), "envelope.signature"),
        (lambda e: e.update(signature=_respell(e["signature"])), "envelope.signature"),
        (lambda e: e["seal"].update(public_key_pem="nope"), "envelope.seal.public_key_pem"),
        (lambda e: e.update(extra=1), "envelope.extra"),
    ],
)
def test_a_malformed_envelope_is_a_422_naming_the_field(
    client: TestClient, sealed: dict[str, Any], change: Any, field: str
) -> None:
    broken = json.loads(json.dumps(sealed))
    change(broken)
    response = verify_json(client, broken)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def test_malformed_multipart_and_json_inputs(client: TestClient, sealed: dict[str, Any]) -> None:
    login(client, "officer")
    not_json = client.post(
        "/api/v1/seals/verify",
        files={"document": ("d", DOCUMENT), "envelope": ("e.json", b"{not json")},
    )
    assert not_json.status_code == 422 and not_json.json()["field"] == "envelope"
    missing = client.post("/api/v1/seals/verify", files={"document": ("d", DOCUMENT)})
    assert missing.status_code == 422 and missing.json()["field"] == "envelope"
    bad_b64 = TestClient(client.app).post(
        "/api/v1/seals/verify", json={"document_base64": "%%%", "envelope": sealed}
    )
    assert bad_b64.status_code == 422 and bad_b64.json()["field"] == "document_base64"
    non_ascii = TestClient(client.app).post(
        "/api/v1/seals/verify", json={"document_base64": "\u0080", "envelope": sealed}
    )
    assert non_ascii.status_code == 422 and non_ascii.json()["field"] == "document_base64"


def test_who_may_create_and_sign(client: TestClient) -> None:
    create_seal(client)
    login(client, "admin")
    duplicate = client.post(
        "/api/v1/seals", json={"code": CODE, "name": NAME, "department": DEPARTMENT}
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "code"
    bad_code = client.post(
        "/api/v1/seals", json={"code": "../../etc", "name": NAME, "department": DEPARTMENT}
    )
    assert bad_code.status_code == 422 and bad_code.json()["field"] == "code"
    login(client, "approver")
    body = {"code": "QD-2", "name": NAME, "department": DEPARTMENT}
    assert client.post("/api/v1/seals", json=body).status_code == 403
    login(client, "officer")  # 人社局: another department's seal is not theirs to use
    other = client.post(f"/api/v1/seals/{CODE}/sign", files={"file": ("a.txt", b"x")})
    assert other.status_code == 403
    login(client, "citizen")
    assert client.post(f"/api/v1/seals/{CODE}/sign", files={"file": ("a", b"x")}).status_code == 403
    assert client.post("/api/v1/seals/NOPE-1/sign", files={"file": ("a", b"x")}).status_code == 403
    login(client, "admin")
    assert client.post("/api/v1/seals/NOPE-1/sign", files={"file": ("a", b"x")}).status_code == 404


def test_the_verify_page(client: TestClient, sealed: dict[str, Any]) -> None:
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    token = csrf_from(client, "/seals/verify")
    envelope = json.dumps(sealed).encode()
    ok = client.post(
        "/seals/verify",
        data={"csrf_token": token},
        files={"document": ("decision.txt", DOCUMENT), "envelope": ("d.seal.json", envelope)},
    )
    assert ok.status_code == 200
    assert "验证通过" in ok.text and NAME in ok.text
    bad = client.post(
        "/seals/verify",
        data={"csrf_token": token},
        files={"document": ("decision.txt", DOCUMENT + b"!"), "envelope": ("e", envelope)},
    )
    assert bad.status_code == 200
    assert "验证失败" in bad.text and "文件与签章时的内容不一致" in bad.text
    forged = client.post(
        "/seals/verify", files={"document": ("d", DOCUMENT), "envelope": ("e", envelope)}
    )
    assert forged.status_code == 403  # no CSRF token


def test_the_ledger_records_creation_and_use(client: TestClient, sealed: dict[str, Any]) -> None:
    login(client, "admin")
    entries = client.get("/api/v1/ledger/entries", params={"start": 0, "end": 100}).json()
    acts = [
        (e["entry"]["action"], e["entry"]["actor"], e["entry"]["subject"])
        for e in entries
        if e["entry"]["action"].startswith("seal.")
    ]
    assert acts == [("seal.created", "admin", CODE), ("seal.used", "approver", CODE)]
    used = next(e["entry"] for e in entries if e["entry"]["action"] == "seal.used")
    assert used["detail"]["document_sm3"] == sealed["document_sm3"]


def test_the_cli_creates_signs_and_verifies_offline(
    migrated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(migrated.data_dir))
    monkeypatch.setenv("SHUHUI_DATABASE_URL", migrated.sqlalchemy_url)
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "zh-CN")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(seal_app, ["create", CODE, NAME, DEPARTMENT, "--days", "30"])
        assert created.exit_code == 0, created.output
        document = tmp_path / "decision.txt"
        document.write_bytes(DOCUMENT)
        signed = runner.invoke(seal_app, ["sign", CODE, str(document)])
        assert signed.exit_code == 0, signed.output
        envelope = tmp_path / "decision.txt.seal.json"
        assert json.loads(envelope.read_text())["seal"]["code"] == CODE
        # A mistyped code is answered with the seal meant, and nothing is sealed.
        mistyped = runner.invoke(seal_app, ["sign", CODE[:-1] + "9", str(document)])
        assert mistyped.exit_code == 1
        assert f"没有名为 {CODE[:-1]}9 的印章。您是不是要找：{CODE}？" in mistyped.output
    finally:
        get_settings.cache_clear()

    # Offline: point the settings at nothing at all; only the two files are read.
    monkeypatch.setenv("SHUHUI_DATABASE_URL", "postgresql://nobody@invalid.invalid/none")
    ok = runner.invoke(seal_app, ["verify", str(document), str(envelope)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("valid:")
    document.write_bytes(DOCUMENT + b" ")
    bad = runner.invoke(seal_app, ["verify", str(document), str(envelope)])
    assert bad.exit_code == 1
    assert "invalid: document does not match the sealed SM3 digest" in bad.output


@hsettings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(document=st.binary(min_size=1, max_size=512), data=st.data())
def test_round_trip_and_any_single_byte_flip_fails(
    app: FastAPI, document: bytes, data: st.DataObject
) -> None:
    data_dir = Path(app.state.settings.data_dir)
    with transaction(app.state.session_factory) as db:
        if seals.get_seal(db, "PROP-1") is None:
            now = utcnow()
            seals.create_seal(
                db, data_dir, code="PROP-1", name=NAME, department=DEPARTMENT,
                valid_from=now - timedelta(minutes=1), valid_to=now + timedelta(days=1),
                actor="test",
            )  # fmt: skip
    with transaction(app.state.session_factory) as db:
        envelope = seals.sign_document(db, data_dir, "PROP-1", document, signer="prop")
    assert seals.verify_envelope(envelope, document).valid
    # As the CLI writes it: UTF-8, not \\uXXXX escapes, whose hex digits' case is not content.
    raw = json.dumps(envelope, ensure_ascii=False, indent=2).encode()
    assert seals.verify_envelope(raw, document).valid  # bytes of the JSON file work too

    index = data.draw(st.integers(0, len(document) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(document)
    flipped[index] ^= 1 << bit
    verdict = seals.verify_envelope(envelope, bytes(flipped))
    assert not verdict.valid and verdict.reason == seals.R_DOCUMENT

    # One flipped byte anywhere in the envelope file: never valid.
    # The envelope's length varies with its signature's DER length, so the position is drawn
    # from a fixed range: a replay draws the same way whatever this run's signature is.
    at = data.draw(st.integers(0, 1 << 20)) % len(raw)
    mangled = bytearray(raw)
    mangled[at] ^= 1 << data.draw(st.integers(0, 6))
    assert not seals.verify_envelope(bytes(mangled), document).valid
