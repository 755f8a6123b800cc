"""The platform's checkpointer: signs the ledger's checkpoints itself and publishes them outside
the database, so a rewrite of the database alone is caught.

:meth:`Publisher.run_once` signs a checkpoint over the whole ledger when one is due — the ledger
has grown by ``SHUHUI_LEDGER_CHECKPOINT_EVERY`` entries since the newest checkpoint, or has grown
at all and the newest is ``SHUHUI_LEDGER_CHECKPOINT_INTERVAL`` seconds old (or there is none) —
and then publishes:

- ``<data dir>/ledger/leaves.bin``: every checkpointed entry's leaf hash, 32 bytes each, in order
  (a mirror of the tree's leaves: what lets ``shuhui audit verify`` name the exact entry a
  consistent rewrite altered, see ``ledger.audit``);
- ``<data dir>/ledger/checkpoints.log``: each checkpoint as a C2SP signed note (origin, size,
  root, blank line, the platform's SM2 signature line) followed by a blank line; a witness's
  cosignature is appended later as the same note with its line added. Both files are only ever
  appended to (``O_APPEND``, one ``write`` a record, ``fsync``);
- to each witness in ``SHUHUI_LEDGER_WITNESSES`` (``<URL> <vkey>``, comma-separated): a C2SP
  tlog-witness ``add-checkpoint`` with the consistency proof from the size the witness last
  cosigned; its cosignature is checked against its key and stored (``ledger_cosignatures``, and
  the file). A witness that is down or refuses is logged and asked again an interval later;
  nothing waits for it.

Signing happens under an exclusive lock on ``<data dir>/ledger/checkpoint.lock`` (the server's
workers share the data directory; a tick that finds it held skips) and the checkpoint's size is
its primary key, so two checkpointers never store or publish two signatures of one size. The
server runs one in a thread per worker (:meth:`start`, from the app's lifespan); commands that
record entries sign one when they end (``ledger.setup``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.db import transaction
from shuhui.core.locks import flocked
from shuhui.core.settings import Settings
from shuhui.trust.crypto import note
from shuhui.trust.crypto.merkle import MerkleTree
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerCheckpoint, LedgerCosignature

FOLDER = Path("ledger")
CHECKPOINTS = FOLDER / "checkpoints.log"
LEAVES = FOLDER / "leaves.bin"
LOCK = FOLDER / "checkpoint.lock"
HASH_SIZE = 32
PUSH_TIMEOUT = 5.0

log = logging.getLogger("shuhui.trust.ledger.publish")


@dataclass(frozen=True)
class Witness:
    url: str  # the submission prefix: add-checkpoint is POSTed to <url>/add-checkpoint
    verifier: note.CosignatureVerifier

    @property
    def name(self) -> str:
        return self.verifier.name


def parse_witnesses(text: str) -> list[Witness]:
    """``<URL> <vkey>`` pairs, comma- or newline-separated (``SHUHUI_LEDGER_WITNESSES``)."""
    found = []
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        parts = item.split()
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
            raise ValueError(f"a witness is '<URL> <vkey>', not {item.strip()!r}")
        verifier = note.parse_vkey(parts[1])
        if not isinstance(verifier, note.CosignatureVerifier):
            raise ValueError(f"{verifier.name} is not an Ed25519 cosignature key")
        found.append(Witness(parts[0].rstrip("/"), verifier))
    return found


def append(path: Path, data: bytes) -> None:
    """Appends ``data`` in one write and syncs it to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):  # a full disk: say so rather than leave half a record
            raise OSError(f"wrote {written} of {len(data)} bytes to {path}")
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Published:
    """One record of checkpoints.log: where it starts (line number), the note, its checkpoint."""

    line: int
    signed: note.SignedNote
    checkpoint: note.Checkpoint


def read_published(path: Path) -> tuple[list[Published], list[tuple[int, str]]]:
    """The records of a checkpoints file, and (line, why) for each that is not well formed."""
    try:
        content = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return [], []
    return parse_published(content)


def parse_published(content: str) -> tuple[list[Published], list[tuple[int, str]]]:
    """The records of checkpoints-file text (whole records), and the malformed ones' lines."""
    records: list[Published] = []
    problems: list[tuple[int, str]] = []
    chunks = content.split("\n\n")
    if chunks and chunks[-1] == "":
        chunks.pop()
    elif chunks:
        problems.append((content.count("\n") + 1, "the file does not end with a whole record"))
    line = 1
    for i in range(0, len(chunks) - 1, 2):
        text, signatures = chunks[i], chunks[i + 1]
        try:
            signed = note.parse_note(f"{text}\n\n{signatures}\n")
            records.append(Published(line, signed, note.parse_checkpoint(signed.text)))
        except note.NoteError as exc:
            problems.append((line, str(exc)))
        line += text.count("\n") + signatures.count("\n") + 4
    if len(chunks) % 2:
        problems.append((line, "a checkpoint without its signatures"))
    return records, problems


