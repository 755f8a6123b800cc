"""What an e-licence costs: setting its PDF, and writing it to the data core's e_certificates.

    .venv/bin/python bench/bench_licences.py [--rows 1200000] [--writes 5] [--batch 1000]
        [--keep DIR]

Makes an ``e_certificates`` table of ``--rows`` rows (a synthetic city has about 1.22 certificates
per resident, so 1,200,000 is a 1M-resident city's), every row with a valid citizen ID or credit
code as the load checks them, in a data core under ``--keep DIR`` (reused when the table is
there) or a temporary folder. Then times, each on the table as the previous step left it:

1. ``licences.render_pdf``: one certificate set in A4 with WenQuanYi Zen Hei (the first call
   registers the font and is timed apart);
2. ``licences.write_certificates`` with one row, ``--writes`` times: what ``issue_licence``
   adds after the officer's commit (a new version keeping every row);
3. the same with ``--batch`` rows at once: what ``tasks.sync_licences`` costs for a batch.

No target: the figures decide whether a city issues at once or in batches (see
``shuhui.approval.licences``).
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from shuhui.approval import licences
from shuhui.core.ids import generate_citizen_ids, generate_credit_codes
from shuhui.datacore.store import DataCore
from shuhui.standard.tables import CERTIFICATES

PEOPLE_POOL = 50_000
ENTERPRISE_POOL = 10_000


def _table(rows: int, rng: random.Random) -> pa.Table:
    people = generate_citizen_ids(rng, PEOPLE_POOL, born_from=date(1950, 1, 1))
    firms = generate_credit_codes(rng, ENTERPRISE_POOL)
    types = ("结婚证", "不动产权证书", "毕业证书", "残疾人证")
    enterprise = [i % 10 == 0 for i in range(rows)]
    return pa.table(
        {
            "certificate_no": [f"B{i:09d}" for i in range(rows)],
            "certificate_type": [
                "营业执照" if e else types[i % len(types)] for i, e in enumerate(enterprise)
            ],
            "holder_type": ["企业" if e else "个人" for e in enterprise],
            "holder_citizen_id": [
                None if e else people[i % PEOPLE_POOL] for i, e in enumerate(enterprise)
            ],
            "holder_credit_code": [
                firms[i % ENTERPRISE_POOL] if e else None for i, e in enumerate(enterprise)
            ],
            "holder_name": ["持证人"] * rows,
            "issuer": ["青岛市民政局"] * rows,
            "issue_date": [date(2020, 1, 1)] * rows,
            "status": ["有效"] * rows,
        },
        schema=CERTIFICATES.arrow_schema,
    )


def _licence_rows(count: int, start: int, rng: random.Random) -> list[dict[str, Any]]:
    firms = generate_credit_codes(rng, count)
    return [
        {
            "certificate_no": f"YYZZ-2026-{start + i:06d}",
            "certificate_type": "营业执照",
            "holder_type": "企业",
            "holder_citizen_id": None,
            "holder_credit_code": firms[i],
            "holder_name": "青岛示范餐饮管理有限公司",
            "issuer": "青岛市行政审批服务局",
            "issue_date": date(2026, 12, 6),
            "status": "有效",
        }
        for i in range(count)
    ]


def _text() -> licences.LicenceText:
    return licences.LicenceText(
        certificate_type="食品经营许可证",
        certificate_no="SPJYXKZ-2026-000001",
        holder_kind="enterprise",
        holder_name="青岛海之味餐饮管理有限公司",
        holder_id="91370202MA3C4D5E6T",
        item_name="食品经营许可（新办）",
        case_code="QD202612060001",
        issuer="青岛市行政审批服务局",
        issued_on=date(2026, 12, 6),
        seal=licences.licence_seal("青岛市行政审批服务局", date(2026, 12, 6)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_200_000)
    parser.add_argument("--writes", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    rng = random.Random(18)

    started = time.perf_counter()
    licences.render_pdf(_text())
    first = time.perf_counter() - started
    pdf_times = []
    for _ in range(5):
        started = time.perf_counter()
        pdf = licences.render_pdf(_text())
        pdf_times.append(time.perf_counter() - started)
    print(
        f"PDF: first {first * 1000:.0f} ms (font registered), then median "
        f"{statistics.median(pdf_times) * 1000:.1f} ms, {len(pdf):,} bytes"
    )

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-licences-"))
    core = DataCore(folder / "datacore", folder / "truth")
    if CERTIFICATES.name not in {t.name for t in core.tables()}:
        started = time.perf_counter()
        table = _table(args.rows, rng)
        made = time.perf_counter() - started
        started = time.perf_counter()
        core.load(CERTIFICATES, table, source="bench")
        print(
            f"e_certificates: {args.rows:,} rows made in {made:.1f} s, "
            f"loaded in {time.perf_counter() - started:.1f} s"
        )
    rows = core.table(CERTIFICATES.name).rows
    print(f"e_certificates holds {rows:,} rows (version {core.table(CERTIFICATES.name).version})")

    write_times = []
    start = rows
    for i in range(args.writes):
        started = time.perf_counter()
        licences.write_certificates(core, _licence_rows(1, start + i, rng), source="bench")
        write_times.append(time.perf_counter() - started)
    print(
        f"one licence a version: {', '.join(f'{t:.2f}' for t in write_times)} s "
        f"(median {statistics.median(write_times):.2f} s)"
    )
    started = time.perf_counter()
    result = licences.write_certificates(
        core, _licence_rows(args.batch, start + args.writes, rng), source="bench"
    )
    batch = time.perf_counter() - started
    print(
        f"{args.batch:,} licences in one version: {batch:.2f} s "
        f"({batch / args.batch * 1000:.2f} ms a licence); table now {result.rows:,} rows, "
        f"versions kept {len(core.history(CERTIFICATES.name))}"
    )


if __name__ == "__main__":
    main()
