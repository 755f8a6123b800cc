"""The enterprise direct link (人社政企直连): a batch of 10,000 hire records, validated, decided
and recorded, on the city the personal-queries bench keeps (1,000,000 residents).

One command (from the repository root), after ``bench/bench_hrss_queries.py`` built its city:

    .venv/bin/python bench/bench_link.py

In this process: a live enterprise of the city is connected (``hrss.link.connect``: its SM2 key,
its API key) and N residents it never employed are chosen; the batch is made as JSON and signed
with SM2. Then, each step timed, in one committed transaction as the route runs it: the key and
the signature (``authenticate``), reading the body (``read_json``), deciding every record and
recording the batch, its records and N + 1 ledger entries (``submit``), the commit. The same
batch once more (the stored result), then a CSV of the same size under a new batch id, every
record already accepted (all refused, none doubled).

The figure (issue 21): a direct-link batch of 10,000 hire records validated, decided and
recorded in < 10 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
from pathlib import Path

from bench_catalog_search import env_for
from bench_channel import configure, speed_index
from bench_merkle import machine

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-hrss-1m"))
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    print(*machine(), sep="\n")
    print(f"speed index (10,000,000 Python additions): {speed_index():.2f} s", flush=True)
    configure(env_for(args.data_dir, "WARNING"))

    from sqlalchemy import delete, select

    from shuhui.approval.lookups import lookups_for
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore
    from shuhui.hrss import link
    from shuhui.hrss.models import LinkBatch, LinkClient, LinkRecord
    from shuhui.trust.crypto.sm import SM2PrivateKey
    from shuhui.trust.ledger.setup import ready_database

    settings = Settings(_env_file=None)
    ready_database(settings, "bench")
    factory = make_session_factory(make_engine(settings.sqlalchemy_url))
    core = DataCore.from_settings(settings)
    lookups = lookups_for(core)
    lookups.prepare([("employment_spells", ("citizen_id",)), ("enterprises", ("credit_code",))])
    con = core.connect(tables=["enterprises", "residents", "employment_spells"])
    (firm,) = con.execute(
        "SELECT credit_code FROM enterprises WHERE status = '存续' "
        "ORDER BY hash(credit_code) LIMIT 1"
    ).fetchone()
    people = [
        r[0]
        for r in con.execute(
            "SELECT citizen_id FROM residents WHERE citizen_id NOT IN (SELECT citizen_id FROM "
            "employment_spells WHERE credit_code = ?) ORDER BY hash(citizen_id) LIMIT ?",
            [firm, args.records],
        ).fetchall()
    ]
    con.close()
    private = SM2PrivateKey.generate()
    with transaction(factory) as db:  # a fresh start for this enterprise
        old = db.scalars(select(LinkBatch.id).where(LinkBatch.credit_code == firm)).all()
        db.execute(delete(LinkRecord).where(LinkRecord.batch_pk.in_(old)))
        db.execute(delete(LinkBatch).where(LinkBatch.credit_code == firm))
        db.execute(delete(LinkClient).where(LinkClient.credit_code == firm))
        _, key = link.connect(
            db,
            credit_code=firm,
            public_key_pem=private.public_key.to_pem(),
            actor="bench",
            enterprise_known=True,
        )
    stamp = int(time.time())
    records = [
        {"citizen_id": c, "name": "职工", "hire_date": "2026-11-02", "monthly_wage_yuan": "6800"}
        for c in people
    ]
    body = json.dumps({"batch_id": f"bench-{stamp}", "kind": "hire", "records": records}).encode()
    signature = base64.b64encode(private.sign(body)).decode()
    print(f"enterprise {firm}; {len(records):,} hire records, {len(body) / 1e6:.2f} MB", flush=True)

    steps: dict[str, float] = {}
    began = time.perf_counter()
    with transaction(factory) as db:
        t = time.perf_counter()
        client = link.authenticate(db, key, signature, body)
        steps["key and signature"] = time.perf_counter() - t
        t = time.perf_counter()
        batch = link.read_json(body)
        steps["read"] = time.perf_counter() - t
        t = time.perf_counter()
        made, _ = link.submit(db, lookups, client, batch, body)
        steps["decide and record (N + 1 ledger entries)"] = time.perf_counter() - t
        accepted, refused = made.accepted, made.refused
        t = time.perf_counter()
    steps["commit"] = time.perf_counter() - t
    whole = time.perf_counter() - began
    t = time.perf_counter()
    with transaction(factory) as db:
        link.submit(db, lookups, link.authenticate(db, key, signature, body), batch, body)
    again = time.perf_counter() - t
    csv_body = (
        "citizen_id,name,hire_date,monthly_wage_yuan\n"
        + "".join(f"{c},职工,2026-11-02,6800\n" for c in people)
    ).encode()
    t = time.perf_counter()
    with transaction(factory) as db:
        client = link.authenticate(
            db, key, base64.b64encode(private.sign(csv_body)).decode(), csv_body
        )
        second, _ = link.submit(
            db, lookups, client, link.read_csv(csv_body, f"bench-{stamp}-csv", "hire"), csv_body
        )
        doubled = second.accepted
    csv_s = time.perf_counter() - t

    print()
    for step, seconds in steps.items():
        print(f"  {step}: {seconds:.2f} s")
    verdict = "met" if whole < TARGET_S else "missed"
    print(
        f"batch of {len(records):,} hires: {accepted:,} accepted, {refused:,} refused, "
        f"{whole:.2f} s in all: target < {TARGET_S:.0f} s {verdict}"
    )
    print(f"the same batch again (stored result): {again:.2f} s")
    print(
        f"the same hires again as CSV, new batch id: {csv_s:.2f} s, "
        f"{doubled} accepted (0: none doubled)"
    )
    print(f"speed index at the end: {speed_index():.2f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
