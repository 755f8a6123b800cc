"""Personal queries of the HR & social-security services: one person's contribution record
(``GET /api/v1/hrss/me/record``) on a 1,000,000-resident city, under concurrent load, through a
real server.

One command (from the repository root):

    .venv/bin/python bench/bench_hrss_queries.py

prepares a data directory once and keeps it (``/tmp/bench-hrss-1m`` by default): ``shuhui demo
--residents 1000000``, then N citizen accounts (``--accounts``, 2,000) bound to residents who
have contributions on record (a stable random order), bound the way the platform binds one, and
a login session for each (setup, not measured).

It then measures:

1. **In process**: ``hrss.records.read_record`` for 500 random accounts one after another, the
   first call mapping (or building) the key indexes; and the same person's contribution rows as
   one DuckDB query on a kept connection (the path not taken).
2. **Through the server**: ``shuhui serve --workers 2`` as a subprocess, once every worker has
   mapped its key indexes (from the server log), the record driven by ``wrk`` (``apt-get install
   wrk``) in a closed loop at each concurrency of ``--sweep`` and at ``--clients``, every request
   a different account's session in turn: the whole way (session, role, six keyed reads, the
   JSON). Throughput, p50/p95/p99/p99.9, non-2xx, server CPU per request, and ``/healthz`` of
   the same server as the ceiling, with the ratio.

The figure (issue 21): ≥ 500 req/s with p99 < 50 ms on this machine, the ratio to ``/healthz``
reported.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench_catalog_search import env_for, free_port, wait_ready
from bench_channel import configure, speed_index
from bench_merkle import machine
from bench_prefill import (
    Accounts,
    Run,
    build_city,
    percentiles,
    prepare_accounts,
    wait_for_lookups,
    warm_and_measure,
)

TARGET_RATE = 500.0
TARGET_P99_MS = 50.0
SHUHUI = str(Path(sys.executable).with_name("shuhui"))
PATH = "/api/v1/hrss/me/record"
WORKERS_WITH_RECORDS = (
    "SELECT citizen_id, name FROM residents WHERE citizen_id IN "
    "(SELECT DISTINCT citizen_id FROM insurance_contributions) ORDER BY hash(citizen_id) LIMIT ?"
)


def in_process(accounts: Accounts, samples: int) -> dict[str, str]:
    from shuhui.approval.lookups import lookups_for
    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore
    from shuhui.hrss import records

    core = DataCore.from_settings(Settings(_env_file=None))
    lookups = lookups_for(core)
    began = time.perf_counter()
    records.prepare(lookups)
    first = time.perf_counter() - began
    chosen = random.Random(21).sample(accounts.citizen_ids, min(samples, len(accounts.citizen_ids)))
    ms, lines = [], []
    for citizen_id in chosen:
        began = time.perf_counter()
        record = records.read_record(lookups, citizen_id)
        ms.append((time.perf_counter() - began) * 1000)
        lines.append(len(record.months))
    con = core.connect(tables=["insurance_contributions"])
    duck = []
    try:
        for citizen_id in chosen[:100]:
            began = time.perf_counter()
            con.execute(
                "SELECT * FROM insurance_contributions WHERE citizen_id = ?", [citizen_id]
            ).fetchall()
            duck.append((time.perf_counter() - began) * 1000)
    finally:
        con.close()
    return {
        "key indexes mapped or built (first call)": f"{first:.1f} s",
        "record in process (six keyed reads)": percentiles(ms)
        + f"; {statistics.mean(lines):.1f} month lines a person",
        "contribution rows as a DuckDB query (not taken)": percentiles(duck),
    }


def drive(
    data_dir: Path, accounts: Accounts, args: argparse.Namespace, sweep: list[int]
) -> tuple[list[Run], Run]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "bench-hrss-server.log"
    log = log_path.open("wb")
    command = [SHUHUI, "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(args.workers)],
        env=env_for(data_dir, args.log_level),
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(base, server, timeout=120)
        print("server ready; waiting for every worker's key indexes …", flush=True)
        wait_for_lookups(log_path, args.workers, timeout=900)
        body, runs, ceiling = warm_and_measure(server.pid, port, PATH, accounts.tokens, args, sweep)
        print(
            f"one record: {len(body['months'])} months, {len(body['enrolments'])} enrolments, "
            f"sources {[(s['table'], s['version']) for s in body['sources']]}",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return runs, ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2_000, help="citizen accounts (sessions)")
    parser.add_argument("--clients", type=int, default=50, help="wrk connections, closed loop")
    parser.add_argument("--sweep", default="1,10,25", help="lower concurrencies also measured")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--samples", type=int, default=500, help="in-process records timed")
    parser.add_argument("--log-level", default="INFO", help="the server's (INFO: access log on)")
    parser.add_argument(
        "--data-dir", type=Path, help="where the city is kept (default /tmp/bench-hrss-<size>)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    sweep = sorted({int(c) for c in args.sweep.split(",") if c} - {args.clients})
    size = "1m" if args.residents == 1_000_000 else str(args.residents)
    data_dir = (args.data_dir or Path(f"/tmp/bench-hrss-{size}")).resolve()
    started = datetime.now().astimezone()
    print(*machine(), sep="\n")
    print(f"speed index (10,000,000 Python additions): {speed_index():.2f} s", flush=True)
    print(f"date: {started:%Y-%m-%d %H:%M %Z}; load average {os.getloadavg()}", flush=True)

    built = build_city(data_dir, args.residents)
    configure(env_for(data_dir, args.log_level))
    accounts = prepare_accounts(
        data_dir,
        args.residents,
        args.accounts,
        chooser=WORKERS_WITH_RECORDS,
        tables=("residents", "insurance_contributions"),
        tag="h",
    )
    alone = in_process(accounts, args.samples)
    for what, figure in alone.items():
        print(f"{what}: {figure}", flush=True)
    runs, ceiling = drive(data_dir, accounts, args, sweep)

    print()
    city = "reused" if built is None else f"built in {built:.1f} s"
    print(f"city: {city}; {len(accounts.tokens):,} accounts with contributions on record")
    for what, figure in alone.items():
        print(f"{what}: {figure}")
    for run in runs:
        met = (
            run.rate >= TARGET_RATE
            and run.ms["p99"] < TARGET_P99_MS
            and run.not_2xx == 0
            and run.socket_errors == 0
        )
        print(
            f"record, {run.clients} connections: {run.rate:,.0f} req/s, p50 {run.ms['p50']:.1f} / "
            f"p95 {run.ms['p95']:.1f} / p99 {run.ms['p99']:.1f} ms, CPU {run.cpu_ms:.2f} ms/req, "
            f"non-2xx {run.not_2xx}: target ≥ {TARGET_RATE:.0f} req/s with p99 < "
            f"{TARGET_P99_MS:.0f} ms {'met' if met else 'missed'}"
        )
    print(f"speed index at the end: {speed_index():.2f} s; load average {os.getloadavg()}")
    best = max(runs, key=lambda r: r.rate)
    print(
        f"ceiling /healthz, {args.clients} connections: {ceiling.rate:,.0f} req/s, p99 "
        f"{ceiling.ms['p99']:.1f} ms; ratio record/healthz {best.rate / ceiling.rate:.3f}"
    )


if __name__ == "__main__":
    main()
