"""Data quality of data-core tables: clean synthetic tables score high, damaged ones do not."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.core import ids
from shuhui.core.ids_arrays import division_mask
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.store import DataCore
from shuhui.quality import checks
from shuhui.quality.checks import Reference, References, assess
from shuhui.quality.masking import mask
from shuhui.quality.report import DIMENSIONS, CheckResult, QualityReport
from shuhui.quality.sql import citizen_id_sql, credit_code_sql, division_sql
from shuhui.standard import TABLES
from shuhui.standard.tables import CONTRIBUTIONS, EMPLOYMENT_SPELLS, HOUSEHOLDS, RESIDENTS
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city

CITY = CityConfig(residents=2_000, seed=3, chunk=1_000)
# A week after the city's as-of date: every table is fresh then, whenever the tests run.
NOW = datetime.combine(CITY.as_of + timedelta(days=7), datetime.min.time(), UTC)
TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("city")
    build_city(DataCore(root / "datacore", root / "truth"), CITY, show_progress=False)
    return root


@pytest.fixture
def core(city: Path, tmp_path: Path) -> DataCore:
    """A copy of the city of one's own, to damage."""
    shutil.copytree(city, tmp_path / "city")
    return DataCore(tmp_path / "city" / "datacore", tmp_path / "city" / "truth")


def clean_core(city: Path) -> DataCore:
    return DataCore(city / "datacore", city / "truth")


def one(report: QualityReport, name: str, column: str | None = None) -> CheckResult:
    found = report.checks(name, column)
    assert len(found) == 1, (name, column, found)
    return found[0]


def rows_of(core: DataCore, table: str) -> pa.Table:
    return core.sql(f"SELECT * FROM {table}")


# --- clean data ------------------------------------------------------------------------------


def test_every_clean_table_scores_high(city: Path) -> None:
    core = clean_core(city)
    for spec in TABLES:
        report = assess(core, spec.name, now=NOW)
        assert report.table == spec.name
        assert report.rows == core.table(spec.name).rows > 0
        assert report.version == core.table(spec.name).version
        assert [d.name for d in report.dimensions] == list(DIMENSIONS)
        assert report.score >= 99, (spec.name, report.failures())
        for dimension in ("completeness", "validity", "uniqueness"):
            assert report.dimension(dimension).score == 100.0, (spec.name, report.failures())
        # Every identifier in the city resolves: residents, enterprises, households, pensions.
        consistency = report.dimension("consistency").score
        assert consistency is None or consistency == 100.0, (spec.name, report.failures())
        # Sparse event tables (a small city's deaths) may lag a little behind the as-of date.
        timeliness = report.dimension("timeliness").score
        assert timeliness is not None
        assert timeliness >= 95, (spec.name, report.failures())
        assert report.notes == ()
        # The report is plain JSON.
        assert json.loads(json.dumps(report.as_dict()))["table"] == spec.name


def test_checks_follow_the_spec(city: Path) -> None:
    report = assess(clean_core(city), "insurance_contributions", now=NOW)
    assert one(report, "citizen_id", "citizen_id").total == report.rows
    assert one(report, "credit_code", "credit_code").total == report.rows
    assert one(report, "vocabulary", "insurance_type").failed == 0
    assert one(report, "range", "paid_fen").detail == "≥ 0"
    assert one(report, "date_range", "month").failed == 0
    key = one(report, "primary_key", "citizen_id,credit_code,month,insurance_type")
    assert (key.failed, key.total) == (0, report.rows)
    refs = {c.column: c.detail for c in report.checks("reference")}
    assert refs == {
        "citizen_id": "exists in residents.citizen_id",
        "credit_code": "exists in enterprises.credit_code",
    }
    assert one(report, "load_age").failed == 0
    assert one(report, "data_age", "month").failed == 0
    # Optional columns may be NULL without counting as gaps.
    residents = assess(clean_core(city), "residents", now=NOW)
    phone = one(residents, "missing", "phone")
    assert phone.failed == 0
    assert "NULL" in phone.detail
    # A table without a primary key is checked for copied rows instead.
    visits = assess(clean_core(city), "medical_visits", now=NOW)
    assert one(visits, "duplicate_rows").total == visits.rows


# --- damaged data ----------------------------------------------------------------------------


