"""Benchmark: build a synthetic city, for each requested size.

    .venv/bin/python bench/bench_synth.py --residents 20000 1000000 [--into datacore|parquet]

``--into datacore`` (the default) measures what `shuhui synth` does: generate, check every batch
against its table spec, write Parquet versions and publish them. ``--into parquet`` measures the
generator alone, into plain Parquet files.

Each size runs in a subprocess of its own so that peak memory (VmHWM) is that size's alone.
Prints wall time, rows written, rows per second, bytes on disk and peak RSS, against the
targets of issue 3 (20k residents < 30 s; 1M < 5 min and < 4 GB; 10M < 8 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

TARGETS = {20_000: (30.0, None), 1_000_000: (300.0, 4.0), 10_000_000: (None, 8.0)}


def _peak_rss_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(residents: int, seed: int, chunk: int, keep: Path | None, into: str) -> None:
    from shuhui.datacore.store import DataCore
    from shuhui.synth import CityConfig, ParquetSink, generate_city
    from shuhui.synth.cli import build_city

    config = CityConfig(residents=residents, seed=seed, chunk=chunk)
    with tempfile.TemporaryDirectory(prefix="shuhui-synth-") as tmp:
        directory = keep if keep is not None else Path(tmp)
        started = time.perf_counter()
        if into == "datacore":
            core = DataCore(directory / "datacore", directory / "truth")
            results = build_city(core, config, show_progress=False)
            rows = {name: r.rows for name, r in results.items()}
        else:
            with ParquetSink(directory) as sink:
                rows = generate_city(sink, config)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
    print(
        json.dumps(
            {
                "residents": residents,
                "seconds": seconds,
                "rows": sum(rows.values()),
                "tables": rows,
                "bytes": size,
                "peak_rss": _peak_rss_bytes(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the files here instead of a temp dir")
    parser.add_argument("--tables", action="store_true", help="also print rows per table")
    parser.add_argument("--into", choices=["datacore", "parquet"], default="datacore")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.seed, args.chunk, args.keep, args.into)
        return

    print(f"shuhui.synth benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(
        f"python {platform.python_version()}, seed {args.seed}, chunk {args.chunk}, "
        f"into {args.into}"
    )
    print(
        f"{'residents':>11} {'seconds':>9} {'rows':>13} {'rows/s':>11} {'MB on disk':>11}"
        f" {'peak RSS':>10}  target"
    )
    for residents in args.residents:
        command = [
            sys.executable,
            __file__,
            "--child",
            str(residents),
            "--seed",
            str(args.seed),
            "--chunk",
            str(args.chunk),
            "--into",
            args.into,
        ]
        if args.keep is not None:
            keep = args.keep / str(residents)
            keep.mkdir(parents=True, exist_ok=True)
            command += ["--keep", str(keep)]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{residents:>11,} failed:\n{done.stderr[-4000:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        seconds, rows, peak = result["seconds"], result["rows"], result["peak_rss"] / 2**30
        time_target, memory_target = TARGETS.get(residents, (None, None))
        verdicts = []
        if time_target is not None:
            verdicts.append(f"{'ok' if seconds < time_target else 'SLOW'} (< {time_target:.0f} s)")
        if memory_target is not None:
            verdicts.append(
                f"{'ok' if peak < memory_target else 'OVER'} (< {memory_target:.0f} GB)"
            )
        print(
            f"{residents:>11,} {seconds:>9.1f} {rows:>13,} {rows / seconds:>11,.0f}"
            f" {result['bytes'] / 2**20:>11,.0f} {peak:>8.2f} GB  {', '.join(verdicts)}"
        )
        if args.tables:
            for name, count in result["tables"].items():
                print(f"    {name:<36} {count:>13,}")


if __name__ == "__main__":
    main()
