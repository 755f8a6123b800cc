"""Pre-filled forms (身份自动填 / 历史选择填 / 共享系统填) on a 1,000,000-resident city, under
concurrent load, through a real server.

One command (from the repository root):

    .venv/bin/python bench/bench_prefill.py

prepares a data directory once and keeps it (``/tmp/bench-prefill-1m`` by default): ``shuhui demo
--residents 1000000`` (the demo accounts and a synthetic city of 1,000,000 residents), then, in
this process (setup, not measured), N citizen accounts (``--accounts``, 2,000) bound to residents
picked at random (ordered by a hash of the ID) the way the platform binds one (an admin requests,
the identity reviewer approves), and a login session for each.

It then measures, in this order:

1. **In process**, the service alone: ``approval.prefill.prefill`` for the item's form, the
   first call building the key indexes of every table the form reads (``approval.lookups``),
   then for 500 random accounts one after another, each in a transaction rolled back (median,
   p99); and one keyed read of the data core (``Lookups.rows``) against the same read as a DuckDB
   query on a kept connection (the path not taken).
2. **Through the server**: ``shuhui serve --workers 2`` as a subprocess, once every worker has
   prepared its data products and mapped the indexes (from the server log),
   ``GET /api/v1/approval/items/{code}/form`` driven by ``wrk`` (``apt-get install wrk``) in a
   closed loop at each concurrency of ``--sweep`` and at ``--clients``, every request a different
   account's session cookie in turn: the whole way (session, role, the item, the data core's
   rows, the applicant's earlier cases, certificates, the ledger entry, the commit, the JSON).
   Throughput and p50/p95/p99/p99.9 (wrk's histogram), non-2xx, server CPU per request from
   /proc, and ``/healthz`` of the same server as the ceiling.

The figure (issue 18): a pre-filled form in under 100 ms at the 99th percentile on a
1,000,000-resident city under concurrent load. The item is ``--item`` or, by default, the person
item in force whose form the platform fills most (the catalogue of ``approval.items``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_catalog_search import cpu_seconds, env_for, free_port, process_tree, wait_ready
from bench_channel import configure, settle, speed_index
from bench_merkle import machine

TARGET_P99_MS = 100.0
SHUHUI = str(Path(sys.executable).with_name("shuhui"))
PASSWORD = "bench-prefill-password-2026"
SESSION_HOURS = 24
PATH = "/api/v1/approval/items/{code}/form"


# --- preparing the data directory -----------------------------------------------------------------


def build_city(data_dir: Path, residents: int) -> float | None:
    """``shuhui demo`` once per data directory and size; the seconds it took, None if reused."""
    marker = data_dir / f"bench-prefill-city-{residents}"
    env = env_for(data_dir, "WARNING")
    if marker.exists():
        done = subprocess.run(
            [SHUHUI, "db", "upgrade"], env=env, cwd=data_dir, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"shuhui db upgrade failed:\n{done.stdout!r}\n{done.stderr!r}")
        print(f"city of {residents:,} residents already built in {data_dir}", flush=True)
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    for old in [*data_dir.glob("bench-prefill-city-*"), *data_dir.glob("bench-prefill-setup.json")]:
        old.unlink()
    print(f"building the city: shuhui demo --residents {residents:,} --rebuild …", flush=True)
    began = time.perf_counter()
    done = subprocess.run(
        [SHUHUI, "demo", "--residents", str(residents), "--rebuild"],
        env=env,
        cwd=data_dir,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SystemExit(f"shuhui demo failed with {done.returncode}")
    marker.touch()
    seconds = time.perf_counter() - began
    print(f"city built in {seconds:.1f} s (shuhui demo)", flush=True)
    return seconds


@dataclass
class Accounts:
    usernames: list[str]
    citizen_ids: list[str]
    tokens: list[str]


# Whom the accounts are bound to: residents in a random but stable order (a hash of the ID).
RANDOM_RESIDENTS = "SELECT citizen_id, name FROM residents ORDER BY hash(citizen_id) LIMIT ?"


def prepare_accounts(
    data_dir: Path,
    residents: int,
    count: int,
    *,
    chooser: str = RANDOM_RESIDENTS,
    tables: tuple[str, ...] = ("residents",),
    tag: str = "p",
) -> Accounts:
    """N citizen accounts bound to residents ``chooser`` picks (a query over ``tables`` giving
    citizen ID and name, its one parameter the number wanted), kept in the data directory and
    topped up, and a fresh login session for each. ``tag`` keeps one benchmark's accounts
    apart from another's."""
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore
    from shuhui.trust.identity import bindings
    from shuhui.trust.identity import service as identity
    from shuhui.trust.identity.models import User
    from shuhui.trust.identity.roles import Role
    from shuhui.trust.identity.schemas import UserCreate

    # Accounts made for the benchmark only: the cheapest argon2id (the server verifies a hash
    # with the parameters stored in it, and nobody logs in with these passwords anyway).
    identity.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    settings = Settings(_env_file=None)
    engine = make_engine(settings.sqlalchemy_url)
    factory = make_session_factory(engine)
    path = data_dir / ("bench-prefill-setup.json" if tag == "p" else f"bench-{tag}-setup.json")
    kept: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if kept.get("residents") != residents:
        kept = {"residents": residents, "accounts": []}
    have: list[list[str]] = kept["accounts"]
    missing = count - len(have)
    if missing > 0:
        began = time.perf_counter()
        with factory() as db:
            bound = {c for c in db.scalars(select(User.citizen_id)) if c}
        core = DataCore.from_settings(settings)
        con = core.connect(tables=list(tables))
        try:
            rows = con.execute(chooser, [count + len(bound) + len(have)]).fetchall()
        finally:
            con.close()
        known = {c for _, c in have} | bound
        chosen = [(str(c), str(n)) for c, n in rows if c not in known][:missing]
        print(f"creating {len(chosen):,} citizen accounts …", flush=True)
        for start in range(0, len(chosen), 250):
            batch = [
                (f"bench-{tag}{len(have) + i:05d}", citizen, name)
                for i, (citizen, name) in enumerate(chosen[start : start + 250])
            ]
            with transaction(factory) as db:
                registrar = identity.get_user_by_username(db, "registrar")
                assert registrar is not None, "the demo identity reviewer is missing"
                for username, citizen, name in batch:
                    user = identity.create_user(
                        db,
                        UserCreate(
                            username=username,
                            display_name=name,
                            password=PASSWORD,
                            roles=[Role.citizen],
                            citizen_id=citizen,
                        ),
                        actor="admin",
                        password_by_holder=True,
                    )
                    pending = bindings.pending_of(db, user)
                    assert pending is not None
                    bindings.approve(db, pending, approver=registrar)
            have.extend([username, citizen] for username, citizen, _ in batch)
            path.write_text(json.dumps(kept, indent=0))
        print(f"{len(chosen):,} accounts in {time.perf_counter() - began:.1f} s", flush=True)
    accounts = have[:count]
    with transaction(factory) as db:
        tokens = []
        for username, _ in accounts:
            user = identity.get_user_by_username(db, username)
            assert user is not None
            tokens.append(identity.start_session(db, user, hours=SESSION_HOURS))
    engine.dispose()
    return Accounts([u for u, _ in accounts], [c for _, c in accounts], tokens)