def add_checkpoint_body(tree: MerkleTree, old: int, signed_note: str, size: int) -> str:
    """A tlog-witness add-checkpoint request: ``old <size>``, the proof lines, a blank, the note."""
    proof = tree.consistency_proof(old, size) if old else []
    return f"old {old}\n" + "".join(f"{note.b64(h)}\n" for h in proof) + "\n" + signed_note


class Publisher:
    """Signs due checkpoints and publishes them (see the module's docstring)."""

    def __init__(
        self,
        settings: Settings,
        key: SM2PrivateKey,
        sessions: sessionmaker[Session],
        cache: ledger.TreeCache | None = None,
    ) -> None:
        self.folder = settings.data_dir / FOLDER
        self.name = settings.ledger_origin
        self.every = settings.ledger_checkpoint_every
        self.interval = settings.ledger_checkpoint_interval
        self.witnesses = parse_witnesses(settings.ledger_witnesses)
        self.key = key
        self.sessions = sessions
        self.cache = cache or ledger.TreeCache()
        self._witness_size: dict[str, int] = {}
        self._published = 0  # the largest size in the checkpoints file, read up to _read_to
        self._read_to = 0
        self._retry_at: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- signing ------------------------------------------------------------------------------

    def due(self, db: Session, *, force: bool = False) -> bool:
        size = ledger.committed_size(db)
        latest = ledger.latest_checkpoint(db)
        if latest is None:
            return size > 0
        grown = size - latest.tree_size
        if grown <= 0:
            return False
        age = utcnow() - as_utc(latest.created_at)
        return force or grown >= self.every or age >= timedelta(seconds=self.interval)

    def run_once(self, *, force: bool = False, wait: bool = False) -> LedgerCheckpoint | None:
        """Signs a checkpoint if one is due (``force``: if the ledger has grown at all), then
        publishes what is not published yet. Returns the checkpoint signed, if any. Without
        ``wait``, a checkpointer that finds another at work leaves it to it."""
        with flocked(self.folder.parent / LOCK, wait=wait) as held:
            if not held:
                return None
            signed = None
            with transaction(self.sessions) as db:
                if self.due(db, force=force):
                    signed = ledger.make_checkpoint(db, self.cache.synced(db), self.key, self.name)
            self.publish()
            return signed

    # --- publishing ---------------------------------------------------------------------------

    def publish(self) -> None:
        """Brings the leaves mirror and the checkpoints file up to the database's checkpoints,
        and pushes the newest to every witness that has not cosigned it. Call under the lock."""
        with self.sessions() as db:
            newest = ledger.latest_checkpoint(db)
            if newest is None:
                return
            tree = self.cache.synced(db)
            if tree.size < newest.tree_size:
                log.error(
                    "the ledger holds %d entries but was checkpointed at %d: not publishing",
                    tree.size,
                    newest.tree_size,
                )
                return
            self._mirror(tree, newest.tree_size)
            self._append_checkpoints(db)
            for witness in self.witnesses:
                self._push(db, tree, newest, witness)

    def _mirror(self, tree: MerkleTree, size: int) -> None:
        path = self.folder.parent / LEAVES
        try:
            have = path.stat().st_size
        except FileNotFoundError:
            have = 0
        if have % HASH_SIZE:  # a record torn by a crash: it was never whole, so never trusted
            with path.open("r+b") as handle:
                handle.truncate(have - have % HASH_SIZE)
                os.fsync(handle.fileno())
            have -= have % HASH_SIZE
        count = have // HASH_SIZE
        if count > size:
            log.error("the leaves mirror holds %d leaves, more than the ledger's %d", count, size)
            return
        if count < size:
            append(path, tree.leaf_hash_bytes(count, size))

    def _published_size(self) -> int:
        """The largest size in the checkpoints file. Read whole once, then only what other
        checkpointers appended since (records are appended whole, under the lock)."""
        path = self.folder.parent / CHECKPOINTS
        try:
            with path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size < self._read_to:  # replaced: read it anew
                    self._read_to = self._published = 0
                handle.seek(self._read_to)
                tail = handle.read()
        except FileNotFoundError:
            self._read_to = self._published = 0
            return 0
        if tail:
            records, _ = parse_published(tail.decode("utf-8", "replace"))
            sizes = [r.checkpoint.size for r in records]
            self._published = max([self._published, *sizes])
            self._read_to += len(tail)
        return self._published

    def _append_checkpoints(self, db: Session) -> None:
        last = self._published_size()
        rows = db.scalars(
            select(LedgerCheckpoint)
            .where(LedgerCheckpoint.tree_size > last)
            .order_by(LedgerCheckpoint.tree_size)
        )
        for cp in rows:
            if cp.note.startswith(f"{ledger.ORIGIN}\n"):
                continue  # signed before checkpoints were C2SP notes: there is no note to publish
            signed = ledger.signed_note(cp, self.key.public_key)
            append(self.folder.parent / CHECKPOINTS, (signed + "\n").encode())
        self._published_size()  # reads what was just appended

    def _cosigned_size(self, db: Session, witness: Witness) -> int:
        if witness.name not in self._witness_size:
            stored = db.scalar(
                select(func.max(LedgerCosignature.tree_size)).where(
                    LedgerCosignature.witness == witness.name
                )
            )
            self._witness_size[witness.name] = int(stored or 0)
        return self._witness_size[witness.name]

    def _push(self, db: Session, tree: MerkleTree, cp: LedgerCheckpoint, witness: Witness) -> None:
        if time.monotonic() < self._retry_at.get(witness.name, 0.0):
            return
        if cp.note.startswith(f"{ledger.ORIGIN}\n"):
            return
        signed = ledger.signed_note(cp, self.key.public_key)
        old = self._cosigned_size(db, witness)
        for _ in range(2):  # a 409 says where the witness is; the second try starts there
            if old == cp.tree_size:
                return
            if old > cp.tree_size:
                log.error(
                    "witness %s has cosigned %d entries, the ledger's newest checkpoint is %d: "
                    "entries may have been removed (run `shuhui audit verify`)",
                    witness.name,
                    old,
                    cp.tree_size,
                )
                break
            body = add_checkpoint_body(tree, old, signed, cp.tree_size)
            status, content_type, answer = _post(f"{witness.url}/add-checkpoint", body)
            if status == 200:
                self._store_cosignature(db, cp, signed, witness, answer)
                return
            if status == 409 and content_type.startswith("text/x.tlog.size"):
                try:
                    old = note.parse_size(answer.strip())
                except note.NoteError:
                    break
                self._witness_size[witness.name] = old
                continue
            log.warning(
                "witness %s refused checkpoint %d: %s %s",
                witness.name,
                cp.tree_size,
                status,
                answer[:200],
            )
            break
        self._retry_at[witness.name] = time.monotonic() + self.interval

    def _store_cosignature(
        self, db: Session, cp: LedgerCheckpoint, signed: str, witness: Witness, answer: str
    ) -> None:
        try:
            lines = note.parse_note(f"{cp.note}\n{answer}").signatures
        except note.NoteError:
            lines = ()
        for line in lines:
            stamp = witness.verifier.timestamp(cp.note, line)
            if stamp is None:
                continue
            with transaction(self.sessions) as writer:
                if writer.get(LedgerCosignature, (cp.tree_size, witness.name)) is None:
                    writer.add(
                        LedgerCosignature(
                            tree_size=cp.tree_size,
                            witness=witness.name,
                            key_id=line.key_id.hex(),
                            line=line.line(),
                            cosigned_at=_from_timestamp(stamp),
                        )
                    )
            append(self.folder.parent / CHECKPOINTS, (signed + line.line() + "\n").encode())
            self._witness_size[witness.name] = cp.tree_size
            self._retry_at.pop(witness.name, None)
            return
        log.warning("witness %s answered without a valid cosignature", witness.name)
        self._retry_at[witness.name] = time.monotonic() + self.interval

    # --- in the server ------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Checks every second (or half the interval, if shorter) until :meth:`stop`."""
        tick = min(1.0, self.interval / 2)

        def run() -> None:
            while not self._stop.wait(tick):
                try:
                    self.run_once()
                except Exception:  # a missed tick is made up by the next
                    log.exception("ledger checkpoint failed")

        self._thread = threading.Thread(target=run, name="ledger-checkpoints", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The web app's lifespan: a checkpoint at start-up if one is due (so there is one to read),
    then the checkpointer's thread until the app stops."""
    state = app.state
    publisher = Publisher(
        state.settings, state.ledger_key, state.session_factory, state.ledger_tree
    )
    try:
        await asyncio.to_thread(publisher.run_once)
    except Exception:  # the thread tries again; the app serves meanwhile
        log.exception("ledger checkpoint at start-up failed")
    publisher.start()
    try:
        yield
    finally:
        await asyncio.to_thread(publisher.stop)


def _from_timestamp(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def _post(url: str, body: str) -> tuple[int, str, str]:
    """(status, content type, body) of a POST; status 0 when the witness cannot be reached."""
    request = urllib.request.Request(  # noqa: S310 (an operator's configured http(s) URL)
        url, data=body.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    try:
        with urllib.request.urlopen(request, timeout=PUSH_TIMEOUT) as answer:  # noqa: S310
            return answer.status, answer.headers.get("Content-Type", ""), _text(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type", ""), _text(refused.read())
    except (OSError, ValueError) as exc:  # down, refused, timed out, a bad URL
        return 0, "", str(exc)


def _text(data: bytes) -> str:
    return data[:65536].decode("utf-8", "replace")
