"""Same configuration, same bytes; another seed, another city."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.standard import TABLES
from shuhui.synth import TRUTH_TABLES, CityConfig, CountingSink, generate_city
from tests.synth.conftest import SMALL, City, RecordingSink, build


def test_same_seed_gives_byte_identical_files(small_city: City, tmp_path: Path) -> None:
    again = build(tmp_path, SMALL)
    assert again.rows == small_city.rows
    for spec in (*TABLES, *TRUTH_TABLES):
        assert again.path(spec.name).read_bytes() == small_city.path(spec.name).read_bytes(), (
            spec.name
        )


def test_another_seed_gives_another_city(small_city: City, tmp_path: Path) -> None:
    other = build(
        tmp_path, CityConfig(residents=SMALL.residents, seed=SMALL.seed + 1, chunk=SMALL.chunk)
    )
    for name in ("residents", "enterprises", "employment_spells", "medical_visits"):
        mine = pq.read_table(small_city.path(name))
        theirs = pq.read_table(other.path(name))
        assert not mine.equals(theirs), name
    ids = set(pq.read_table(small_city.path("residents")).column("citizen_id").to_pylist())
    other_ids = set(pq.read_table(other.path("residents")).column("citizen_id").to_pylist())
    assert len(ids & other_ids) < len(ids) // 10


def test_chunk_size_is_part_of_the_city() -> None:
    # Documented: streams are seeded per chunk, so a different chunk size is a different city
    # (of the same size and validity).
    a, b = RecordingSink(), RecordingSink()
    generate_city(a, CityConfig(residents=300, seed=1, chunk=100))
    generate_city(b, CityConfig(residents=300, seed=1, chunk=150))
    names_a = [batch for name, batch in a.batches if name == "residents"]
    names_b = [batch for name, batch in b.batches if name == "residents"]
    assert sum(x.num_rows for x in names_a) == sum(x.num_rows for x in names_b) == 300
    assert [x.column("name") for x in names_a] != [x.column("name") for x in names_b]


def test_progress_is_reported() -> None:
    calls: list[tuple[str, int, int]] = []
    generate_city(
        CountingSink(),
        CityConfig(residents=250, seed=4, chunk=100),
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    residents = [c for c in calls if c[0] == "residents"]
    assert residents == [
        ("residents", 0, 250),
        ("residents", 100, 250),
        ("residents", 200, 250),
        ("residents", 250, 250),
    ]
    enterprises = [c for c in calls if c[0] == "enterprises"]
    assert enterprises and enterprises[-1][1] == enterprises[-1][2] == 15


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    residents=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    chunk=st.integers(min_value=1, max_value=500),
    months=st.integers(min_value=1, max_value=24),
)
def test_any_small_city_is_consistent(residents: int, seed: int, chunk: int, months: int) -> None:
    config = CityConfig(residents=residents, seed=seed, chunk=chunk, months=months)
    first, second = RecordingSink(), RecordingSink()
    rows = generate_city(first, config)
    generate_city(second, config)
    assert [name for name, _ in first.batches] == [name for name, _ in second.batches]
    for (name, a), (_, b) in zip(first.batches, second.batches, strict=True):
        assert a.equals(b), name
    specs = {spec.name: spec for spec in (*TABLES, *TRUTH_TABLES)}
    for name, batch in first.batches:
        assert batch.schema.equals(specs[name].arrow_schema), name
    assert rows["residents"] == residents
    assert rows["enterprises"] == max(1, round(residents * config.enterprises_per_resident))
    ids = [
        v
        for name, b in first.batches
        if name == "residents"
        for v in b.column("citizen_id").to_pylist()
    ]
    assert len(set(ids)) == residents