def choose_item(content: Path, code: str | None) -> Any:
    from shuhui.approval.items import load_catalogue
    from shuhui.core.clock import local_today

    catalogue = load_catalogue(content)
    if code is not None:
        item = catalogue.get(code)
        if item is None:
            raise SystemExit(f"no service item {code}")
        return item
    people = [i for i in catalogue.in_force(local_today()) if i.holder == "person"]
    if not people:
        raise SystemExit("the catalogue (approval.items.load_catalogue) has no person items")
    return max(people, key=lambda i: (sum(f.fill is not None for f in i.form.fields), i.code))


# --- in process -----------------------------------------------------------------------------------


def percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, max {ms[-1]:.2f} ms"


def in_process(item: Any, accounts: Accounts, samples: int) -> dict[str, str]:
    """The service and one read alone, one after another in this process."""
    from shuhui.approval.lookups import lookups_for
    from shuhui.approval.prefill import prefill
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore
    from shuhui.trust.identity import service as identity

    settings = Settings(_env_file=None)
    engine = make_engine(settings.sqlalchemy_url)
    factory = make_session_factory(engine)
    core = DataCore.from_settings(settings)
    found: dict[str, str] = {}
    picked = random.Random(7).sample(
        range(len(accounts.usernames)), min(samples, len(accounts.usernames))
    )

    def one(i: int) -> float:
        with factory() as db:
            user = identity.get_user_by_username(db, accounts.usernames[i])
            assert user is not None
            began = time.perf_counter()
            prefill(db, core, item, user=user)
            took = (time.perf_counter() - began) * 1000
            db.rollback()
        return took

    first = one(picked[0])
    found["first form (maps or builds the key indexes)"] = f"{first / 1000:.2f} s"
    took = [one(i) for i in picked]
    found["prefill() alone, one at a time"] = percentiles(took)

    lookups = lookups_for(core)
    ids = [accounts.citizen_ids[i] for i in picked]
    reads = []
    for citizen in ids:
        began = time.perf_counter()
        lookups.resident(citizen)
        reads.append((time.perf_counter() - began) * 1000)
    found["one keyed read (residents, key index)"] = percentiles(reads)
    con = core.connect(tables=["residents", "e_certificates"])
    cursor = con.cursor()
    try:
        queries = []
        for citizen in ids[:200]:
            began = time.perf_counter()
            cursor.execute("SELECT * FROM residents WHERE citizen_id = ?", [citizen]).fetchall()
            queries.append((time.perf_counter() - began) * 1000)
        found["the same read as a DuckDB query, kept connection"] = percentiles(queries)
        holders = []
        for citizen in ids[:50]:
            began = time.perf_counter()
            cursor.execute(
                "SELECT * FROM e_certificates WHERE holder_citizen_id = ?", [citizen]
            ).fetchall()
            holders.append((time.perf_counter() - began) * 1000)
        found["a holder's certificates as a DuckDB query"] = percentiles(holders)
    finally:
        cursor.close()
        con.close()
    engine.dispose()
    for what, figure in found.items():
        print(f"{what}: {figure}", flush=True)
    return found


