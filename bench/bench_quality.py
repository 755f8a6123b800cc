"""Data-quality assessment of a table of 10M+ rows, against DuckDB's own SUMMARIZE of it.

    .venv/bin/python bench/bench_quality.py [--residents 700000] [--table insurance_contributions]
        [--keep DIR] [--repeat 3] [--ids]

Builds a synthetic city into a data core (or reuses the one in ``--keep DIR`` if that table is
there; 700,000 residents give ~10.7M rows of monthly contributions, about 15.3 per resident),
then times ``shuhui.quality.assess`` on one table — completeness, validity with the
GB 11643 / GB 32100 check characters in SQL, primary-key uniqueness, references to residents
and enterprises, timeliness. The anchor is DuckDB's ``SUMMARIZE`` of the same table (min, max,
distinct estimate, mean, quartiles, null share of every column); the floor is one hash of
every value. Target: < 10 s for ≥ 10M rows. The first run of each is a warm-up, not timed.

``--ids`` also times the identifier checks alone, in DuckDB SQL and with numpy on Arrow
columns (``shuhui.core.ids_arrays``), over all rows and over distinct values.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from shuhui.core.ids_arrays import citizen_id_mask, credit_code_mask
from shuhui.datacore.store import DataCore
from shuhui.quality.checks import assess
from shuhui.quality.sql import citizen_id_digits_sql, citizen_id_sql, credit_code_sql
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city

T = TypeVar("T")


def _core(directory: Path, residents: int, seed: int, table: str) -> DataCore:
    core = DataCore(directory / "datacore", directory / "truth")
    if table in {t.name for t in core.tables()}:
        print(f"reusing the data core in {directory}")
        return core
    started = time.perf_counter()
    build_city(core, CityConfig(residents=residents, seed=seed), show_progress=False)
    print(f"built a city of {residents:,} residents in {time.perf_counter() - started:.1f} s")
    return core


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _timed(action: Callable[[], T], repeat: int) -> tuple[float, list[float], T]:
    times: list[float] = []
    result = action()  # once to warm up, not timed
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def _cases(
    con: duckdb.DuckDBPyConnection,
    table: str,
    q: str,
    sql: str,
    check: Callable[[pa.ChunkedArray], npt.NDArray[np.bool_]],
) -> dict[str, Callable[[], object]]:
    def numpy_bad(query: str) -> int:
        return int((~check(con.sql(query).to_arrow_table().column(0))).sum())

    v17 = citizen_id_digits_sql("v")
    rows = f"(SELECT v, {v17} AS v17 FROM (SELECT {q} AS v FROM {table}))"
    distinct = f"(SELECT v, {v17} AS v17 FROM (SELECT DISTINCT {q} AS v FROM {table}))"
    return {
        "SQL, all rows": lambda: con.execute(f"SELECT count_if(NOT {sql}) FROM {rows}").fetchall(),
        "numpy, all rows": lambda: numpy_bad(f"SELECT {q} FROM {table}"),
        "SQL, distinct values": lambda: con.execute(
            f"SELECT count_if(NOT {sql}) FROM {distinct}"
        ).fetchall(),
        "numpy, distinct values": lambda: numpy_bad(f"SELECT DISTINCT {q} FROM {table}"),
        "DISTINCT alone": lambda: con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {q} FROM {table})"
        ).fetchall(),
    }


def _id_checks(core: DataCore, table: str, repeat: int) -> None:
    today = datetime.now(UTC).date()
    checks: list[tuple[str, str, Callable[[pa.ChunkedArray], npt.NDArray[np.bool_]]]] = [
        (
            "citizen_id",
            citizen_id_sql("v", today, digits="v17"),
            lambda a: citizen_id_mask(a, today=today),
        ),
        ("credit_code", credit_code_sql("v"), credit_code_mask),
    ]
    con = core.connect()
    try:
        for column, sql, numpy_check in checks:
            cases = _cases(con, table, f'"{column}"', sql, numpy_check)
            for label, action in cases.items():
                median, _times, _ = _timed(action, repeat)
                print(f"  {column:<12} {label:<24} {median:6.2f} s")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=700_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--table", default="insurance_contributions")
    parser.add_argument("--keep", type=Path, help="build the city here, or reuse it")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ids", action="store_true", help="also time the identifier checks")
    args = parser.parse_args()

    print(f"shuhui.quality benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
        f"python {platform.python_version()}, duckdb {duckdb.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="shuhui-quality-") as tmp:
        directory = args.keep if args.keep is not None else Path(tmp)
        core = _core(directory, args.residents, args.seed, args.table)
        info = core.table(args.table)
        print(f"table {args.table}: {info.rows:,} rows, {len(info.columns)} columns")

        con = core.connect()
        reads = ", ".join(f'bit_xor(hash("{c.name}"))' for c in info.columns)
        anchor, _times, _ = _timed(
            lambda: con.execute(f"SELECT {reads} FROM {args.table}").fetchall(), args.repeat
        )
        summarize, _times, _ = _timed(
            lambda: con.execute(f"SUMMARIZE SELECT * FROM {args.table}").fetchall(), args.repeat
        )
        con.close()

        median, times, report = _timed(lambda: assess(core, args.table), args.repeat)
        rows = info.rows
        print(
            f"assess: {median:.2f} s median of {args.repeat} "
            f"({', '.join(f'{t:.2f}' for t in times)}), {rows / median:,.0f} rows/s, "
            f"{'ok' if median < 10 else 'SLOW'} (target < 10 s)"
        )
        print(f"anchor: DuckDB SUMMARIZE of the table: {summarize:.2f} s")
        print(f"ratio: {summarize / median:.2f} of SUMMARIZE's speed")
        print(f"floor: one hash of every value (bit_xor(hash(col)) per column): {anchor:.2f} s")
        counts = ", ".join(f"{d.name} {len(d.checks)}" for d in report.dimensions)
        print(f"checks per dimension: {counts}")
        print(f"score {report.score}:")
        for d in report.dimensions:
            print(f"  {d.name:<13} {d.score}  ({len(d.checks)} checks)")
        for note in report.notes:
            print(f"  note: {note}")
        print(f"peak RSS of this process: {_peak_rss() / 2**30:.2f} GB")
        if args.ids:
            print("identifier checks alone (median):")
            _id_checks(core, args.table, args.repeat)


if __name__ == "__main__":
    main()