def test_damaged_contributions_score_lower_and_name_the_bad_values(core: DataCore) -> None:
    before = assess(core, "insurance_contributions", now=NOW)
    table = rows_of(core, "insurance_contributions")
    n = table.num_rows
    rng = random.Random(7)
    stranger = ids.generate_citizen_ids(rng, 1, born_to=date(2000, 1, 1))[0]
    ghost_firm = ids.generate_credit_codes(rng, 1)[0]
    assert core.sql(f"SELECT * FROM residents WHERE citizen_id = '{stranger}'").num_rows == 0
    assert core.sql(f"SELECT * FROM enterprises WHERE credit_code = '{ghost_firm}'").num_rows == 0

    citizen = table.column("citizen_id").to_pylist()
    credit = table.column("credit_code").to_pylist()
    month = table.column("month").to_pylist()
    paid = table.column("paid_fen").to_pylist()
    for i in range(0, 30):  # 30 rows of a person nobody registered
        citizen[i] = stranger
        month[i] = date(2000, 1, 1) + timedelta(days=31 * i)  # keeps the keys apart
    for i in range(30, 40):  # 10 rows of an enterprise that does not exist
        credit[i] = ghost_firm
    for i in range(40, 45):  # 5 months in the future
        month[i] = date(2030, 1 + i - 40, 1)
    for i in range(45, 48):  # 3 negative payments
        paid[i] = -1_500
    damaged = (
        table.set_column(0, "citizen_id", pa.array(citizen, pa.string()))
        .set_column(1, "credit_code", pa.array(credit, pa.string()))
        .set_column(2, "month", pa.array(month, pa.date32()))
        .set_column(6, "paid_fen", pa.array(paid, pa.int64()))
    )
    result = core.load(CONTRIBUTIONS, damaged, source="damaged")  # all of it passes the load

    after = assess(core, "insurance_contributions", now=NOW)
    assert after.version == result.version == before.version + 1
    assert after.rows == n
    assert after.score < before.score
    assert after.dimension("consistency").score < before.dimension("consistency").score
    assert after.dimension("validity").score < 100.0

    dangling = one(after, "reference", "citizen_id")
    assert (dangling.failed, dangling.total) == (30, n)
    # Personal data is masked in the examples, the way the report says it is.
    assert dangling.examples == (stranger[:6] + "********" + stranger[14:],)
    assert stranger not in json.dumps(after.as_dict())
    firm = one(after, "reference", "credit_code")
    assert (firm.failed, firm.examples) == (10, (ghost_firm,))
    future = one(after, "date_range", "month")
    assert future.failed == 5
    assert set(future.examples) == {f"2030-0{m}-01" for m in range(1, 6)}
    negative = one(after, "range", "paid_fen")
    assert (negative.failed, negative.examples) == (3, ("-1500",))
    # The base is personal: a bad base is counted, never shown.
    assert one(after, "range", "base_fen").failed == 0
    failed = {(dim, c.name, c.column) for dim, c in after.failures()}
    assert failed == {
        ("validity", "date_range", "month"),
        ("validity", "range", "paid_fen"),
        ("consistency", "reference", "citizen_id"),
        ("consistency", "reference", "credit_code"),
    }


def test_missing_values_against_the_registered_contract(core: DataCore) -> None:
    """A version loaded with relaxed flags is still held to the spec it is registered with."""
    relaxed = replace(
        RESIDENTS,
        columns=tuple(
            replace(c, required=False) if c.name in ("name", "household_id") else c
            for c in RESIDENTS.columns
        ),
    )
    table = rows_of(core, "residents")
    names = table.column("name").to_pylist()
    households = table.column("household_id").to_pylist()
    for i in range(10):
        names[i] = None
    names[10] = "  "
    names[11] = "N/A"
    names[12] = "未知"
    households[20] = "\u3000"
    damaged = table.set_column(1, "name", pa.array(names, pa.string())).set_column(
        5, "household_id", pa.array(households, pa.string())
    )
    core.load(relaxed, damaged, source="damaged")

    # Held to the spec it was loaded with, NULL names are allowed; typed-in gaps are not.
    loose = assess(core, "residents", now=NOW)
    assert one(loose, "missing", "name").failed == 3
    assert one(loose, "missing", "household_id").failed == 1
    # Held to the registered spec, NULL names count too.
    strict = assess(core, "residents", spec=RESIDENTS, now=NOW)
    assert one(strict, "missing", "name").failed == 13
    assert strict.dimension("completeness").score < 100.0
    assert strict.score < loose.score
    # The household reference of the blank value is not counted as dangling: it is a gap.
    reference = one(strict, "reference", "household_id")
    assert reference.total == table.num_rows - 1


def test_contract_columns_missing_from_the_table(core: DataCore) -> None:
    contract = replace(
        HOUSEHOLDS, columns=(*HOUSEHOLDS.columns, Column("floor_area", "float64", "建筑面积"))
    )
    report = assess(core, "households", spec=contract, now=NOW)
    absent = one(report, "missing", "floor_area")
    assert absent.failed == absent.total == report.rows
    assert absent.score == 0.0


