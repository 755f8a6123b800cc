"""The audit ledger: an append-only, tamper-evident record of who did what to whom, and why.

Every module writes through :func:`record`. Entries are RFC 8785 canonical JSON, hashed into an
RFC 6962/9162 Merkle tree (SM3 by default); checkpoints sign the tree's root with the platform's
SM2 key, and anyone holding entries, proofs and checkpoints can recompute and check them.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.trust.canonical import JsonValue, canonical_json
from shuhui.trust.merkle import HashAlgorithm, MerkleTree, leaf_hash
from shuhui.trust.models import LedgerCheckpoint, LedgerEntry, LedgerHead
from shuhui.trust.sm import SM2PrivateKey, SM2PublicKey, verify

ORIGIN = "shuhui audit ledger"
MAX_PAGE = 1000


def record(
    db: Session,
    actor: str,
    action: str,
    subject: str | None = None,
    purpose: str | None = None,
    grant: str | None = None,
    detail: dict[str, JsonValue] | None = None,
) -> LedgerEntry:
    """Appends one entry in the caller's transaction: it exists exactly if the act does."""
    bumped = db.execute(
        update(LedgerHead)
        .where(LedgerHead.id == 1)
        .values(size=LedgerHead.size + 1)
        .returning(LedgerHead.size, LedgerHead.algorithm)
    ).one()
    seq, algorithm = int(bumped[0]) - 1, cast(HashAlgorithm, bumped[1])
    at = utcnow()
    body: dict[str, JsonValue] = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "purpose": purpose,
        "grant": grant,
        "detail": detail or {},
    }
    leaf = canonical_json(body)
    entry = LedgerEntry(
        seq=seq,
        recorded_at=at,
        actor=actor,
        action=action,
        subject=subject,
        purpose=purpose,
        grant=grant,
        leaf=leaf,
        leaf_hash=leaf_hash(algorithm, leaf),
    )
    db.add(entry)
    db.flush()
    return entry


def ensure_algorithm(db: Session, algorithm: HashAlgorithm) -> None:
    """Sets the ledger's hash while it is empty; afterwards a different one is an error."""
    head = db.get(LedgerHead, 1)
    assert head is not None, "the ledger head row is created by migration 0002"
    if head.algorithm == algorithm:
        return
    if head.size:
        raise ValueError(
            f"the audit ledger already holds {head.size} entries hashed with {head.algorithm}; "
            f"its hash cannot change to {algorithm}"
        )
    head.algorithm = algorithm
    db.flush()


def algorithm_of(db: Session) -> HashAlgorithm:
    return cast(HashAlgorithm, db.scalar(select(LedgerHead.algorithm).where(LedgerHead.id == 1)))


def committed_size(db: Session) -> int:
    return int(db.scalar(select(LedgerHead.size).where(LedgerHead.id == 1)) or 0)


class TreeCache:
    """The Merkle tree of the committed entries, kept in memory and extended as the log grows."""

    def __init__(self) -> None:
        self._tree: MerkleTree | None = None
        self._lock = threading.Lock()

    def synced(self, db: Session) -> MerkleTree:
        with self._lock:
            algorithm = algorithm_of(db)
            if self._tree is None or self._tree.alg != algorithm:
                self._tree = MerkleTree(algorithm)
            tree = self._tree
            size = committed_size(db)
            if tree.size < size:
                hashes = db.scalars(
                    select(LedgerEntry.leaf_hash)
                    .where(LedgerEntry.seq >= tree.size, LedgerEntry.seq < size)
                    .order_by(LedgerEntry.seq)
                )
                tree.extend(list(hashes))
            return tree


def checkpoint_note(size: int, root: bytes, algorithm: str) -> str:
    # The signed text names what it commits to, so a signature cannot be replayed elsewhere.
    return f"{ORIGIN}\n{algorithm}\n{size}\n{base64.b64encode(root).decode()}\n"


def latest_checkpoint(db: Session) -> LedgerCheckpoint | None:
    return db.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()))


