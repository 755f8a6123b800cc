"""The audit ledger through its API and CLI, checked the way an outside auditor would."""

from __future__ import annotations

import base64
import enum
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.trust.crypto.canonical import canonical_json
from shuhui.trust.crypto.merkle import leaf_hash, root, verify_consistency, verify_inclusion
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.audit import FILE
from shuhui.trust.ledger.publish import Publisher
from tests.fixtures import DEMO_ENTRIES, login

pytestmark = pytest.mark.both_backends

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
    # The demo accounts were created (and bound) by `shuhui demo`, and said so.
    accounts = DEMO_ENTRIES
    assert cp["tree_size"] == accounts
    assert cp["algorithm"] == "sm3"
    # A C2SP checkpoint: origin (naming the hash), size, root; signed by the platform at start-up.
    assert cp["note"].splitlines()[:2] == ["shuhui.local/audit-ledger/sm3", str(accounts)]
    assert cp["signed_note"].startswith(cp["note"] + "\n\u2014 shuhui.local/audit-ledger/sm3 ")


def test_anyone_can_recompute_the_root_from_the_entries(client: TestClient) -> None:
    login(client, "admin")
    cp = client.get("/api/v1/ledger/checkpoint").json()
    entries = client.get("/api/v1/ledger/entries", params={"start": 0, "end": 100}).json()
    assert len(entries) == DEMO_ENTRIES
    assert {e["entry"]["action"] for e in entries} == {
        "account.created",
        "account.binding_requested",
        "account.binding_approved",
    }
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
    n = DEMO_ENTRIES
    entries = client.get("/api/v1/ledger/entries", params={"start": n, "end": n + 2}).json()
    created, changed = (e["entry"] for e in entries)
    assert (created["actor"], created["action"], created["subject"]) == (
        "admin",
        "account.created",
        "user:audit.me",
    )
    assert changed["detail"] == {"before": ["officer"], "after": ["data_operator"]}


def test_a_refused_act_leaves_no_entry(client: TestClient, app: FastAPI) -> None:
    login(client, "admin")
    with app.state.session_factory() as db:
        before = ledger.committed_size(db)
    assert (
        client.post("/api/v1/admin/users", json={**NEW_USER, "username": "citizen"}).status_code
        == 409
    )
    with app.state.session_factory() as db:
        assert ledger.committed_size(db) == before


def test_inclusion_and_consistency_proofs_verify(client: TestClient, app: FastAPI) -> None:
    login(client, "admin")
    old = client.get("/api/v1/ledger/checkpoint").json()
    client.post("/api/v1/admin/users", json=NEW_USER)
    sign_now(app)
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
    n = DEMO_ENTRIES
    bad = client.get("/api/v1/ledger/proof/inclusion", params={"index": n, "tree_size": n})
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


