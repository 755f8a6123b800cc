"""Benchmark: the stored audit ledger (shuhui.trust.ledger.service through the database).

    .venv/bin/python bench/bench_ledger_db.py --entries 1000000 [--batch 1000] [--proofs 5000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--keep]

Starts from nothing: a throwaway data directory under /tmp (SHUHUI_DATA_DIR) and `shuhui db
upgrade`, on SQLite in that directory by default, or with --postgres on a scratch database
created on that server for the run and dropped after it. Then, for N audit entries of about 200
bytes of canonical JSON each:

* append: ``ledger.record_many`` in batches of --batch entries, one transaction each (head bump,
  RFC 8785 encoding, SM3 leaf hashes, one bulk INSERT, COMMIT), as entries/s (target >= 20,000/s),
  against raw SM3 hashing of the same stored entry bytes (``shuhui.trust.crypto.sm.sm3``), the
  ceiling the issue names, and against the database's own insert of the same stored rows (the
  driver's executemany into a table with the same indexes, same batches and commits), the
  storage floor;
* checkpoint: the in-memory tree (``TreeCache``) built from the N stored leaf hashes, and a signed
  tree head;
* ``shuhui audit verify`` end to end, as a subprocess (target < 30 s for 1M entries);
* inclusion proofs at size N the way the proof endpoint makes them: the tree cache synced with
  the database, the leaf hash, the root and the path, in the request's session and from a fresh
  one; and their verification, µs per proof (target < 1 ms).

Entries are generated outside the timed sections. Prints the machine, the figures and peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench_merkle import machine, peak_rss_mib, percentiles
from sqlalchemy import Engine, create_engine, event, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.trust.crypto.merkle import HashAlgorithm, verify_inclusion
from shuhui.trust.crypto.sm import sm3
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.keys import platform_key

APPEND_TARGET = 20_000
VERIFY_TARGET_S = 30.0
PROOF_TARGET_US = 1000.0

ACTIONS = [
    "resident.view",
    "resident.update",
    "data.exported",
    "mandate.used",
    "cert_use.used",
    "permit.approved",
]
PURPOSES = ["窗口办理", "居民申请更新联系方式", "定期核查", "数据共享申请", None]
FIELDS = ["phone", "address", "name", "status", "hukou", "income"]


def items(rng: random.Random, n: int) -> list[ledger.Entry]:
    """A batch of audit records shaped like the platform's: ~200 bytes once canonical."""
    out = []
    for _ in range(n):
        grant = f"QD{rng.randrange(10**6):06d}" if rng.random() < 0.5 else None
        out.append(
            ledger.Entry(
                actor=f"officer:{rng.randrange(1, 5_000)}",
                action=rng.choice(ACTIONS),
                subject=f"3702{rng.randrange(10**14):014d}",  # a citizen ID's shape
                purpose=rng.choice(PURPOSES),
                grant=grant,
                detail={"fields": rng.sample(FIELDS, 2)},
            )
        )
    return out


def scratch_postgres(admin_url: str) -> tuple[str, str]:
    """Creates an empty database on the server of ``admin_url``; its name and URL."""
    name = f"shuhui_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def shuhui(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done, time.perf_counter() - started


def append(
    factory: sessionmaker[Session], n: int, batch: int, seed: int
) -> tuple[float, float, float]:
    """Appends n entries; seconds in record_many, in COMMIT, and in the last tenth overall."""
    rng = random.Random(seed)
    in_record = in_commit = last_tenth = 0.0
    tenth = n - n // 10
    for start in range(0, n, batch):
        todo = items(rng, min(batch, n - start))
        t0 = time.perf_counter()
        db = factory()
        try:
            ledger.record_many(db, todo)
            t1 = time.perf_counter()
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()
        t2 = time.perf_counter()
        in_record += t1 - t0
        in_commit += t2 - t1
        if start >= tenth:
            last_tenth += t2 - t0
    return in_record, in_commit, last_tenth


