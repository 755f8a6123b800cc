"""The audit ledger: an append-only, tamper-evident record of who did what to whom, and why.

Every module writes through :func:`record`, or :func:`record_many` for a batch (one code path).
Entries are RFC 8785 canonical JSON, hashed into an RFC 6962/9162 Merkle tree (SM3 by default);
checkpoints sign the tree's root with the platform's SM2 key, and anyone holding entries, proofs
and checkpoints can recompute and check them.
"""

from __future__ import annotations

import base64
import json
import json.encoder
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import NullType

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.db import execute_or_defer
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.crypto import note
from shuhui.trust.crypto.canonical import MAX_SAFE_INTEGER, JsonValue, canonical_json
from shuhui.trust.crypto.merkle import HashAlgorithm, MerkleTree, leaf_hashes
from shuhui.trust.crypto.sm import SM2PrivateKey, SM2PublicKey, verify
from shuhui.trust.ledger.models import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerHead,
)

ORIGIN = "shuhui audit ledger"  # the first line of checkpoints signed before the C2SP form
DEFAULT_NAME = "shuhui.local/audit-ledger"  # SHUHUI_LEDGER_ORIGIN; the origin adds "/<hash>"
MAX_PAGE = 1000
# The tables, for Core statements that need no ORM objects (bulk insert, verification).
ENTRIES = cast(Table, LedgerEntry.__table__)
HEAD = cast(Table, LedgerHead.__table__)
# Built once, on the table: an ORM-enabled UPDATE goes through the ORM's bulk-update path.
BUMP_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == 1)
    .values(size=HEAD.c.size + bindparam("n"))
    .returning(HEAD.c.size, HEAD.c.algorithm)
)
HEAD_KEY = identity_key(LedgerHead, 1)
# Inline: no RETURNING of the key, which a single row would ask for (the seq is given), so the
# INSERT may go in a pipeline with the commit (shuhui.core.db.transaction with defer).
INSERT_ENTRIES = insert(ENTRIES).inline()
# The string escaper of RFC 8785 as canonical_json applies it (CPython's C JSON string encoder).
_quote = json.encoder.encode_basestring


@dataclass(frozen=True, slots=True)
class Entry:
    """What one ledger entry says: who did what, to whom, why, under which grant, and details.

    ``seq`` and ``at`` are added when it is recorded; ``detail`` must be ledger JSON (no floats).
    """

    actor: str
    action: str
    subject: str | None = None
    purpose: str | None = None
    grant: str | None = None
    detail: dict[str, JsonValue] | None = None


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
    (row,) = _append(db, [Entry(actor, action, subject, purpose, grant, detail)])
    # The row is inserted already: the entry comes back detached, as if loaded, so that adding it
    # to a session would not insert it twice.
    entry = LedgerEntry(**row)
    make_transient_to_detached(entry)
    return entry


def record_many(db: Session, items: Sequence[Entry]) -> range:
    """Appends entries in order in the caller's transaction; returns their seqs.

    The same entries as ``record`` called once per item, with one bump of the head (which takes
    the writers' lock once) and one bulk INSERT. An empty batch touches nothing. The INSERT
    waits for the commit in a transaction that defers its writes
    (:func:`shuhui.core.db.transaction`): the head's lock is then held for the hashing and the
    commit's round trip only.
    """
    rows = _append(db, items)
    return range(rows[0]["seq"], rows[-1]["seq"] + 1) if rows else range(0)


