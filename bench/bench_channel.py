"""The data channel's underwriting check on a city of realistic size, through a real server.

One command (from the repository root):

    .venv/bin/python bench/bench_channel.py

prepares a data directory once (``shuhui demo --residents 1000000``: the demo accounts and a
synthetic city of 1,000,000 residents, catalogued), then, in this process through the service
functions (setup, not measured): registers the insurer 青岛示范人寿 (91370200MA3R7B9K1L) as a
data consumer, admits it to the finance zone, has its access application for
``underwriting-health-check`` (purpose 人身保险投保核保) approved by the health commission and the
data bureau with a high rate limit, issues an API key, and has M citizens with medical visits
each draft and sign (platform-held SM2 key, 云签名) a certificate-use authorisation (用证授权) of
type 就诊记录 naming the insurer and the purpose, without a limit on uses.

It then starts ``shuhui serve --workers 2`` (one process per core) as a subprocess, warms it up
(the first call in each worker prepares the product's table from the data core; the server log
says how long), and drives ``POST /api/v1/channel/products/underwriting-health-check`` with
``wrk`` (C, ``apt-get install wrk``) in a closed loop: each connection sends its next call as
soon as the last is answered, the bodies rotating over the M consenting citizens. Every call
goes the whole way: key, rate limit and quota (counted in the database), grant and purpose, zone
membership, parameters, the citizen's signed authorisation (SM2 verification), the answer from
the prepared table, the use counted on the authorisation, the audit-ledger entry, metering.

The figure (the data-channel issue): p99 under 50 ms and at least 500 calls/s on a 2-core
machine, where Qingdao reports 3-5 s per check. ``/healthz`` of the same server, driven the
same way, is the ceiling (a route that does no work); the ratio is underwriting req/s over
healthz req/s. Server CPU per request (all processes of the server) is read from /proc.

``--data-dir DIR`` keeps the city, the key and the authorisations for the next run (more
``--subjects`` are signed on top); ``--database-url`` puts the operational database elsewhere
(e.g. an empty PostgreSQL database: migrated, set up and kept like the default SQLite).

``--nodes N`` (PostgreSQL) measures app nodes instead: one ``shuhui serve --workers 1`` pinned to
CPU 0 with ``taskset -c``, then N of them pinned to CPUs 0…N−1, on the same database and data
directory as nodes on N machines would be; one wrk per node, the connections split between
them, the calls summed and the slowest node's percentiles reported. wrk and PostgreSQL are not
pinned: on a machine of N CPUs they take their share of the nodes' CPUs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench_catalog_search import cpu_seconds, env_for, free_port, process_tree, wait_ready
from bench_merkle import machine

PRODUCT = "underwriting-health-check"
PATH = f"/api/v1/channel/products/{PRODUCT}"
INSURER = "91370200MA3R7B9K1L"  # the demo insurer account's credit code
INSURER_NAME = "青岛示范人寿保险股份有限公司"
PURPOSE = "人身保险投保核保"
CERTIFICATE = "就诊记录"
PROVIDER = "青岛市卫生健康委员会"  # reviews first: it provides the product
RATE_PER_MINUTE = 100_000  # the most a grant allows (review_access checks 1-100000)
MONTHLY_QUOTA = 100_000_000  # likewise
TARGET_P99_MS = 50.0
TARGET_RATE = 500.0
SHUHUI = str(Path(sys.executable).with_name("shuhui"))
ACTOR = "bench:channel"


# --- preparing the data directory -----------------------------------------------------------------


def city_marker(data_dir: Path, residents: int) -> Path:
    return data_dir / f"bench-channel-city-{residents}"


def shuhui_env(data_dir: Path, log_level: str, database_url: str | None) -> dict[str, str]:
    env = env_for(data_dir, log_level)
    if database_url:
        env["SHUHUI_DATABASE_URL"] = database_url
    return env


def setup_file(data_dir: Path, database_url: str | None) -> Path:
    """Where the key and the consenting citizens are kept, one file per operational database."""
    if not database_url:
        return data_dir / "bench-channel-setup.json"
    tag = hashlib.sha256(database_url.encode()).hexdigest()[:8]
    return data_dir / f"bench-channel-setup-{tag}.json"


def build_city(data_dir: Path, residents: int, database_url: str | None) -> bool:
    """``shuhui demo`` once per data directory and size (its progress goes to the terminal);
    True if it was built now."""
    marker = city_marker(data_dir, residents)
    env = shuhui_env(data_dir, "WARNING", database_url)
    if marker.exists():
        done = subprocess.run(
            [SHUHUI, "db", "upgrade"], env=env, cwd=data_dir, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"shuhui db upgrade failed:\n{done.stdout!r}\n{done.stderr!r}")
        print(f"city of {residents:,} residents already built in {data_dir}", flush=True)
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    for old in data_dir.glob("bench-channel-city-*"):
        old.unlink()
    for old in data_dir.glob("bench-channel-setup*.json"):
        old.unlink()  # its citizens belonged to the old city
    print(f"building the city: shuhui demo --residents {residents:,} --rebuild …", flush=True)
    began = time.perf_counter()
    done = subprocess.run(
        [SHUHUI, "demo", "--residents", str(residents), "--rebuild"],
        env=env,
        cwd=data_dir,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"shuhui demo failed with {done.returncode}")
    marker.touch()
    print(f"city built in {time.perf_counter() - began:.1f} s (shuhui demo)", flush=True)
    return True


@dataclass
class Setup:
    key: str
    grant: str
    subjects: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    products: list[str] = field(default_factory=list)  # those a server prepares at start


def configure(env: dict[str, str]) -> None:
    """This process's SHUHUI_* settings: exactly those the server gets."""
    for name in [n for n in os.environ if n.startswith("SHUHUI_")]:
        del os.environ[name]
    os.environ.update({k: v for k, v in env.items() if k.startswith("SHUHUI_")})