COLUMNS = 'seq, recorded_at, actor, action, subject, purpose, "grant", leaf, leaf_hash'
PLATFORM_PRAGMAS = [
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "busy_timeout=5000",
    "cache_size=-32768",
    "wal_autocheckpoint=10000",
]


def own_insert_sqlite(
    source: Path, target: Path, first: int, n: int, batch: int, pragmas: list[str]
) -> float:
    """Seconds sqlite3 itself takes to insert the stored rows again, batch by batch, each batch
    committed, into a table with the same DDL and indexes, with the platform's pragmas."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, isolation_level=None)
    for pragma in PLATFORM_PRAGMAS + pragmas:
        dst.execute(f"PRAGMA {pragma}")
    ddl = src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_entries' AND sql IS NOT NULL "
        "ORDER BY type DESC"  # the table, then its indexes
    ).fetchall()
    for (sql,) in ddl:
        dst.execute(sql)
    insert = f"INSERT INTO ledger_entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    spent = 0.0
    for chunk in range(first, first + n, 100_000):
        rows = src.execute(
            f"SELECT {COLUMNS} FROM ledger_entries WHERE seq >= ? AND seq < ? ORDER BY seq",
            (chunk, min(first + n, chunk + 100_000)),
        ).fetchall()
        for i in range(0, len(rows), batch):
            started = time.perf_counter()
            dst.execute("BEGIN")
            dst.executemany(insert, rows[i : i + batch])
            dst.execute("COMMIT")
            spent += time.perf_counter() - started
    src.close()
    dst.close()
    return spent


def own_insert_postgres(engine: Engine, first: int, n: int, batch: int) -> float:
    """The same with psycopg's executemany (pipelined), into a copy of the table and indexes."""
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE own_insert (LIKE ledger_entries INCLUDING ALL)")
        conn.commit()
        raw = conn.connection.driver_connection
        assert raw is not None
        insert = f"INSERT INTO own_insert ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        spent = 0.0
        for chunk in range(first, first + n, 100_000):
            rows = raw.execute(
                f"SELECT {COLUMNS} FROM ledger_entries WHERE seq >= %s AND seq < %s ORDER BY seq",
                (chunk, min(first + n, chunk + 100_000)),
            ).fetchall()
            raw.commit()
            for i in range(0, len(rows), batch):
                started = time.perf_counter()
                with raw.cursor() as cursor:
                    cursor.executemany(insert, rows[i : i + batch])
                raw.commit()
                spent += time.perf_counter() - started
        conn.exec_driver_sql("DROP TABLE own_insert")
        conn.commit()
    return spent


def stored_leaves(factory: sessionmaker[Session], first: int, end: int) -> list[bytes]:
    c = ledger.ENTRIES.c
    out: list[bytes] = []
    with factory() as db:
        for start in range(first, end, 100_000):
            query = select(c.leaf).where(c.seq >= start, c.seq < min(end, start + 100_000))
            out.extend(bytes(leaf) for leaf in db.scalars(query.order_by(c.seq)))
    return out


