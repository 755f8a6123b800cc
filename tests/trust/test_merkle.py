"""RFC 6962 / RFC 9162 Merkle trees: the CT test vectors, the RFC's recursive definitions, and
properties of proofs (honest ones verify, tampered ones do not) for both hash algorithms."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.trust.crypto import merkle
from shuhui.trust.crypto.merkle import (
    HashAlgorithm,
    HashUnavailableError,
    MerkleTree,
    consistency_proof,
    empty_root,
    hasher,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

ALGS: tuple[HashAlgorithm, ...] = ("sm3", "sha256")

# The eight leaves and the roots of their prefixes used across certificate-transparency
# implementations (the C++ merkle_tree_test, Go's transparency-dev/merkle, Chromium).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (index, size) -> audit path, from the same suites.
CT_INCLUSION = {
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
# (first, second) -> consistency proof.
CT_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def hexes(hashes: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def distinct_leaves(alg: HashAlgorithm, n: int, seed: bytes = b"") -> list[bytes]:
    # Distinct by construction: a duplicate leaf would make some "tampered" proofs honest ones.
    return [leaf_hash(alg, seed + i.to_bytes(4, "big")) for i in range(n)]


# -- references written straight from the RFC's recursive definitions, over list slices --------


def ref_mth(alg: HashAlgorithm, d: Sequence[bytes]) -> bytes:
    return root(alg, d)


def ref_path(alg: HashAlgorithm, m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(alg, m, d[:k]), ref_mth(alg, d[k:])]
    return [*ref_path(alg, m - k, d[k:]), ref_mth(alg, d[:k])]


def ref_subproof(alg: HashAlgorithm, m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(alg, d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(alg, m, d[:k], b), ref_mth(alg, d[k:])]
    return [*ref_subproof(alg, m - k, d[k:], False), ref_mth(alg, d[:k])]


# -- hash functions -------------------------------------------------------------------------------


def test_sm3_known_answers() -> None:
    # GB/T 32905-2016 examples A.1 and A.2, and the digest of the empty string.
    h = hasher("sm3")
    assert h(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert (
        h(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )
    assert h(b"").hex() == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
    assert merkle.digest_size("sm3") == 32


def test_sm3_is_the_default() -> None:
    assert MerkleTree().alg == "sm3"
    assert empty_root() == hasher("sm3")(b"")


@pytest.mark.parametrize("alg", ALGS)
def test_domain_separated_hashes(alg: HashAlgorithm) -> None:
    h = hasher(alg)
    a, b = h(b"a"), h(b"b")
    assert leaf_hash(alg, b"entry") == h(b"\x00entry")
    assert node_hash(alg, a, b) == h(b"\x01" + a + b)
    assert empty_root(alg) == h(b"")
    assert leaf_hashes(alg, [b"x", b"y"]) == [leaf_hash(alg, b"x"), leaf_hash(alg, b"y")]


def test_sha256_empty_root() -> None:
    assert (
        empty_root("sha256").hex()
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="unknown hash algorithm"):
        hasher("md5")  # type: ignore[arg-type]


def test_sm3_unavailable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sm3(name: str, data: bytes = b"") -> object:
        raise ValueError(f"unsupported hash type {name}")

    monkeypatch.setattr(merkle, "_prototypes", {})
    monkeypatch.setattr(hashlib, "new", no_sm3)
    with pytest.raises(HashUnavailableError, match=r"SM3 is not available.*'sha256'"):
        MerkleTree("sm3")


# -- the certificate-transparency vectors ---------------------------------------------------------


@pytest.fixture(scope="module")
def ct_tree() -> MerkleTree:
    return MerkleTree.from_entries("sha256", CT_LEAVES)


def test_ct_roots(ct_tree: MerkleTree) -> None:
    hashes = leaf_hashes("sha256", CT_LEAVES)
    for size in range(1, 9):
        assert ct_tree.root(size).hex() == CT_ROOTS[size - 1]
        assert root("sha256", hashes[:size]).hex() == CT_ROOTS[size - 1]
    assert ct_tree.root() == ct_tree.root(8)
    assert ct_tree.root(0) == empty_root("sha256")


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_ct_inclusion_proofs(ct_tree: MerkleTree, index: int, size: int) -> None:
    proof = ct_tree.inclusion_proof(index, size)
    assert hexes(proof) == CT_INCLUSION[index, size]
    assert verify_inclusion(
        "sha256", index, size, ct_tree.leaf_hash(index), proof, ct_tree.root(size)
    )


@pytest.mark.parametrize(("first", "second"), sorted(CT_CONSISTENCY))
def test_ct_consistency_proofs(ct_tree: MerkleTree, first: int, second: int) -> None:
    proof = ct_tree.consistency_proof(first, second)
    assert hexes(proof) == CT_CONSISTENCY[first, second]
    assert verify_consistency(
        "sha256", first, second, ct_tree.root(first), ct_tree.root(second), proof
    )


def test_ct_proofs_by_hand(ct_tree: MerkleTree) -> None:
    """The same proofs spelled out from the definitions, node by node."""
    alg: HashAlgorithm = "sha256"
    lh = leaf_hashes(alg, CT_LEAVES)

    def n(a: bytes, b: bytes) -> bytes:
        return node_hash(alg, a, b)

    m01, m23, m45, m67 = n(lh[0], lh[1]), n(lh[2], lh[3]), n(lh[4], lh[5]), n(lh[6], lh[7])
    m03, m47 = n(m01, m23), n(m45, m67)
    assert ct_tree.root(8) == n(m03, m47)
    assert ct_tree.root(7) == n(m03, n(m45, lh[6]))
    assert ct_tree.root(5) == n(m03, lh[4])
    # PATH(0, D[8]): sibling leaf, then the sibling pair, then the right half.
    assert ct_tree.inclusion_proof(0, 8) == [lh[1], m23, m47]
    assert ct_tree.inclusion_proof(5, 8) == [lh[4], m67, m03]
    assert ct_tree.inclusion_proof(2, 3) == [m01]
    assert ct_tree.inclusion_proof(1, 5) == [lh[0], m23, lh[4]]
    assert ct_tree.inclusion_proof(6, 7) == [m45, m03]
    # PROOF(1, D[8]) = SUBPROOF(1, D[0:4], true) : MTH(D[4:8]), and so on down.
    assert ct_tree.consistency_proof(1, 8) == [lh[1], m23, m47]
    # PROOF(6, D[8]): the old tree's last whole node D[4:6], its sibling, then D[0:4].
    assert ct_tree.consistency_proof(6, 8) == [m45, m67, m03]
    assert ct_tree.consistency_proof(2, 5) == [m23, lh[4]]
    assert ct_tree.consistency_proof(4, 8) == [m47]
    assert ct_tree.consistency_proof(3, 7) == [lh[2], lh[3], m01, n(m45, lh[6])]
    assert ct_tree.consistency_proof(1, 1) == []
    assert ct_tree.consistency_proof(0, 8) == []


# -- the tree against the recursive definitions -------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_exhaustive_small_trees(alg: HashAlgorithm) -> None:
    leaves = distinct_leaves(alg, 33)
    tree = MerkleTree.from_leaf_hashes(alg, leaves)
    for size in range(0, 34):
        assert tree.root(size) == ref_mth(alg, leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == ref_path(alg, index, leaves[:size])
            assert verify_inclusion(alg, index, size, leaves[index], proof, tree.root(size))
        for first in range(1, size):
            proof = tree.consistency_proof(first, size)
            assert proof == ref_subproof(alg, first, leaves[:size], True)
            assert verify_consistency(alg, first, size, tree.root(first), tree.root(size), proof)


@pytest.mark.parametrize("alg", ALGS)
def test_append_extend_and_bulk_build_agree(alg: HashAlgorithm) -> None:
    leaves = distinct_leaves(alg, 300)
    one_by_one = MerkleTree(alg)
    for i, h in enumerate(leaves):
        assert one_by_one.append(h) == i
        assert one_by_one.root() == ref_mth(alg, leaves[: i + 1])
    chunked = MerkleTree(alg)
    rng = random.Random(7)
    start = 0
    while start < len(leaves):
        stop = min(len(leaves), start + rng.randint(0, 37))
        assert chunked.extend(iter(leaves[start:stop])) == range(start, stop)
        start = stop
    bulk = MerkleTree.from_leaf_hashes(alg, leaves)
    assert one_by_one._levels == chunked._levels == bulk._levels
    assert len(bulk) == bulk.size == 300
    assert bulk.root() == ref_mth(alg, leaves)


@pytest.mark.parametrize("alg", ALGS)
def test_nodes_and_a_node_store(alg: HashAlgorithm) -> None:
    """What a ledger that persists interior nodes does: store nodes_added after each append,
    then answer proofs from the store alone."""
    leaves = distinct_leaves(alg, 77)
    tree = MerkleTree(alg)
    stored: dict[tuple[int, int], bytes] = {}
    for size, h in enumerate(leaves, start=1):
        tree.append(h)
        for level, index in tree.nodes_added(size - 1, size):
            assert (level, index) not in stored
            stored[level, index] = tree.node(level, index)
    assert len(stored) == sum(77 >> k for k in range(7))
    for (level, index), h in stored.items():
        assert h == ref_mth(alg, leaves[index << level : (index + 1) << level])

    class Store:
        alg: HashAlgorithm = tree.alg
        size = 77

        def node(self, level: int, index: int) -> bytes:
            return stored[level, index]

    store = Store()
    for size in (1, 2, 50, 64, 77):
        for index in (0, size // 2, size - 1):
            assert inclusion_proof(store, index, size) == tree.inclusion_proof(index, size)
        for first in (1, size // 3, size - 1):
            assert consistency_proof(store, first, size) == tree.consistency_proof(first, size)
    assert list(tree.nodes_added(70, 72)) == [(0, 70), (0, 71), (1, 35), (2, 17), (3, 8)]


def test_bad_arguments_to_the_tree() -> None:
    tree = MerkleTree.from_leaf_hashes("sha256", distinct_leaves("sha256", 5))
    with pytest.raises(ValueError):
        tree.append(b"short")
    with pytest.raises(ValueError):
        tree.extend([b"\x00" * 32, b"\x00" * 31])
    assert tree.size == 5  # a rejected batch adds nothing
    with pytest.raises(ValueError):
        MerkleTree("sm3").append(b"\x00" * 33)
    with pytest.raises(ValueError):
        root("sha256", [b"\x00" * 31])
    for bad in ((5, 5), (-1, 5), (0, 6), (0, 0)):
        with pytest.raises(ValueError):
            tree.inclusion_proof(*bad)
    for bad in ((3, 2), (-1, 2), (1, 6)):
        with pytest.raises(ValueError):
            tree.consistency_proof(*bad)
    with pytest.raises(ValueError):
        tree.root(6)
    with pytest.raises(IndexError):
        tree.node(1, 2)  # leaves 4..7 are not all there
    assert tree.extend([]) == range(5, 5)


# -- properties -----------------------------------------------------------------------------------


def flip_bit(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[(bit // 8) % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


@st.composite
def trees(draw: st.DrawFn) -> tuple[HashAlgorithm, list[bytes], MerkleTree]:
    alg = draw(st.sampled_from(ALGS))
    n = draw(st.integers(min_value=1, max_value=200))
    seed = draw(st.binary(max_size=8))
    leaves = distinct_leaves(alg, n, seed)
    return alg, leaves, MerkleTree.from_leaf_hashes(alg, leaves)


@settings(max_examples=150, deadline=None)
@given(trees(), st.data())
def test_prefix_roots_match_the_reference(
    t: tuple[HashAlgorithm, list[bytes], MerkleTree], data: st.DataObject
) -> None:
    alg, leaves, tree = t
    size = data.draw(st.integers(min_value=0, max_value=len(leaves)))
    assert tree.root(size) == ref_mth(alg, leaves[:size])
    assert tree.root() == ref_mth(alg, leaves)


@settings(max_examples=300, deadline=None)
@given(trees(), st.data())
def test_inclusion_proofs(
    t: tuple[HashAlgorithm, list[bytes], MerkleTree], data: st.DataObject
) -> None:
    alg, leaves, tree = t
    size = data.draw(st.integers(min_value=1, max_value=len(leaves)), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    r = tree.root(size)
    leaf = leaves[index]
    assert verify_inclusion(alg, index, size, leaf, proof, r)
    assert verify_inclusion(alg, index, size, leaf, tuple(proof), r)

    if proof:
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="element")
        bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
        flipped = [*proof[:k], flip_bit(proof[k], bit), *proof[k + 1 :]]
        assert not verify_inclusion(alg, index, size, leaf, flipped, r)
        assert not verify_inclusion(alg, index, size, leaf, proof[:k] + proof[k + 1 :], r)
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    at = data.draw(st.integers(min_value=0, max_value=len(proof)), label="at")
    assert not verify_inclusion(alg, index, size, leaf, [*proof[:at], extra, *proof[at:]], r)
    assert not verify_inclusion(alg, index, size, flip_bit(leaf, bit=0), proof, r)
    assert not verify_inclusion(alg, index, size, leaf, proof, flip_bit(r, bit=255))

    other = data.draw(st.integers(min_value=0, max_value=size - 1), label="other index")
    if other != index:
        assert not verify_inclusion(alg, other, size, leaf, proof, r)
        assert not verify_inclusion(alg, index, size, leaves[other], proof, r)
    # A size is only as good as the root it comes with (both from one signed tree head): the
    # path alone may fit several sizes, e.g. PATH(0, D[5]) also checks out as "size 8, root of 5".
    # With the root that really belongs to the other size it must fail.
    other_size = data.draw(st.integers(min_value=index + 1, max_value=len(leaves)), label="size2")
    if other_size != size:
        assert not verify_inclusion(alg, index, other_size, leaf, proof, tree.root(other_size))
    assert not verify_inclusion(alg, size, size, leaf, proof, r)


@settings(max_examples=300, deadline=None)
@given(trees(), st.data())
def test_consistency_proofs(
    t: tuple[HashAlgorithm, list[bytes], MerkleTree], data: st.DataObject
) -> None:
    alg, leaves, tree = t
    second = data.draw(st.integers(min_value=0, max_value=len(leaves)), label="second")
    first = data.draw(st.integers(min_value=0, max_value=second), label="first")
    proof = tree.consistency_proof(first, second)
    r1, r2 = tree.root(first), tree.root(second)
    assert verify_consistency(alg, first, second, r1, r2, proof)
    if first in (0, second):
        assert proof == []
    else:
        assert proof == ref_subproof(alg, first, leaves[:second], True)

    if proof:
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="element")
        bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
        flipped = [*proof[:k], flip_bit(proof[k], bit), *proof[k + 1 :]]
        assert not verify_consistency(alg, first, second, r1, r2, flipped)
        assert not verify_consistency(alg, first, second, r1, r2, proof[:k] + proof[k + 1 :])
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    at = data.draw(st.integers(min_value=0, max_value=len(proof)), label="at")
    assert not verify_consistency(alg, first, second, r1, r2, [*proof[:at], extra, *proof[at:]])
    if first < second:
        assert not verify_consistency(alg, first, second, flip_bit(r1, 3), r2, proof)
        assert not verify_consistency(alg, second, first, r2, r1, proof)
        if first > 0:  # with first == 0 any second root will do
            assert not verify_consistency(alg, first, second, r1, flip_bit(r2, 200), proof)

    other_first = data.draw(st.integers(min_value=0, max_value=second), label="other first")
    # An empty proof is the honest one for first == 0 and for first == second alike.
    if other_first != first and not (not proof and other_first in (0, second)):
        assert not verify_consistency(alg, other_first, second, tree.root(other_first), r2, proof)
    other_second = data.draw(
        st.integers(min_value=first, max_value=len(leaves)), label="other second"
    )
    if other_second != second and not (first == 0 and not proof):
        assert not verify_consistency(alg, first, other_second, r1, tree.root(other_second), proof)


@pytest.mark.parametrize("alg", ALGS)
def test_consistency_edge_cases(alg: HashAlgorithm) -> None:
    tree = MerkleTree.from_leaf_hashes(alg, distinct_leaves(alg, 9))
    r0, r5, r9 = tree.root(0), tree.root(5), tree.root(9)
    assert r0 == empty_root(alg)
    # first == second: an empty proof and the same root.
    assert verify_consistency(alg, 5, 5, r5, r5, [])
    assert not verify_consistency(alg, 5, 5, r5, r9, [])
    assert not verify_consistency(alg, 5, 5, r5, r5, [r5])
    assert verify_consistency(alg, 0, 0, r0, r0, [])
    assert not verify_consistency(alg, 0, 0, r5, r5, [])
    # first == 0: every tree extends the empty one; the proof is empty.
    assert verify_consistency(alg, 0, 9, r0, r9, [])
    assert not verify_consistency(alg, 0, 9, r0, r9, [r9])
    assert not verify_consistency(alg, 0, 9, r5, r9, [])  # no tree of size 0 has root r5
    # 0 < first < second: an empty proof never does (RFC 9162 §2.1.4.2 step 1).
    assert not verify_consistency(alg, 4, 9, tree.root(4), r9, [])


MALFORMED: list[object] = [
    None,
    -1,
    True,
    1.0,
    "3",
    b"\x00" * 32,
    [b"\x00" * 31],
    [b"\x00" * 33],
    ["00" * 32],
    [None],
    {b"\x00" * 32},
    2**70,
]


@pytest.mark.parametrize("alg", ALGS)
def test_malformed_input_fails_without_raising(alg: HashAlgorithm) -> None:
    tree = MerkleTree.from_leaf_hashes(alg, distinct_leaves(alg, 6))
    proof, r, leaf = tree.inclusion_proof(2, 6), tree.root(6), tree.leaf_hash(2)
    cproof, r3 = tree.consistency_proof(3, 6), tree.root(3)
    assert verify_inclusion(alg, 2, 6, leaf, proof, r)
    assert verify_consistency(alg, 3, 6, r3, r, cproof)
    for bad in MALFORMED:
        assert not verify_inclusion(alg, bad, 6, leaf, proof, r)  # type: ignore[arg-type]
        assert not verify_inclusion(alg, 2, bad, leaf, proof, r)  # type: ignore[arg-type]
        assert not verify_inclusion(alg, 2, 6, bad, proof, r)  # type: ignore[arg-type]
        assert not verify_inclusion(alg, 2, 6, leaf, bad, r)  # type: ignore[arg-type]
        assert not verify_inclusion(alg, 2, 6, leaf, proof, bad)  # type: ignore[arg-type]
        assert not verify_consistency(alg, bad, 6, r3, r, cproof)  # type: ignore[arg-type]
        assert not verify_consistency(alg, 3, bad, r3, r, cproof)  # type: ignore[arg-type]
        assert not verify_consistency(alg, 3, 6, bad, r, cproof)  # type: ignore[arg-type]
        assert not verify_consistency(alg, 3, 6, r3, bad, cproof)  # type: ignore[arg-type]
        assert not verify_consistency(alg, 3, 6, r3, r, bad)  # type: ignore[arg-type]
    # A hash of the other algorithm's length would fit, but a proof from the other algorithm not.
    assert not verify_inclusion("sm3" if alg == "sha256" else "sha256", 2, 6, leaf, proof, r)
    assert not verify_inclusion(alg, 0, 0, leaf, [], r)
    as_bytearrays: Any = [bytearray(p) for p in proof]
    assert verify_inclusion(alg, 2, 6, bytearray(leaf), as_bytearrays, r)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ALGS),
    st.integers(min_value=-3, max_value=2**65),
    st.integers(min_value=-3, max_value=2**65),
    st.lists(st.binary(min_size=30, max_size=34), max_size=70),
    st.binary(min_size=31, max_size=33),
    st.binary(min_size=31, max_size=33),
)
def test_random_garbage_never_raises(
    alg: HashAlgorithm, a: int, b: int, proof: list[bytes], h1: bytes, h2: bytes
) -> None:
    assert verify_inclusion(alg, a, b, h1, proof, h2) in (True, False)
    assert verify_consistency(alg, a, b, h1, h2, proof) in (True, False)