def prepare_channel(path: Path, residents: int, subjects: int) -> Setup:
    """The insurer, its grant and key, and M signed authorisations; kept in ``path`` and topped
    up when more subjects are asked for than it holds."""
    # Imported here: the settings are read from the environment configure() has set.
    from shuhui.channel import grants, keys, onboarding
    from shuhui.channel.city import city_channel
    from shuhui.core.clock import local_today
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore
    from shuhui.trust.authorisations import service as authz
    from shuhui.web.registry import DataCoreEnterprises

    settings = Settings(_env_file=None)
    engine = make_engine(settings.sqlalchemy_url)
    factory = make_session_factory(engine)
    city = city_channel(settings.city_content)
    kept: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    timings: dict[str, float] = {}

    def save() -> None:
        path.write_text(json.dumps(kept, ensure_ascii=False, indent=0))

    if kept.get("residents") != residents or "key" not in kept:
        began = time.perf_counter()
        with transaction(factory) as db:
            consumer = onboarding.consumer_by_code(db, INSURER) or onboarding.register_consumer(
                db,
                credit_code=INSURER,
                name=INSURER_NAME,
                type="insurer",
                contact_name="王经理",
                contact_phone="0532-88886666",
                contact_email="api@example.cn",
                actor=ACTOR,
            )
            if "finance" not in onboarding.member_zones(db, consumer.id):
                held = onboarding.apply_membership(
                    db, city, consumer, "finance", "线上核保", actor=ACTOR
                )
                onboarding.review_membership(db, held.id, approve=True, reason="", actor=ACTOR)
            application = grants.apply_access(
                db,
                city,
                consumer,
                products=[PRODUCT],
                fields=None,
                purpose=PURPOSE,
                legal_basis="《个人信息保护法》第十三条；投保人单独同意",
                usage="industry",
                days=365,
                actor=ACTOR,
            )
            for department, bureau in ((PROVIDER, False), (None, True)):
                grants.review_access(
                    db,
                    city,
                    application.code,
                    decision="approve",
                    reason="",
                    actor=ACTOR,
                    department=department,
                    is_bureau=bureau,
                    rate_per_minute=RATE_PER_MINUTE,
                    monthly_quota=MONTHLY_QUOTA,
                )
            assert application.status == "approved" and application.grant_id is not None
            grant = next(g for g in grants.grants(db, consumer.id) if g.id == application.grant_id)
            _, secret = keys.issue_key(
                db, consumer, grant_codes=[grant.code], label="bench", actor=ACTOR
            )
        kept = {"residents": residents, "key": secret, "grant": grant.code, "subjects": []}
        save()
        timings["consumer, grant and key"] = time.perf_counter() - began
        print(
            f"insurer registered, grant {grant.code} approved "
            f"({RATE_PER_MINUTE:,}/min, {MONTHLY_QUOTA:,}/month), key issued "
            f"in {timings['consumer, grant and key']:.2f} s",
            flush=True,
        )

    have: list[str] = kept["subjects"]
    missing = subjects - len(have)
    if missing > 0:
        core = DataCore.from_settings(settings)
        began = time.perf_counter()
        con = core.connect()
        try:
            # A spread of citizens with medical visits (ordered by a hash, not by number).
            rows = con.execute(
                "SELECT r.citizen_id, any_value(r.name) FROM medical_visits v "
                "JOIN residents r USING (citizen_id) GROUP BY 1 ORDER BY hash(r.citizen_id)"
                " LIMIT ?",
                [subjects + len(have)],
            ).fetchall()
        finally:
            con.close()
        known = set(have)
        chosen = [(str(c), str(n)) for c, n in rows if c not in known][:missing]
        timings["sampling citizens"] = time.perf_counter() - began
        if len(chosen) < missing:
            print(f"only {len(have) + len(chosen):,} citizens have medical visits", flush=True)
        relying = authz.parse_party("enterprise", INSURER, "青岛示范人寿", "relying_party")
        registry = DataCoreEnterprises(core)
        print(f"signing {len(chosen):,} certificate-use authorisations …", flush=True)
        began = time.perf_counter()
        batch = 100
        for start in range(0, len(chosen), batch):
            with transaction(factory) as db:
                for citizen, name in chosen[start : start + batch]:
                    now = datetime.now().astimezone()
                    drafted = authz.create_cert_use(
                        db,
                        city.certificate_types,
                        registry,
                        holder=authz.parse_party("person", citizen, name, "holder"),
                        signatory_id=citizen,
                        relying_party=relying,
                        certificate_types_wanted=[CERTIFICATE],
                        certificate_no=None,
                        purpose=PURPOSE,
                        valid_from=now,
                        valid_to=now + timedelta(days=365),
                        max_uses=None,
                        actor=f"citizen:{citizen}",
                    )
                    # 云签名: the platform issues the citizen's SM2 key and signs with it (the
                    # password check before it is the web route's, not the service's).
                    authz.sign(
                        db,
                        settings.data_dir,
                        drafted.code,
                        signer_citizen_id=citizen,
                        actor=f"citizen:{citizen}",
                    )
            have.extend(c for c, _ in chosen[start : start + batch])
            save()
            done = len(have) - (subjects - missing)
            if done % 1000 < batch or start + batch >= len(chosen):
                print(f"  {done:,} signed, {time.perf_counter() - began:.1f} s", flush=True)
        seconds = time.perf_counter() - began
        timings[f"drafting and signing {len(chosen):,} authorisations"] = seconds
        print(
            f"{len(chosen):,} authorisations drafted and signed in {seconds:.1f} s "
            f"({seconds * 1000 / max(1, len(chosen)):.1f} ms each: SM2 key generated, key file "
            "written, document signed, 3 ledger entries)",
            flush=True,
        )
    engine.dispose()
    today = local_today(datetime.now().astimezone())
    prepared = [p.code for p in city.products.in_force(today) if p.kind != "open"]
    return Setup(kept["key"], kept["grant"], have[:subjects], timings, prepared)