def _append(db: Session, items: Sequence[Entry]) -> list[dict[str, Any]]:
    """The one way entries are written: bump the head by N, encode, hash, bulk-insert.

    Returns the inserted rows. The head is bumped first, so each entry's ``at`` is taken once the
    writers' lock is held and never runs backwards along the seqs. A value that is not ledger JSON
    raises after the bump; like any failed write, the caller's transaction must then roll back.
    """
    if not items:
        return []
    n = len(items)
    bumped = db.execute(BUMP_HEAD, {"n": n}).one()
    loaded = db.identity_map.get(HEAD_KEY)
    if loaded is not None:  # a head loaded in this session no longer knows its size
        db.expire(loaded, ["size"])
    first, algorithm = int(bumped[0]) - n, cast(HashAlgorithm, bumped[1])
    rows: list[dict[str, Any]] = []
    for seq, item in enumerate(items, first):
        at = utcnow()
        rows.append(
            {
                "seq": seq,
                "recorded_at": at,
                "actor": item.actor,
                "action": item.action,
                "subject": item.subject,
                "purpose": item.purpose,
                "grant": item.grant,
                "leaf": entry_bytes(seq, at.isoformat(timespec="microseconds"), item),
            }
        )
    hashes = leaf_hashes(algorithm, [row["leaf"] for row in rows])
    for row, hashed in zip(rows, hashes, strict=True):
        row["leaf_hash"] = hashed
    # Core executemany on the table: one statement for the batch, no ORM unit of work per row.
    execute_or_defer(db, INSERT_ENTRIES, rows)
    return rows


def entry_body(seq: int, at: str, item: Entry) -> dict[str, JsonValue]:
    """The JSON object a ledger entry is: what ``item`` says, with its seq and time."""
    return {
        "seq": seq,
        "at": at,
        "actor": item.actor,
        "action": item.action,
        "subject": item.subject,
        "purpose": item.purpose,
        "grant": item.grant,
        "detail": item.detail or {},
    }


def entry_bytes(seq: int, at: str, item: Entry) -> bytes:
    """``canonical_json(entry_body(seq, at, item))``, byte for byte, in about half the time.

    The members of an entry are fixed, so their RFC 8785 order is too (names sorted by UTF-16
    code units): action, actor, at, detail, grant, purpose, seq, subject. When every field has
    the plain type it is declared with, the object is written out directly, each string escaped
    by the same C function ``canonical_json`` uses and ``detail`` encoded by ``canonical_json``
    itself. Anything else (an enum, a Mapping that is not a dict, a lone surrogate...) goes the
    general way, which encodes it or raises as ``canonical_json`` does.
    """
    actor, action, subject, purpose, grant = (
        item.actor, item.action, item.subject, item.purpose, item.grant
    )  # fmt: skip
    detail = item.detail
    if (
        type(actor) is str
        and type(action) is str
        and (subject is None or type(subject) is str)
        and (purpose is None or type(purpose) is str)
        and (grant is None or type(grant) is str)
        and (detail is None or type(detail) is dict)
        and type(seq) is int
        and 0 <= seq <= MAX_SAFE_INTEGER
        and type(at) is str
    ):
        try:
            head = (
                f'{{"action":{_quote(action)},"actor":{_quote(actor)},"at":{_quote(at)},"detail":'
            ).encode()
            tail = (
                f',"grant":{_json_str(grant)},"purpose":{_json_str(purpose)},"seq":{seq},'
                f'"subject":{_json_str(subject)}}}'
            ).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: canonical_json says so
        else:
            return head + (canonical_json(detail) if detail else b"{}") + tail
    return canonical_json(entry_body(seq, at, item))


def _json_str(value: str | None) -> str:
    return "null" if value is None else _quote(value)


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


def head(db: Session) -> tuple[int, HashAlgorithm]:
    """The ledger's size and hash, in one read (a proof request makes it before anything else)."""
    size, algorithm = db.execute(select(HEAD.c.size, HEAD.c.algorithm).where(HEAD.c.id == 1)).one()
    return int(size), cast(HashAlgorithm, algorithm)


class TreeCache:
    """The Merkle tree of the committed entries, kept in memory and extended as the log grows."""

    def __init__(self) -> None:
        self._tree: MerkleTree | None = None
        self._lock = threading.Lock()

    def synced(self, db: Session) -> MerkleTree:
        with self._lock:
            size, algorithm = head(db)
            if self._tree is None or self._tree.alg != algorithm:
                self._tree = MerkleTree(algorithm)
            tree = self._tree
            if tree.size < size:
                hashes = db.scalars(
                    select(LedgerEntry.leaf_hash)
                    .where(LedgerEntry.seq >= tree.size, LedgerEntry.seq < size)
                    .order_by(LedgerEntry.seq)
                )
                tree.extend(list(hashes))
            return tree


