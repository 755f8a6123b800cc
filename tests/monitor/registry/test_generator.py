"""The synthetic registry: every type and scenario, ids, places inside districts, dates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shuhui.core.content import DEFAULT_DIR
from shuhui.core.regions import qingdao_districts
from shuhui.monitor.devices import sensor_types
from shuhui.monitor.registry import content
from shuhui.standard import tables
from shuhui.standard.vocabularies import ASSET_TYPES
from shuhui.synth import infrastructure

AS_OF = date(2026, 10, 31)
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@pytest.fixture(scope="module")
def small() -> dict[str, pa.RecordBatch]:
    return {spec.name: rows for spec, rows in infrastructure.generate(0.05, 7, AS_OF)}


def rows(batch: pa.RecordBatch) -> list[dict[str, object]]:
    return batch.to_pylist()


def test_every_type_and_district_and_scenario(small: dict[str, pa.RecordBatch]) -> None:
    assets = rows(small["infrastructure_assets"])
    assert {a["asset_type"] for a in assets} == set(ASSET_TYPES)
    five_g = Counter(a["district_code"] for a in assets if a["asset_type"] == "5g-base-station")
    assert set(five_g) == {r.code for r in qingdao_districts()}
    kinds = sensor_types(DEFAULT_DIR, "qingdao")
    sensors = [a for a in assets if a["asset_type"] == "sensor"]
    assert {s["sensor_type"] for s in sensors} == set(kinds)
    assert {kinds[str(s["sensor_type"])].scenario for s in sensors} == {
        "high_rise",
        "forest",
        "hazchem",
    }
    per_site = Counter(s["site_id"] for s in sensors)
    assert min(per_site.values()) >= 3  # several sensors per site
    # A site is one place in one district, watched by sensors of one scenario.
    for site, _ in per_site.items():
        mine = [s for s in sensors if s["site_id"] == site]
        assert len({s["district_code"] for s in mine}) == 1
        assert len({kinds[str(s["sensor_type"])].scenario for s in mine}) == 1


def test_ids_unique_and_topic_safe(small: dict[str, pa.RecordBatch]) -> None:
    assets = rows(small["infrastructure_assets"])
    ids = [str(a["asset_id"]) for a in assets]
    assert len(ids) == len(set(ids))
    assert all(DEVICE_ID.fullmatch(i) for i in ids)
    prefixes = {t.code: t.prefix for t in content.asset_types(DEFAULT_DIR, "qingdao").values()}
    for a in assets:
        assert str(a["asset_id"]).startswith(
            f"{prefixes[str(a['asset_type'])]}-{a['district_code']}-"
        )
    sites = {str(a["site_id"]) for a in assets if a["site_id"]}
    assert all(re.fullmatch(r"SITE-3702[0-9]{2}-[0-9]{4}", s) for s in sites)


def test_places_lie_inside_their_district(small: dict[str, pa.RecordBatch]) -> None:
    shapes = infrastructure.districts()
    for name in ("infrastructure_assets", "administrative_villages"):
        found = rows(small[name])
        for code in {str(r["district_code"]) for r in found}:
            mine = [r for r in found if r["district_code"] == code]
            lon = np.array([r["lon"] for r in mine])
            lat = np.array([r["lat"] for r in mine])
            inside = infrastructure.inside(shapes[code], lon, lat)
            if name == "administrative_villages":
                assert inside.all(), code
            else:
                # Data centres and village stations stand a few hundred metres off a point
                # drawn inside: nearly all, never far out.
                assert inside.mean() > 0.97, code


def test_status_and_dates_agree(small: dict[str, pa.RecordBatch]) -> None:
    for a in rows(small["infrastructure_assets"]):
        commissioned, retired = a["commissioned_on"], a["retired_on"]
        if a["status"] == "建设中":
            assert commissioned is None and retired is None
        else:
            assert isinstance(commissioned, date) and commissioned <= AS_OF
        if a["status"] == "停用":
            assert isinstance(retired, date) and commissioned < retired <= AS_OF  # type: ignore[operator]
        if a["status"] == "在用":
            assert retired is None
        if a["asset_type"] in ("pon-port-group", "dc-rack-group"):
            assert isinstance(a["capacity"], int) and a["capacity"] > 0
        else:
            assert a["capacity"] is None


def test_dates_spread_over_years(small: dict[str, pa.RecordBatch]) -> None:
    years = Counter(
        a["commissioned_on"].year  # type: ignore[union-attr]
        for a in rows(small["infrastructure_assets"])
        if a["asset_type"] == "5g-base-station" and a["commissioned_on"] is not None
    )
    assert set(range(2019, 2027)) <= set(years)
    # Three to four thousand a year after 2022 at full scale: ~3,500 × 0.05.
    assert 120 <= years[2024] <= 260


def test_full_scale_counts() -> None:
    found = {spec.name: b for spec, b in infrastructure.generate(1.0, 2026, AS_OF)}
    counts = Counter(found["infrastructure_assets"].column("asset_type").to_pylist())
    assert 40_000 <= counts["5g-base-station"] <= 48_000
    assert 60_000 <= counts["ev-charger"] <= 75_000
    assert 9_000 <= counts["sensor"] <= 12_000
    ports = [
        c
        for t, c in zip(
            found["infrastructure_assets"].column("asset_type").to_pylist(),
            found["infrastructure_assets"].column("capacity").to_pylist(),
            strict=True,
        )
        if t == "pon-port-group"
    ]
    assert 250_000 <= sum(ports) <= 300_000
    assert 5_000 <= found["administrative_villages"].num_rows <= 6_500
    population = sum(
        p
        for y, p in zip(
            found["district_population"].column("year").to_pylist(),
            found["district_population"].column("population").to_pylist(),
            strict=True,
        )
        if y == 2023
    )
    assert 10_000_000 <= population <= 10_800_000


def test_deterministic(small: dict[str, pa.RecordBatch]) -> None:
    again = {spec.name: b for spec, b in infrastructure.generate(0.05, 7, AS_OF)}
    for name, batch in small.items():
        assert batch.equals(again[name]), name


def test_batches_meet_the_standard(small: dict[str, pa.RecordBatch]) -> None:
    for spec in (
        tables.INFRASTRUCTURE_ASSETS,
        tables.ADMINISTRATIVE_VILLAGES,
        tables.DISTRICT_POPULATION,
    ):
        assert small[spec.name].schema == spec.arrow_schema


def test_content_loads() -> None:
    kinds = content.asset_types(Path(DEFAULT_DIR), "qingdao")
    assert set(kinds) == set(ASSET_TYPES)
    indicators = content.indicators(Path(DEFAULT_DIR), "qingdao")
    assert indicators["5g-stations"].target(2023).value == 33_500  # type: ignore[union-attr]
    assert indicators["5g-village-coverage"].coverage_km == 1.5
    assert not indicators["dc-racks"].target(2023).inferred  # type: ignore[union-attr]
    assert indicators["smart-poles"].target(2023).inferred  # type: ignore[union-attr]