def test_keys_that_only_look_different(core: DataCore) -> None:
    table = rows_of(core, "households")
    copies = table.slice(0, 4)
    twins = pc.utf8_lower(pc.binary_join_element_wise(copies.column("household_id"), " ", ""))
    damaged = pa.concat_tables([table, copies.set_column(0, "household_id", twins)])
    core.load(HOUSEHOLDS, damaged, source="damaged")  # the exact keys are all different
    report = assess(core, "households", now=NOW)
    assert one(report, "primary_key", "household_id").failed == 0
    lookalike = one(report, "key_lookalike", "household_id")
    assert lookalike.failed == 4
    first = table.column("household_id")[0].as_py()
    assert any(first in e and first.lower() + " " in e for e in lookalike.examples)
    assert report.dimension("uniqueness").score < 100.0


@pytest.mark.parametrize("rows_per_pass", [30_000_000, 1_000])
def test_copied_rows_in_a_table_without_a_key(
    core: DataCore, rows_per_pass: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Big tables are grouped in several passes over slices of the hash space; same answer.
    monkeypatch.setattr(checks, "KEY_CHECK_ROWS_PER_PASS", rows_per_pass)
    table = rows_of(core, "medical_visits")
    spec = core.spec("medical_visits")
    core.load(spec, pa.concat_tables([table, table.slice(5, 3), table.slice(5, 1)]))
    report = assess(core, "medical_visits", now=NOW)
    assert table.num_rows > 2 * rows_per_pass or rows_per_pass > table.num_rows
    assert one(report, "duplicate_rows").failed == 4
    assert one(report, "duplicate_rows").examples == ()  # whole rows are never shown


def test_dates_out_of_order(core: DataCore) -> None:
    table = rows_of(core, "employment_spells")
    ends = table.column("end_date").to_pylist()
    starts = table.column("start_date").to_pylist()
    ends[0] = starts[0] - timedelta(days=10)
    damaged = table.set_column(3, "end_date", pa.array(ends, pa.date32()))
    core.load(EMPLOYMENT_SPELLS, damaged, source="damaged")
    report = assess(core, "employment_spells", now=NOW)
    order = one(report, "date_order", "start_date,end_date")
    assert order.failed == 1
    assert order.examples == (f"start_date={starts[0]} > end_date={ends[0]}",)


def test_stale_tables_lose_timeliness(city: Path) -> None:
    core = clean_core(city)
    later = NOW + timedelta(days=93)
    report = assess(core, "insurance_contributions", now=later)
    timeliness = report.dimension("timeliness")
    assert timeliness.score is not None
    assert timeliness.score < 100
    data_age = one(report, "data_age", "month")
    assert data_age.failed == 1
    assert "latest month 2026-10-31" in data_age.examples[0]
    # Expected only twice a year, the same data is on time.
    relaxed = assess(core, "insurance_contributions", now=later, update_every=timedelta(days=183))
    assert relaxed.dimension("timeliness").score == 100.0
    # Five intervals late scores nothing.
    assert one(assess(core, "enterprise_tax", now=NOW + timedelta(days=200)), "data_age").score == 0


def test_reference_map_is_configurable(city: Path) -> None:
    core = clean_core(city)
    none = assess(core, "insurance_contributions", references=None, now=NOW)
    assert none.checks("reference") == []
    assert none.dimension("consistency").score is None  # nothing to check: left out of the score
    odd = References(
        by_column={"credit_code": Reference("registry_of_nowhere", "credit_code")},
        by_check={"citizen_id": Reference("college_graduates", "citizen_id")},
    )
    report = assess(core, "insurance_contributions", references=odd, now=NOW)
    assert report.notes == (
        "credit_code: reference target registry_of_nowhere.credit_code is not in the data core",
    )
    graduates = one(report, "reference", "citizen_id")
    assert 0 < graduates.failed < graduates.total  # most contributors are not recent graduates


def test_masking() -> None:
    person = Column("citizen_id", "string", "公民身份号码", personal=True, check="citizen_id")
    assert mask("11010519491231002X", person) == "110105********002X"
    assert mask("张三丰", Column("name", "string", "姓名", personal=True)) == "张*丰"
    assert mask("张三", Column("name", "string", "姓名", personal=True)) == "张*"
    assert mask(date(1990, 5, 17), Column("b", "date", "出生日期", personal=True)) == "1990-**-**"
    assert mask(123456, Column("w", "int64", "工资", personal=True)) == "***"
    assert mask(date(1990, 5, 17), Column("d", "date", "日期")) == "1990-05-17"
    assert mask(None, person) == "NULL"


# --- identifier checks in SQL agree with shuhui.core.ids ---------------------------------------

ALPHABET = "0123456789X" + ids.CREDIT_CODE_CHARSET + "IOSVZx -中"


def verdicts(expression: str, values: list[str | None]) -> list[bool]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT coalesce({expression}, false) FROM unnest($1::VARCHAR[]) WITH ORDINALITY "
            f"AS t(v, i) ORDER BY i",
            [values],
        ).fetchall()
    finally:
        con.close()
    return [bool(r[0]) for r in rows]


