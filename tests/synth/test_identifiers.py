"""Every identifier the city contains is valid, and the vectorised generators match core.ids."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from shuhui.core import ids
from shuhui.core.regions import qingdao_districts
from shuhui.standard import TABLES
from shuhui.synth import TRUTH_TABLES
from shuhui.synth.idgen import MA_SPACE, citizen_ids, credit_codes, org_code_indexes
from tests.synth.conftest import City


def _values(city: City, check: str) -> set[str]:
    found: set[str] = set()
    for spec in (*TABLES, *TRUTH_TABLES):
        for column in spec.columns:
            if column.check == check:
                values = pq.read_table(city.path(spec.name), columns=[column.name]).column(0)
                found.update(v for v in values.unique().to_pylist() if v is not None)
    return found


@pytest.mark.parametrize("city_name", ["small_city", "demo_city"])
def test_every_citizen_id_and_credit_code_validates(
    city_name: str, request: pytest.FixtureRequest
) -> None:
    city: City = request.getfixturevalue(city_name)
    citizen = _values(city, "citizen_id")
    credit = _values(city, "credit_code")
    assert len(citizen) == city.config.residents  # and no column points outside the residents
    for value in citizen:
        ids.parse_citizen_id(value, today=city.config.as_of)
    for value in credit:
        ids.parse_credit_code(value)
    # check() recognises each kind for what it is.
    for value in sorted(citizen)[:200] + sorted(credit)[:200]:
        result = ids.check(value, today=city.config.as_of)
        assert result.valid, result


def test_division_columns_are_qingdao_districts(small_city: City) -> None:
    codes = {r.code for r in qingdao_districts()}
    for spec in TABLES:
        for column in spec.columns:
            if column.check == "division":
                values = pq.read_table(small_city.path(spec.name), columns=[column.name]).column(0)
                assert set(values.unique().to_pylist()) <= codes, spec.name


def test_identity_numbers_agree_with_the_register(small_city: City) -> None:
    residents = pq.read_table(small_city.path("residents")).to_pylist()
    for row in residents[:500]:
        parsed = ids.parse_citizen_id(row["citizen_id"], today=small_city.config.as_of)
        assert parsed.birth_date == row["birth_date"]
        assert parsed.sex == ("M" if row["sex"] == "男" else "F")


def test_unique_keys(demo_city: City) -> None:
    residents = pq.read_table(demo_city.path("residents"), columns=["citizen_id"]).column(0)
    assert len(residents.unique()) == len(residents)
    codes = pq.read_table(demo_city.path("enterprises"), columns=["credit_code"]).column(0)
    assert len(codes.unique()) == len(codes)


def test_vectorised_check_characters_match_core_ids() -> None:
    rng = np.random.default_rng(42)
    n = 5_000
    division = rng.choice([110105, 370202, 370284, 830000], n)
    birth = rng.integers(-25_000, 20_000, n)
    sequence = rng.integers(0, 1000, n)
    for value in citizen_ids(division, birth, sequence).to_pylist():
        assert value[17] == ids.citizen_id_check_char(value[:17])
    numeric = rng.random(n) < 0.5
    org_values = np.where(numeric, rng.integers(0, 10**8, n), rng.integers(0, MA_SPACE, n))
    codes = credit_codes(
        rng.choice([1, 5, 9], n),
        np.full(n, 1),
        np.full(n, 370200),
        org_code_indexes(numeric, org_values),
    )
    for value in codes.to_pylist():
        assert value[17] == ids.credit_code_check_char(value[:17])
        ids.parse_credit_code(value)
        assert _gb11714_check(value[8:16]) == value[16]


def _gb11714_check(body: str) -> str:
    """The organisation code's own check character, computed independently of the generator."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = sum(alphabet.index(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))
