"""The rule book on Spark beside DuckDB, on cities of growing size, and where the lines cross.

One command (from the repository root):

    .venv/bin/python bench/bench_spark.py

For each city size (``--residents``, default 1M, 3M and 10M, built once each with ``shuhui
synth`` into ``/tmp/bench-rules-<size>`` as ``bench_rules.py`` does, and reused), every rule of
the book is run (``rules.service.run``: counts per outcome, the eligible's amounts, the
undetermined per missing input, in one query) on

- **DuckDB** in this process over the data core's views (``DataCore.connect``), and
- **Spark** on a standalone cluster on this machine (``scripts/spark-cluster.sh start``: one
  master, one worker with all ``--cores``), through PySpark, reading the same Parquet files the
  manifests list (``rules.engines.SparkEngine``); or ``--master local[2]``.

Each side's result must equal the other's (counts, amounts to the cent, missing inputs): the
benchmark stops loudly if not. Spark's session is started once (its start is printed apart) and
each rule's first run is its warm-up (file listing, code generation) unless ``--repeat`` is 1.

Printed per size: each rule's best time on both engines, the book's total on each and the
ratio. Then a projection: a least-squares line ``t = a + b·N`` per engine over the sizes run,
and the size at which Spark on ``k`` such workers (``b`` divided by ``k``, ``a`` kept: the fixed
cost of planning and scheduling does not shrink with workers) overtakes one DuckDB box, for
k = 1, 2, 4, 8, 16. ``--svg FILE`` writes the chart (time against residents, both engines,
measured points and the projected lines) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench_rules import build_city, load, machine_lines, open_book, speed_index

ROOT = Path(__file__).resolve().parent.parent
ON = date(2026, 10, 31)


@dataclass
class Size:
    residents: int
    duckdb: dict[str, float]  # rule → best seconds
    spark: dict[str, float]

    def total(self, engine: str) -> float:
        return sum((self.duckdb if engine == "duckdb" else self.spark).values())


def city_dir(residents: int) -> Path:
    short = {1_000_000: "1m", 3_000_000: "3m", 10_000_000: "10m"}.get(residents, str(residents))
    return Path(f"/tmp/bench-rules-{short}")


def start_cluster(cores: int, memory: str) -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "spark-cluster.sh"), "start", str(cores), memory],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    if done.returncode != 0:
        raise SystemExit(f"the Spark cluster did not start: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def same(rule: str, a: object, b: object) -> None:
    from shuhui.rules.service import RunResult

    assert isinstance(a, RunResult) and isinstance(b, RunResult)
    left = (a.counts, a.amount_total, a.missing)
    right = (b.counts, b.amount_total, b.missing)
    if left != right:
        raise SystemExit(f"{rule}: DuckDB {left} ≠ Spark {right}")


def measure(residents: int, master: str, repeat: int, driver_memory: str) -> Size:
    from shuhui.datacore import spark as spark_tables
    from shuhui.datacore.store import DataCore
    from shuhui.rules import engines, service

    data_dir = city_dir(residents)
    build_city(data_dir, residents)
    core = DataCore(data_dir / "datacore", data_dir / "truth")
    book, _ = open_book(core)
    started = time.perf_counter()
    spark = engines.SparkEngine(spark_tables.session(master, driver_memory), core)
    print(f"  Spark session on {master}: {time.perf_counter() - started:.1f} s", flush=True)
    size = Size(residents, {}, {})
    versions = service.versions_of(core)
    for code, rule in sorted(book.rules.items()):
        duck_times, spark_times = [], []
        duck = sparked = None
        for _ in range(repeat):
            con = core.connect(tables=rule.tables)
            try:
                began = time.perf_counter()
                duck = service.run(con, rule, ON, versions)
                duck_times.append(time.perf_counter() - began)
            finally:
                con.close()
            began = time.perf_counter()
            sparked = spark.run(rule, ON)
            spark_times.append(time.perf_counter() - began)
        same(code, duck, sparked)
        # The first Spark run of a rule lists its files and compiles its plan's code: with
        # repeats, the best of the later ones (DuckDB's best likewise).
        size.duckdb[code] = min(duck_times[1:] or duck_times)
        size.spark[code] = min(spark_times[1:] or spark_times)
        print(
            f"  {code:42s} DuckDB {size.duckdb[code]:7.2f} s   Spark {size.spark[code]:7.2f} s"
            f"   ×{size.spark[code] / max(size.duckdb[code], 1e-6):6.1f}",
            flush=True,
        )
    return size


def line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares ``t = a + b·N`` (one point: through the origin)."""
    if len(points) == 1:
        n, t = points[0]
        return 0.0, t / n
    mean_n = sum(n for n, _ in points) / len(points)
    mean_t = sum(t for _, t in points) / len(points)
    b = sum((n - mean_n) * (t - mean_t) for n, t in points) / sum(
        (n - mean_n) ** 2 for n, _ in points
    )
    return mean_t - b * mean_n, b


