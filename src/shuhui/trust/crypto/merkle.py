"""Merkle tree hashing for the audit ledger, as in RFC 6962 / RFC 9162 §2.1.

The pure algorithmic core of a tamper-evident, append-only log: leaf and node hashes with domain
separation, the Merkle Tree Hash (MTH) of any prefix of the log, inclusion proofs (PATH) and
consistency proofs (PROOF/SUBPROOF), and their verifiers. Storage and the API are layered on top.

Hashes are SM3 (GB/T 32905) by default, SHA-256 on request; both give 32-byte digests. A ledger
must record which algorithm it uses: the same entries give different roots under each.

Terms, as in the RFC: a tree of ``size`` n holds the leaf hashes of entries 0..n-1;
``root(size)`` is MTH(D[0:size]). Proof elements are ordered from the leaf up, as on the wire.

Node numbering, for a store that keeps interior nodes: ``node(level, index)`` is the hash of the
complete subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf
hashes. A tree of size n has ``n >> level`` nodes at each level, so growing it from size a to
size b adds the nodes ``(level, i)`` for ``a >> level <= i < b >> level`` (see ``nodes_added``).
Every hash the proofs need is either such a node or is computed from O(log n) of them, so proof
generation works against anything that can answer ``node(level, index)`` (``NodeSource``).
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Final, Literal, Protocol, get_args

if TYPE_CHECKING:
    from _hashlib import HASH

__all__ = [
    "DEFAULT_ALGORITHM",
    "HashAlgorithm",
    "HashUnavailableError",
    "MerkleTree",
    "NodeSource",
    "consistency_proof",
    "digest_size",
    "empty_root",
    "hasher",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "root",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HashAlgorithm = Literal["sm3", "sha256"]
DEFAULT_ALGORITHM: Final[HashAlgorithm] = "sm3"
_ALGORITHMS: Final[tuple[str, ...]] = get_args(HashAlgorithm)

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"


class HashUnavailableError(RuntimeError):
    """The hash algorithm is not provided by this Python's OpenSSL."""


# hashlib has no constructor of its own for SM3, and hashlib.new("sm3", ...) looks the digest up in
# OpenSSL on every call (about 2 µs of its 3). Copying a context made once is far cheaper, and a
# context that has already absorbed the 0x00 / 0x01 domain prefix also saves a concatenation.
_prototypes: dict[tuple[str, bytes], HASH] = {}


def _prototype(alg: str, prefix: bytes = b"") -> HASH:
    key = (alg, prefix)
    proto = _prototypes.get(key)
    if proto is None:
        if alg not in _ALGORITHMS:
            raise ValueError(f"unknown hash algorithm {alg!r}; expected one of {_ALGORITHMS}")
        try:
            proto = hashlib.new(alg, prefix)
        except ValueError as exc:  # "unsupported hash type"
            raise HashUnavailableError(
                f"{alg.upper()} is not available from this Python's OpenSSL "
                f"({ssl.OPENSSL_VERSION}). "
                "SM3 needs OpenSSL 1.1.1 or later with its default provider loaded; "
                "choose 'sha256' or install such an OpenSSL."
            ) from exc
        _prototypes[key] = proto
    return proto


def hasher(alg: HashAlgorithm = DEFAULT_ALGORITHM) -> Callable[[bytes], bytes]:
    """The plain hash function H for ``alg`` (no domain prefix)."""
    copy = _prototype(alg).copy

    def digest(data: bytes) -> bytes:
        h = copy()
        h.update(data)
        return h.digest()

    return digest


def digest_size(alg: HashAlgorithm = DEFAULT_ALGORITHM) -> int:
    return _prototype(alg).digest_size


def empty_root(alg: HashAlgorithm = DEFAULT_ALGORITHM) -> bytes:
    """MTH({}) = H(""), the root of the tree of size 0."""
    return _prototype(alg).copy().digest()


def leaf_hash(alg: HashAlgorithm, entry: bytes) -> bytes:
    """H(0x00 ‖ entry)."""
    h = _prototype(alg, _LEAF_PREFIX).copy()
    h.update(entry)
    return h.digest()