def make_checkpoint(db: Session, tree: MerkleTree, key: SM2PrivateKey) -> LedgerCheckpoint:
    """The latest signed tree head, signing a new one if the tree has grown since."""
    latest = latest_checkpoint(db)
    if latest is not None and latest.tree_size == tree.size:
        return latest
    root = tree.root()
    note = checkpoint_note(tree.size, root, tree.alg)
    signed = LedgerCheckpoint(
        tree_size=tree.size,
        root_hash=root,
        algorithm=tree.alg,
        created_at=utcnow(),
        note=note,
        signature=key.sign(note.encode()),
        key_id=key.public_key.fingerprint(),
    )
    try:
        # Two requests may sign the same size at once; the first one stored is the checkpoint.
        with db.begin_nested():
            db.add(signed)
    except IntegrityError:
        stored = db.get(LedgerCheckpoint, tree.size)
        assert stored is not None
        return stored
    return signed


def checkpoint_valid(checkpoint: LedgerCheckpoint, public: SM2PublicKey) -> str | None:
    """None if the checkpoint is signed by ``public`` over what it claims; else why not."""
    if checkpoint.key_id != public.fingerprint():
        return "signed by a key other than the platform key"
    expected = checkpoint_note(checkpoint.tree_size, checkpoint.root_hash, checkpoint.algorithm)
    if checkpoint.note != expected:
        return "signed text does not match its size and root"
    if not verify(public, checkpoint.note.encode(), checkpoint.signature):
        return "signature does not verify"
    return None


def entries(db: Session, start: int, end: int) -> list[LedgerEntry]:
    if start < 0 or end < start:
        raise Problem("validation", errors=[FieldError("start", "need 0 <= start <= end")])
    if end - start > MAX_PAGE:
        raise Problem("validation", errors=[FieldError("end", f"at most {MAX_PAGE} entries")])
    return list(
        db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.seq >= start, LedgerEntry.seq < end)
            .order_by(LedgerEntry.seq)
        )
    )


def check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise Problem("validation", errors=[FieldError(name, f"must be between {low} and {high}")])


@dataclass(frozen=True)
class Finding:
    seq: int | None
    problem: str


def verify_ledger(db: Session, public: SM2PublicKey, batch: int = 50_000) -> Iterator[Finding]:
    """Recomputes everything from the stored bytes; yields what does not hold, first first."""
    algorithm = algorithm_of(db)
    size = committed_size(db)
    tree = MerkleTree(algorithm)
    expected_seq = 0
    for start in range(0, size, batch):
        rows: Sequence[LedgerEntry] = db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.seq >= start, LedgerEntry.seq < start + batch)
            .order_by(LedgerEntry.seq)
        ).all()
        for row in rows:
            if row.seq != expected_seq:
                yield Finding(expected_seq, "entry missing")
                expected_seq = row.seq
            problem = _entry_problem(row, algorithm)
            if problem:
                yield Finding(row.seq, problem)
            # The tree is rebuilt from the stored bytes, not from the stored hashes.
            tree.append(leaf_hash(algorithm, row.leaf))
            expected_seq += 1
        db.expunge_all()
    if tree.size != size:
        yield Finding(tree.size, f"ledger claims {size} entries, {tree.size} are stored")
    for cp in db.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)):
        reason = checkpoint_valid(cp, public)
        if reason:
            yield Finding(None, f"checkpoint at size {cp.tree_size}: {reason}")
        elif cp.tree_size > tree.size:
            yield Finding(None, f"checkpoint at size {cp.tree_size} is beyond the stored log")
        elif cp.algorithm != algorithm or tree.root(cp.tree_size) != cp.root_hash:
            yield Finding(None, f"checkpoint at size {cp.tree_size}: root does not match entries")


def _entry_problem(row: LedgerEntry, algorithm: HashAlgorithm) -> str | None:
    if leaf_hash(algorithm, row.leaf) != row.leaf_hash:
        return "stored bytes do not match the stored leaf hash"
    try:
        body: dict[str, Any] = json.loads(row.leaf)
    except ValueError:
        return "stored bytes are not JSON"
    if canonical_json(body) != row.leaf:
        return "stored bytes are not canonical"
    recorded: datetime = row.recorded_at
    columns = {
        "seq": row.seq,
        "at": recorded.isoformat(timespec="microseconds"),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "purpose": row.purpose,
        "grant": row.grant,
    }
    for name, value in columns.items():
        if body.get(name) != value:
            return f"column {name} differs from the hashed entry"
    return None
