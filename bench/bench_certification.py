"""The pension certification cycle (无感认证) over a whole city's pensioners.

One command (from the repository root):

    .venv/bin/python bench/bench_certification.py [--residents 1000000] [--data-dir DIR]

builds a synthetic city of N residents (``shuhui synth``'s generator, a year of evidence to
2026-10-31) in ``--data-dir`` unless one of that size is there, then, on a throwaway operational
database (SQLite in a temporary data directory whose data core links the city's):

1. the cycle's evidence query alone (the rule's values for every person joined to the pensions
   in payment and to the payments made after a death; DuckDB, rows fetched into Python);
2. the whole cycle, ``programs.certification.service.run`` in one transaction: the evidence,
   the walk over every pensioner, the certifications inserted (one per recipient), the
   notices, holds, overpayments and ledger entries; committed;
3. the same date again (idempotent: finds the run, writes nothing);
4. the next day (the incremental run: only those not yet certified, and new windows).

The issue's figure: 2,200,000 pensioners under 60 s. The synthetic city has about 26 pensioners
per 100 residents, so 1M residents give ~260k pensioners; the time is linear in pensioners (one
query, one pass, one bulk insert), and the script prints the per-pensioner cost and the time it
implies for 2.2M. ``--repeat`` runs step 2 again on fresh databases (best and spread printed).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bench_merkle import machine

from shuhui.core import migrate
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.programs.certification import service
from shuhui.programs.certification.cycle import _evidence_sql
from shuhui.programs.service import Library

ROOT = Path(__file__).resolve().parent.parent
ACTOR = "bench"
ON = date(2026, 10, 31)
TARGET_PENSIONERS = 2_200_000
T = TypeVar("T")


def timed(step: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    out = step()
    return time.perf_counter() - began, out


def ensure_city(folder: Path, residents: int) -> None:
    core = DataCore(folder / "datacore", folder / "truth")
    have = 0
    if any(t.name == "residents" for t in core.tables()):
        found = core.connect(tables=["residents"]).execute("SELECT count(*) FROM residents")
        row = found.fetchone()
        have = int(row[0]) if row else 0
    if have == residents:
        return
    from shuhui.synth import CityConfig
    from shuhui.synth.cli import build_city

    shutil.rmtree(folder, ignore_errors=True)
    print(f"building a city of {residents:,} residents in {folder} …", flush=True)
    seconds, _ = timed(
        lambda: build_city(
            DataCore(folder / "datacore", folder / "truth"),
            CityConfig(residents=residents, seed=7, chunk=min(residents, 200_000)),
            show_progress=False,
        )
    )
    print(f"  built in {seconds:.0f} s")


def one_cycle(city: Path, *, more: bool) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory(prefix="bench-cert-") as tmp:
        home = Path(tmp)
        (home / "datacore").symlink_to((city / "datacore").resolve())
        (home / "truth").symlink_to((city / "truth").resolve())
        settings = Settings(
            _env_file=None, data_dir=home, secret_key="bench", content_dir=ROOT / "content"
        )
        migrate.upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        factory = make_session_factory(engine)
        library = Library(settings, DataCore.from_settings(settings))
        cycle = service.cycle_for(settings, ON)
        rule = library.rule(cycle.rule)
        out: dict[str, float | int] = {}
        with library.connection() as con:
            sql = _evidence_sql(con, rule, cycle, ON)
            out["evidence_s"], rows = timed(lambda: con.execute(sql).fetchall())
        out["pensions"] = len(rows)
        del rows
        now = datetime(2026, 11, 1, 4, tzinfo=UTC)

        def run(day: date) -> service.CycleResult:
            with transaction(factory) as db:
                return service.run(db, library, settings, day, actor=ACTOR, now=now)

        out["cycle_s"], result = timed(lambda: run(ON))
        out.update({f"n_{k}": v for k, v in result.counts.items()})
        if more:
            out["again_s"], again = timed(lambda: run(ON))
            assert again.already_run
            out["next_day_s"], nxt = timed(lambda: run(ON + timedelta(days=1)))
            out["next_day_certified"] = nxt.counts["certified"]
        out["db_mb"] = round((home / "shuhui.db").stat().st_size / 1e6, 1)
        engine.dispose()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-cert-1m"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print("shuhui.programs.certification cycle benchmark")
    for line in machine():
        print(line)
    ensure_city(args.data_dir, args.residents)
    results = [one_cycle(args.data_dir, more=i == 0) for i in range(args.repeat)]
    first = results[0]
    cycles = [float(r["cycle_s"]) for r in results]
    best = min(cycles)
    pensioners = int(first["n_recipients"])
    print(
        f"city: {args.residents:,} residents, {int(first['pensions']):,} pensions in payment, "
        f"{pensioners:,} pensioners"
    )
    print(f"evidence query (DuckDB, fetched): {float(first['evidence_s']):.2f} s")
    spread = f" (spread {statistics.pstdev(cycles):.2f})" if len(cycles) > 1 else ""
    print(f"whole cycle, committed: best {best:.2f} s{spread}")
    print(
        "  outcomes: "
        + ", ".join(f"{k[2:]} {int(v):,}" for k, v in first.items() if k.startswith("n_"))
    )
    print(f"same date again: {float(first['again_s']) * 1000:.0f} ms (nothing written)")
    print(
        f"next day: {float(first['next_day_s']):.2f} s "
        f"({int(first['next_day_certified']):,} newly certified)"
    )
    print(f"operational database after the run: {first['db_mb']} MB")
    per = best / max(1, pensioners)
    print(
        f"per pensioner: {per * 1e6:.1f} µs → {TARGET_PENSIONERS:,} pensioners ≈ "
        f"{per * TARGET_PENSIONERS:.0f} s (target < 60 s, linear scaling assumed)"
    )


if __name__ == "__main__":
    main()
