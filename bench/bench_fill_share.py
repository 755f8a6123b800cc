"""What the pre-fill spares on the seeded service items: the share of form fields filled by the
platform and of materials waived by e-certificates, per item, per scenario and overall.

    .venv/bin/python bench/bench_fill_share.py [--applicants 50] [--data-dir DIR] [--seed 18]
        [--json FILE]

For every service item of the city's content in force today, draws ``--applicants`` applicants
of its kind from a city — living residents aged 18 to 75 for a person's item, live (存续)
enterprises for an enterprise's — and pre-fills the item's form for each through
``approval.prefill.prefill``, the real lookups over the data core, on a throwaway operational
database (SQLite in a temporary directory; the ledger entries the pre-fill writes are rolled
back). The city is the tests' small one (1,500 residents, seed 7, built in a temporary
directory) unless ``--data-dir`` names a data directory holding one (e.g. ``shuhui demo``'s).

Per item: fields filled from identity (身份自动填: the population or enterprise register) and
from shared data (共享系统填: other tables keyed by the applicant's ID), each as a share of the
form's fields (and of its required fields); history (历史选择填) is 0 by construction, every
applicant applying for the first time with no earlier case to choose from; materials waived
(免提交) as a share of the item's materials and of its required ones; the zero-submission items
(零提交: every required field fillable and every required material waivable), and the share of
applicants for whom the pre-fill actually filled every required field and waived every
required material. Per scenario and overall: the same, summed over the items' forms.
No target: the figures the issue asks for ("the share of fields auto-filled and of materials
waived").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from shuhui.approval.items import ServiceItem, load_catalogue
from shuhui.approval.prefill import prefill
from shuhui.core import migrate
from shuhui.core.clock import local_today
from shuhui.core.db import make_engine, make_session_factory
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.history import POOLS, Pools
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city
from shuhui.trust.identity.models import User

ROOT = Path(__file__).resolve().parents[1]
SMALL_CITY = CityConfig(residents=1_500, seed=7, chunk=1_500)  # the tests' (tests/fixtures.py)


@dataclass
class Tally:
    """Counts over a set of pre-filled forms."""

    forms: int = 0
    fields: int = 0
    required: int = 0
    identity: int = 0
    shared: int = 0
    history: int = 0
    required_filled: int = 0
    materials: int = 0
    required_materials: int = 0
    waived: int = 0
    required_waived: int = 0
    nothing_to_submit: int = (
        0  # forms with every required field filled, every required material waived
    )

    def add(self, other: Tally) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def share(self, part: int, whole: int) -> float | None:
        return part / whole if whole else None


def machine() -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"machine: {platform.machine()}, {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"date: {date.today().isoformat()}",
    ]


@contextmanager
def city_dir(given: Path | None) -> Iterator[Path]:
    """The data directory holding the city: ``given``, or the small city built now."""
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="bench-fill-city-") as tmp:
        built = Path(tmp)
        build_city(DataCore(built / "datacore", built / "truth"), SMALL_CITY, show_progress=False)
        yield built


def applicants(core: DataCore, kind: str, count: int, rng: random.Random) -> list[str]:
    """``count`` IDs drawn from the city (living adults, or live enterprises)."""
    con = core.connect()
    try:
        if kind == "person":
            today = local_today()
            rows = con.execute(
                "SELECT citizen_id FROM residents WHERE birth_date BETWEEN ? AND ? "
                "AND citizen_id NOT IN (SELECT citizen_id FROM death_registrations) "
                "ORDER BY citizen_id",
                [today.replace(year=today.year - 75), today.replace(year=today.year - 18)],
            ).fetchall()
        else:
            rows = con.execute(
                "SELECT credit_code FROM enterprises WHERE status = '存续' ORDER BY credit_code"
            ).fetchall()
    finally:
        con.close()
    found = [str(r[0]) for r in rows]
    return rng.sample(found, min(count, len(found)))


def _user(item: ServiceItem, applicant: str) -> User:
    """The applicant at the keyboard, never saved."""
    person = item.holder == "person"
    return User(
        username="bench",
        display_name="bench",
        citizen_id=applicant if person else None,
        credit_code=None if person else applicant,
    )


def tally(item: ServiceItem, forms: list[Any]) -> Tally:
    t = Tally(forms=len(forms))
    required_fields = {f.name for f in item.form.fields if f.required}
    required_materials = {m.code for m in item.materials if m.required}
    for form in forms:
        t.fields += len(item.form.fields)
        t.required += len(required_fields)
        t.materials += len(item.materials)
        t.required_materials += len(required_materials)
        filled_required = 0
        for name, filled in form.fields.items():
            if filled.provenance is None or filled.value is None:
                continue
            kind = filled.provenance.kind
            if kind == "identity":
                t.identity += 1
            elif kind == "shared":
                t.shared += 1
            elif kind == "history":
                t.history += 1
            if name in required_fields:
                filled_required += 1
        t.required_filled += filled_required
        t.waived += len(form.waived)
        waived_required = sum(1 for code in form.waived if code in required_materials)
        t.required_waived += waived_required
        if filled_required == len(required_fields) and waived_required == len(required_materials):
            t.nothing_to_submit += 1
    return t


def percent(value: float | None) -> str:
    """A share as people read it; a dash where there is nothing to share (no materials)."""
    return "—" if value is None else f"{100 * value:.1f}%"


def row(name: str, t: Tally, zero: str) -> str:
    filled = t.identity + t.shared + t.history
    return (
        f"| {name} | {t.forms} | {percent(t.share(t.identity, t.fields))} "
        f"| {percent(t.share(t.shared, t.fields))} | {percent(t.share(t.history, t.fields))} "
        f"| **{percent(t.share(filled, t.fields))}** "
        f"| {percent(t.share(t.required_filled, t.required))} "
        f"| **{percent(t.share(t.waived, t.materials))}** "
        f"| {percent(t.share(t.required_waived, t.required_materials))} "
        f"| {zero} | {percent(t.share(t.nothing_to_submit, t.forms))} |"
    )


HEADER = (
    "| | forms | identity | shared | history | **fields filled** | required fields filled "
    "| **materials waived** | required materials waived | zero-submission item "
    "| forms with nothing to submit |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=50, help="applicants per item")
    parser.add_argument("--data-dir", type=Path, help="a data directory holding a city")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    print("shuhui.approval: fields filled and materials waived by the pre-fill")
    for line in machine():
        print(line)
    rng = random.Random(args.seed)
    with city_dir(args.data_dir) as city, tempfile.TemporaryDirectory(prefix="bench-fill-") as tmp:
        home = Path(tmp)
        (home / "datacore").symlink_to((city / "datacore").resolve())
        (home / "truth").symlink_to((city / "truth").resolve())
        settings = Settings(
            _env_file=None, data_dir=home, secret_key="bench", content_dir=ROOT / "content"
        )
        migrate.upgrade(settings.sqlalchemy_url)
        engine = make_engine(settings.sqlalchemy_url)
        core = DataCore.from_settings(settings)
        con = core.connect()
        (residents,) = con.execute("SELECT count(*) FROM residents").fetchone() or (0,)
        con.close()
        print(f"city: {city} ({residents:,} residents); {args.applicants} applicants per item")
        catalogue = load_catalogue(settings.city_content)
        items = sorted(catalogue.in_force(local_today()), key=lambda i: i.code)
        per_item: dict[str, Tally] = {}
        own: dict[str, tuple[str, Tally]] = {}
        seconds: list[float] = []
        with make_session_factory(engine)() as db:
            for item in items:
                forms = []
                for applicant in applicants(core, item.holder, args.applicants, rng):
                    started = time.perf_counter()
                    forms.append(prefill(db, core, item, user=_user(item, applicant)))
                    seconds.append(time.perf_counter() - started)
                per_item[item.code] = tally(item, forms)
                pool = POOLS.get(item.code)
                if pool is not None:  # the people the item is for, as the demo draws them
                    members = Pools(core, set(), rng).members(pool, local_today())
                    chosen = rng.sample(members, min(args.applicants, len(members)))
                    forms = [prefill(db, core, item, user=_user(item, i)) for i, _ in chosen]
                    own[item.code] = (pool, tally(item, forms))
            db.rollback()
        engine.dispose()

    print()
    print("Per item (history is 0: every applicant applies for the first time):")
    print(HEADER)
    overall = Tally()
    for item in items:
        t = per_item[item.code]
        overall.add(t)
        zero = "yes" if item.zero_submission else ""
        print(row(f"{item.code} {item.name_zh}", t, zero))
    print()
    print(
        "Items meant for part of the city, with applicants drawn from that part "
        "(shuhui.demo.history.POOLS, as the demo's history draws them):"
    )
    print(HEADER)
    for code, (pool, t) in sorted(own.items()):
        zero = "yes" if catalogue.items[code].zero_submission else ""
        print(row(f"{code} {catalogue.items[code].name_zh} ({pool})", t, zero))
    print()
    print("Per scenario (items of the scenario, summed):")
    print(HEADER)
    for scenario in sorted(catalogue.scenarios.values(), key=lambda s: s.code):
        t = Tally()
        zeros = 0
        for code in scenario.items:
            if code in per_item:
                t.add(per_item[code])
                zeros += bool(catalogue.items[code].zero_submission)
        print(row(f"{scenario.code} {scenario.name_zh}", t, f"{zeros} of {len(scenario.items)}"))
    zero_items = [i for i in items if i.zero_submission]
    print(row("**all items**", overall, f"{len(zero_items)} of {len(items)}"))
    print()
    print(
        "Zero-submission items (零提交): " + ", ".join(f"{i.code} {i.name_zh}" for i in zero_items)
    )
    print(
        f"pre-fill: {len(seconds)} forms, median {1000 * statistics.median(seconds):.2f} ms, "
        f"max {1000 * max(seconds):.1f} ms (first reads of a table build its index)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "applicants": args.applicants,
                    "items": {code: asdict(t) for code, t in per_item.items()},
                    "own_applicants": {c: {"pool": p, **asdict(t)} for c, (p, t) in own.items()},
                    "overall": asdict(overall),
                    "zero_submission": [i.code for i in zero_items],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
