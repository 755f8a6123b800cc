"""The enterprise platform: one enterprise's file (一企一档) and matching one need, on a big city.

One command (from the repository root):

    .venv/bin/python bench/bench_enterprise.py [--residents 10000000] [--data-dir DIR]
        [--sample 500]

Builds a ``shuhui synth`` city of that many residents in ``DIR`` (default
``/tmp/bench-enterprise-<residents>``, kept for the next run) unless one is there — the
10M-resident city has about 600,000 enterprises — then, on a throwaway operational database
(SQLite in a temporary folder, migrated) over that data core:

* indexes: the key indexes a profile reads, each built once per table version (first use), and
  the derived monthly headcounts (``enterprise.monthly``, DuckDB over every spell and
  contribution), timed apart;
* profile: ``enterprise.profile.read`` for ``--sample`` random live enterprises, indexes
  mapped, as a served worker has them: median, p95, p99, max against p99 < 100 ms;
* matching: first the day's evaluation of every enterprise policy over the whole city (what
  the first match of a day waits for, or a served city prepares), timed apart; then
  ``enterprise.service.preview`` (every solution of the 40 platforms scored, every enterprise
  policy's row for the enterprise read by key with its conditions) for the same enterprises,
  a need kind and text drawn in turn: median, p95, p99 against p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_merkle import machine

from shuhui.approval.lookups import lookups_for
from shuhui.core import migrate
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.enterprise import monthly, profile, service
from shuhui.enterprise.platforms import load
from shuhui.enterprise.schemas import NeedIn
from shuhui.programs.service import Library
from shuhui.trust.identity.models import User

ROOT = Path(__file__).resolve().parent.parent
CITY = ROOT / "content" / "qingdao"
NEEDS = [
    NeedIn(kind="digital", title="设备联网", detail="数控设备联网，生产计划排产和质量追溯"),
    NeedIn(kind="financing", title="流动资金", detail="订单增加需要流动资金贷款周转", amount=1),
    NeedIn(kind="talent", title="招聘技工", detail="需要招聘数控技工和数字化人才培训"),
    NeedIn(kind="market", title="开拓市场", detail="希望对接跨境电商和海外展会，拓展销售渠道"),
]


def ensure_city(data_dir: Path, residents: int) -> None:
    if (data_dir / "datacore" / "catalog.json").exists():
        return
    shuhui = Path(sys.executable).with_name("shuhui")
    env = {"SHUHUI_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [str(shuhui), "synth", "--residents", str(residents)], check=True, env=env, cwd=ROOT
    )


def quantiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p = statistics.quantiles(ms, n=100, method="inclusive")
    return (
        f"median {statistics.median(ms):.1f} ms, p95 {p[94]:.1f} ms, p99 {p[98]:.1f} ms, "
        f"max {ms[-1]:.1f} ms (n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--residents", type=int, default=10_000_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(f"/tmp/bench-enterprise-{args.residents}")
    ensure_city(data_dir, args.residents)
    core = DataCore(data_dir / "datacore", data_dir / "truth")
    codes = [
        str(r["credit_code"])
        for r in core.sql("SELECT credit_code FROM enterprises WHERE status = '存续'").to_pylist()
    ]
    total = core.sql("SELECT count(*) AS n FROM enterprises").to_pylist()[0]["n"]
    sample = random.Random(args.seed).sample(codes, min(args.sample, len(codes)))
    print(*machine(), sep="\n")
    print(f"city: {data_dir}: {total:,} enterprises, {len(codes):,} live")
    catalogue = load(CITY)
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch))
        migrate.upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        # The indexes live beside the data core, as a served city's do.
        lookups = monthly.register(lookups_for(core))
        for table, key in profile.KEYED:
            began = time.perf_counter()
            lookups.prepare([(table, key)])
            print(f"index {table} by {'+'.join(key)}: {time.perf_counter() - began:.1f} s")
        library = Library(settings, core)
        try:
            factory = make_session_factory(engine)
            took: list[float] = []
            with transaction(factory) as db:
                for code in sample:
                    began = time.perf_counter()
                    profile.read(db, lookups, code, catalogue)
                    took.append(time.perf_counter() - began)
            print(f"profile (target p99 < 100 ms): {quantiles(took)}")
            matched: list[float] = []
            began = time.perf_counter()
            with library.connection():
                pass
            print(f"rule book and data-core connection opened: {time.perf_counter() - began:.2f} s")
            began = time.perf_counter()
            first = User(username="bench", display_name="bench", credit_code=codes[0])
            service.preview(lookups, catalogue, library, first, NEEDS[0], content=CITY)
            print(
                "every enterprise policy evaluated for the whole city (once a day or a new "
                f"version of its tables): {time.perf_counter() - began:.1f} s"
            )
            for i, code in enumerate(sample):
                user = User(username="bench", display_name="bench", credit_code=code)
                need = NEEDS[i % len(NEEDS)]
                began = time.perf_counter()
                service.preview(lookups, catalogue, library, user, need, content=CITY)
                matched.append(time.perf_counter() - began)
            print(f"matching one need (target p99 < 200 ms): {quantiles(matched)}")
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
