"""The infrastructure registry at Qingdao's scale: generation, plan progress, NGSI-LD queries.

One command (from the repository root):

    .venv/bin/python bench/bench_registry.py [--scale 1.0] [--seed 2026] [--repeat 20]

Generates the registry's three data-core tables (``shuhui.synth.infrastructure``, about
160,000 assets at scale 1.0) into a temporary data core, then times, each ``--repeat`` times
(median and worst): the overview of every indicator (the page's cards), one indicator's
progress by district over 48 months (the page's charts; 5G stations, and village coverage,
the spatial one), and NGSI-LD queries through the service the API calls (by type, by ``q``
over attributes, by ``idPattern``, one entity). Prints the machine and the figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench_merkle import machine

from shuhui.core.content import DEFAULT_DIR
from shuhui.datacore.store import DataCore
from shuhui.monitor.registry import ngsi, service
from shuhui.synth import infrastructure

AS_OF = date(2026, 10, 31)
ONE = "urn:ngsi-ld:FiveGBaseStation:5G-370211-000100"


def timed(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    work()  # warm: the Parquet footers, the content
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    core = DataCore(root / "datacore", root / "truth")
    start = time.perf_counter()
    batches = infrastructure.generate(args.scale, args.seed, AS_OF)
    generated = time.perf_counter() - start
    with core.session("bench registry") as session:
        for spec, rows in batches:
            session.write(spec, rows)
    assets = batches[0][1].num_rows
    for line in machine():
        print(line)
    villages = batches[1][1].num_rows
    print(f"registry: {assets:,} assets, {villages:,} villages; generated in {generated:.2f} s")
    city = (DEFAULT_DIR, "qingdao")
    by_type = service.EntityQuery(types=["EVChargingStation"])
    pattern = service.EntityQuery(id_pattern="urn:ngsi-ld:Device:SNS-370212-.*")
    q = ngsi.parse_q('districtCode=="370211";status=="在用";dateCommissioned>2023-01-01')
    cases: list[tuple[str, Callable[[], object]]] = [
        ("overview: every indicator now", lambda: service.overview(core, *city)),
        ("progress 5g-stations, 48 months × 10 districts",
         lambda: service.progress_of(core, *city, "5g-stations", start=date(2022, 11, 1))),
        ("progress 5g-village-coverage, 48 months × 10 districts",
         lambda: service.progress_of(core, *city, "5g-village-coverage", start=date(2022, 11, 1))),
        ("NGSI-LD type=EVChargingStation limit=100 count",
         lambda: service.query_entities(core, *city, by_type, 0, 100)),
        ("NGSI-LD type=EVChargingStation q=district;status;date limit=1000",
         lambda: service.query_entities(
             core, *city, service.EntityQuery(types=["EVChargingStation"], q=q), 0, 1000)),
        ("NGSI-LD idPattern=urn:ngsi-ld:Device:SNS-370212-.* limit=100",
         lambda: service.query_entities(core, *city, pattern, 0, 100)),
        ("NGSI-LD one entity by id",
         lambda: service.entity_by_id(core, *city, ONE)),
    ]  # fmt: skip
    for name, work in cases:
        median, worst = timed(args.repeat, work)
        print(f"{name}: median {median:.1f} ms, worst {worst:.1f} ms")


if __name__ == "__main__":
    main()