def inclusion(
    cache: ledger.TreeCache, db: Session, index: int, size: int
) -> tuple[list[bytes], bytes, bytes, HashAlgorithm, int, int]:
    """What the inclusion-proof endpoint does; the path's start and end times (ns) too."""
    tree = cache.synced(db)
    ledger.check_range("tree_size", size, 1, tree.size)
    ledger.check_range("index", index, 0, size - 1)
    leaf_hash = tree.leaf_hash(index)
    root_hash = tree.root(size)
    t1 = time.perf_counter_ns()
    proof = tree.inclusion_proof(index, size)
    t2 = time.perf_counter_ns()
    return proof, leaf_hash, root_hash, tree.alg, t1, t2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="entries per transaction")
    parser.add_argument("--proofs", type=int, default=5000, help="inclusion proofs to time")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server to run on (a scratch database is created there and dropped)",
    )
    parser.add_argument(
        "--sqlite-pragma",
        dest="pragma",
        metavar="PRAGMA",
        action="append",
        default=[],
        help="what-if: also set e.g. wal_autocheckpoint=10000 on the benchmark's SQLite "
        "connections (not the platform's settings; `audit verify` runs without it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    n: int = args.entries

    data_dir = Path(tempfile.mkdtemp(prefix="shuhui-bench-ledger-", dir="/tmp"))
    env = {**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "SHUHUI_LOG_LEVEL": "WARNING"}
    env.pop("SHUHUI_DATABASE_URL", None)
    scratch = None
    if args.postgres:
        scratch, url = scratch_postgres(args.postgres)
        env["SHUHUI_DATABASE_URL"] = url
        backend = f"PostgreSQL (scratch database {scratch}, dropped at the end)"
    else:
        url = f"sqlite:///{data_dir / 'shuhui.db'}"
        backend = "SQLite (WAL), the platform's settings"
        if args.pragma:
            backend += f" plus PRAGMA {', '.join(args.pragma)} (what-if)"
    try:
        for line in machine():
            print(line)
        print(f"database: {backend}")
        print(f"data directory: {data_dir}")
        print(f"entries: {n:,} in batches of {args.batch:,}, proofs timed: {args.proofs:,}\n")
        run(n, args, env, url, data_dir)
    finally:
        if scratch is not None:
            drop_postgres(args.postgres, scratch)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def set_pragmas(connection: Any, pragmas: list[str]) -> None:
    cursor = connection.cursor()
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def run(n: int, args: argparse.Namespace, env: dict[str, str], url: str, data_dir: Path) -> None:
    upgraded, _ = shuhui(env, "db", "upgrade")
    if upgraded.returncode != 0:
        raise SystemExit(f"shuhui db upgrade failed:\n{upgraded.stderr}")
    engine = make_engine(url)
    if args.pragma:
        event.listen(engine, "connect", lambda conn, _record: set_pragmas(conn, args.pragma))
    factory = make_session_factory(engine)
    with factory() as db:
        first = ledger.committed_size(db)  # `db upgrade` may have recorded the key's issuance

    # Append, through the database.
    cpu = time.process_time()
    in_record, in_commit, last_tenth = append(factory, n, args.batch, args.seed)
    cpu = time.process_time() - cpu
    spent = in_record + in_commit
    rate = n / spent
    verdict = "ok" if rate >= APPEND_TARGET else "UNDER TARGET"
    print(f"append {n:,} entries: {spent:6.2f} s  {rate:>9,.0f} entries/s  ", end="")
    print(f"(target >= {APPEND_TARGET:,}/s: {verdict})")
    print(
        f"  record_many (bump, encode, hash, INSERT) {in_record:.2f} s "
        f"= {in_record / n * 1e6:.1f} µs/entry; COMMIT {in_commit:.2f} s "
        f"= {in_commit / n * 1e6:.1f} µs/entry"
    )
    where = "the database server's not included" if args.postgres else "SQLite's included"
    print(f"  CPU time of this process: {cpu:.2f} s ({where}); items made outside the timing")
    tail = n - (n - n // 10)
    if last_tenth:
        print(f"  the last {tail:,} entries alone: {tail / last_tenth:,.0f} entries/s")

    # The database's own insert of the same rows: what any code storing them pays.
    if args.postgres:
        own = own_insert_postgres(engine, first, n, args.batch)
        how = "psycopg executemany (pipelined)"
    else:
        own_db = data_dir / "own-insert.db"
        own = own_insert_sqlite(data_dir / "shuhui.db", own_db, first, n, args.batch, args.pragma)
        how = "sqlite3 executemany"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{own_db}{suffix}").unlink(missing_ok=True)
    print(
        f"the database's own insert of the same rows ({how}, same table and indexes, "
        f"batches of {args.batch:,}, each committed): {own:.2f} s  {n / own:,.0f} rows/s"
    )
    print(f"  append runs at {own / spent:.2f} × the database's own insert")

    # The ceiling: raw SM3 of the same stored bytes, one call each.
    leaves = stored_leaves(factory, first, first + n)
    size_bytes = sum(len(leaf) for leaf in leaves)
    started = time.perf_counter()
    for leaf in leaves:
        sm3(leaf)
    raw = time.perf_counter() - started
    proto = hashlib.new("sm3")
    started = time.perf_counter()
    for leaf in leaves:
        h = proto.copy()
        h.update(leaf)
        h.digest()
    raw_copy = time.perf_counter() - started
    del leaves
    print(
        f"entries are {size_bytes / n:.0f} bytes on average "
        f"({size_bytes / 2**20:.0f} MiB of canonical JSON)"
    )
    print(
        f"raw SM3 of the same bytes, sm3(): {raw:6.2f} s  {n / raw:>9,.0f} entries/s  "
        f"(a copied context: {n / raw_copy:,.0f}/s)"
    )
    print(f"  append runs at {rate / (n / raw):.3f} × raw SM3 hashing")

    # A checkpoint: the tree built from the stored leaf hashes, then signed.
    key = platform_key(data_dir)
    cache = ledger.TreeCache()
    started = time.perf_counter()
    with transaction(factory) as db:
        tree = cache.synced(db)
        synced = time.perf_counter() - started
        checkpoint = ledger.make_checkpoint(db, tree, key)
        size = checkpoint.tree_size
    signed = time.perf_counter() - started
    print(f"\ncheckpoint at size {size:,}: tree from the stored hashes {synced:.2f} s, ", end="")
    print(f"signed {signed:.2f} s in all")

    # `shuhui audit verify`, end to end.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    verified, seconds = shuhui({**env, "COLUMNS": "400"}, "audit", "verify")  # one line
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    child_peak = after.ru_maxrss
    said = verified.stderr.strip().splitlines()[-1] if verified.stderr.strip() else "(no output)"
    ok = verified.returncode == 0 and "账本完好" in verified.stderr
    verdict = "ok" if seconds < VERIFY_TARGET_S and ok else "OVER TARGET OR FAILED"
    print(f"`shuhui audit verify` over {size:,} entries: {seconds:6.2f} s  ", end="")
    print(f"(target < {VERIFY_TARGET_S:.0f} s: {verdict})")
    peak = f"{child_peak / 1024:,.0f} MiB" if child_peak > before.ru_maxrss else "as above"
    print(f"  exit {verified.returncode}: {said}")
    print(f"  its CPU time {child_cpu:.2f} s, peak RSS {peak}")

    # Inclusion proofs, as GET /api/v1/ledger/proof/inclusion makes them: in the request's
    # session (already open for the caller's login), and from a fresh session.
    rng = random.Random(args.seed)
    timings: dict[str, list[int]] = {"request": [], "fresh": [], "path": [], "verify": []}
    failures = 0
    with factory() as db:
        for _ in range(args.proofs):
            index = rng.randrange(size)
            t0 = time.perf_counter_ns()
            proof, leaf_hash, root_hash, alg, t1, t2 = inclusion(cache, db, index, size)
            t3 = time.perf_counter_ns()
            good = verify_inclusion(alg, index, size, leaf_hash, proof, root_hash)
            t4 = time.perf_counter_ns()
            timings["request"].append(t3 - t0)
            timings["path"].append(t2 - t1)
            timings["verify"].append(t4 - t3)
            failures += not good
    for _ in range(args.proofs):
        index = rng.randrange(size)
        t0 = time.perf_counter_ns()
        with factory() as db:
            inclusion(cache, db, index, size)
        timings["fresh"].append(time.perf_counter_ns() - t0)
    worst = statistics.median(timings["request"]) / 1000
    print(f"\ninclusion proof at size {size:,}, as the proof endpoint makes it:")
    print(f"  in the request's session:  {percentiles(timings['request'])}")
    print("    (the tree cache synced with the database, leaf hash, root, path)")
    print(f"  the path alone:            {percentiles(timings['path'])}")
    print(f"  from a fresh session:      {percentiles(timings['fresh'])}")
    print(f"  verify:                    {percentiles(timings['verify'])}   failures: {failures}")
    print(f"  (target < {PROOF_TARGET_US:.0f} µs: {'ok' if worst < PROOF_TARGET_US else 'OVER'})")
    engine.dispose()

    print(f"\npeak RSS of this process: {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
