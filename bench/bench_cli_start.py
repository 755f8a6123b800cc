"""Benchmark: how long the ``shuhui`` command takes to start and answer a light command.

    .venv/bin/python bench/bench_cli_start.py [--runs 10] [--data-dir DIR]

Each light command — ``--help``, every group's ``--help``, ``id check``, ``db current``,
``data ls`` — runs ``--runs`` times as a new process (``python -m shuhui.cli …``, as the
installed ``shuhui`` script does), wall time from spawn to exit. Prints median and max per
command against the 1 s target, the median CPU time (user + system: what the command costs
when the machine is busy with other work), and the anchor: a bare ``python -c pass``.
``db current`` and ``data ls`` run on a throwaway data directory (an empty SQLite database and
data core) unless ``--data-dir`` names one.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0
SHUHUI = [sys.executable, "-m", "shuhui.cli"]
GROUPS = ("db", "id", "data", "synth", "audit", "seal", "catalog", "rules", "users", "approval")
LIGHT: list[tuple[str, list[str]]] = [
    ("--help", ["--help"]),
    *((f"{group} --help", [group, "--help"]) for group in GROUPS),
    ("id check", ["id", "check", "11010519491231002X"]),
    ("db current", ["db", "current"]),
    ("data ls", ["data", "ls"]),
]


def timed(command: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system) of each run. On a busy machine the wall time
    is mostly waiting for a core; the CPU time is what the command itself costs."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    print(
        f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPU"
    )
    print(f"Python {platform.python_version()} · {args.runs} runs each · target < {TARGET_S} s")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        env = {**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "COLUMNS": "100"}
        env.pop("SHUHUI_DATABASE_URL", None)
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        bare, bare_cpu = timed([sys.executable, "-c", "pass"], env, args.runs)
        print(f"{'command':<20} {'median s':>9} {'max s':>7} {'CPU s':>7}  within target")
        print(
            f"{'python -c pass':<20} {statistics.median(bare):>9.3f} {max(bare):>7.3f} "
            f"{statistics.median(bare_cpu):>7.3f}  anchor"
        )
        missed = 0
        for label, argv in LIGHT:
            seconds, cpu = timed([*SHUHUI, *argv], env, args.runs)
            ok = max(seconds) < TARGET_S
            missed += not ok
            print(
                f"{label:<20} {statistics.median(seconds):>9.3f} {max(seconds):>7.3f} "
                f"{statistics.median(cpu):>7.3f}  {'yes' if ok else 'NO'}"
            )
    print("every light command within target" if not missed else f"{missed} over the target")


if __name__ == "__main__":
    main()
