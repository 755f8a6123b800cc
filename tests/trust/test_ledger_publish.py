"""The ledger's checkpoints outside its database: signed by the platform on its own, appended to
files in the data directory, cosigned by an independent witness; and ``shuhui audit verify``
catching each way of rewriting the database with them, naming the entry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import utcnow
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.trust.crypto import note
from shuhui.trust.crypto.merkle import leaf_hash
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.audit import FILE, WITNESS, Report, audit
from shuhui.trust.ledger.models import LedgerCheckpoint, LedgerCosignature
from shuhui.trust.ledger.publish import CHECKPOINTS, LEAVES, Publisher, read_published
from shuhui.trust.ledger.witness import Witness, origin_hash
from shuhui.trust.ledger.witness import app as witness_app

ENTRY = ledger.Entry("user:1", "resident.view", "resident:370202199001011234", "窗口办理")


@pytest.fixture
def sessions(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated.sqlalchemy_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


KEY = SM2PrivateKey.generate()


def publisher(settings: Settings, sessions: sessionmaker[Session], **changes: object) -> Publisher:
    changed = settings.model_copy(update={"ledger_checkpoint_every": 5, **changes})
    return Publisher(changed, KEY, sessions)


def record(sessions: sessionmaker[Session], n: int) -> int:
    with transaction(sessions) as db:
        ledger.record_many(db, [ENTRY] * n)
        return ledger.committed_size(db)


def checkpoints(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as db:
        return list(db.scalars(select(LedgerCheckpoint.tree_size).order_by("tree_size")))


def report(settings: Settings, sessions: sessionmaker[Session], *witnesses: str) -> Report:
    with sessions() as db:
        return audit(db, KEY.public_key, settings.data_dir, settings.ledger_origin, witnesses)


# --- signed notes -------------------------------------------------------------------------------

names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Zs", "Zl", "Zp"]), min_size=1
).filter(lambda s: "+" not in s and s.isprintable() and not any(c.isspace() for c in s))
lines = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1)


@given(
    st.lists(lines, min_size=1, max_size=5),
    st.lists(st.tuples(names, st.binary(min_size=5, max_size=80)), min_size=1, max_size=5),
)
def test_a_signed_note_parses_back_to_what_was_written(
    text_lines: list[str], signatures: list[tuple[str, bytes]]
) -> None:
    body = "".join(line + "\n" for line in text_lines)
    written = [note.Signature(name, raw[:4], raw[4:]) for name, raw in signatures]
    parsed = note.parse_note(note.format_note(body, written))
    # The text ends at the last blank line: a body holding blank lines keeps them.
    assert parsed.text == body
    assert list(parsed.signatures) == written


@given(st.text(max_size=300))
def test_any_text_is_a_note_or_a_note_error(anything: str) -> None:
    try:
        parsed = note.parse_note(anything)
    except note.NoteError:
        return
    assert note.format_note(parsed.text, parsed.signatures) == anything


@given(st.text(max_size=200))
def test_any_text_is_a_checkpoint_or_a_note_error(anything: str) -> None:
    try:
        cp = note.parse_checkpoint(anything)
    except note.NoteError:
        return
    assert cp.text() == anything


# --- signing on its own -------------------------------------------------------------------------


def test_checkpoints_come_every_n_entries_and_after_the_interval(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions, ledger_checkpoint_interval=60)
    start = record(sessions, 1)
    assert made.run_once() is not None  # none yet: the first is due at once
    record(sessions, 4)
    assert made.run_once() is None  # 4 entries since, within the minute
    size = record(sessions, 1)
    assert made.run_once() is not None  # 5: due
    assert checkpoints(sessions) == [start, size]
    size = record(sessions, 1)
    assert made.run_once() is None
    with transaction(sessions) as db:  # the newest checkpoint is now a minute old
        db.execute(update(LedgerCheckpoint).values(created_at=utcnow() - timedelta(seconds=61)))
    assert made.run_once() is not None
    assert checkpoints(sessions)[-1] == size
    # Each is in the file as a C2SP note, and every checkpointed leaf hash in the mirror.
    records, problems = read_published(migrated.data_dir / CHECKPOINTS)
    assert problems == [] and [r.checkpoint.size for r in records] == checkpoints(sessions)
    assert (migrated.data_dir / LEAVES).stat().st_size == 32 * size


def test_the_server_signs_by_itself_while_the_ledger_grows(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    from shuhui.web.app import create_app

    record(sessions, 2)
    settings = migrated.model_copy(update={"ledger_checkpoint_interval": 0.2})
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            first = client.get("/api/v1/ledger/checkpoint").json()["tree_size"]  # at start-up
            size = record(app.state.session_factory, 1)
            for _ in range(100):
                if client.get("/api/v1/ledger/checkpoint").json()["tree_size"] == size:
                    break
                time.sleep(0.05)
            assert client.get("/api/v1/ledger/checkpoint").json()["tree_size"] == size > first
            note_text = client.get("/api/v1/ledger/checkpoint", headers={"accept": "text/plain"})
            assert note_text.headers["content-type"].startswith("text/plain")
            assert note.parse_checkpoint(note.parse_note(note_text.text).text).size == size
    finally:
        app.state.engine.dispose()


def test_no_checkpoint_yet_is_a_404_and_a_get_signs_nothing(app: object) -> None:
    client = TestClient(app)  # type: ignore[arg-type]  # no lifespan: no checkpointer
    answer = client.get("/api/v1/ledger/checkpoint")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_two_checkpointers_at_once_sign_each_size_once(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    a, b = publisher(migrated, sessions), publisher(migrated, sessions)
    done = threading.Event()

    def sign(p: Publisher) -> None:
        while not done.is_set():
            p.run_once(force=True, wait=True)

    threads = [threading.Thread(target=sign, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for _ in range(30):
        record(sessions, 3)
    done.set()
    for t in threads:
        t.join()
    a.run_once(force=True, wait=True)
    records, problems = read_published(migrated.data_dir / CHECKPOINTS)
    sizes = [r.checkpoint.size for r in records]
    assert problems == [] and sizes == sorted(set(sizes)) == checkpoints(sessions)
    with sessions() as db:
        stored = {cp.tree_size: cp.signature for cp in db.scalars(select(LedgerCheckpoint))}
    for r in records:  # the one signature of each size, the one stored
        assert r.signed.signatures[0].signature == stored[r.checkpoint.size]
    assert report(migrated, sessions).issues == []


# --- the witness --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def witness(tmp_path: Path, migrated: Settings) -> Iterator[tuple[str, Witness]]:
    """A witness served over HTTP on 127.0.0.1, trusting the test's ledger key."""
    with make_session_factory(make_engine(migrated.sqlalchemy_url))() as db:
        algorithm = ledger.algorithm_of(db)
    origin = ledger.origin(migrated.ledger_origin, algorithm)
    served = Witness(
        tmp_path / "witness", "witness.test/w1", [note.SM2Verifier(origin, KEY.public_key)]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(witness_app(served), port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", served
    finally:
        server.should_exit = True
        thread.join()


def test_the_witness_cosigns_each_new_checkpoint_and_refuses_a_fork(
    migrated: Settings, sessions: sessionmaker[Session], witness: tuple[str, Witness]
) -> None:
    url, served = witness
    made = publisher(migrated, sessions, ledger_witnesses=f"{url} {served.vkey}")
    record(sessions, 3)
    made.run_once(force=True)
    size = record(sessions, 4)
    made.run_once(force=True)
    with sessions() as db:
        cosigned = db.scalars(select(LedgerCosignature)).all()
    assert [c.tree_size for c in cosigned] == checkpoints(sessions)
    # The cosignature verifies with the witness's key, over the checkpoint's text.
    stored = note.parse_note(served.checkpoint(origin_hash(made_origin(migrated))).body)
    assert note.parse_checkpoint(stored.text).size == size
    verifier = note.parse_vkey(served.vkey)
    assert any(verifier.verifies(stored.text, s) for s in stored.signatures)
    # A fork: the log's key signs another root for a larger size; no proof can join them.
    signer = note.LogSigner(made_origin(migrated), KEY)
    forked = note.Checkpoint(made_origin(migrated), size + 2, b"\x07" * 32).text()
    fork = note.format_note(forked, [signer.sign(forked)])
    refused = served.add_checkpoint(f"old {size}\n{note.b64(b'x' * 32)}\n\n{fork}".encode())
    assert refused.status == 422
    stale = served.add_checkpoint(f"old 1\n\n{fork}".encode())
    assert (stale.status, stale.body, stale.content_type) == (409, f"{size}\n", "text/x.tlog.size")
    stranger = note.LogSigner(made_origin(migrated), SM2PrivateKey.generate())
    unsigned = note.format_note(forked, [stranger.sign(forked)])
    assert served.add_checkpoint(f"old {size}\n\n{unsigned}".encode()).status == 403
    other = note.Checkpoint("elsewhere.example/log", 1, b"\x00" * 32).text()
    unknown = note.format_note(other, [note.LogSigner("elsewhere.example/log", KEY).sign(other)])
    assert served.add_checkpoint(f"old 0\n\n{unknown}".encode()).status == 404
    assert served.add_checkpoint(b"old 01\n\n").status == 400
    # The witness still holds what it cosigned, and kept the fork as evidence.
    assert served.state()[made_origin(migrated)]["size"] == size
    assert "the consistency proof does not verify" in (served.folder / "refused.log").read_text()


def made_origin(settings: Settings) -> str:
    return ledger.origin(settings.ledger_origin, "sm3")


def test_a_witness_that_is_down_blocks_nothing(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    vkey = note.Cosigner("down.test/w", Ed25519PrivateKey.generate()).verifier.vkey()
    made = publisher(migrated, sessions, ledger_witnesses=f"http://127.0.0.1:{free_port()} {vkey}")
    size = record(sessions, 2)
    assert made.run_once(force=True) is not None
    assert checkpoints(sessions)[-1] == size


# --- tampering, caught and named ----------------------------------------------------------------


def rewrite(sessions: sessionmaker[Session], seq: int) -> None:
    """A consistent rewrite: new bytes, their leaf hash, the column they repeat."""
    with transaction(sessions) as db:
        leaf = bytes(
            db.execute(
                text("SELECT leaf FROM ledger_entries WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )
        forged = leaf.replace(b"resident.view", b"resident.edit")
        db.execute(
            text(
                "UPDATE ledger_entries SET leaf = :l, leaf_hash = :h, action = 'resident.edit' "
                "WHERE seq = :s"
            ),
            {"l": forged, "h": leaf_hash("sm3", forged), "s": seq},
        )


def resign_database(sessions: sessionmaker[Session]) -> None:
    """The attacker, holding the platform key, replaces every checkpoint in the database."""
    with transaction(sessions) as db:
        db.execute(delete(LedgerCheckpoint))
        ledger.make_checkpoint(db, ledger.TreeCache().synced(db), KEY)


def test_a_rewrite_after_the_newest_database_checkpoint_is_named(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions)
    record(sessions, 6)
    made.run_once(force=True)
    size = record(sessions, 9)
    made.run_once(force=True)
    assert report(migrated, sessions).issues == []
    rewrite(sessions, size - 4)
    resign_database(sessions)
    found = report(migrated, sessions)
    assert found.first is not None and found.first.seq == size - 4
    assert f"第 {size - 4} 条记录被改写过" in found.first.text
    assert any(FILE in i.text and "被删除过" in i.text for i in found.issues)


def test_a_rewrite_before_a_checkpoint_is_named_from_the_witness_alone(
    migrated: Settings, sessions: sessionmaker[Session], witness: tuple[str, Witness]
) -> None:
    url, served = witness
    made = publisher(migrated, sessions, ledger_witnesses=f"{url} {served.vkey}")
    size = record(sessions, 20)
    made.run_once(force=True)
    rewrite(sessions, size - 11)
    resign_database(sessions)
    (migrated.data_dir / CHECKPOINTS).unlink()  # the attacker removes the file too
    found = report(migrated, sessions, str(served.folder))
    assert found.first is not None and found.first.seq == size - 11
    assert found.first.text.startswith(WITNESS)
    # Read over HTTP the same.
    assert report(migrated, sessions, url).first == found.first


def test_tail_deletion_with_the_head_lowered_is_caught(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions)
    size = record(sessions, 8)
    made.run_once(force=True)
    with transaction(sessions) as db:
        db.execute(delete(ledger.ENTRIES).where(ledger.ENTRIES.c.seq >= size - 3))
        db.execute(update(ledger.HEAD).values(size=size - 3))
    resign_database(sessions)
    found = report(migrated, sessions)
    assert found.first is not None and found.first.seq == size - 3
    assert f"第 {size - 3} 条起的记录被删除了" in found.first.text


def test_deleted_database_checkpoints_are_caught(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions)
    size = record(sessions, 2)
    made.run_once(force=True)
    with transaction(sessions) as db:
        db.execute(delete(LedgerCheckpoint))
    found = report(migrated, sessions)
    assert [i.text for i in found.issues] == [
        f"数据库中缺少覆盖前 {size} 条记录的检查点（{FILE}中有）：检查点被删除过"
    ]
    assert found.uncovered == 0  # the file's checkpoint still covers every entry


def test_a_rewritten_line_of_the_file_is_caught(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions)
    record(sessions, 2)
    made.run_once(force=True)
    size = record(sessions, 2)
    made.run_once(force=True)
    path = migrated.data_dir / CHECKPOINTS
    path.write_text(path.read_text().replace(f"\n{size}\n", f"\n{size + 1}\n"))
    found = report(migrated, sessions)
    assert any("没有本平台密钥的有效签名" in i.text for i in found.issues)


def test_entries_no_checkpoint_covers_are_counted(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions)
    record(sessions, 2)
    made.run_once(force=True)
    record(sessions, 3)
    found = report(migrated, sessions)
    assert found.issues == [] and found.uncovered == 3


def test_a_command_that_records_signs_a_checkpoint_as_it_ends(tmp_path: Path) -> None:
    env = {**os.environ, "SHUHUI_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "400"}
    env.pop("SHUHUI_DATABASE_URL", None)

    def shuhui(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "shuhui.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip

    assert shuhui("db", "upgrade").returncode == 0  # records the platform key's issuance
    records, problems = read_published(tmp_path / "var" / CHECKPOINTS)
    assert problems == [] and [r.checkpoint.size for r in records] == [1]
    # The key a witness is told to trust verifies it.
    log_key = note.parse_vkey(shuhui("audit", "log-key").stdout)
    assert log_key.verifies(records[0].signed.text, records[0].signed.signatures[0])
    witness_key = note.parse_vkey(
        shuhui("audit", "witness", "key", "--data", str(tmp_path / "w")).stdout
    )
    assert isinstance(witness_key, note.CosignatureVerifier)
    intact = shuhui("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    said = intact.stderr.replace("\n", "")
    assert "账本完好：共 1 条记录" in said and "0 条记录尚无检查点覆盖" in said


def test_a_witness_can_poll_the_newest_checkpoint_with_its_proof(
    client: TestClient, tmp_path: Path
) -> None:
    app = client.app
    key = app.state.ledger_key  # type: ignore[attr-defined]
    origin = made_origin(app.state.settings)  # type: ignore[attr-defined]
    polling = Witness(tmp_path / "w", "poll.test/w", [note.SM2Verifier(origin, key.public_key)])
    first = client.get("/api/v1/ledger/checkpoint", params={"old": 0})
    assert first.headers["content-type"].startswith("text/plain")
    assert polling.add_checkpoint(first.content).status == 200
    size = polling.state()[origin]["size"]
    record(app.state.session_factory, 3)  # type: ignore[attr-defined]
    Publisher(app.state.settings, key, app.state.session_factory).run_once(force=True)  # type: ignore[attr-defined]
    after = client.get("/api/v1/ledger/checkpoint", params={"old": size})
    assert after.text.startswith(f"old {size}\n")
    assert polling.add_checkpoint(after.content).status == 200
    assert polling.state()[origin]["size"] == size + 3
    beyond = client.get("/api/v1/ledger/checkpoint", params={"old": size + 4})
    assert beyond.status_code == 422


def test_with_the_mirror_rewritten_too_the_checkpoints_bound_the_entry(
    migrated: Settings, sessions: sessionmaker[Session]
) -> None:
    made = publisher(migrated, sessions)
    before = record(sessions, 4)
    made.run_once(force=True)
    size = record(sessions, 6)
    made.run_once(force=True)
    rewrite(sessions, size - 2)
    resign_database(sessions)
    with sessions() as db:  # the attacker rewrites the leaf hash in leaves.bin as well
        forged = db.scalar(
            select(ledger.ENTRIES.c.leaf_hash).where(ledger.ENTRIES.c.seq == size - 2)
        )
    assert forged is not None
    mirror = migrated.data_dir / LEAVES
    packed = bytearray(mirror.read_bytes())
    packed[(size - 2) * 32 : (size - 1) * 32] = forged
    mirror.write_bytes(bytes(packed))
    found = report(migrated, sessions)
    assert found.first is not None and found.first.seq == before
    assert f"第 {before} 至 {size - 1} 条记录之间有记录被改写过" in found.first.text
