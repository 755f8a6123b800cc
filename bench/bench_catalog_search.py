"""CKAN ``package_search`` over a catalog of realistic size, through a real server, under load.

One command (from the repository root):

    .venv/bin/python bench/bench_catalog_search.py

prepares a data directory (``shuhui demo --residents 2000``, then ``shuhui catalog generate``:
5,200 classes and 50,000 datasets), starts ``shuhui serve --workers 2`` (one process per core)
as a subprocess, and drives ``/api/3/action/package_search`` over 50 keep-alive connections
(50 concurrent clients) with two mixes:

- portal: 12 queries a portal's pages and API clients ask again and again (the home page's
  empty search with facets, popular words, filters, later pages); after the first round they
  are answered from the per-revision answer cache;
- distinct: 6,000 different queries (words × filters × pages), cycled, more than the answer
  cache holds, so every request is searched and encoded: the worst case.

Two ways of loading the server:

- closed loop, with ``wrk`` (C, one thread per core; ``apt-get install wrk``): each client sends
  its next request as soon as the last is answered, so the server is saturated; this gives its
  throughput, and latency = clients / throughput (Little's law). A Python load generator
  would take most of a core from the two the server has; wrk takes little.
- open loop, from this process (asyncio): the 50 clients together send at a fixed rate (each a
  Poisson process), and each latency counts from the moment the request was due (no
  coordinated omission); this gives the latency at a given load.

``/healthz`` (a route that does no work) is measured the same ways: the ceiling of this server
on this machine. Server CPU per request (all workers) is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

SHUHUI = str(Path(sys.executable).with_name("shuhui"))
PORTAL_FACETS = json.dumps(["organization", "groups", "tags", "res_format", "open_level"])
TARGET_P99_MS = 30.0


def _search(**params: str | int) -> str:
    return "/api/3/action/package_search?" + urlencode(params)


# What a portal's search page and API clients ask: words (an abbreviation, a full term, a
# district plus a subject), the empty search with all facets, filters, sorts, later pages.
QUERIES = (
    _search(q="社保", **{"facet.field": PORTAL_FACETS}),
    _search(q="养老保险"),
    _search(q="市南区 食品", **{"facet.field": PORTAL_FACETS}),
    _search(**{"facet.field": PORTAL_FACETS}),
    _search(fq='open_level:open groups:"04"', **{"facet.field": PORTAL_FACETS}),
    _search(q="企业", fq="res_format:CSV", sort="metadata_modified desc"),
    _search(q="医保", start=20),
    _search(q="空气质量", rows=20, **{"facet.field": '["organization"]'}),
    _search(q="enterprise"),
    _search(fq="tags:养老保险 frequency:MONTHLY", sort="name asc"),
    _search(q="崂山区 旅游景区", **{"facet.field": PORTAL_FACETS}),
    _search(q="公积金", sort="metadata_modified desc", rows=10, start=10),
)
HEALTHZ = ("/healthz",)
WORDS = (
    "社保", "养老保险", "医保", "企业", "食品", "空气质量", "公积金", "旅游景区", "学校", "交通",
    "水务", "税务", "人口", "卫生", "环境", "市场监管", "住房", "就业", "气象", "文化",
    "enterprise", "health", "市南区", "崂山区", "黄岛区", "城阳区", "即墨区", "李沧区", "市北区",
    "胶州市",
)  # fmt: skip
FILTERS = ("", "open_level:open", "res_format:CSV", 'groups:"04"', "frequency:MONTHLY")
# Many different questions, each asked once per cycle: no answer is served from memory.
DISTINCT = tuple(
    _search(q=word, fq=fq, start=start, **({"facet.field": PORTAL_FACETS} if start == 0 else {}))
    for word in WORDS
    for fq in FILTERS
    for start in range(0, 400, 10)
)


@dataclass
class Figures:
    name: str
    mode: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu_ms: float  # server CPU per request

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<15} {self.mode:<20} {self.requests:>7,} req {self.rate:>7,.0f} req/s  "
            f"p50 {self.pct(50):6.1f}  p95 {self.pct(95):6.1f}  p99 {self.pct(99):6.1f}  "
            f"max {max(self.latencies) * 1000:6.1f} ms  CPU {self.cpu_ms:.2f} ms/req  "
            f"errors {self.errors}"
        )


@dataclass
class WrkFigures(Figures):
    percentiles: dict[int, float]  # ms, from wrk's histogram

    def pct(self, p: float) -> float:
        return self.percentiles[int(p)]

    def line(self) -> str:
        return (
            f"{self.name:<15} {self.mode:<20} {self.requests:>7,} req {self.rate:>7,.0f} req/s  "
            f"p50 {self.pct(50):6.1f}  p95 {self.pct(95):6.1f}  p99 {self.pct(99):6.1f}  "
            f"max {self.pct(100):6.1f} ms  CPU {self.cpu_ms:.2f} ms/req  errors {self.errors}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(data_dir: Path, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUHUI_")}
    env.update(
        SHUHUI_DATA_DIR=str(data_dir),
        SHUHUI_SECRET_KEY="bench-secret",
        SHUHUI_LOG_LEVEL=log_level,
        SHUHUI_LOG_JSON="true",
    )
    return env


def prepare(data_dir: Path, args: argparse.Namespace) -> None:
    marker = data_dir / f"bench-catalog-{args.classes}-{args.datasets}"
    env = env_for(data_dir, "WARNING")

    def run(command: list[str]) -> None:
        done = subprocess.run(command, env=env, cwd=data_dir, capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout!r}\n{done.stderr!r}")

    if marker.exists():
        run([SHUHUI, "db", "upgrade"])
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    run([SHUHUI, "demo", "--residents", str(args.residents)])
    run(
        [
            SHUHUI,
            "catalog",
            "generate",
            "--classes",
            str(args.classes),
            "--datasets",
            str(args.datasets),
        ]
    )
    marker.touch()
    print(f"prepared {data_dir} in {time.perf_counter() - began:.1f} s", flush=True)


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"shuhui serve exited with {server.returncode}")
        try:
            with opener.open(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("shuhui serve not ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
) -> tuple[int, bytes]:
    writer.write(head)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the server closed an idle connection")
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return int(status_line.split()[1]), body


async def drive(
    port: int, paths: tuple[str, ...], clients: int, rate: float | None, seconds: float
) -> tuple[int, list[float]]:
    """Runs ``clients`` connections for ``seconds`` after a one-second warm-up; closed loop when
    ``rate`` is None, else Poisson arrivals totalling ``rate`` per second. Returns the errors
    and the latencies of the requests due in the measured window."""
    heads = [
        f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n".encode()
        for p in paths
    ]
    latencies: list[float] = []
    errors = 0
    began = time.perf_counter()
    start, stop = began + 1.0, began + 1.0 + seconds

    async def client(n: int) -> None:
        nonlocal errors
        arrivals = random.Random(n)  # the arrivals of one client, the same each run
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        due = began + (arrivals.expovariate(rate / clients) if rate else 0.0)
        i = n  # client n asks n, n + clients, n + 2 × clients…: together, each query in turn
        try:
            while due < stop:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                if rate is None:
                    due = time.perf_counter()
                try:
                    status, _ = await _request(reader, writer, heads[i % len(heads)])
                except ConnectionError:
                    # Idle longer than the server's keep-alive: reconnect, as a browser does.
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status, _ = await _request(reader, writer, heads[i % len(heads)])
                done = time.perf_counter()
                i += clients
                if due >= start:
                    latencies.append(done - due)
                    errors += status != 200
                due = done if rate is None else due + arrivals.expovariate(rate / clients)
        finally:
            writer.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return errors, latencies


WRK_SCRIPT = """
local paths, n = {}, 0
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("offset", counter * 7919) end
function init(args) n = offset end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {Accept = "application/json"})
end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def measure_wrk(
    name: str, servers: list[int], port: int, paths: tuple[str, ...], clients: int, seconds: float
) -> Figures:
    """Closed loop with wrk; the latency figures are wrk's (microsecond histogram)."""
    with tempfile.TemporaryDirectory() as tmp:
        script, listed = Path(tmp) / "mix.lua", Path(tmp) / "paths"
        script.write_text(WRK_SCRIPT)
        listed.write_text("\n".join(paths) + "\n")
        command = ["wrk", "-t2", f"-c{clients}", "-d1s", "-s", str(script)]
        env = {**os.environ, "BENCH_PATHS": str(listed)}
        url = f"http://127.0.0.1:{port}"
        subprocess.run([*command, url], env=env, capture_output=True, check=True)  # warm-up
        before = sum(cpu_seconds(pid) for pid in servers)
        done = subprocess.run(
            [*command[:-3], f"-d{seconds:.0f}s", "-s", str(script), url],
            env=env,
            capture_output=True,
            check=True,
            text=True,
        )
        used = sum(cpu_seconds(pid) for pid in servers) - before
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    requests, micros, errors, bad, p50, p95, p99, top, _mean = (
        int(float(v)) for v in line.split()[1:]
    )
    figures = WrkFigures(
        name,
        f"{clients} clients, closed (wrk)",
        requests,
        errors + bad,
        micros / 1e6,
        [],
        used * 1000 / max(1, requests),
        {50: p50 / 1000, 95: p95 / 1000, 99: p99 / 1000, 100: top / 1000},
    )
    print(figures.line(), flush=True)
    return figures