# --- through the server ---------------------------------------------------------------------------

WRK_SCRIPT = """
local path = os.getenv("BENCH_PATH")
local tokens = {}
local listed = os.getenv("BENCH_TOKENS")
if listed ~= nil and listed ~= "" then
  for line in io.lines(listed) do tokens[#tokens + 1] = line end
end
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
  table.insert(threads, thread)
end
function init(args) n = offset; statuses = {} end
function request()
  n = n + 1
  local headers = {Accept = "application/json"}
  if #tokens > 0 then headers["Cookie"] = "shuhui_session=" .. tokens[(n % #tokens) + 1] end
  return wrk.format("GET", path, headers)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH %d %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do io.write(string.format("STATUS %d %d\\n", status, count)) end
end
"""


@dataclass
class Run:
    name: str
    clients: int
    requests: int
    seconds: float
    socket_errors: int
    statuses: dict[int, int]
    ms: dict[str, float]
    cpu_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def not_2xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    def met(self) -> bool:
        return self.ms["p99"] < TARGET_P99_MS and self.not_2xx == 0 and self.socket_errors == 0

    def line(self) -> str:
        others = ", ".join(f"{s}: {n:,}" for s, n in sorted(self.statuses.items()) if s != 200)
        return (
            f"{self.name:<8} {self.clients:>3} conn {self.requests:>7,} req "
            f"{self.rate:>6,.0f} req/s  p50 {self.ms['p50']:6.1f}  p95 {self.ms['p95']:6.1f}  "
            f"p99 {self.ms['p99']:6.1f}  p99.9 {self.ms['p99.9']:6.1f}  max {self.ms['max']:6.1f} "
            f"ms  CPU {self.cpu_ms:.2f} ms/req  non-2xx {self.not_2xx}"
            + (f" ({others})" if others else "")
            + (f"  socket errors {self.socket_errors}" if self.socket_errors else "")
        )


