"""CKAN ``package_search`` over a catalog of realistic size, through a real server, under load.

One command (from the repository root):

    .venv/bin/python bench/bench_catalog_search.py

prepares a data directory (``shuhui demo --residents 2000``, then ``shuhui catalog generate``:
5,200 classes and 50,000 datasets), starts ``shuhui serve`` as a subprocess, and drives it from
this process with an asyncio HTTP/1.1 keep-alive client over 50 connections (50 concurrent
clients), with a mix of portal and API queries against ``/api/3/action/package_search``:

- closed loop: each client sends its next request as soon as the last is answered, so the
  server is saturated; this gives its throughput, and latency = clients / throughput.
- open loop: the 50 clients together send at a fixed rate (each a Poisson process), and each
  latency counts from the moment the request was due (no coordinated omission); this gives the
  latency at a given load, and the highest load whose p99 stays under the 30 ms target.

``/healthz`` (a route that does no work) is measured the same ways: the ceiling of this server
and this client on this machine. Server CPU per request is read from /proc.
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
        i = n
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
                i += 1
                if due >= start:
                    latencies.append(done - due)
                    errors += status != 200
                due = done if rate is None else due + arrivals.expovariate(rate / clients)
        finally:
            writer.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return errors, latencies


def measure(
    name: str,
    server: int,
    port: int,
    paths: tuple[str, ...],
    clients: int,
    seconds: float,
    rate: float | None = None,
) -> Figures:
    before = cpu_seconds(server)
    errors, latencies = asyncio.run(drive(port, paths, clients, rate, seconds))
    used = cpu_seconds(server) - before
    mode = f"{clients} clients, " + (f"{rate:,.0f}/s offered" if rate else "closed")
    figures = Figures(
        name, mode, len(latencies), errors, seconds, latencies, used * 1000 / max(1, len(latencies))
    )
    print(figures.line(), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--classes", type=int, default=5_200)
    parser.add_argument("--datasets", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0, help="per measurement")
    parser.add_argument(
        "--rates", default="50,100,150,200,250,300", help="open-loop offered loads, req/s"
    )
    parser.add_argument("--log-level", default="INFO", help="the server's (INFO: access log on)")
    parser.add_argument("--data-dir", type=Path, help="keep (and reuse) the prepared catalog here")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]

    temporary = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="shuhui-bench-catalog-"))
    try:
        prepare(data_dir, args)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (data_dir / "bench-server.log").open("wb")
        server = subprocess.Popen(
            [SHUHUI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env_for(data_dir, args.log_level),
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(base, server)
            # The first search builds the index; every query once, so the figures are warm.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            began = time.perf_counter()
            for path in QUERIES:
                with opener.open(base + path, timeout=120) as response:
                    found = json.load(response)["result"]["count"]
                    print(f"  {found:>6,} found  {path}", flush=True)
            print(f"first pass (builds the index): {time.perf_counter() - began:.2f} s")
            print(f"load average before: {os.getloadavg()}  ({os.cpu_count()} CPUs)", flush=True)
            pid, n, secs = server.pid, args.clients, args.seconds
            serial = measure("package_search", pid, port, QUERIES, 1, secs)
            ceiling = measure("healthz", pid, port, HEALTHZ, n, secs)
            saturated = measure("package_search", pid, port, QUERIES, n, secs)
            opened = [
                (
                    measure("healthz", pid, port, HEALTHZ, n, secs, rate),
                    measure("package_search", pid, port, QUERIES, n, secs, rate),
                )
                for rate in rates
            ]
            print(f"load average after: {os.getloadavg()}")
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)

    print()
    print(f"unloaded (1 client): p50 {serial.pct(50):.1f} ms, p99 {serial.pct(99):.1f} ms")
    print(
        f"closed loop, {n} clients: package_search {saturated.rate:,.0f} req/s, "
        f"p99 {saturated.pct(99):.1f} ms; /healthz {ceiling.rate:,.0f} req/s, "
        f"p99 {ceiling.pct(99):.1f} ms; ratio (req/s) {saturated.rate / ceiling.rate:.2f}"
    )
    met = [s for _h, s in opened if s.pct(99) < TARGET_P99_MS and s.errors == 0]
    for h, s in opened:
        print(
            f"open loop, {n} clients, {s.mode.split(', ')[1]}: package_search p99 "
            f"{s.pct(99):.1f} ms (/healthz {h.pct(99):.1f} ms)"
        )
    if met:
        best = max(met, key=lambda s: s.rate)
        print(
            f"highest offered load with p99 < {TARGET_P99_MS:.0f} ms at {n} clients: "
            f"{best.mode.split(', ')[1]} (p99 {best.pct(99):.1f} ms)"
        )
    else:
        print(f"no offered load tried kept p99 under {TARGET_P99_MS:.0f} ms")


if __name__ == "__main__":
    main()
