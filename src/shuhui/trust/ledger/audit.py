"""``shuhui audit verify``: the ledger checked against what was published outside its database.

:func:`audit` runs ``service.verify_ledger`` (every entry recomputed, the tree rebuilt from the
stored bytes, every checkpoint in the database checked), then holds that tree against the
checkpoints no database write can reach:

- ``<data dir>/ledger/checkpoints.log``: each record must be a C2SP note signed by the platform's
  key, sizes never going back, one root per size; every size there must still be a checkpoint in
  the database with the same root;
- each witness given (its state file or folder, or its URL): the checkpoint it cosigned.

A trusted checkpoint (size n, root r) larger than the stored ledger means entries were deleted
(named: the first missing one). One whose root the entries no longer give means an entry before n
was rewritten, even if its leaf hash and every checkpoint in the database were recomputed to
match. To name that entry, the leaves mirror (``ledger/leaves.bin``, the leaf hashes as they were
checkpointed) is built into a tree; if it gives r it is authentic, and the two trees are compared
from the root down, descending into the leftmost differing subtree: O(log n) subtree hashes to the
first altered leaf. Without an authentic mirror the entry is bounded by the checkpoints: after the
largest one that still matches, before n.

It also counts the entries no trusted checkpoint covers yet. Everything here costs nothing more
than the entries' own check while nothing differs; the mirror is read only to name an entry.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.trust.crypto import note
from shuhui.trust.crypto.merkle import MerkleTree, subtree_root
from shuhui.trust.crypto.sm import SM2PublicKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.findings import finding_text
from shuhui.trust.ledger.models import LedgerCheckpoint
from shuhui.trust.ledger.publish import CHECKPOINTS, HASH_SIZE, LEAVES, read_published
from shuhui.trust.ledger.witness import STATE_FILE, origin_hash

FILE = "发布文件"
WITNESS = "见证方"
DATABASE = "数据库"


@dataclass(frozen=True)
class Issue:
    """A finding, in Chinese; ``seq`` names the entry it is about, when there is one."""

    seq: int | None
    text: str


@dataclass
class Report:
    size: int  # entries stored
    issues: list[Issue] = field(default_factory=list)
    checkpoints: dict[str, int] = field(default_factory=dict)  # by source: how many were read
    covered: int = 0  # the largest size a trusted checkpoint that matches covers
    notices: list[str] = field(default_factory=list)

    @property
    def uncovered(self) -> int:
        return max(0, self.size - self.covered)

    @property
    def first(self) -> Issue | None:
        named = [i for i in self.issues if i.seq is not None]
        if named:
            return min(named, key=lambda i: i.seq or 0)
        return self.issues[0] if self.issues else None


def audit(
    db: Session,
    public: SM2PublicKey,
    data_dir: Path,
    name: str,
    witnesses: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    algorithm = ledger.algorithm_of(db)
    tree = MerkleTree(algorithm)
    valid: dict[int, LedgerCheckpoint] = {}
    found = list(ledger.verify_ledger(db, public, progress=progress, tree=tree, signed=valid))
    report = Report(tree.size)
    report.issues += [Issue(f.seq, str(finding_text(f))) for f in found]
    signer = note.SM2Verifier(ledger.origin(name, algorithm), public)
    trusted: list[tuple[str, int, bytes]] = []

    database = {cp.tree_size: cp for cp in db.scalars(select(LedgerCheckpoint))}
    report.checkpoints[DATABASE] = len(database)
    for cp in valid.values():
        trusted.append((DATABASE, cp.tree_size, cp.root_hash))
    # An SM2 verification costs 2 ms: a note whose text and signature are those of a checkpoint
    # already verified in the database, or of a record before it, is not verified again.
    verified = {(cp.note, bytes(cp.signature)) for cp in valid.values()}

    published = _published(report, data_dir / CHECKPOINTS, signer, verified)
    for size, root in sorted(published.items()):
        trusted.append((FILE, size, root))
        stored = database.get(size)
        if stored is None:
            report.issues.append(
                Issue(
                    None, f"数据库中缺少覆盖前 {size} 条记录的检查点（{FILE}中有）：检查点被删除过"
                )
            )
        elif stored.root_hash != root:
            report.issues.append(
                Issue(
                    None,
                    f"数据库中覆盖前 {size} 条记录的检查点与{FILE}中的根哈希不同：检查点被替换过",
                )
            )

    for source in witnesses:
        witnessed = _witnessed(report, source, signer)
        if witnessed is not None:
            trusted.append((WITNESS, *witnessed))
            report.checkpoints[WITNESS] = report.checkpoints.get(WITNESS, 0) + 1

    _compare(report, tree, trusted, data_dir / LEAVES)
    return report


def _published(
    report: Report, path: Path, signer: note.SM2Verifier, verified: set[tuple[str, bytes]]
) -> dict[int, bytes]:
    records, problems = read_published(path)
    report.checkpoints[FILE] = len(records)
    for line, why in problems:
        report.issues.append(Issue(None, f"{FILE}第 {line} 行起格式不对（{why}）：文件被改动过"))
    roots: dict[int, bytes] = {}
    last = 0
    for record in records:
        cp = record.checkpoint
        where = f"{FILE}第 {record.line} 行"
        signed = cp.origin == signer.name and any(
            _verified(signer, record.signed.text, s, verified) for s in record.signed.signatures
        )
        if not signed:
            report.issues.append(
                Issue(None, f"{where}的检查点没有本平台密钥的有效签名：文件被改动过")
            )
            continue
        if cp.size < last:
            report.issues.append(
                Issue(None, f"{where}的检查点（{cp.size} 条）比前面的小：文件被改写过")
            )
        if roots.setdefault(cp.size, cp.root) != cp.root:
            report.issues.append(
                Issue(None, f"{where}：覆盖前 {cp.size} 条记录的检查点出现了两个根哈希")
            )
        last = max(last, cp.size)
    return roots


def _verified(
    signer: note.SM2Verifier, text: str, signature: note.Signature, seen: set[tuple[str, bytes]]
) -> bool:
    if not signer.matches(signature):
        return False
    if (text, signature.signature) in seen:
        return True
    if signer.verifies(text, signature):
        seen.add((text, signature.signature))
        return True
    return False


def _witnessed(report: Report, source: str, signer: note.SM2Verifier) -> tuple[int, bytes] | None:
    """The checkpoint a witness cosigned for this ledger, read from its state or its URL."""
    try:
        if source.startswith(("http://", "https://")):
            url = f"{source.rstrip('/')}/{origin_hash(signer.name)}/checkpoint"
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (operator's URL)
                text = answer.read(65536).decode()
        else:
            path = Path(source)
            state = json.loads((path / STATE_FILE if path.is_dir() else path).read_text())
            text = str(state[signer.name]["checkpoint"])
        signed = note.parse_note(text)
        cp = note.parse_checkpoint(signed.text)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.notices.append(f"未能读取见证方 {source} 的检查点（{exc}）")
        return None
    if cp.origin != signer.name or not any(
        signer.verifies(signed.text, s) for s in signed.signatures
    ):
        report.issues.append(Issue(None, f"见证方 {source} 的检查点没有本平台密钥的有效签名"))
        return None
    return cp.size, cp.root


def _compare(
    report: Report, tree: MerkleTree, trusted: list[tuple[str, int, bytes]], mirror: Path
) -> None:
    stored = tree.size
    matching = [size for _, size, root in trusted if size <= stored and tree.root(size) == root]
    report.covered = max(matching, default=0)
    reported: set[str] = set()
    for source, size, root in sorted(trusted, key=lambda t: t[1]):
        if source in reported:
            continue  # one finding a source: its first checkpoint that does not hold
        if size > stored:
            reported.add(source)
            report.issues.append(
                Issue(
                    stored,
                    f"{source}的检查点覆盖前 {size} 条记录，账本现只存有 {stored} 条："
                    f"第 {stored} 条起的记录被删除了",
                )
            )
        elif tree.root(size) != root:
            reported.add(source)
            seq, exact = name_altered(tree, size, root, mirror, matching)
            where = (
                f"第 {seq} 条记录被改写过（与留存的叶哈希逐层比对得出）"
                if exact
                else f"第 {seq} 至 {size - 1} 条记录之间有记录被改写过"
            )
            report.issues.append(
                Issue(seq, f"{source}的检查点（前 {size} 条）与现存记录算出的根哈希不同：{where}")
            )


def name_altered(
    tree: MerkleTree, size: int, root: bytes, mirror: Path, matching: Sequence[int]
) -> tuple[int, bool]:
    """The first entry below ``size`` whose leaf differs from the one checkpointed as ``root``:
    exact (True) with an authentic leaves mirror, else the start of the window the checkpoints
    that still match leave (False)."""
    try:
        with mirror.open("rb") as handle:
            packed = handle.read(size * HASH_SIZE)
    except FileNotFoundError:
        packed = b""
    if len(packed) == size * HASH_SIZE:
        original = MerkleTree(tree.alg)
        original.extend([packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)])
        if original.root(size) == root:
            start, end = 0, size
            while end - start > 1:
                mid = start + (1 << ((end - start - 1).bit_length() - 1))
                if subtree_root(tree, start, mid) != subtree_root(original, start, mid):
                    end = mid
                else:
                    start = mid
            return start, True
    return max((s for s in matching if s < size), default=0), False