def checkpoint_note(size: int, root: bytes, algorithm: str) -> str:
    """The text checkpoints were signed over before they took the C2SP form (still verified)."""
    return f"{ORIGIN}\n{algorithm}\n{size}\n{base64.b64encode(root).decode()}\n"


def origin(name: str, algorithm: str) -> str:
    """The log's C2SP origin line: the configured name and the hash, which a root means nothing
    without (``shuhui.local/audit-ledger/sm3``)."""
    return f"{name}/{algorithm}"


def signed_note(
    cp: LedgerCheckpoint, public: SM2PublicKey, cosignatures: Sequence[str] = ()
) -> str:
    """The checkpoint as a C2SP signed note: its text, the platform's SM2 signature line, and the
    witnesses' cosignature lines. A checkpoint signed before the C2SP form has no such note."""
    text = cp.note
    signer = note.SM2Verifier(note.parse_checkpoint(text).origin, public)
    line = note.Signature(signer.name, signer.key_id, cp.signature).line()
    return text + "\n" + line + "".join(cosignatures)


def cosignatures(db: Session, cp: LedgerCheckpoint) -> list[str]:
    """The witnesses' cosignature lines of a checkpoint, by witness name."""
    return list(
        db.scalars(
            select(LedgerCosignature.line)
            .where(LedgerCosignature.tree_size == cp.tree_size)
            .order_by(LedgerCosignature.witness)
        )
    )


def latest_checkpoint(db: Session) -> LedgerCheckpoint | None:
    return db.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()))


def unchecked_size(db: Session) -> int:
    """Entries recorded since the latest signed checkpoint (all of them if there is none)."""
    latest = latest_checkpoint(db)
    return max(0, committed_size(db) - (latest.tree_size if latest else 0))


def newest_entries(db: Session, page: int, per_page: int) -> list[LedgerEntry]:
    """Page ``page`` (from 1) of the entries, newest first, ``per_page`` to a page.

    Read by seq range, which the primary key serves directly, not by OFFSET over the whole log.
    """
    end = committed_size(db) - (page - 1) * per_page
    if page < 1 or per_page < 1 or end <= 0:
        return []
    return entries(db, max(0, end - per_page), end)[::-1]


def checkpoint_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(LedgerCheckpoint)) or 0)


def make_checkpoint(
    db: Session, tree: MerkleTree, key: SM2PrivateKey, name: str = DEFAULT_NAME
) -> LedgerCheckpoint:
    """The latest signed tree head, signing a new one if the tree has grown since.

    The signed text is a C2SP checkpoint (``<name>/<hash>``, size, base64 root). Only the
    platform's checkpointer (``ledger.publish``) and the admin's button call it; two callers
    signing the same size store one checkpoint (the size is the key), and the other's signature is
    dropped unstored and unpublished.
    """
    latest = latest_checkpoint(db)
    if latest is not None and latest.tree_size == tree.size:
        return latest
    root = tree.root()
    text = note.Checkpoint(origin(name, tree.alg), tree.size, root).text()
    signed = LedgerCheckpoint(
        tree_size=tree.size,
        root_hash=root,
        algorithm=tree.alg,
        created_at=utcnow(),
        note=text,
        signature=key.sign(text.encode()),
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
    if checkpoint.note.startswith(f"{ORIGIN}\n"):
        expected = checkpoint_note(checkpoint.tree_size, checkpoint.root_hash, checkpoint.algorithm)
        if checkpoint.note != expected:
            return "signed text does not match its size and root"
    else:
        try:
            stated = note.parse_checkpoint(checkpoint.note)
        except note.NoteError:
            return "signed text does not match its size and root"
        if (stated.size, stated.root) != (checkpoint.tree_size, checkpoint.root_hash) or (
            not stated.origin.endswith(f"/{checkpoint.algorithm}")
        ):
            return "signed text does not match its size and root"
    if not verify(public, checkpoint.note.encode(), checkpoint.signature):
        return "signature does not verify"
    return None


def entries(db: Session, start: int, end: int) -> list[LedgerEntry]:
    if start < 0 or end < start:
        raise Problem(
            "validation",
            errors=[
                FieldError("start", Text("起止序号应满足 0 ≤ 起 ≤ 止", "need 0 <= start <= end"))
            ],
        )
    if end - start > MAX_PAGE:
        raise Problem(
            "validation",
            errors=[
                FieldError("end", Text(f"一次最多 {MAX_PAGE} 条", f"at most {MAX_PAGE} entries"))
            ],
        )
    return list(
        db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.seq >= start, LedgerEntry.seq < end)
            .order_by(LedgerEntry.seq)
        )
    )