def audit_verify(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``shuhui audit verify`` run as an operator would; its stderr with the terminal's line
    breaks taken out (Rich wraps Chinese text anywhere)."""
    done = subprocess.run(
        [sys.executable, "-m", "shuhui.cli", "audit", "verify", *args], capture_output=True,
        text=True, timeout=120, check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(settings.data_dir),
             "SHUHUI_DATABASE_URL": settings.sqlalchemy_url, "COLUMNS": "400"},
    )  # fmt: skip
    done.stderr = done.stderr.replace("\n", "")
    return done


def sign_now(app: FastAPI) -> None:
    """What the platform's checkpointer does when a checkpoint is due, now."""
    state = app.state
    Publisher(state.settings, state.ledger_key, state.session_factory).run_once(force=True)


def test_audit_verify_names_the_first_altered_entry(client: TestClient, app: FastAPI) -> None:
    settings: Settings = app.state.settings
    client.get("/api/v1/ledger/checkpoint")  # sign a checkpoint over the demo accounts' entries
    intact = audit_verify(settings)
    assert intact.returncode == 0, intact.stderr
    assert f"账本完好：共 {DEMO_ENTRIES} 条记录" in intact.stderr
    with transaction(app.state.session_factory) as db:
        db.execute(text("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 3"))
    altered = audit_verify(settings)
    assert altered.returncode == 1
    assert "最早的一处：第 3 条记录：查询用的“操作者”一栏与记录内容不符" in altered.stderr


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
    size = DEMO_ENTRIES
    assert f"覆盖前 {size} 条的检查点：根哈希与现存记录算出的不一致" in altered.stderr
    # The published copy names the entry: its leaf hash is kept in the leaves mirror.
    assert f"{FILE}的检查点（前 {size} 条）与现存记录算出的根哈希不同" in altered.stderr
    assert "最早的一处" in altered.stderr and "第 5 条记录被改写过" in altered.stderr


def test_two_signers_of_the_same_size_agree_on_one_checkpoint(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shuhui.trust.ledger import service as ledger

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
        assert ledger.committed_size(db) == DEMO_ENTRIES


def test_sha256_is_selectable_while_the_ledger_is_empty(tmp_path: Path) -> None:
    env = {**os.environ, "SHUHUI_DATA_DIR": str(tmp_path), "SHUHUI_LEDGER_HASH": "sha256"}
    run = [sys.executable, "-m", "shuhui.cli"]
    # The first command readies the database (the platform key's issue is an entry); two
    # accounts add two more, enough for a proof of the third.
    for name in ("first", "second"):
        made = subprocess.run([*run, "users", "add", name, "-r", "officer", "-n", name,
                               "--password-stdin"], input="Shuhui@2026-long\n", env=env,
                              capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
        assert made.returncode == 0, made.stderr
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


# --- record_many: many entries, one head bump, the bytes record() writes ----------------------


@pytest.fixture
def ledger_db(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated database, SQLite and PostgreSQL alike (see ``database_url``)."""
    engine = make_engine(migrated.sqlalchemy_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


ITEMS = [
    ledger.Entry("user:7", "resident.view", "resident:370202199001011234", "窗口办理", "grant:1",
                 {"fields": ["phone", "address"], "ok": True}),
    ledger.Entry("system", "data.loaded", detail={"rows": 1_000, "table": "residents"}),
    ledger.Entry("user:8", "mandate.used", "resident:370202199001011234", None, "grant:2", {}),
    ledger.Entry('quote " and \\ and \n\u2028', "seal.used", subject="😀 \ue000"),
]  # fmt: skip


def stored(factory: sessionmaker[Session], start: int = 0) -> list[Any]:
    with factory() as db:
        return list(db.execute(select(ledger.ENTRIES).where(ledger.ENTRIES.c.seq >= start)
                               .order_by(ledger.ENTRIES.c.seq)))  # fmt: skip


def test_record_many_appends_consecutive_entries_as_record_would(
    ledger_db: sessionmaker[Session],
) -> None:
    with transaction(ledger_db) as db:
        start = ledger.committed_size(db)
        one = ledger.record(db, "user:1", "account.created", subject="user:a")
        seqs = ledger.record_many(db, ITEMS)
        last = ledger.record(db, "user:1", "account.created", subject="user:b")
    assert one.seq == start
    assert seqs == range(start + 1, start + 1 + len(ITEMS))
    assert last.seq == start + 1 + len(ITEMS)
    rows = stored(ledger_db, start)
    assert [row.seq for row in rows] == list(range(start, start + len(ITEMS) + 2))
    items = [ledger.Entry("user:1", "account.created", "user:a"), *ITEMS,
             ledger.Entry("user:1", "account.created", "user:b")]  # fmt: skip
    for row, item in zip(rows, items, strict=True):
        # Exactly the object record() has always hashed, in RFC 8785 form.
        body = {
            "seq": row.seq,
            "at": row.recorded_at.isoformat(timespec="microseconds"),
            "actor": item.actor,
            "action": item.action,
            "subject": item.subject,
            "purpose": item.purpose,
            "grant": item.grant,
            "detail": item.detail or {},
        }
        assert row.leaf == canonical_json(body)
        assert row.leaf_hash == leaf_hash("sm3", row.leaf)
        assert (row.actor, row.action, row.subject, row.purpose, row.grant) == (
            item.actor, item.action, item.subject, item.purpose, item.grant
        )  # fmt: skip
    assert (one.leaf, last.leaf_hash) == (rows[0].leaf, rows[-1].leaf_hash)
    with ledger_db() as db:
        assert ledger.committed_size(db) == start + len(items)
        every = [row.leaf_hash for row in stored(ledger_db)]
        assert ledger.TreeCache().synced(db).root() == root("sm3", every)
        assert list(ledger.verify_ledger(db, SM2PrivateKey.generate().public_key)) == []


def test_a_rolled_back_batch_leaves_the_ledger_as_it_was(ledger_db: sessionmaker[Session]) -> None:
    with transaction(ledger_db) as db:
        ledger.record_many(db, ITEMS[:2])
    before = stored(ledger_db)
    with ledger_db() as db:
        size = ledger.committed_size(db)
        assert ledger.record_many(db, ITEMS * 50) == range(size, size + 200)
        assert ledger.committed_size(db) == size + 200  # seen inside the transaction
        db.rollback()
    with ledger_db() as db:
        assert ledger.committed_size(db) == size
    assert stored(ledger_db) == before


def test_an_empty_batch_is_a_no_op(ledger_db: sessionmaker[Session]) -> None:
    with transaction(ledger_db) as db:
        size = ledger.committed_size(db)
        statements: list[str] = []
        event.listen(db.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert ledger.record_many(db, []) == range(0)
        assert statements == []  # not even the head is read
    with ledger_db() as db:
        assert ledger.committed_size(db) == size


def test_a_batch_with_a_value_that_is_not_ledger_json_is_refused() -> None:
    with pytest.raises(TypeError, match="floats are not allowed"):
        ledger.entry_bytes(0, "t", ledger.Entry("a", "b", detail={"amount": 1.5}))
    with pytest.raises(ValueError, match="lone surrogate"):
        ledger.entry_bytes(0, "t", ledger.Entry("\ud800", "b"))


class Action(enum.StrEnum):
    viewed = "resident.view"


@pytest.mark.parametrize(
    "item",
    [
        *ITEMS,
        ledger.Entry("a", "b"),
        ledger.Entry(Action.viewed, Action.viewed, detail={"n": [Action.viewed, -(2**53 - 1)]}),
        ledger.Entry("\x00\x1f\x7f\"\\/", "é中\U0001f600", "\ue000", "\U0001f600",
                     detail={"\ue000": 1, "\U0001f600": 2, "": {"z": None, "a": [True]}}),
    ],
)  # fmt: skip
def test_entry_bytes_are_the_canonical_json_of_the_entry(item: ledger.Entry) -> None:
    body = ledger.entry_body(12, "2026-11-29T12:00:00.000001+00:00", item)
    assert ledger.entry_bytes(12, "2026-11-29T12:00:00.000001+00:00", item) == canonical_json(body)


# --- verify_ledger's quick canonical check agrees with the plain one --------------------------


def reference_problem(leaf: bytes) -> str:
    try:
        body = json.loads(leaf)
    except ValueError:
        return "stored bytes are not JSON"
    try:
        canonical = canonical_json(body) == leaf
    except (TypeError, ValueError):
        canonical = False
    if not canonical:
        return "stored bytes are not canonical"
    return "" if isinstance(body, dict) else "stored bytes are not a JSON object"


@pytest.mark.parametrize(
    "leaf",
    [
        b'{"a":1,"b":"x"}',
        b'{"b":1,"a":2}',  # members out of order
        b'{"a":1,"a":1}',  # a repeated name
        b'{"a": 1}',  # whitespace
        b'{"a":1} ',
        b' {"a":1}',
        b'{"a":1.0}',  # floats are never canonical here
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":9007199254740991}',
        b'{"a":9007199254740992}',  # beyond ±(2**53 - 1)
        b'{"a":-0}',
        b'{"a":"\\u00e9"}',  # an escape JSON.stringify would not write
        '{"a":"é中"}'.encode(),
        b'{"a":"\\u001f\\n\\"\\\\"}',
        b'{"a":"\\ud800"}',  # a lone surrogate
        b'{"a":"\xed\xa0\x80"}',  # ... encoded in the bytes
        b'{"a":"\xff"}',  # not UTF-8
        # U+E000 sorts after U+1F600 by code point, before it by UTF-16 code units (RFC 8785).
        '{"\U0001f600":1,"\ue000":2}'.encode(),
        '{"\ue000":2,"\U0001f600":1}'.encode(),
        '\ufeff{"a":1}'.encode(),  # a byte order mark
        b'["a",1]',
        b'"a"',
        b"",
        b'{"a":',
        b'{"a":1}{"b":2}',
    ],
)
def test_the_quick_canonical_check_gives_the_plain_verdicts(leaf: bytes) -> None:
    body, problem = ledger._parse_entry(leaf)
    assert problem == reference_problem(leaf)
    assert (body is None) == bool(problem)


# --- verify_ledger over altered columns and gaps, on both databases ---------------------------


def test_verify_names_an_altered_time_and_a_missing_entry(
    ledger_db: sessionmaker[Session],
) -> None:
    key = SM2PrivateKey.generate()
    with transaction(ledger_db) as db:
        start = ledger.committed_size(db)
        ledger.record_many(db, ITEMS * 3)
    with ledger_db() as db:
        assert list(ledger.verify_ledger(db, key.public_key, batch=5)) == []
    entries = ledger.ENTRIES
    with transaction(ledger_db) as db:
        db.execute(update(entries).where(entries.c.seq == start + 2)
                   .values(recorded_at=datetime(2020, 1, 1, tzinfo=UTC)))  # fmt: skip
        db.execute(delete(entries).where(entries.c.seq == start + 7))
    with ledger_db() as db:
        findings = list(ledger.verify_ledger(db, key.public_key, batch=5))
    assert findings == [
        ledger.Finding(start + 2, "column at differs from the hashed entry"),
        ledger.Finding(start + 7, "entry missing"),
        ledger.Finding(start + 11, f"ledger claims {start + 12} entries, {start + 11} are stored"),
    ]


def test_verify_tells_how_far_it_has_read(ledger_db: sessionmaker[Session]) -> None:
    with transaction(ledger_db) as db:
        ledger.record_many(db, ITEMS * 3)
    seen: list[tuple[int, int]] = []
    with ledger_db() as db:
        size = ledger.committed_size(db)
        found = ledger.verify_ledger(
            db, SM2PrivateKey.generate().public_key, batch=5, progress=lambda *p: seen.append(p)
        )
        assert list(found) == []
    assert [done for done, _ in seen] == [min(n, size) for n in range(5, size + 5, 5)]
    assert {total for _, total in seen} == {size}
