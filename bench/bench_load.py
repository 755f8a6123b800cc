"""Load throughput of the data core against DuckDB's own bulk insert of the same Arrow batches.

    .venv/bin/python bench/bench_load.py [--residents 200000] [--seed 1]

Generates a synthetic city in memory, then loads every table (a) into the data core — checks,
Parquet versions, atomic publish — and (b) into a DuckDB database file with
``CREATE TABLE … AS SELECT * FROM <arrow>``, the ceiling. Prints rows/s for both and the ratio.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from shuhui.datacore.schema import TableSpec
from shuhui.datacore.store import DataCore
from shuhui.synth import CityConfig, generate_city


class MemorySink:
    def __init__(self) -> None:
        self.batches: dict[str, tuple[TableSpec, list[pa.RecordBatch]]] = {}

    def write(self, spec: TableSpec, batch: pa.RecordBatch) -> None:
        self.batches.setdefault(spec.name, (spec, []))[1].append(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sink = MemorySink()
    generate_city(sink, CityConfig(residents=args.residents, seed=args.seed))
    rows = sum(b.num_rows for _spec, bs in sink.batches.values() for b in bs)
    print(f"city of {args.residents:,} residents: {len(sink.batches)} tables, {rows:,} rows")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        core = DataCore(root / "datacore", root / "truth")
        started = time.perf_counter()
        with core.session("bench") as session:
            for spec, batches in sink.batches.values():
                for batch in batches:
                    session.write(spec, batch)
        ours = time.perf_counter() - started

        con = duckdb.connect(str(root / "ceiling.duckdb"))
        started = time.perf_counter()
        for name, (_spec, batches) in sink.batches.items():
            con.register("incoming", pa.Table.from_batches(batches))
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
            con.unregister("incoming")
        con.execute("CHECKPOINT")
        ceiling = time.perf_counter() - started
        con.close()

    print(f"data core load: {ours:.2f} s, {rows / ours:,.0f} rows/s")
    print(f"DuckDB bulk insert (ceiling): {ceiling:.2f} s, {rows / ceiling:,.0f} rows/s")
    print(f"ratio: {ceiling / ours:.2f} of the ceiling")
    print(
        f"machine: {platform.node()} {platform.machine()} python {platform.python_version()} "
        f"duckdb {duckdb.__version__}"
    )


if __name__ == "__main__":
    main()