# --- the server -----------------------------------------------------------------------------------


def prepared_lines(log: Path, product: str | None = PRODUCT) -> list[dict[str, Any]]:
    """The server log's "data product prepared" entries (JSON lines) for ``product`` (None:
    every product)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if '"data product prepared"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if product is None or entry.get("product") == product:
            found.append(entry)
    return found


def settle(log: Path, workers: int, products: list[str], limit: float = 1800) -> float:
    """Waits until every worker has prepared every product it prepares at start; returns the
    wait. A server prepares its products one after another in the background; measured before
    they are all done, the calls share the two cores with DuckDB scans of the whole city (the
    enterprise credit check: 20-30 s per worker at 1,000,000 residents)."""
    began = time.perf_counter()
    while True:
        seen = Counter(str(e.get("product")) for e in prepared_lines(log, None))
        if all(seen[p] >= workers for p in products):
            return time.perf_counter() - began
        if time.perf_counter() - began > limit:
            raise SystemExit(f"products not prepared in {limit:.0f} s: {dict(seen)}")
        time.sleep(0.5)


def speed_index() -> float:
    """Seconds for a pure-Python loop of 10,000,000 additions: the VM's speed varies between
    days (1.9 s against 0.6 s seen), and figures from different runs compare only with it."""
    began = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - began


def post(base: str, key: str, citizen: str, timeout: float) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"purpose": PURPOSE, "params": {"citizen_id": citizen, "years": 5}})
    request = urllib.request.Request(
        base + PATH,
        data=body.encode(),
        headers={"X-API-Key": key, "Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def warm_up(base: str, setup: Setup, log: Path, workers: int, limit: float = 1800) -> float:
    """Calls, one at a time, until every worker has prepared the product's table; returns the
    wall time.

    One at a time: when this was written, a worker prepared the table inside the call's database
    transaction, after the call had counted itself against the rate limit, so on SQLite it held
    the write lock while preparing (5 s for a city of 1,000,000), and a call arriving meanwhile
    in the other worker waited out SQLite's busy timeout (5 s) and failed with 500 "database is
    locked".
    """
    began = time.perf_counter()
    n = 0
    while len(prepared_lines(log)) < workers:
        if time.perf_counter() - began > limit:
            raise SystemExit(f"the product was not prepared in every worker in {limit:.0f} s")
        status, body = post(base, setup.key, setup.subjects[n % len(setup.subjects)], limit)
        n += 1
        if status != 200:
            raise SystemExit(f"warm-up call answered {status}: {body}")
    return time.perf_counter() - began


# --- load with wrk --------------------------------------------------------------------------------

WRK_SCRIPT = """
local method, path, key = os.getenv("BENCH_METHOD"), os.getenv("BENCH_PATH"), os.getenv("BENCH_KEY")
local bodies, n = {}, 0
local listed = os.getenv("BENCH_BODIES")
if listed ~= nil and listed ~= "" then
  for line in io.lines(listed) do bodies[#bodies + 1] = line end
end
local headers = {Accept = "application/json"}
if #bodies > 0 then headers["Content-Type"] = "application/json" end
if key ~= nil and key ~= "" then headers["X-API-Key"] = key end
local threads, counter = {}, 0
local first = tonumber(os.getenv("BENCH_OFFSET") or "0") or 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", first + counter * 7919)
  table.insert(threads, thread)
end
function init(args) n = offset; statuses = {} end
function request()
  n = n + 1
  if #bodies == 0 then return wrk.format(method, path, headers) end
  return wrk.format(method, path, headers, bodies[(n % #bodies) + 1])
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
    ms: dict[str, float]  # p50, p95, p99, p99.9, max, mean (wrk's histogram)
    cpu_ms: float  # server CPU per request, all its processes

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def not_2xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    @property
    def errors(self) -> int:
        return self.not_2xx + self.socket_errors

    def met(self) -> bool:
        return self.ms["p99"] < TARGET_P99_MS and self.rate >= TARGET_RATE and self.errors == 0

    def line(self) -> str:
        others = ", ".join(f"{s}: {n:,}" for s, n in sorted(self.statuses.items()) if s != 200)
        return (
            f"{self.name:<12} {self.clients:>3} conn {self.requests:>8,} req "
            f"{self.rate:>7,.0f} req/s  p50 {self.ms['p50']:6.1f}  p95 {self.ms['p95']:6.1f}  "
            f"p99 {self.ms['p99']:6.1f}  p99.9 {self.ms['p99.9']:6.1f}  max {self.ms['max']:6.1f} "
            f"ms  CPU {self.cpu_ms:.2f} ms/req  non-2xx {self.not_2xx}"
            + (f" ({others})" if others else "")
            + (f"  socket errors {self.socket_errors}" if self.socket_errors else "")
        )


def measure(
    name: str,
    servers: list[int],
    port: int | list[int],
    clients: int,
    seconds: float,
    *,
    method: str = "GET",
    path: str = "/healthz",
    key: str = "",
    bodies: list[str] | None = None,
) -> Run:
    """Closed loop with wrk, after a one-second warm-up at the same concurrency. With several
    ports (app nodes), one wrk per node, the connections split between them, run together: the
    calls are summed, the latencies are the slowest node's percentiles."""
    ports = [port] if isinstance(port, int) else port
    shares = [clients // len(ports) + (i < clients % len(ports)) for i in range(len(ports))]
    with tempfile.TemporaryDirectory() as tmp:
        script, listed = Path(tmp) / "channel.lua", Path(tmp) / "bodies"
        script.write_text(WRK_SCRIPT)
        listed.write_text("".join(b + "\n" for b in bodies or []))
        env = {
            **os.environ,
            "BENCH_METHOD": method,
            "BENCH_PATH": path,
            "BENCH_KEY": key,
            "BENCH_BODIES": str(listed) if bodies else "",
        }

        def wrk(at: int, share: int, duration: str) -> list[str]:
            head = ["wrk", f"-t{min(2, share)}", f"-c{share}", "--timeout", "10s"]
            return [*head, "-s", str(script), duration, f"http://127.0.0.1:{at}"]

        def run_all(duration: str) -> list[str]:
            # Each wrk starts the bodies elsewhere: the nodes' calls are about different people.
            started = [
                subprocess.Popen(
                    wrk(at, share, duration),
                    env={**env, "BENCH_OFFSET": str(i * 1009)},
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for i, (at, share) in enumerate(zip(ports, shares, strict=True))
            ]
            outputs = [p.communicate()[0] for p in started]
            if any(p.returncode for p in started):
                raise SystemExit(f"wrk failed: {[p.returncode for p in started]}")
            return outputs

        run_all("-d1s")
        before = sum(cpu_seconds(pid) for pid in servers)
        outputs = run_all(f"-d{seconds:.0f}s")
        used = sum(cpu_seconds(pid) for pid in servers) - before
    requests = socket_errors = 0
    micros = 0
    ms: dict[str, float] = {}
    statuses: Counter[int] = Counter()
    for output in outputs:
        lines = output.splitlines()
        bench = next(x for x in lines if x.startswith("BENCH ")).split()[1:]
        requests += int(bench[0])
        micros = max(micros, int(bench[1]))
        socket_errors += int(bench[2])
        values = [float(v) / 1000 for v in bench[4:]]
        for label, value in zip(("p50", "p95", "p99", "p99.9", "max", "mean"), values, strict=True):
            ms[label] = max(ms.get(label, 0.0), value)
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
        ms,
        used * 1000 / max(1, requests),
    )
    print(run.line(), flush=True)
    return run


# --- the run --------------------------------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=2_000, help="consenting citizens (M)")
    parser.add_argument("--clients", type=int, default=50, help="wrk connections, closed loop")
    parser.add_argument(
        "--sweep", default="1,10,25", help="lower concurrencies also tried (p99 vs throughput)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--log-level", default="INFO", help="the server's (INFO: access log on)")
    parser.add_argument("--data-dir", type=Path, help="keep (and reuse) the prepared city here")
    parser.add_argument(
        "--database-url",
        help="what-if: the operational database elsewhere, e.g. an empty PostgreSQL database "
        "(postgresql+psycopg://postgres@127.0.0.1:5432/bench_channel); default SQLite in the "
        "data directory, as `shuhui demo` sets up",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="app nodes: with N > 1, one node of one worker pinned to CPU 0 against N nodes of "
        "one worker each pinned to CPUs 0..N-1 (taskset), on the same --database-url "
        "(PostgreSQL) and data directory; target N nodes >= 1.6x one node for N = 2",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    if args.nodes > 1 and not (args.database_url or "").startswith("postgresql"):
        raise SystemExit("--nodes needs --database-url: nodes share one PostgreSQL")
    if args.nodes > 1 and (shutil.which("taskset") is None or args.nodes > (os.cpu_count() or 1)):
        raise SystemExit(f"--nodes {args.nodes} needs taskset and as many CPUs")
    sweep = sorted({int(c) for c in args.sweep.split(",") if c} - {args.clients})
    started = datetime.now().astimezone()
    print(*machine(), sep="\n")
    speed = speed_index()
    print(f"speed index (10,000,000 Python additions): {speed:.2f} s", flush=True)
    print(f"date: {started:%Y-%m-%d %H:%M %Z}; load average {os.getloadavg()}", flush=True)

    temporary = args.data_dir is None
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="shuhui-bench-channel-"))).resolve()
    try:
        began = time.perf_counter()
        built = build_city(data_dir, args.residents, args.database_url)
        city = f"{time.perf_counter() - began:.1f} s" if built else "reused"
        configure(shuhui_env(data_dir, args.log_level, args.database_url))
        path = setup_file(data_dir, args.database_url)
        setup = prepare_channel(path, args.residents, args.subjects)
        if not setup.subjects:
            raise SystemExit("no consenting citizens")
        if args.nodes > 1:
            pairs = drive_nodes(data_dir, setup, args, sweep)
        else:
            runs, ceiling, warm, prepared = drive(data_dir, setup, args, sweep)
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.nodes > 1:
        print()
        for one, many in pairs:
            ratio = many.rate / one.rate
            print(
                f"underwriting, {one.clients} connections: 1 node (CPU 0) {one.rate:,.0f} calls/s "
                f"p99 {one.ms['p99']:.1f} ms; {args.nodes} nodes (CPUs 0-{args.nodes - 1}) "
                f"{many.rate:,.0f} calls/s p99 {many.ms['p99']:.1f} ms (slowest node's); "
                f"{ratio:.2f}x (target >= 1.6x {'met' if ratio >= 1.6 else 'missed'}); "
                f"non-2xx {one.not_2xx} / {many.not_2xx}"
            )
        print(
            f"machine: {os.cpu_count()} CPUs ({cpu_model()}); wrk and PostgreSQL unpinned on the "
            f"same CPUs; database {args.database_url}; load average after {os.getloadavg()}; "
            f"speed index {speed:.2f} s before, {speed_index():.2f} s after; {started:%Y-%m-%d}"
        )
        return

    print()
    print(f"preparation: city (shuhui demo) {city}", end="")
    for what, seconds in setup.timings.items():
        print(f"; {what} {seconds:.1f} s", end="")
    print()
    print(f"warm-up until every worker had the underwriting table: {warm:.1f} s")
    for entry in prepared:
        print(
            f"product {entry.get('product')} prepared in a worker: {entry.get('rows', 0):,} "
            f"rows in {float(entry.get('seconds', 0)):.2f} s"
        )
    main_run = next(r for r in runs if r.clients == args.clients)
    for run in runs:
        verdict = "met" if run.met() else "missed"
        print(
            f"underwriting, {run.clients} connections: {run.rate:,.0f} calls/s, p99 "
            f"{run.ms['p99']:.1f} ms, non-2xx {run.not_2xx}: target (p99 < {TARGET_P99_MS:.0f} ms "
            f"and >= {TARGET_RATE:.0f} calls/s) {verdict}"
        )
    print(
        f"ceiling /healthz, {args.clients} connections: {ceiling.rate:,.0f} req/s, p99 "
        f"{ceiling.ms['p99']:.1f} ms; ratio underwriting/healthz {main_run.rate / ceiling.rate:.3f}"
    )
    print(
        f"anchor: Qingdao reports 3-5 s per check; here p50 {main_run.ms['p50']:.1f} ms at "
        f"{args.clients} connections ({3000 / main_run.ms['p50']:,.0f}x faster than 3 s)"
    )
    print(
        f"machine: {os.cpu_count()} CPUs ({cpu_model()}); city {args.residents:,} residents, "
        f"{len(setup.subjects):,} consenting citizens, {args.workers} workers, log level "
        f"{args.log_level}; database {args.database_url or 'SQLite in the data directory'}; "
        f"wrk runs on the same CPUs; load average after {os.getloadavg()}; speed index "
        f"{speed:.2f} s before, {speed_index():.2f} s after; {started:%Y-%m-%d}"
    )


@contextmanager
def serving(
    data_dir: Path, setup: Setup, args: argparse.Namespace, workers: int, cpu: int | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes], Path, float]]:
    """``shuhui serve --workers N`` on a free port (pinned to one CPU with ``taskset -c``),
    ready once every worker has prepared every product: its port, process, log, and the
    warm-up's wall time (until every worker had prepared the underwriting table)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / f"bench-server-{port}.log"
    log = log_path.open("wb")
    pin = [] if cpu is None else ["taskset", "-c", str(cpu)]
    command = [*pin, SHUHUI, "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=shuhui_env(data_dir, args.log_level, args.database_url),
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(base, server, timeout=120)
        where = "" if cpu is None else f" on CPU {cpu}"
        print(f"server on port {port}{where} ready; warming up …", flush=True)
        warm = warm_up(base, setup, log_path, workers)
        waited = settle(log_path, workers, setup.products)
        print(f"every worker has prepared every product ({waited:.1f} s more)", flush=True)
        status, answer = post(base, setup.key, setup.subjects[0], 30)
        if status != 200:
            raise SystemExit(f"the check answered {status}: {answer}")
        yield port, server, log_path, warm
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def bodies_of(setup: Setup) -> list[str]:
    return [
        json.dumps({"purpose": PURPOSE, "params": {"citizen_id": c, "years": 5}})
        for c in setup.subjects
    ]


def drive(
    data_dir: Path, setup: Setup, args: argparse.Namespace, sweep: list[int]
) -> tuple[list[Run], Run, float, list[dict[str, Any]]]:
    with serving(data_dir, setup, args, args.workers) as (port, server, log_path, warm):
        prepared = prepared_lines(log_path, None)
        for entry in prepared:
            print(
                f"  data product {entry.get('product')} prepared: {entry.get('rows', 0):,} rows in "
                f"{float(entry.get('seconds', 0)):.2f} s",
                flush=True,
            )
        status, answer = post(f"http://127.0.0.1:{port}", setup.key, setup.subjects[0], 30)
        print(f"one call: {status} {json.dumps(answer.get('result'), ensure_ascii=False)}")
        bodies = bodies_of(setup)
        pids = process_tree(server.pid)
        print(f"server processes: {pids}; load average {os.getloadavg()}", flush=True)
        secs = args.seconds
        ceiling = measure("healthz", pids, port, args.clients, secs)
        runs = [
            measure(
                "underwriting",
                pids,
                port,
                clients,
                secs,
                method="POST",
                path=PATH,
                key=setup.key,
                bodies=bodies,
            )
            for clients in (*sweep, args.clients)
        ]
    return runs, ceiling, warm, prepared


def drive_nodes(
    data_dir: Path, setup: Setup, args: argparse.Namespace, sweep: list[int]
) -> list[tuple[Run, Run]]:
    """One node of one worker pinned to CPU 0, then ``--nodes`` nodes of one worker each,
    pinned to CPUs 0, 1, …, on the same PostgreSQL and data directory; each driven at every
    concurrency (split between the nodes, one wrk per node). Returns (one node, N nodes) per
    concurrency. wrk and PostgreSQL are not pinned: they share the same CPUs."""
    bodies = bodies_of(setup)
    concurrencies = (*sweep, args.clients)

    def drive_all(name: str, cpus: list[int]) -> list[Run]:
        with ExitStack() as stack:
            started = [stack.enter_context(serving(data_dir, setup, args, 1, cpu)) for cpu in cpus]
            ports = [port for port, _, _, _ in started]
            pids = [pid for _, server, _, _ in started for pid in process_tree(server.pid)]
            print(f"{name}: ports {ports}; load average {os.getloadavg()}", flush=True)
            return [
                measure(
                    name,
                    pids,
                    ports,
                    clients,
                    args.seconds,
                    method="POST",
                    path=PATH,
                    key=setup.key,
                    bodies=bodies,
                )
                for clients in concurrencies
            ]

    one = drive_all("1 node", [0])
    many = drive_all(f"{args.nodes} nodes", list(range(args.nodes)))
    return list(zip(one, many, strict=True))


if __name__ == "__main__":
    main()