def parses(parse: object, value: str | None) -> bool:
    if value is None:
        return False
    try:
        parse(value)  # type: ignore[operator]
    except ids.InvalidIdentifier:
        return False
    return True


def mutate(rng: random.Random, value: str) -> str:
    i = rng.randrange(len(value))
    kind = rng.randrange(5)
    if kind == 0:
        return value[:i] + rng.choice(ALPHABET) + value[i + 1 :]
    if kind == 1:
        return value[:i] + value[i + 1 :]
    if kind == 2:
        return value[:i] + rng.choice(ALPHABET) + value[i:]
    if kind == 3:  # a birth date or a division code changed, check character kept
        j = rng.randrange(2, 14)
        return value[:j] + rng.choice("0123456789") + value[j + 1 :]
    return value


def with_check(first17: str) -> str:
    return first17 + ids.citizen_id_check_char(first17)


# Birth dates that only a calendar refuses, each with the right check character.
DATE_EDGES = [
    with_check(f"370202{born}123")
    for born in (
        "20000229",  # leap year (divisible by 400)
        "19000229",  # not a leap year (divisible by 100)
        "20240229",
        "20230229",
        "19990431",
        "19991231",
        "19990001",
        "19991301",
        "19990100",
        "18891231",
        "18900101",
        "20261129",  # today
        "20261130",  # tomorrow
        "99991231",
    )
]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    noise=st.lists(st.text(ALPHABET, min_size=16, max_size=19) | st.none(), max_size=20),
)
def test_citizen_id_sql_agrees_with_ids(seed: int, noise: list[str | None]) -> None:
    rng = random.Random(seed)
    valid = ids.generate_citizen_ids(rng, 30, born_from=date(1890, 1, 1), born_to=date(2026, 1, 1))
    values: list[str | None] = [*valid, *(mutate(rng, v) for v in valid), *noise]
    values += [
        "11010519491231002X",
        "110105194902290014",
        "110105200002290013",
        "11010518891231002X",
    ]
    # Born after "today": the same check digits, refused by both.
    values += [
        "110105202612300010",
        "11010520261129001" + ids.citizen_id_check_char("11010520261129001"),
    ]
    values += DATE_EDGES
    got = verdicts(citizen_id_sql("v", TODAY), values)
    assert got == [parses(lambda v: ids.parse_citizen_id(v, today=TODAY), v) for v in values]
    assert all(got[: len(valid)])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    noise=st.lists(st.text(ALPHABET, min_size=16, max_size=19) | st.none(), max_size=20),
)
def test_credit_code_sql_agrees_with_ids(seed: int, noise: list[str | None]) -> None:
    rng = random.Random(seed)
    valid: list[str] = []
    for authority, (_name, categories) in ids.AUTHORITIES.items():
        for category in categories:
            valid += ids.generate_credit_codes(rng, 2, authority=authority, category=category)
    values: list[str | None] = [*valid, *(mutate(rng, v) for v in valid), *noise]
    values += ["91110000600037341L", "11100000000013125X", "Y1100000000013125X"]
    got = verdicts(credit_code_sql("v"), values)
    assert got == [parses(ids.parse_credit_code, v) for v in values]
    assert all(got[: len(valid)])


@given(st.lists(st.text("0123456789a中 ", min_size=0, max_size=7) | st.none(), max_size=30))
def test_division_sql_agrees_with_the_load_check(values: list[str | None]) -> None:
    values = [*values, "370202", "990000", "100000"]
    expected = division_mask(pa.array(values, pa.string())).tolist()
    assert verdicts(division_sql("v"), values) == expected


def test_spec_type_is_respected(city: Path) -> None:
    """A contract that calls a stored column by another type keeps the stored type in SQL."""
    contract = TableSpec(
        name="enterprise_tax",
        title="企业月度纳税",
        department="税务",
        kind="event",
        primary_key=("credit_code", "month"),
        columns=tuple(
            replace(c, type="string") if c.name == "tax_fen" else c
            for c in core_spec(city, "enterprise_tax").columns
        ),
    )
    report = assess(clean_core(city), "enterprise_tax", spec=contract, now=NOW)
    assert one(report, "range", "tax_fen").failed == 0


def core_spec(city: Path, name: str) -> TableSpec:
    return clean_core(city).spec(name)


def test_an_empty_version(core: DataCore) -> None:
    core.load(EMPLOYMENT_SPELLS, EMPLOYMENT_SPELLS.arrow_schema.empty_table(), source="empty")
    report = assess(core, "employment_spells", now=NOW)
    assert report.rows == 0
    assert all(c.failed == 0 for _d, c in report.failures())
    assert report.dimension("completeness").score == 100.0
    assert one(report, "reference", "citizen_id").total == 0
    assert json.loads(json.dumps(report.as_dict()))["rows"] == 0
