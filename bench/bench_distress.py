"""Struggling enterprises: the difficulty score over a city, and how it compares with the truth.

One command (from the repository root):

    .venv/bin/python bench/bench_distress.py [--residents 20000] [--data-dir DIR] [--repeat 3]

Builds a ``shuhui synth`` city of that many residents in ``DIR`` (default
``/tmp/bench-distress-<residents>``, kept for the next run) unless one is there, then, on a
throwaway operational database (SQLite in a temporary folder) over that data core:

* score: ``enterprise-difficulty`` over every enterprise, as ``service.run`` asks it (the
  counts, then the eligible rows with every figure), median of ``--repeat``;
* run: ``programs.distress.service.run`` once, end to end (the rule, the findings inserted,
  the ledger entry) in one transaction;
* precision and recall against ``truth_enterprise_distress`` (``programs.distress.evaluation``).

No target is named by the issue; the figures go to docs/benchmarks.md with the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench_merkle import machine

from shuhui.core import migrate
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.programs.distress import service
from shuhui.programs.distress.evaluation import evaluate
from shuhui.programs.evaluation import EvaluationContext
from shuhui.programs.service import Library
from shuhui.rules import service as rules_service

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 10, 31)


def ensure_city(data_dir: Path, residents: int) -> None:
    if (data_dir / "datacore" / "catalog.json").exists():
        return
    shuhui = Path(sys.executable).with_name("shuhui")
    env = {"SHUHUI_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [str(shuhui), "synth", "--residents", str(residents)], check=True, env=env, cwd=ROOT
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(f"/tmp/bench-distress-{args.residents}")
    ensure_city(data_dir, args.residents)
    core = DataCore(data_dir / "datacore", data_dir / "truth")
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch))
        library = Library(settings, core)
        rule = library.rule(service.RULE)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            with library.connection() as con:
                result = rules_service.run(con, rule, AS_OF, library.versions())
                found = rules_service.candidates(con, rule, AS_OF, outcomes=("eligible",))
            times.append(time.perf_counter() - started)
        engine = make_engine(settings.sqlalchemy_url)
        migrate.upgrade(settings.sqlalchemy_url)
        try:
            factory = make_session_factory(engine)
            started = time.perf_counter()
            with transaction(factory) as db:
                outcome = service.run(db, library, AS_OF, actor="bench")
            run_seconds = time.perf_counter() - started
            scores = evaluate(EvaluationContext(core, AS_OF))
        finally:
            engine.dispose()
    s = scores["enterprise_distress"]
    print(*machine(), sep="\n")
    print(f"city: {data_dir} ({result.entities:,} enterprises), evaluated on {AS_OF}")
    print(f"outcomes: {result.counts}; struggling kept: {len(found)} / {outcome.run.found}")
    print(f"score over every enterprise: median {statistics.median(times):.3f} s of {times}")
    print(f"service.run end to end (findings and ledger entry inserted): {run_seconds:.3f} s")
    print(f"precision {s.precision:.3f}, recall {s.recall:.3f} (found {s.found}, true {s.true})")


if __name__ == "__main__":
    main()
