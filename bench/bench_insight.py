"""Insight's figures: every map page and the leaders' dashboard on a large city, cold and warm,
against a bare page of the same app; the monthly PDF report.

    .venv/bin/python bench/bench_insight.py [--residents 10000000] [--data-dir DIR] [--repeat 20]

The city is a ``shuhui synth`` city (``/tmp/bench-rules-<size>``, shared with ``bench_rules.py``
and built on first use), its operational database SQLite in the data directory, migrated, with
the demo accounts (the ``leader`` logs in). A ``shuhui serve --workers 1`` in a subprocess:

- *cold*: the first request of each page in a fresh server, so every indicator's facts are
  computed from the data (what a page costs right after a data load: a new table version makes
  the kept facts stale exactly as a new process has none); last month's reports, which a served
  process makes as it starts (and which would warm it), are made by a first server beforehand;
- *warm*: ``--repeat`` requests of each page after, one at a time; median and p95;
- *bare*: the same app's ``/insight`` index (logged in, the layout, no figure) the same way;
- the monthly PDF report of each map (``/api/v1/insight/maps/{code}/report``), warm.

Targets (issue 24): a map page < 500 ms warm, < 3 s cold; the report < 20 s. Timings are the
client's wall time over the loopback (one connection, nothing else on the line), which is the
server's time plus a fraction of a millisecond.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHUHUI = str(Path(sys.executable).with_name("shuhui"))
PASSWORD = "Shuhui@2026"
sys.path.insert(0, str(ROOT / "bench"))

from bench_rules import build_city  # noqa: E402


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUHUI_")}
    env.update(
        SHUHUI_DATA_DIR=str(data_dir),
        SHUHUI_SECRET_KEY="bench-secret",
        SHUHUI_LOG_LEVEL="WARNING",
        SHUHUI_COOKIE_SECURE="false",
    )
    return env


def prepare(data_dir: Path) -> None:
    """The operational database migrated, with a leader's account (idempotent)."""
    env = env_for(data_dir)

    def shuhui(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHUHUI, *args], env=env, cwd=data_dir, input=stdin, capture_output=True, text=True
        )

    done = shuhui("db", "upgrade")
    if done.returncode != 0:
        raise SystemExit(f"shuhui db upgrade failed:\n{done.stdout}\n{done.stderr}")
    if "leader" in shuhui("users", "list").stdout:
        return
    added = shuhui(
        "users", "add", "leader", "--role", "leader", "--name", "市领导", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    if added.returncode != 0:
        raise SystemExit(f"shuhui users add failed:\n{added.stdout}\n{added.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, bytes, float]:
        began = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=600) as answer:
                body = answer.read()
                status = answer.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        return status, body, time.perf_counter() - began

    def log_in(self, username: str) -> None:
        _, page, _ = self.get("/login")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        assert match, "no CSRF token on the login page"
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": match.group(1).decode()}
        ).encode()
        request = urllib.request.Request(self.base + "/login", data=form, method="POST")
        with self.opener.open(request, timeout=60) as answer:
            answer.read()


def serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (data_dir / "bench-insight-server.log").open("wb")
    server = subprocess.Popen(
        [SHUHUI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env_for(data_dir),
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server, base
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not start")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=60)


def pages() -> list[str]:
    from shuhui.core.content import DEFAULT_DIR
    from shuhui.insight import content

    return [
        "/dashboard",
        *(f"/insight/maps/{code}" for code in content.maps(DEFAULT_DIR, "qingdao")),
    ]


def maps() -> list[str]:
    from shuhui.core.content import DEFAULT_DIR
    from shuhui.insight import content

    return list(content.maps(DEFAULT_DIR, "qingdao"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=10_000_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    size = f"{args.residents // 1_000_000}m" if args.residents >= 1_000_000 else str(args.residents)
    data_dir = args.data_dir or Path(f"/tmp/bench-rules-{size}")
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    build_city(data_dir, args.residents)
    prepare(data_dir)
    targets = pages()
    codes = maps()

    # A served process makes last month's reports as it starts (insight.tasks), which computes
    # every figure: made once here, so that each fresh server below starts cold.
    server, base = serve(data_dir)
    try:
        client = Client(base)
        client.log_in("leader")
        waited = time.perf_counter()
        while len(json.loads(client.get("/api/v1/insight/reports")[1])["reports"]) < len(codes):
            if time.perf_counter() - waited > 1800:
                raise SystemExit("the scheduled reports were not made in 30 minutes")
            time.sleep(2)
        print(f"scheduled reports made in {time.perf_counter() - waited:.1f} s", flush=True)
    finally:
        stop(server)

    cold: dict[str, float] = {}
    for path in [*targets, "report"]:
        server, base = serve(data_dir)
        try:
            client = Client(base)
            client.log_in("leader")
            asked = "/api/v1/insight/maps/decisions/report" if path == "report" else path
            status, _, took = client.get(asked)
            assert status == 200, (path, status)
            cold[path] = took
            print(f"cold  {asked:40s} {took * 1000:9.1f} ms (a fresh server)", flush=True)
        finally:
            stop(server)

    server, base = serve(data_dir)
    try:
        client = Client(base)
        client.log_in("leader")
        warm: dict[str, list[float]] = {}
        for path in ["/insight", *targets]:
            client.get(path)
            warm[path] = [client.get(path)[2] for _ in range(args.repeat)]
        reports = {}
        for code in codes:
            status, body, took = client.get(f"/api/v1/insight/maps/{code}/report")
            assert status == 200 and body[:5] == b"%PDF-", (code, status)
            reports[code] = took
    finally:
        stop(server)

    bare = statistics.median(warm["/insight"])
    print()
    print(f"city: {args.residents:,} residents in {data_dir}; one worker; --repeat {args.repeat}")
    print(f"bare page /insight (logged in, no figure): median {bare * 1000:.1f} ms")
    worst_warm = worst_cold = 0.0
    for path in targets:
        times = sorted(warm[path])
        median = statistics.median(times)
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        worst_warm, worst_cold = max(worst_warm, median), max(worst_cold, cold[path])
        print(
            f"{path:32s} cold {cold[path] * 1000:8.1f} ms  warm median {median * 1000:7.1f} ms "
            f"p95 {p95 * 1000:7.1f} ms  ratio to bare {median / bare:5.1f}"
        )
    for code, took in reports.items():
        print(f"monthly report {code:14s} {took:6.2f} s warm (target < 20 s)")
    print(f"monthly report decisions       {cold['report']:6.2f} s in a fresh server (cold)")
    print(
        f"targets: warm < 500 ms {'met' if worst_warm < 0.5 else 'missed'} (worst "
        f"{worst_warm * 1000:.0f} ms); cold < 3 s {'met' if worst_cold < 3 else 'missed'} "
        f"(worst {worst_cold:.2f} s); report < 20 s "
        f"{'met' if max(*reports.values(), cold['report']) < 20 else 'missed'}; "
        f"load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