def check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    name, Text(f"应在 {low} 到 {high} 之间", f"must be between {low} and {high}")
                )
            ],
        )


@dataclass(frozen=True)
class Finding:
    seq: int | None
    problem: str


def verify_ledger(
    db: Session,
    public: SM2PublicKey,
    batch: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
    tree: MerkleTree | None = None,
    signed: dict[int, LedgerCheckpoint] | None = None,
) -> Iterator[Finding]:
    """Recomputes everything from the stored bytes; yields what does not hold, first first.

    For each stored entry: its leaf hash is recomputed from its bytes and compared with the stored
    one, the bytes must be canonical JSON of an object, and the queryable columns must equal the
    hashed fields. Missing seqs are named, the tree is rebuilt from the recomputed hashes, and every
    checkpoint must be signed by ``public`` over the root of that many entries. Rows are read as
    plain tuples, ``batch`` seqs at a time; ``progress`` is told (entries read, entries) after
    each batch (a command's progress bar). An empty ``tree`` passed in is the tree rebuilt from
    the stored bytes when the iteration ends (``ledger.audit`` checks more roots against it), and
    ``signed`` gets every checkpoint whose signature verified, by size.
    """
    algorithm = algorithm_of(db)
    size = committed_size(db)
    if tree is None or tree.size or tree.alg != algorithm:
        tree = MerkleTree(algorithm)
    c = ENTRIES.c
    # The time column is read as the driver returns it (text on SQLite, a datetime on
    # PostgreSQL) and turned into the entry's form without a datetime per row where possible.
    query = select(
        c.seq,
        type_coerce(c.recorded_at, NullType()),
        c.actor,
        c.action,
        c.subject,
        c.purpose,
        c.grant,
        c.leaf,
        c.leaf_hash,
    ).order_by(c.seq)
    expected_seq = 0
    for start in range(0, size, batch):
        rows = db.execute(query.where(c.seq >= start, c.seq < start + batch)).all()
        # The tree is rebuilt from the stored bytes, not from the stored hashes.
        hashes = leaf_hashes(algorithm, [bytes(row[7]) for row in rows])
        for row, recomputed in zip(rows, hashes, strict=True):
            seq, raw_at, actor, action, subject, purpose, grant, leaf, stored_hash = row
            if seq != expected_seq:
                yield Finding(expected_seq, "entry missing")
                expected_seq = seq
            expected_seq += 1
            if recomputed != stored_hash:
                yield Finding(seq, "stored bytes do not match the stored leaf hash")
                continue
            body, problem = _parse_entry(bytes(leaf))
            if body is None:
                yield Finding(seq, problem)
                continue
            columns = (seq, _at_text(raw_at), actor, action, subject, purpose, grant)
            if tuple(map(body.get, _COLUMN_FIELDS)) != columns:
                differs = _column_problem(db, body, columns)
                if differs:
                    yield Finding(seq, differs)
        tree.extend(hashes)
        if progress is not None:
            progress(min(start + batch, size), size)
    if tree.size != size:
        yield Finding(tree.size, f"ledger claims {size} entries, {tree.size} are stored")
    for cp in db.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)):
        reason = checkpoint_valid(cp, public)
        if reason:
            yield Finding(None, f"checkpoint at size {cp.tree_size}: {reason}")
            continue
        if signed is not None:
            signed[cp.tree_size] = cp
        if cp.tree_size > tree.size:
            yield Finding(None, f"checkpoint at size {cp.tree_size} is beyond the stored log")
        elif cp.algorithm != algorithm or tree.root(cp.tree_size) != cp.root_hash:
            yield Finding(None, f"checkpoint at size {cp.tree_size}: root does not match entries")


# The fields of an entry that its columns repeat, in the order verification reports them.
_COLUMN_FIELDS = ("seq", "at", "actor", "action", "subject", "purpose", "grant")