def node_hash(alg: HashAlgorithm, left: bytes, right: bytes) -> bytes:
    """H(0x01 ‖ left ‖ right)."""
    h = _prototype(alg, _NODE_PREFIX).copy()
    h.update(left)
    h.update(right)
    return h.digest()


def _node_hasher(alg: HashAlgorithm) -> Callable[[bytes, bytes], bytes]:
    copy = _prototype(alg, _NODE_PREFIX).copy

    def hash_pair(left: bytes, right: bytes) -> bytes:
        h = copy()
        h.update(left)
        h.update(right)
        return h.digest()

    return hash_pair


def leaf_hashes(alg: HashAlgorithm, entries: Iterable[bytes]) -> list[bytes]:
    """The leaf hash of each entry, in bulk (the same as ``leaf_hash`` in a loop, but faster)."""
    copy = _prototype(alg, _LEAF_PREFIX).copy
    out: list[bytes] = []
    append = out.append
    for entry in entries:
        h = copy()
        h.update(entry)
        append(h.digest())
    return out


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): where RFC 6962 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(alg: HashAlgorithm, hashes: Sequence[bytes]) -> None:
    size = digest_size(alg)
    for i, h in enumerate(hashes):
        if not isinstance(h, bytes | bytearray) or len(h) != size:
            raise ValueError(f"leaf hash {i} is not {size} bytes of {alg}")


