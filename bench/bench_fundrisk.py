"""The fund-risk detectors against the synthetic city's ground truth, and what a run costs.

One command (from the repository root):

    .venv/bin/python bench/bench_fundrisk.py [--residents 20000] [--seed 2026]
        [--data-dir DIR] [--date 2026-10-31]

Builds the city into ``DIR`` (a temporary folder by default; an existing city there is reused),
then, as ``shuhui programs evaluate`` does, runs every detector of ``programs/fund-risk*.yaml``
over the whole city on the date (read-only: no alert is opened) and compares its findings with
the truth table of the anomaly it looks for. Prints the machine, each detector's precision,
recall, found, true and the seconds all detectors took. The defaults are the demo city's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from bench_merkle import machine

from shuhui.datacore.store import DataCore
from shuhui.programs.evaluation import EvaluationContext
from shuhui.programs.fundrisk.evaluation import evaluate
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 10, 31))
    args = parser.parse_args()
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-fundrisk-"))
    core = DataCore(root / "datacore", root / "truth")
    if not core.tables():
        started = time.perf_counter()
        config = CityConfig(residents=args.residents, seed=args.seed, as_of=args.date)
        build_city(core, config, show_progress=False)
        print(f"city: {args.residents:,} residents built in {time.perf_counter() - started:.1f} s")
    for line in machine():
        print(line)
    started = time.perf_counter()
    scores = evaluate(EvaluationContext(core, args.date))
    seconds = time.perf_counter() - started
    print(json.dumps({k: v.as_json() for k, v in scores.items()}, ensure_ascii=False, indent=1))
    print(f"every detector over the city, with the truth read: {seconds:.1f} s")


if __name__ == "__main__":
    main()