def _at_text(raw: object) -> str | None:
    """The column's time as the entry writes it (UTC, microseconds), or None to ask the database.

    SQLAlchemy stores a time on SQLite as the text ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC), which is
    the entry's ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` with two edits; PostgreSQL's driver returns
    an aware datetime. Anything else is read again through the column's type (``_column_problem``).
    """
    if type(raw) is str:
        if len(raw) == 26 and raw[10] == " ":
            return f"{raw[:10]}T{raw[11:]}+00:00"
        return None
    if isinstance(raw, datetime) and raw.tzinfo is not None:
        return as_utc(raw).isoformat(timespec="microseconds")
    return None


def _column_problem(db: Session, body: dict[str, Any], columns: tuple[object, ...]) -> str | None:
    """Which column differs from the hashed entry, if any, in the order of ``_COLUMN_FIELDS``."""
    for name, value in zip(_COLUMN_FIELDS, columns, strict=True):
        if name == "at":
            # Read the time through its column type, as the ORM would, and compare it the way
            # record() wrote it.
            recorded = db.scalar(select(ENTRIES.c.recorded_at).where(ENTRIES.c.seq == columns[0]))
            value = None if recorded is None else recorded.isoformat(timespec="microseconds")
        if body.get(name) != value:
            return f"column {name} differs from the hashed entry"
    return None


class _NotCanonical(Exception):
    """Raised while decoding a value RFC 8785 as the ledger uses it cannot hold."""


def _refuse(_text: str) -> Any:
    raise _NotCanonical


def _safe_int(text: str) -> int:
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _NotCanonical
    return value


# Floats, NaN/Infinity and integers beyond ±(2**53 - 1) make canonical_json raise; decoding with
# these hooks refuses them, so that what decodes is exactly what canonical_json accepts.
_strict_decoder = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse, parse_int=_safe_int)
# The standard library's C encoder, set up to write what canonical_json writes (see _parse_entry).
_sorted_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# The bytes that start a 4-byte UTF-8 sequence: a character beyond U+FFFF (see _parse_entry).
_ABOVE_BMP = re.compile(rb"[\xf0-\xf4]")


def _parse_entry(leaf: bytes) -> tuple[dict[str, Any], str] | tuple[None, str]:
    """The entry in ``leaf`` if the bytes are the canonical JSON of an object; else the problem.

    The verdicts of ``canonical_json(json.loads(leaf)) == leaf``. Bytes that the quick check
    below accepts are canonical; everything else takes that very test (``_slow_parse``), so that
    problems are named as they always were. The quick check decodes with hooks refusing what
    canonical_json refuses (floats, unsafe integers), then re-encodes with the C encoder, which
    writes exactly what canonical_json writes for such values, except that it sorts names by code
    point where RFC 8785 sorts by UTF-16 code units. The orders differ only for characters beyond
    U+FFFF, so bytes holding one are re-encoded by canonical_json itself.
    """
    if leaf[:1] != b"{":
        return _slow_parse(leaf)
    try:
        text = leaf.decode()  # strict UTF-8, unlike json.loads: odd bytes take the slow path
        body, end = _strict_decoder.raw_decode(text)
        if end != len(text) or type(body) is not dict:
            return _slow_parse(leaf)
        if leaf.isascii() or _ABOVE_BMP.search(leaf) is None:
            encoded = _sorted_encoder.encode(body).encode()
        else:
            encoded = canonical_json(body)
    except (ValueError, _NotCanonical):  # UnicodeError is a ValueError
        return _slow_parse(leaf)
    return (body, "") if encoded == leaf else _slow_parse(leaf)


def _slow_parse(leaf: bytes) -> tuple[dict[str, Any], str] | tuple[None, str]:
    try:
        body = json.loads(leaf)
    except ValueError:
        return None, "stored bytes are not JSON"
    try:
        canonical = canonical_json(body) == leaf
    except (TypeError, ValueError):  # floats, unsafe integers, lone surrogates
        canonical = False
    if not canonical:
        return None, "stored bytes are not canonical"
    if type(body) is not dict:
        return None, "stored bytes are not a JSON object"
    return body, ""