def root(alg: HashAlgorithm, leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, straight from the recursive definition (§2.1.1).

    The reference the tree is checked against; O(n) hashes on every call, so a ledger should use
    ``MerkleTree`` instead.
    """
    _check_hashes(alg, leaf_hashes)
    if not leaf_hashes:
        return empty_root(alg)
    hash_pair = _node_hasher(alg)

    def mth(start: int, end: int) -> bytes:
        if end - start == 1:
            return bytes(leaf_hashes[start])
        mid = start + _split(end - start)
        return hash_pair(mth(start, mid), mth(mid, end))

    return mth(0, len(leaf_hashes))


class NodeSource(Protocol):
    """Anything that can hand out complete-subtree hashes: a ``MerkleTree``, or a store of nodes."""

    @property
    def alg(self) -> HashAlgorithm: ...

    @property
    def size(self) -> int: ...

    def node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""
        ...


def subtree_root(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that the RFC's recursion produces (start aligned).

    Such a range is a complete subtree, or splits into a complete left subtree and a shorter
    range starting at an aligned point, so it costs O(log n) cached nodes and hashes.
    """
    n = end - start
    if n <= 0:
        if n == 0 and start == 0:
            return empty_root(source.alg)
        raise ValueError(f"empty or inverted range [{start}, {end})")
    if n & (n - 1) == 0 and start & (n - 1) == 0:
        level = n.bit_length() - 1
        return source.node(level, start >> level)
    mid = start + _split(n)
    return node_hash(source.alg, subtree_root(source, start, mid), subtree_root(source, mid, end))


def _check_size(source: NodeSource, size: int) -> None:
    if not 0 <= size <= source.size:
        raise ValueError(f"tree size {size} is outside 0..{source.size}")


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]), RFC 9162 §2.1.3.1; the leaf's sibling first."""
    _check_size(source, size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside 0..{size - 1}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk from the root down; the RFC's recursion appends each level's sibling after the
    # deeper ones, so the list is reversed at the end.
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_root(source, mid, end))
            end = mid
        else:
            path.append(subtree_root(source, start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(source: NodeSource, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]), RFC 9162 §2.1.4.1.

    Empty when ``first == second`` or ``first == 0``: the RFC defines proofs for 0 < first <
    second only, and its reference implementations answer the two edge cases with no nodes.
    """
    _check_size(source, second)
    if not 0 <= first <= second:
        raise ValueError(f"first size {first} is outside 0..{second}")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    # SUBPROOF(m, D[start:end], whole), unrolled: each step records the sibling range and moves
    # into the half that still holds the boundary of the old tree.
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_root(source, start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(subtree_root(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_root(source, start, start + k))
            start += k
            m -= k
            whole = False
    proof.reverse()
    return proof


class MerkleTree:
    """An append-only Merkle tree over leaf hashes, caching every complete subtree.

    ``_levels[k]`` packs the hashes of the complete aligned subtrees of 2**k leaves back to back
    (level 0 is the leaf hashes), ``size >> k`` of them. Packed bytearrays take digest_size bytes
    a node, about 64 bytes a leaf in all, where a list of bytes objects would take ~160.

    Not thread-safe: appends must be serialised by the caller (the ledger has a single writer).
    """

    __slots__ = ("_alg", "_digest_size", "_hash_pair", "_levels", "_size")

    def __init__(self, alg: HashAlgorithm = DEFAULT_ALGORITHM) -> None:
        self._alg: HashAlgorithm = alg
        self._digest_size = digest_size(alg)
        self._hash_pair = _node_hasher(alg)
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, alg: HashAlgorithm, hashes: Iterable[bytes]) -> MerkleTree:
        """A tree over ``hashes``, built a level at a time (1M leaves in about 2 s with SM3)."""
        tree = cls(alg)
        tree.extend(hashes)
        return tree

    @classmethod
    def from_entries(cls, alg: HashAlgorithm, entries: Iterable[bytes]) -> MerkleTree:
        return cls.from_leaf_hashes(alg, leaf_hashes(alg, entries))

    @property
    def alg(self) -> HashAlgorithm:
        return self._alg

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"MerkleTree(alg={self._alg!r}, size={self._size})"

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; returns its index."""
        ds = self._digest_size
        if not isinstance(leaf_hash, bytes | bytearray) or len(leaf_hash) != ds:
            raise ValueError(f"a leaf hash is {ds} bytes of {self._alg}")
        index = self._size
        levels = self._levels
        levels[0] += leaf_hash
        self._size = index + 1
        # Each trailing 1 bit of the index completes one subtree: hash the last two nodes of that
        # level into the next (the carry of a binary counter).
        level, i, node = 0, index, bytes(leaf_hash)
        while i & 1:
            left = bytes(levels[level][-2 * ds : -ds])
            node = self._hash_pair(left, node)
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node
            i >>= 1
        return index

    def extend(self, hashes: Iterable[bytes]) -> range:
        """Add many leaf hashes; returns the range of their indices."""
        ds = self._digest_size
        batch = hashes if isinstance(hashes, list | tuple) else list(hashes)
        for i, h in enumerate(batch):
            if not isinstance(h, bytes | bytearray) or len(h) != ds:
                raise ValueError(f"leaf hash {i} of the batch is not {ds} bytes of {self._alg}")
        first = self._size
        if not batch:
            return range(first, first)
        self._levels[0] += b"".join(batch)
        self._size = first + len(batch)
        self._fill_levels()
        return range(first, self._size)

    def _fill_levels(self) -> None:
        """Hash every complete subtree that is not cached yet, a whole level at a time."""
        ds = self._digest_size
        pair = 2 * ds
        copy = _prototype(self._alg, _NODE_PREFIX).copy
        levels = self._levels
        level = 0
        while (self._size >> (level + 1)) > 0:
            if level + 1 == len(levels):
                levels.append(bytearray())
            below, above = levels[level], levels[level + 1]
            have, want = len(above) // ds, self._size >> (level + 1)
            if have == want:
                break  # nothing new here means nothing new above either
            out: list[bytes] = []
            append = out.append
            with memoryview(below) as view:
                for offset in range(have * pair, want * pair, pair):
                    h = copy()
                    h.update(view[offset : offset + pair])
                    append(h.digest())
            above += b"".join(out)
            level += 1

    def node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""
        if level < 0 or index < 0 or index >= (self._size >> level):
            raise IndexError(f"no complete subtree ({level}, {index}) in a tree of {self._size}")
        ds = self._digest_size
        return bytes(self._levels[level][index * ds : (index + 1) * ds])

    def leaf_hash(self, index: int) -> bytes:
        return self.node(0, index)

    def leaf_hash_bytes(self, start: int, end: int) -> bytes:
        """The leaf hashes of [start, end) packed back to back (a mirror of the leaves)."""
        if not 0 <= start <= end <= self._size:
            raise ValueError(f"leaves {start}..{end} are not within 0..{self._size}")
        ds = self._digest_size
        return bytes(self._levels[0][start * ds : end * ds])

    def nodes_added(self, old_size: int, new_size: int | None = None) -> Iterator[tuple[int, int]]:
        """(level, index) of every node completed while the tree grew from old_size to new_size."""
        new = self._size if new_size is None else new_size
        if not 0 <= old_size <= new <= self._size:
            raise ValueError(f"sizes {old_size}..{new} are not within 0..{self._size}")
        level = 0
        while new >> level:
            for index in range(old_size >> level, new >> level):
                yield level, index
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[0:size]), the whole tree by default; O(log n) for any prefix."""
        n = self._size if size is None else size
        _check_size(self, n)
        return subtree_root(self, 0, n)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self, index, self._size if size is None else size)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return consistency_proof(self, first, self._size if second is None else second)


# Verification. Every input here may come from an untrusted party, so malformed values (wrong
# types, negative sizes, hashes of the wrong length, a proof too short or too long) make the proof
# fail rather than raise. Only an unknown or unavailable algorithm raises: that is a
# configuration error of the verifier, not something a forged proof can cause.


def _is_uint(value: object) -> bool:
    return type(value) is int and value >= 0


def _is_hash(value: object, size: int) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == size


def _proof_hashes(proof: object, size: int) -> list[bytes] | None:
    if not isinstance(proof, list | tuple):
        return None
    if not all(_is_hash(p, size) for p in proof):
        return None
    return [bytes(p) for p in proof]


def verify_inclusion(
    alg: HashAlgorithm,
    index: int,
    size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes],
    root: bytes,
) -> bool:
    """Whether ``proof`` shows the leaf ``leaf_hash`` at ``index`` in the tree (size, root).

    The algorithm of RFC 9162 §2.1.3.2, step by step. ``size`` and ``root`` must come from the
    same (signed) tree head: the path alone does not pin the size down, e.g. PATH(0, D[5]) also
    checks out as "index 0 of size 8" against the root of size 5, never against the root of 8.
    """
    ds = digest_size(alg)
    path = _proof_hashes(proof, ds)
    if path is None or not (_is_uint(index) and _is_uint(size)):
        return False
    if not (_is_hash(leaf_hash, ds) and _is_hash(root, ds)):
        return False
    # 1. leaf_index >= tree_size fails.
    if index >= size:
        return False
    hash_pair = _node_hasher(alg)
    # 2.-3.
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    # 4.
    for p in path:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            r = hash_pair(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_pair(r, p)
        fn >>= 1
        sn >>= 1
    # 5. sn == 0 means the proof reached the root: not one element short.
    return sn == 0 and r == root


def verify_consistency(
    alg: HashAlgorithm,
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Whether ``proof`` shows the tree (second, second_root) extends (first, first_root).

    RFC 9162 §2.1.4.2 for 0 < first < second. The RFC defines no proof for the other sizes; as its
    reference implementations do, ``first == second`` needs an empty proof and equal roots, and
    ``first == 0`` an empty proof. In the latter, first_root must also be MTH({}) = H(""), the only
    root a tree of size 0 has (the Go implementation does not look at it).
    """
    ds = digest_size(alg)
    path = _proof_hashes(proof, ds)
    if path is None or not (_is_uint(first) and _is_uint(second)):
        return False
    if not (_is_hash(first_root, ds) and _is_hash(second_root, ds)):
        return False
    if first > second:
        return False
    if first == second:
        return (
            not path and first_root == second_root and (first > 0 or first_root == empty_root(alg))
        )
    if first == 0:
        return not path and first_root == empty_root(alg)
    # 1.
    if not path:
        return False
    # 2. When first is a power of two its root is itself a node of the second tree, and the
    # proof leaves it out.
    if first & (first - 1) == 0:
        path.insert(0, bytes(first_root))
    hash_pair = _node_hasher(alg)
    # 3.
    fn, sn = first - 1, second - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            fr = hash_pair(c, fr)
            sr = hash_pair(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_pair(sr, c)
        fn >>= 1
        sn >>= 1
    # 7.
    return fr == first_root and sr == second_root and sn == 0