def measure(
    name: str,
    servers: list[int],
    port: int,
    clients: int,
    seconds: float,
    path: str,
    tokens: list[str],
) -> Run:
    """Closed loop with wrk, after a one-second warm-up at the same concurrency."""
    with tempfile.TemporaryDirectory() as tmp:
        script, listed = Path(tmp) / "prefill.lua", Path(tmp) / "tokens"
        script.write_text(WRK_SCRIPT)
        listed.write_text("".join(t + "\n" for t in tokens))
        env = {**os.environ, "BENCH_PATH": path, "BENCH_TOKENS": str(listed) if tokens else ""}
        url = f"http://127.0.0.1:{port}"
        head = [
            "wrk",
            f"-t{min(2, clients)}",
            f"-c{clients}",
            "--timeout",
            "10s",
            "-s",
            str(script),
        ]
        subprocess.run([*head, "-d1s", url], env=env, capture_output=True, check=True)
        before = sum(cpu_seconds(pid) for pid in servers)
        done = subprocess.run(
            [*head, f"-d{seconds:.0f}s", url], env=env, capture_output=True, check=True, text=True
        )
        used = sum(cpu_seconds(pid) for pid in servers) - before
    lines = done.stdout.splitlines()
    bench = next(x for x in lines if x.startswith("BENCH ")).split()[1:]
    requests, micros, socket_errors = int(bench[0]), int(bench[1]), int(bench[2])
    p50, p95, p99, p999, top, mean = (float(v) / 1000 for v in bench[4:])
    statuses: Counter[int] = Counter()
    for x in lines:
        if x.startswith("STATUS "):
            statuses[int(x.split()[1])] += int(x.split()[2])
    run = Run(
        name,
        clients,
        requests,
        micros / 1e6,
        socket_errors,
        dict(statuses),
        {"p50": p50, "p95": p95, "p99": p99, "p99.9": p999, "max": top, "mean": mean},
        used * 1000 / max(1, requests),
    )
    print(run.line(), flush=True)
    return run


def get_form(base: str, path: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        base + path, headers={"Cookie": f"shuhui_session={token}", "Accept": "application/json"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=60) as response:
            return int(response.status), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def lines_with(log: Path, message: str) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if f'"{message}"' in line:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


def wait_for_lookups(log_path: Path, workers: int, *, timeout: float) -> None:
    """Until every worker of the server has mapped its key indexes (from its log)."""
    began = time.perf_counter()
    while len(lines_with(log_path, "approval lookups prepared")) < workers:
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"the key indexes were not prepared in {timeout:.0f} s")
        time.sleep(0.5)
    for entry in lines_with(log_path, "approval lookups prepared"):
        indexes, seconds = entry.get("indexes"), entry.get("seconds")
        print(f"  a worker mapped its {indexes} key indexes in {seconds} s")


def warm_and_measure(
    server_pid: int,
    port: int,
    path: str,
    tokens: list[str],
    args: argparse.Namespace,
    sweep: list[int],
) -> tuple[dict[str, Any], list[Run], Run]:
    """One answer (returned, to show), 200 more one at a time to warm up, then ``/healthz`` as
    the ceiling and ``path`` at each concurrency, rotating the sessions."""
    base = f"http://127.0.0.1:{port}"
    status, first = get_form(base, path, tokens[0])
    if status != 200:
        raise SystemExit(f"{path} answered {status}: {first}")
    for token in tokens[1:200]:
        status, body = get_form(base, path, token)
        if status != 200:
            raise SystemExit(f"{path} answered {status}: {body}")
    pids = process_tree(server_pid)
    print(f"server processes: {pids}; load average {os.getloadavg()}", flush=True)
    ceiling = measure("healthz", pids, port, args.clients, args.seconds, "/healthz", [])
    name = path.rstrip("/").rsplit("/", 1)[-1][:8]
    runs = [
        measure(name, pids, port, clients, args.seconds, path, tokens)
        for clients in (*sweep, args.clients)
    ]
    return first, runs, ceiling


