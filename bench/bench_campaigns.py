"""A policy campaign on a city of realistic size: run, confirm every candidate, explain, answer.

One command (from the repository root), after ``bench_rules.py`` has built its 1M city:

    .venv/bin/python bench/bench_campaigns.py [--data-dir /tmp/bench-rules-1m-sorted]
        [--rule elderly-allowance] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

What a department and its citizens wait for, through ``shuhui.programs.service`` as the pages
call it (one transaction per step, as one request makes it), on a throwaway operational database
(SQLite in a temporary data directory by default; with ``--postgres`` a scratch database created
on that server for the run and dropped after it), over the city's data core (linked, not copied):

* run: the policy over every resident, the candidates inserted (``run_campaign``);
* confirm all: every pending candidate offered in one request — status, two outbox messages and
  one ledger entry each (``confirm(ids=None)``);
* explain: one candidate's explanation as the officer's page makes it (``explain_candidate``,
  a ledger entry included), for 200 random candidates: median and p99;
* accept: one offer accepted and granted (``answer``), for 200 candidates: median and p99.

No target is named by the issue for these; they are recorded so a department knows what a
city-wide campaign costs. Prints the machine and the figures.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bench_merkle import machine
from sqlalchemy import create_engine, make_url, select, text

from shuhui.core import migrate
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.programs import recipients, service
from shuhui.programs.models import Candidate

ROOT = Path(__file__).resolve().parent.parent
ACTOR = "bench-officer"
T = TypeVar("T")


def timed(step: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    out = step()
    return time.perf_counter() - began, out


def nothing() -> None:
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scratch_postgres(url: str) -> tuple[str, Callable[[], None]]:
    name = f"bench_campaigns_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-rules-1m-sorted"))
    parser.add_argument("--rule", default="elderly-allowance")
    parser.add_argument("--postgres", help="a PostgreSQL URL to make a scratch database on")
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    city = args.data_dir
    if not (city / "datacore").is_dir():
        raise SystemExit(f"no city in {city}: run bench/bench_rules.py first")

    print("shuhui.programs campaign benchmark")
    for line in machine():
        print(line)
    with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as tmp:
        home = Path(tmp)
        (home / "datacore").symlink_to((city / "datacore").resolve())
        (home / "truth").symlink_to((city / "truth").resolve())
        drop: Callable[[], None] = nothing
        url = None
        if args.postgres:
            url, drop = scratch_postgres(args.postgres)
        try:
            settings = Settings(
                _env_file=None,
                data_dir=home,
                database_url=url,
                secret_key="bench",
                content_dir=ROOT / "content",
            )
            migrate.upgrade(settings.sqlalchemy_url)
            engine = make_engine(settings.sqlalchemy_url)
            factory = make_session_factory(engine)
            library = service.Library(settings, DataCore.from_settings(settings))
            rule = library.rule(args.rule)
            print(f"database: {engine.dialect.name}; city: {city}; policy: {rule.code}")

            def run() -> str:
                with transaction(factory) as db:
                    return service.run_campaign(
                        db, library, rule.code, None, actor=ACTOR, department=rule.department
                    ).code

            seconds, code = timed(run)
            with transaction(factory) as db:
                campaign = service.campaign(db, code, rule.department)
                found = service.funnel(db, campaign)["found"]
            print(f"run: {seconds:.2f} s ({found:,} candidates of {campaign.counts})")

            def confirm_all() -> int:
                with transaction(factory) as db:
                    c = service.campaign(db, code, rule.department)
                    return service.confirm(db, c, None, actor=ACTOR, department=rule.department)

            seconds, n = timed(confirm_all)
            each = seconds / max(1, n) * 1e6
            print(f"confirm all: {seconds:.2f} s for {n:,} offers ({each:.0f} µs each)")

            with transaction(factory) as db:
                ids = list(db.scalars(select(Candidate.id).where(Candidate.status == "offered")))
            sample = random.Random(7).sample(ids, min(args.sample, len(ids)))
            half = len(sample) // 2
            explain_ms: list[float] = []
            for cid in sample[:half]:
                with transaction(factory) as db:
                    row = service.candidate(db, cid, rule.department)
                    began = time.perf_counter()
                    service.explain_candidate(db, library, row, actor=ACTOR)
                    explain_ms.append((time.perf_counter() - began) * 1000)
            accept_ms: list[float] = []
            for cid in sample[half:]:
                with transaction(factory) as db:
                    subject = service.candidate(db, cid).subject

                def accept(cid: int = cid, subject: str = subject) -> Candidate:
                    with transaction(factory) as db:
                        return recipients.answer(
                            db, library, cid, "accept", subjects=[subject], actor=subject
                        )

                s, _ = timed(accept)
                accept_ms.append(s * 1000)
            for name, values in (("explain", explain_ms), ("accept", accept_ms)):
                print(
                    f"{name}: median {statistics.median(values):.1f} ms, "
                    f"p99 {percentile(values, 0.99):.1f} ms over {len(values)}"
                )
            engine.dispose()
        finally:
            drop()


if __name__ == "__main__":
    main()
