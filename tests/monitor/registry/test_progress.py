"""Progress figures against SQL written out by hand over the small city's registry."""

from __future__ import annotations

import math
from datetime import date

import pytest
from fastapi import FastAPI

from shuhui.core.content import DEFAULT_DIR
from shuhui.datacore.store import DataCore
from shuhui.monitor.registry import content, service

pytestmark = pytest.mark.both_backends

MONTHS = (date(2022, 12, 31), date(2023, 6, 30), date(2024, 12, 31))


def core_of(app: FastAPI) -> DataCore:
    core: DataCore = app.state.datacore
    return core


def test_counts_and_capacity_match_hand_sql(city_app: FastAPI) -> None:
    core = core_of(city_app)
    for code, weight in (("5g-stations", "1"), ("dc-racks", "capacity"), ("safety-sensors", "1")):
        indicator = content.indicators(DEFAULT_DIR, "qingdao")[code]
        for end in MONTHS:
            found = service.progress_of(core, DEFAULT_DIR, "qingdao", code, end=end)
            expected = {
                r["district_code"]: r["n"]
                for r in core.sql(
                    f"SELECT district_code, sum({weight}) AS n FROM infrastructure_assets "
                    f"WHERE asset_type = '{indicator.asset_type}' "
                    f"AND commissioned_on <= DATE '{end}' "
                    f"AND (retired_on IS NULL OR retired_on > DATE '{end}') GROUP BY 1"
                ).to_pylist()
            }
            by_district = {d.code: d.value for d in found.districts}
            for district, value in by_district.items():
                assert value == float(expected.get(district, 0)), (code, end, district)
            assert found.value == sum(float(v) for v in expected.values())
            assert found.as_of == end


def test_per_10k_people_uses_the_years_population(city_app: FastAPI) -> None:
    core = core_of(city_app)
    end = date(2023, 12, 31)
    found = service.progress_of(core, DEFAULT_DIR, "qingdao", "5g-per-10k", end=end)
    stations = {
        r["district_code"]: r["n"]
        for r in core.sql(
            "SELECT district_code, count(*) AS n FROM infrastructure_assets "
            "WHERE asset_type = '5g-base-station' AND commissioned_on <= DATE '2023-12-31' "
            "AND (retired_on IS NULL OR retired_on > DATE '2023-12-31') GROUP BY 1"
        ).to_pylist()
    }
    people = {
        r["district_code"]: r["population"]
        for r in core.sql(
            "SELECT district_code, population FROM district_population WHERE year = 2023"
        ).to_pylist()
    }
    for d in found.districts:
        assert math.isclose(d.value or 0, stations.get(d.code, 0) / people[d.code] * 10_000)
    assert math.isclose(found.value or 0, sum(stations.values()) / sum(people.values()) * 10_000)


def test_village_coverage_matches_a_plain_cross_join(city_app: FastAPI) -> None:
    core = core_of(city_app)
    km = content.indicators(DEFAULT_DIR, "qingdao")["5g-village-coverage"].coverage_km
    for end in MONTHS:
        found = service.progress_of(core, DEFAULT_DIR, "qingdao", "5g-village-coverage", end=end)
        # Every village against every station, no grid: the definition itself.
        covered = {
            r["district_code"]: r["n"]
            for r in core.sql(
                "SELECT v.district_code, count(DISTINCT v.village_code) AS n "
                "FROM administrative_villages v, infrastructure_assets s "
                "WHERE s.asset_type = '5g-base-station' "
                f"AND s.commissioned_on <= DATE '{end}' "
                f"AND (s.retired_on IS NULL OR s.retired_on > DATE '{end}') "
                "AND sqrt(pow((s.lon - v.lon) * 111.32 * cos(radians(v.lat)), 2) "
                f"+ pow((s.lat - v.lat) * 110.57, 2)) <= {km} GROUP BY 1"
            ).to_pylist()
        }
        villages = {
            r["district_code"]: r["n"]
            for r in core.sql(
                "SELECT district_code, count(*) AS n FROM administrative_villages GROUP BY 1"
            ).to_pylist()
        }
        for d in found.districts:
            if d.code in villages:
                assert math.isclose(d.value or 0, covered.get(d.code, 0) / villages[d.code] * 100)
            else:
                assert d.value is None  # no villages: no share
        assert math.isclose(found.value or 0, sum(covered.values()) / sum(villages.values()) * 100)


def test_monthly_series_rises_and_ends_at_the_figure(city_app: FastAPI) -> None:
    found = service.progress_of(
        core_of(city_app), DEFAULT_DIR, "qingdao", "ev-chargers",
        start=date(2021, 1, 1), end=date(2024, 12, 1),
    )  # fmt: skip
    assert len(found.months) == 48
    assert found.city_series[-1] == found.value
    assert found.city_series[0] < found.city_series[-1]  # type: ignore[operator]
    for code, series in found.district_series.items():
        assert series[-1] == next(d.value for d in found.districts if d.code == code)
    assert found.target is not None and found.target.year == 2024


def test_directory_holds_the_sensors(city_app: FastAPI) -> None:
    core = core_of(city_app)
    directory = service.directory(core, DEFAULT_DIR, "qingdao")
    expected = core.sql(
        "SELECT count(*) AS n FROM infrastructure_assets "
        "WHERE asset_type = 'sensor' AND status <> '停用'"
    ).to_pylist()[0]["n"]
    assert len(directory) == expected > 0
    device = next(iter(directory.devices.values()))
    assert device.id.startswith("SNS-") and device.site.startswith("SITE-")
    assert device.sensor_type.code in directory.types
    assert directory.get(device.id) is device
