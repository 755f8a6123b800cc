"""The audit ledger through its API and CLI, checked the way an outside auditor would."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from shuhui.core.db import transaction
from shuhui.core.settings import Settings
from shuhui.trust.canonical import canonical_json
from shuhui.trust.merkle import leaf_hash, root, verify_consistency, verify_inclusion
from tests.conftest import login

NEW_USER = {
    "username": "audit.me",
    "display_name": "审计",
    "password": "long-enough-pw",
    "roles": ["officer"],
}


def b(text_: str) -> bytes:
    return base64.b64decode(text_)


def test_a_fresh_instance_has_entries_and_a_signed_checkpoint(client: TestClient) -> None:
    cp = client.get("/api/v1/ledger/checkpoint").json()
    # The seven demo accounts were created by `shuhui demo`, and said so.
    assert cp["tree_size"] == 7
    assert cp["algorithm"] == "sm3"
    assert cp["note"].splitlines()[:3] == ["shuhui audit ledger", "sm3", "7"]


def test_anyone_can_recompute_the_root_from_the_entries(client: TestClient) -> None:
    login(client, "admin")
    cp = client.get("/api/v1/ledger/checkpoint").json()
    entries = client.get("/api/v1/ledger/entries", params={"start": 0, "end": 100}).json()
    assert [e["entry"]["action"] for e in entries] == ["account.created"] * 7
    leaves = [b(e["leaf"]) for e in entries]
    for e, leaf in zip(entries, leaves, strict=True):
        assert canonical_json(e["entry"]) == leaf  # the bytes are the canonical JSON
    hashes = [leaf_hash("sm3", leaf) for leaf in leaves]
    assert root("sm3", hashes) == b(cp["root_hash"])


def test_entries_need_an_auditor(client: TestClient) -> None:
    assert client.get("/api/v1/ledger/entries").status_code == 401
    login(client, "citizen")
    assert client.get("/api/v1/ledger/entries").status_code == 403


def test_admin_acts_are_recorded_with_who_did_them(client: TestClient) -> None:
    login(client, "admin")
    assert client.post("/api/v1/admin/users", json=NEW_USER).status_code == 201
    client.put("/api/v1/admin/users/audit.me/roles", json={"roles": ["data_operator"]})
    entries = client.get("/api/v1/ledger/entries", params={"start": 7, "end": 9}).json()
    created, changed = (e["entry"] for e in entries)
    assert (created["actor"], created["action"], created["subject"]) == (
        "admin",
        "account.created",
        "user:audit.me",
    )
    assert changed["detail"] == {"before": ["officer"], "after": ["data_operator"]}


def test_a_refused_act_leaves_no_entry(client: TestClient) -> None:
    login(client, "admin")
    before = client.get("/api/v1/ledger/checkpoint").json()["tree_size"]
    assert (
        client.post("/api/v1/admin/users", json={**NEW_USER, "username": "citizen"}).status_code
        == 409
    )
    assert client.get("/api/v1/ledger/checkpoint").json()["tree_size"] == before


def test_inclusion_and_consistency_proofs_verify(client: TestClient) -> None:
    login(client, "admin")
    old = client.get("/api/v1/ledger/checkpoint").json()
    client.post("/api/v1/admin/users", json=NEW_USER)
    new = client.get("/api/v1/ledger/checkpoint").json()
    assert new["tree_size"] == old["tree_size"] + 1
    for index in range(new["tree_size"]):
        proof = client.get(
            "/api/v1/ledger/proof/inclusion",
            params={"index": index, "tree_size": new["tree_size"]},
        ).json()
        assert verify_inclusion(
            "sm3",
            index,
            new["tree_size"],
            b(proof["leaf_hash"]),
            [b(p) for p in proof["proof"]],
            b(new["root_hash"]),
        )
    consistency = client.get(
        "/api/v1/ledger/proof/consistency",
        params={"first": old["tree_size"], "second": new["tree_size"]},
    ).json()
    assert verify_consistency(
        "sm3",
        old["tree_size"],
        new["tree_size"],
        b(old["root_hash"]),
        b(new["root_hash"]),
        [b(p) for p in consistency["proof"]],
    )


def test_proof_requests_outside_the_tree_are_problems(client: TestClient) -> None:
    bad = client.get("/api/v1/ledger/proof/inclusion", params={"index": 7, "tree_size": 7})
    assert bad.status_code == 422
    assert bad.json()["field"] == "index"
    beyond = client.get("/api/v1/ledger/proof/consistency", params={"first": 1, "second": 99})
    assert beyond.status_code == 422
    assert beyond.json()["field"] == "second"


def test_openssl_verifies_the_checkpoint_signature(client: TestClient, tmp_path: Path) -> None:
    cp = client.get("/api/v1/ledger/checkpoint").json()
    (tmp_path / "pub.pem").write_text(cp["public_key_pem"])
    (tmp_path / "note").write_bytes(cp["note"].encode())
    (tmp_path / "sig").write_bytes(b(cp["signature"]))
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
         "-rawin", "-in", str(tmp_path / "note"), "-sigfile", str(tmp_path / "sig"),
         "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Signature Verified Successfully" in done.stdout, done.stderr


def audit_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", "audit", "verify"], capture_output=True, text=True,
        timeout=120, check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(settings.data_dir),
             "SHUHUI_DATABASE_URL": settings.sqlalchemy_url},
    )  # fmt: skip


def test_audit_verify_names_the_first_altered_entry(client: TestClient, app: FastAPI) -> None:
    settings: Settings = app.state.settings
    client.get("/api/v1/ledger/checkpoint")  # sign a checkpoint over the seven entries
    intact = audit_verify(settings)
    assert intact.returncode == 0, intact.stderr
    assert "ledger intact: 7 entries" in intact.stderr
    with transaction(app.state.session_factory) as db:
        db.execute(text("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 3"))
    altered = audit_verify(settings)
    assert altered.returncode == 1
    assert "first at entry 3: column actor differs from the hashed entry" in altered.stderr


def test_audit_verify_catches_rewritten_bytes(client: TestClient, app: FastAPI) -> None:
    settings: Settings = app.state.settings
    client.get("/api/v1/ledger/checkpoint")
    with transaction(app.state.session_factory) as db:
        leaf = db.execute(text("SELECT leaf FROM ledger_entries WHERE seq = 5")).scalar_one()
        forged = bytes(leaf).replace(b"account.created", b"account.deleted")
        # A forger who also rewrites the stored hash is still caught by the signed root.
        db.execute(
            text(
                "UPDATE ledger_entries SET leaf = :leaf, leaf_hash = :h, action = "
                "'account.deleted' WHERE seq = 5"
            ),
            {"leaf": forged, "h": leaf_hash("sm3", forged)},
        )
    altered = audit_verify(settings)
    assert altered.returncode == 1
    assert "checkpoint at size 7: root does not match entries" in altered.stderr


def test_two_signers_of_the_same_size_agree_on_one_checkpoint(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shuhui.trust import ledger

    factory = app.state.session_factory
    key = app.state.ledger_key
    with transaction(factory) as db:
        first = ledger.make_checkpoint(db, ledger.TreeCache().synced(db), key)
    # A second signer that looked for the latest checkpoint before the first one was stored:
    monkeypatch.setattr(ledger, "latest_checkpoint", lambda _db: None)
    with transaction(factory) as db:
        second = ledger.make_checkpoint(db, ledger.TreeCache().synced(db), key)
        assert (second.tree_size, second.signature) == (first.tree_size, first.signature)
        # The session is still usable after the refused insert.
        assert ledger.committed_size(db) == 7


def test_sha256_is_selectable_while_the_ledger_is_empty(tmp_path: Path) -> None:
    env = {**os.environ, "SHUHUI_DATA_DIR": str(tmp_path), "SHUHUI_LEDGER_HASH": "sha256"}
    run = [sys.executable, "-m", "shuhui.cli"]
    demo = subprocess.run([*run, "demo", "--residents", "1000"], env=env, capture_output=True,
                          text=True, check=False, timeout=300)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    from shuhui.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path, cookie_secure=False))
    with TestClient(app) as client:
        cp = client.get("/api/v1/ledger/checkpoint").json()
        assert cp["algorithm"] == "sha256"
        proof = client.get(
            "/api/v1/ledger/proof/inclusion", params={"index": 2, "tree_size": cp["tree_size"]}
        ).json()
    app.state.engine.dispose()
    assert verify_inclusion(
        "sha256",
        2,
        cp["tree_size"],
        b(proof["leaf_hash"]),
        [b(p) for p in proof["proof"]],
        b(cp["root_hash"]),
    )
    # Once entries exist the hash is fixed: switching back is refused, and nothing changes.
    env["SHUHUI_LEDGER_HASH"] = "sm3"
    refused = subprocess.run([*run, "db", "upgrade"], env=env, capture_output=True, text=True,
                             check=False, timeout=120)  # fmt: skip
    assert refused.returncode == 2
    assert "cannot change to sm3" in " ".join(refused.stderr.split())
    intact = subprocess.run([*run, "audit", "verify"], env=env, capture_output=True, text=True,
                            check=False, timeout=120)  # fmt: skip
    assert intact.returncode == 0, intact.stderr