def drive(
    data_dir: Path, item: Any, accounts: Accounts, args: argparse.Namespace, sweep: list[int]
) -> tuple[list[Run], Run]:
    from shuhui.channel.city import city_channel
    from shuhui.core.clock import local_today
    from shuhui.core.settings import Settings

    settings = Settings(_env_file=None)
    today = local_today(datetime.now().astimezone())
    products = [
        p.code
        for p in city_channel(settings.city_content).products.in_force(today)
        if p.kind != "open"
    ]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    path = PATH.format(code=item.code)
    log_path = data_dir / "bench-prefill-server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [
            SHUHUI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env_for(data_dir, args.log_level),
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(base, server, timeout=120)
        print(
            "server ready; waiting for every worker's data products and key indexes …", flush=True
        )
        waited = settle(log_path, args.workers, products)
        wait_for_lookups(log_path, args.workers, timeout=600)
        print(f"  data products prepared ({waited:.1f} s)", flush=True)
        body, runs, ceiling = warm_and_measure(server.pid, port, path, accounts.tokens, args, sweep)
        print(
            f"one form: {body['counts']}; versions {body['versions']}; "
            f"filled: {[f['name'] for f in body['fields'] if f['fill']]}",
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
    parser.add_argument("--item", help="the service item (default: the most-filled person item)")
    parser.add_argument("--clients", type=int, default=50, help="wrk connections, closed loop")
    parser.add_argument("--sweep", default="1,10,25", help="lower concurrencies also measured")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--samples", type=int, default=500, help="in-process forms timed")
    parser.add_argument("--log-level", default="INFO", help="the server's (INFO: access log on)")
    parser.add_argument(
        "--data-dir", type=Path, help="where the city is kept (default /tmp/bench-prefill-<size>)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    sweep = sorted({int(c) for c in args.sweep.split(",") if c} - {args.clients})
    size = "1m" if args.residents == 1_000_000 else str(args.residents)
    data_dir = (args.data_dir or Path(f"/tmp/bench-prefill-{size}")).resolve()
    started = datetime.now().astimezone()
    print(*machine(), sep="\n")
    print(f"speed index (10,000,000 Python additions): {speed_index():.2f} s", flush=True)
    print(f"date: {started:%Y-%m-%d %H:%M %Z}; load average {os.getloadavg()}", flush=True)

    built = build_city(data_dir, args.residents)
    configure(env_for(data_dir, args.log_level))
    from shuhui.core.settings import Settings

    item = choose_item(Settings(_env_file=None).city_content, args.item)
    fills = [f"{f.name} ← {f.fill.table}.{f.fill.column}" for f in item.form.fields if f.fill]
    replaced = [m.code for m in item.materials if m.replaced_by]
    print(
        f"item {item.code} {item.name_zh}: {len(item.form.fields)} fields, {len(fills)} filled "
        f"by the platform ({'; '.join(fills)}); materials an e-certificate replaces: {replaced}",
        flush=True,
    )
    accounts = prepare_accounts(data_dir, args.residents, args.accounts)
    alone = in_process(item, accounts, args.samples)
    runs, ceiling = drive(data_dir, item, accounts, args, sweep)

    print()
    city = "reused" if built is None else f"built in {built:.1f} s"
    print(f"city: {city}; {len(accounts.tokens):,} accounts")
    for what, figure in alone.items():
        print(f"{what}: {figure}")
    for run in runs:
        verdict = "met" if run.met() else "missed"
        print(
            f"form, {run.clients} connections: {run.rate:,.0f} forms/s, p50 {run.ms['p50']:.1f} / "
            f"p95 {run.ms['p95']:.1f} / p99 {run.ms['p99']:.1f} ms, non-2xx {run.not_2xx}: "
            f"target p99 < {TARGET_P99_MS:.0f} ms {verdict}"
        )
    print(f"speed index at the end: {speed_index():.2f} s; load average {os.getloadavg()}")
    best = max(runs, key=lambda r: r.rate)
    print(
        f"ceiling /healthz, {args.clients} connections: {ceiling.rate:,.0f} req/s, p99 "
        f"{ceiling.ms['p99']:.1f} ms; ratio form/healthz {best.rate / ceiling.rate:.3f}"
    )


if __name__ == "__main__":
    main()