def measure(
    name: str,
    servers: list[int],
    port: int,
    paths: tuple[str, ...],
    clients: int,
    seconds: float,
    rate: float | None = None,
) -> Figures:
    before = sum(cpu_seconds(pid) for pid in servers)
    errors, latencies = asyncio.run(drive(port, paths, clients, rate, seconds))
    used = sum(cpu_seconds(pid) for pid in servers) - before
    mode = f"{clients} clients, " + (f"{rate:,.0f}/s offered" if rate else "closed")
    figures = Figures(
        name, mode, len(latencies), errors, seconds, latencies, used * 1000 / max(1, len(latencies))
    )
    print(figures.line(), flush=True)
    return figures


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (uvicorn's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--classes", type=int, default=5_200)
    parser.add_argument("--datasets", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=15.0, help="per measurement")
    parser.add_argument("--rates", default="100,300,1000", help="open-loop offered loads, req/s")
    parser.add_argument("--log-level", default="INFO", help="the server's (INFO: access log on)")
    parser.add_argument("--data-dir", type=Path, help="keep (and reuse) the prepared catalog here")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    if shutil.which("wrk") is None:
        raise SystemExit("the closed-loop runs need wrk: apt-get install wrk")

    temporary = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="shuhui-bench-catalog-"))
    try:
        prepare(data_dir, args)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (data_dir / "bench-server.log").open("wb")
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
            wait_ready(base, server)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            began = time.perf_counter()
            # Every worker builds its index at start; wait until a search is quick everywhere.
            while time.perf_counter() - began < 120:
                t = time.perf_counter()
                for _ in range(2 * args.workers):
                    with opener.open(base + _search(q=f"warm{t}"), timeout=120) as response:
                        response.read()
                if time.perf_counter() - t < 0.5:
                    break
            print(f"indexes built in {time.perf_counter() - began:.1f} s", flush=True)
            for path in QUERIES:
                with opener.open(base + path, timeout=120) as response:
                    found = json.load(response)["result"]["count"]
                    print(f"  {found:>6,} found  {path}", flush=True)
            print(f"load average before: {os.getloadavg()}  ({os.cpu_count()} CPUs)", flush=True)
            pids = process_tree(server.pid)
            n, secs = args.clients, args.seconds
            print(f"server processes: {pids}")
            serial = measure("search distinct", pids, port, DISTINCT, 1, secs)
            ceiling = measure_wrk("healthz", pids, port, HEALTHZ, n, secs)
            portal = measure_wrk("search portal", pids, port, QUERIES, n, secs)
            distinct = measure_wrk("search distinct", pids, port, DISTINCT, n, secs)
            opened = [
                (
                    measure("search portal", pids, port, QUERIES, n, secs, rate),
                    measure("search distinct", pids, port, DISTINCT, n, secs, rate),
                )
                for rate in rates
            ]
            print(f"load average after: {os.getloadavg()}")
        finally:
            server.terminate()
            server.wait(timeout=20)
            log.close()
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)

    print()
    print(
        f"unloaded (1 client, distinct queries): p50 {serial.pct(50):.1f} ms, "
        f"p99 {serial.pct(99):.1f} ms"
    )
    for f in (ceiling, portal, distinct):
        verdict = "met" if f.pct(99) < TARGET_P99_MS and f.errors == 0 else "missed"
        print(
            f"closed loop, {n} clients, {f.name}: {f.rate:,.0f} req/s, p99 {f.pct(99):.1f} ms "
            f"({verdict}; ratio to /healthz req/s {f.rate / ceiling.rate:.2f})"
        )
    for p, d in opened:
        print(
            f"open loop, {n} clients, {p.mode.split(', ')[1]}: p99 portal {p.pct(99):.1f} ms, "
            f"distinct {d.pct(99):.1f} ms"
        )


if __name__ == "__main__":
    main()
