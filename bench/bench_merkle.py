"""Benchmark: the audit ledger's Merkle core (shuhui.trust.crypto: merkle, canonical).

    .venv/bin/python bench/bench_merkle.py --entries 1000000 [--batch 1000 1] [--proofs 5000]

Measures, for N synthetic ledger entries of about 200 bytes of canonical JSON each:

* append: canonicalise (RFC 8785) + leaf hash + tree append, in batches of each --batch size,
  as entries/s and as a ratio to raw SM3 hashing of the same bytes, the ceiling for appends;
* raw SM3 hashing of the N canonical entries;
* building the tree from N leaf hashes, SM3 and SHA-256;
* verifying the whole log: recomputing every leaf hash from the entry bytes and the root
  (target < 30 s for 1M);
* inclusion and consistency proofs at size N: generation and verification, µs per proof
  (target < 1 ms each).

Entries are generated outside the timed sections. Prints the machine, the figures and peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import resource
import ssl
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shuhui.trust.crypto.canonical import canonical_json
from shuhui.trust.crypto.merkle import (
    HashAlgorithm,
    MerkleTree,
    leaf_hash,
    leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

VERIFY_TARGET_S = 30.0
PROOF_TARGET_US = 1000.0

ACTIONS = [
    "resident.view",
    "resident.update",
    "permit.approve",
    "permit.reject",
    "dataset.export",
    "login",
    "role.grant",
]
REASONS = ["居民申请更新联系方式", "窗口办理", "定期核查", "数据共享申请", "系统任务"]


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    return [
        f"machine: {platform.node()} {platform.platform()}",
        f"cpu: {cpu}, {os.cpu_count()} logical CPUs, {mem} RAM",
        f"python: {sys.version.split()[0]} ({platform.python_implementation()}), "
        f"{ssl.OPENSSL_VERSION}",
    ]


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def entries(n: int, seed: int, batch: int) -> Iterator[list[dict[str, Any]]]:
    """Batches of audit records shaped like the ledger's: ~200 bytes once canonical."""
    rng = random.Random(seed)
    t0 = 1_780_000_000_000  # ms since the epoch, May 2026
    for start in range(0, n, batch):
        out = []
        for seq in range(start, min(n, start + batch)):
            out.append(
                {
                    "seq": seq,
                    "ts": t0 + seq * 37 + rng.randrange(37),
                    "actor": f"user:{rng.randrange(1, 50_000)}",
                    "action": rng.choice(ACTIONS),
                    "target": f"resident:3301{rng.randrange(10**13):013d}",
                    "region": f"3301{rng.randrange(1, 20):02d}",
                    "fields": rng.sample(["phone", "address", "name", "status", "hukou"], 2),
                    "reason": rng.choice(REASONS),
                    "ok": rng.random() < 0.97,
                }
            )
        yield out