def crossing(duck: tuple[float, float], spark: tuple[float, float], workers: int) -> float | None:
    """Residents at which Spark with ``workers`` workers like this one is as fast as DuckDB."""
    a_d, b_d = duck
    a_s, b_s = spark[0], spark[1] / workers
    if b_s >= b_d:
        return None  # never: each resident costs Spark at least as much
    return max(0.0, (a_s - a_d) / (b_d - b_s))


def svg(sizes: list[Size], duck: tuple[float, float], spark: tuple[float, float]) -> str:
    width, height, pad = 640, 380, 56
    top_n = max(s.residents for s in sizes) * 1.1
    top_t = max(max(s.total("spark"), s.total("duckdb")) for s in sizes) * 1.15

    def x(n: float) -> float:
        return pad + (width - 2 * pad) * n / top_n

    def y(t: float) -> float:
        return height - pad - (height - 2 * pad) * t / top_t

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#333"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#333"/>',
        f'<text x="{width / 2}" y="{height - 16}" text-anchor="middle">residents (millions)</text>',
        f'<text x="16" y="{height / 2}" transform="rotate(-90 16 {height / 2})" '
        'text-anchor="middle">rule book, seconds</text>',
    ]
    for i in range(6):
        n = top_n * i / 5
        parts.append(
            f'<text x="{x(n):.0f}" y="{height - pad + 16}" text-anchor="middle">'
            f"{n / 1e6:.0f}</text>"
        )
        t = top_t * i / 5
        parts.append(f'<text x="{pad - 6}" y="{y(t) + 4:.0f}" text-anchor="end">{t:.0f}</text>')
    for engine, fit, colour in (("duckdb", duck, "#1f77b4"), ("spark", spark, "#d62728")):
        a, b = fit
        parts.append(
            f'<line x1="{x(0):.1f}" y1="{y(a):.1f}" x2="{x(top_n):.1f}" '
            f'y2="{y(a + b * top_n):.1f}" stroke="{colour}" stroke-dasharray="5,4"/>'
        )
        for s in sizes:
            parts.append(
                f'<circle cx="{x(s.residents):.1f}" cy="{y(s.total(engine)):.1f}" r="4" '
                f'fill="{colour}"/>'
            )
    parts += [
        f'<text x="{pad + 12}" y="{pad + 4}" fill="#1f77b4">● DuckDB, one process</text>',
        f'<text x="{pad + 12}" y="{pad + 22}" fill="#d62728">● Spark, standalone, 1 worker</text>',
        f'<text x="{pad + 12}" y="{pad + 40}" fill="#555">dashed: least-squares line</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--residents", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000]
    )
    parser.add_argument("--master", default="cluster", help="'cluster' or a master URL")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--worker-memory", default="8g")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--svg", type=Path, default=None)
    args = parser.parse_args()

    for text in machine_lines():
        print(text)
    import pyspark

    print(f"pyspark {pyspark.__version__}; speed index {speed_index():.2f} s; {load()}")
    master = args.master
    if master == "cluster":
        master = start_cluster(args.cores, args.worker_memory)
        print(f"standalone cluster: {master}, one worker, {args.cores} cores")
    sizes: list[Size] = []
    for residents in sorted(args.residents):
        print(f"\n{residents:,} residents", flush=True)
        size = measure(residents, master, args.repeat, args.driver_memory)
        sizes.append(size)
        duck, spark = size.total("duckdb"), size.total("spark")
        print(
            f"  the book ({len(size.duckdb)} rules): DuckDB {duck:.1f} s, Spark {spark:.1f} s, "
            f"Spark/DuckDB ×{spark / duck:.1f}; {load()}",
            flush=True,
        )
    duck_fit = line([(s.residents, s.total("duckdb")) for s in sizes])
    spark_fit = line([(s.residents, s.total("spark")) for s in sizes])
    print("\nprojection (least squares over the sizes run, t = a + b·N):")
    for name, (a, b) in (("DuckDB", duck_fit), ("Spark", spark_fit)):
        print(f"  {name}: a = {a:.1f} s, b = {b * 1e6:.2f} s per million residents")
    for workers in (1, 2, 4, 8, 16):
        at = crossing(duck_fit, spark_fit, workers)
        said = "never" if at is None else f"from {at / 1e6:,.0f}M residents"
        print(f"  Spark on {workers:2d} worker(s) like this one overtakes one DuckDB box: {said}")
    if args.svg is not None:
        args.svg.write_text(svg(sizes, duck_fit, spark_fit), encoding="utf-8")
        print(f"chart: {args.svg}")
    print(f"speed index after: {speed_index():.2f} s; {load()}")


if __name__ == "__main__":
    main()