def percentiles(samples_ns: list[int]) -> str:
    us = sorted(s / 1000 for s in samples_ns)
    p99 = us[min(len(us) - 1, int(len(us) * 0.99))]
    return f"median {statistics.median(us):7.1f} µs   p99 {p99:7.1f} µs   max {us[-1]:7.1f} µs"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[1000, 1])
    parser.add_argument("--proofs", type=int, default=5000, help="proofs of each kind to time")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    n: int = args.entries
    alg: HashAlgorithm = "sm3"

    for line in machine():
        print(line)
    print(f"entries: {n:,}, hash: SM3 (default), proofs timed: {args.proofs:,}\n")

    # Append: what the ledger does for each new record.
    encoded: list[bytes] = []
    tree = MerkleTree(alg)
    append_rates: dict[int, float] = {}
    for batch in args.batch:
        tree = MerkleTree(alg)
        keep = not encoded
        spent = {"canonicalise": 0.0, "leaf hash": 0.0, "tree append": 0.0}
        for records in entries(n, args.seed, batch):
            t0 = time.perf_counter()
            blobs = [canonical_json(r) for r in records]
            t1 = time.perf_counter()
            if batch == 1:
                one = leaf_hash(alg, blobs[0])
                t2 = time.perf_counter()
                tree.append(one)
            else:
                hashes = leaf_hashes(alg, blobs)
                t2 = time.perf_counter()
                tree.extend(hashes)
            t3 = time.perf_counter()
            spent["canonicalise"] += t1 - t0
            spent["leaf hash"] += t2 - t1
            spent["tree append"] += t3 - t2
            if keep:
                encoded.extend(blobs)
        total = sum(spent.values())
        append_rates[batch] = n / total
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in spent.items())
        print(f"append, batches of {batch:>5}: {total:6.2f} s  {n / total:>10,.0f} entries/s")
        print(f"  ({parts})")
    size_bytes = sum(len(b) for b in encoded)
    expected_root = tree.root()
    print(f"entries are {size_bytes / n:.0f} bytes on average ({size_bytes / 2**20:.0f} MiB)")

    # Raw SM3 over the same bytes: one fresh context per entry, the cheapest way Python has.
    proto = hashlib.new("sm3")

    def raw_sm3() -> None:
        copy = proto.copy
        for blob in encoded:
            h = copy()
            h.update(blob)
            h.digest()

    _, raw = timed(raw_sm3)
    raw_rate = n / raw
    print(
        f"raw SM3 of the entries:     {raw:6.2f} s  {raw_rate:>10,.0f} entries/s  "
        f"({size_bytes / raw / 2**20:.0f} MiB/s)"
    )
    for batch, rate in append_rates.items():
        print(f"  append (batches of {batch}) runs at {rate / raw_rate:.2f} × raw SM3 hashing")

    # Building the tree from N leaf hashes, each algorithm.
    print()
    build_algs: tuple[HashAlgorithm, ...] = ("sm3", "sha256")
    for build_alg in build_algs:
        hashes = leaf_hashes(build_alg, encoded)
        started = time.perf_counter()
        built = MerkleTree.from_leaf_hashes(build_alg, hashes)
        seconds = time.perf_counter() - started
        levels = sum(len(level) for level in built._levels)
        print(
            f"build from {n:,} leaf hashes, {build_alg:>6}: {seconds:6.2f} s  "
            f"({levels / 2**20:.0f} MiB of nodes)"
        )
        del hashes, built

    # Verifying the whole log from the entry bytes alone.
    rebuilt, verify_s = timed(lambda: MerkleTree.from_entries(alg, encoded).root())
    ok = "root matches" if rebuilt == expected_root else "ROOT MISMATCH"
    verdict = "ok" if verify_s < VERIFY_TARGET_S else "OVER TARGET"
    print(
        f"verify whole log (leaf hashes + root): {verify_s:6.2f} s  {ok}  "
        f"(target < {VERIFY_TARGET_S:.0f} s: {verdict})"
    )

    # Proofs against the tree of size N (and, for consistency, random earlier sizes).
    rng = random.Random(args.seed)
    root_n = tree.root()
    gen_ns: list[int] = []
    ver_ns: list[int] = []
    failures = 0
    for _ in range(args.proofs):
        index = rng.randrange(n)
        t0 = time.perf_counter_ns()
        proof = tree.inclusion_proof(index, n)
        t1 = time.perf_counter_ns()
        good = verify_inclusion(alg, index, n, tree.leaf_hash(index), proof, root_n)
        t2 = time.perf_counter_ns()
        gen_ns.append(t1 - t0)
        ver_ns.append(t2 - t1)
        failures += not good
    print()
    print(f"inclusion proof, generate: {percentiles(gen_ns)}")
    print(f"inclusion proof, verify:   {percentiles(ver_ns)}   failures: {failures}")
    worst = max(statistics.median(gen_ns), statistics.median(ver_ns)) / 1000
    print(
        f"  (target < {PROOF_TARGET_US:.0f} µs each: {'ok' if worst < PROOF_TARGET_US else 'OVER'})"
    )

    gen_ns, ver_ns, failures = [], [], 0
    for _ in range(args.proofs):
        first = rng.randrange(1, n)
        t0 = time.perf_counter_ns()
        proof = tree.consistency_proof(first, n)
        t1 = time.perf_counter_ns()
        root_first = tree.root(first)  # the verifier has this from an earlier tree head
        t2 = time.perf_counter_ns()
        good = verify_consistency(alg, first, n, root_first, root_n, proof)
        t3 = time.perf_counter_ns()
        gen_ns.append(t1 - t0)
        ver_ns.append(t3 - t2)
        failures += not good
    print(f"consistency proof, generate: {percentiles(gen_ns)}")
    print(f"consistency proof, verify:   {percentiles(ver_ns)}   failures: {failures}")

    print(f"\npeak RSS: {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
