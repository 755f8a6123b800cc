"""Spark answers as DuckDB does: every rule of the book, person by person and cent by cent, on
the same city, through a real Spark (``local[2]``) reading the data core's published files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shuhui.cli import app
from shuhui.core.settings import Settings, get_settings
from shuhui.datacore import spark as spark_tables
from shuhui.datacore.store import DataCore
from shuhui.rules import engines, service
from shuhui.rules.language import Rule
from shuhui.rules.loader import RuleBook, load_book
from shuhui.standard import TABLES
from tests.fixtures import Templates, copy_city
from tests.rules.conftest import POLICIES

# A date every rule of the book is in force on, within the test city's months.
ON = date(2026, 10, 31)


@pytest.fixture(scope="module")
def core(templates: Templates) -> DataCore:
    city = templates.city()
    return DataCore(city / "datacore", city / "truth")


@pytest.fixture(scope="module")
def city_book(core: DataCore) -> RuleBook:
    specs = service.data_core_specs(core, {spec.name: spec for spec in TABLES})
    return load_book(POLICIES, specs)


# A city of 1,500 people costs Spark more to plan and compile than to run, so the test's session
# is set for small inputs (the results are Spark's either way; the benchmark runs with Spark's
# defaults): no whole-stage code generation (Java compiled for every stage of every query), no
# adaptive re-planning, one partition after a shuffle, and a JVM that compiles its hot code
# once, quickly (C1 only), with a single-threaded collector. On this 2-core machine these took
# the module from 132 to 68 CPU-seconds, 68 to 44 s.
TEST_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
    "spark.driver.extraJavaOptions": " ".join(
        (
            f"-Dlog4j2.configurationFile={spark_tables.LOG_CONFIG.as_uri()}",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
        )
    ),
}


@pytest.fixture(scope="module")
def spark_engine(core: DataCore) -> engines.SparkEngine:
    return engines.SparkEngine(spark_tables.session("local[2]", conf=TEST_CONF), core)


@pytest.fixture(scope="module")
def duckdb_engine(core: DataCore) -> Iterator[engines.DuckDBEngine]:
    con = core.connect()

    class _Cursor:
        def __enter__(self) -> Any:
            self.cursor = con.cursor()
            return self.cursor

        def __exit__(self, *exc: object) -> None:
            self.cursor.close()

    yield engines.DuckDBEngine(_Cursor, lambda: service.versions_of(core))
    con.close()


def _cents(value: Any) -> Any:
    """A money amount or any number, exactly to the cent (DuckDB and Spark may give a decimal
    or a float for the same sum); anything else as it is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def _person(e: service.Evaluation) -> tuple[Any, ...]:
    return (
        e.outcome,
        _cents(e.amount),
        e.missing,
        tuple(sorted(e.conditions.items())),
        tuple(sorted((name, _cents(value)) for name, value in e.variables.items())),
    )


def _differences(rule: Rule, a: list[service.Evaluation], b: list[service.Evaluation]) -> list[str]:
    left = {e.key: _person(e) for e in a}
    right = {e.key: _person(e) for e in b}
    found = [f"{rule.code}: {k} only on DuckDB" for k in left.keys() - right.keys()]
    found += [f"{rule.code}: {k} only on Spark" for k in right.keys() - left.keys()]
    for key in sorted(left.keys() & right.keys()):
        if left[key] != right[key]:
            found.append(f"{rule.code}: {key}: DuckDB {left[key]} ≠ Spark {right[key]}")
    return found


def test_every_rule_gives_every_entity_the_same_result_on_both_engines(
    city_book: RuleBook,
    spark_engine: engines.SparkEngine,
    duckdb_engine: engines.DuckDBEngine,
) -> None:
    assert len(city_book.rules) >= 20
    differences: list[str] = []
    decided = 0
    rules = list(city_book.rules.values())
    # Spark runs jobs from several threads of one session side by side: while one rule's job
    # runs, the next is planned (most of a small city's time is planning, not running).
    with ThreadPoolExecutor(max_workers=4) as pool:
        on_spark_all = list(pool.map(lambda rule: spark_engine.evaluations(rule, ON), rules))
    for rule, on_spark in zip(rules, on_spark_all, strict=True):
        on_duckdb = duckdb_engine.evaluations(rule, ON)
        assert on_duckdb, f"{rule.code} has no entities in the test city"
        differences += _differences(rule, on_duckdb, on_spark)
        decided += sum(e.outcome == "eligible" for e in on_duckdb)
    assert differences == []
    assert decided > 0  # the comparison met eligible people, not only refusals


def test_a_run_and_its_candidates_agree_and_say_the_engine(
    city_book: RuleBook,
    spark_engine: engines.SparkEngine,
    duckdb_engine: engines.DuckDBEngine,
) -> None:
    rule = city_book.rules["unemployment-benefit"]
    on_duckdb, on_spark = duckdb_engine.run(rule, ON), spark_engine.run(rule, ON)
    assert (on_duckdb.engine, on_spark.engine) == ("duckdb", "spark")
    assert on_spark.counts == on_duckdb.counts and on_spark.counts["eligible"] > 0
    assert on_spark.amount_total == on_duckdb.amount_total
    assert on_spark.missing == on_duckdb.missing
    assert on_spark.versions == on_duckdb.versions != {}
    first = duckdb_engine.candidates(rule, ON, outcomes=("eligible",), limit=5)
    assert [e.key for e in spark_engine.candidates(rule, ON, outcomes=("eligible",), limit=5)] == [
        e.key for e in first
    ]
    assert len(first) == min(5, on_duckdb.counts["eligible"])


def test_spark_reads_the_version_current_when_the_run_starts(
    templates: Templates, tmp_path: Path, spark_engine: engines.SparkEngine
) -> None:
    """A new version of a table is what the next run reads: the views are made per run, from
    the version's manifest, as DuckDB's connection does."""
    copy_city(templates.city(), tmp_path)
    own = DataCore(tmp_path / "datacore", tmp_path / "truth")
    rule = load_book(
        POLICIES, service.data_core_specs(own, {spec.name: spec for spec in TABLES})
    ).rules["elderly-allowance"]
    engine = engines.SparkEngine(spark_engine.spark, own)
    before = engine.run(rule, ON)
    # Every resident of 80 or more registered dead: none of them is eligible any more.
    assert before.counts["eligible"] > 0
    deaths = own.sql(
        "SELECT citizen_id, name, death_date, registered_date, district_code, cause "
        "FROM death_registrations UNION ALL "
        "SELECT citizen_id, name, DATE '2026-01-02', DATE '2026-01-03', district_code, '疾病' "
        "FROM residents WHERE birth_date <= DATE '1946-10-31' "
        "AND citizen_id NOT IN (SELECT citizen_id FROM death_registrations)"
    )
    own.load(own.spec("death_registrations"), deaths, source="test: the old have died")
    after = engine.run(rule, ON)
    assert after.versions["death_registrations"] == before.versions["death_registrations"] + 1
    assert after.counts["eligible"] == 0
    with own.connect(tables=rule.tables) as con:
        assert service.run(con, rule, ON).counts == after.counts


@pytest.fixture
def shuhui(templates: Templates, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(templates.city()))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _run_json(runner: CliRunner, *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app, ["rules", "run", "elderly-allowance", "--date", ON.isoformat(), "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_the_command_prints_the_same_counts_on_spark_with_its_engine(
    shuhui: CliRunner, monkeypatch: pytest.MonkeyPatch, spark_engine: engines.SparkEngine
) -> None:
    on_duckdb = _run_json(shuhui)
    monkeypatch.setenv("SHUHUI_ENGINE", "spark")
    get_settings.cache_clear()
    on_spark = _run_json(shuhui)
    assert (on_duckdb["engine"], on_spark["engine"]) == ("duckdb", "spark")
    for field in ("entities", "counts", "amount_total", "missing", "versions"):
        assert on_spark[field] == on_duckdb[field], field
    assert on_duckdb["counts"]["eligible"] > 0
    assert _run_json(shuhui, "--engine", "duckdb")["engine"] == "duckdb"  # the flag wins


def test_a_wrong_engine_and_store_on_spark_are_refused(shuhui: CliRunner) -> None:
    result = shuhui.invoke(app, ["rules", "run", "elderly-allowance", "--engine", "hadoop"])
    assert result.exit_code == 2 and "--engine must be duckdb or spark" in result.output
    result = shuhui.invoke(
        app, ["rules", "run", "elderly-allowance", "--engine", "spark", "--store", "/tmp/x.pq"]
    )
    assert result.exit_code == 2 and "--store writes with DuckDB" in result.output


def test_the_engine_setting_is_checked() -> None:
    assert Settings(engine="spark").engine == "spark"
    with pytest.raises(ValueError):
        Settings(engine="hadoop")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Settings(spark_master="yarn")
    assert spark_tables.shuffle_partitions("local[2]") == 4
    assert spark_tables.shuffle_partitions("spark://127.0.0.1:7077") == 200


def test_the_programs_find_the_same_people_on_the_engine_the_platform_is_set_to(
    templates: Templates, core: DataCore, spark_engine: engines.SparkEngine
) -> None:
    """Campaigns, fund-risk detectors and struggling enterprises ask ``Library.engine()``."""
    from shuhui.programs.service import Library

    city = templates.city()
    on_spark = Library(Settings(data_dir=city, engine="spark"), core)
    on_duckdb = Library(Settings(data_dir=city), core)
    assert (on_spark.engine().name, on_duckdb.engine().name) == ("spark", "duckdb")
    for code in ("risk-pension-after-death", "enterprise-difficulty"):
        rule = on_duckdb.rule(code)
        found = on_duckdb.engine().candidates(rule, ON, outcomes=("eligible",))
        assert found, code
        again = on_spark.engine().candidates(rule, ON, outcomes=("eligible",))
        assert [_person(e) for e in again] == [_person(e) for e in found]
        assert [e.key for e in again] == [e.key for e in found]


def test_the_certification_cycle_finds_the_same_pensioners_on_spark(
    templates: Templates, core: DataCore, spark_engine: engines.SparkEngine
) -> None:
    """The cycle's own query (a rule's values joined to the pensions and the payments after a
    death), written for DuckDB, translated by sqlglot and run on Spark, finds the same people."""
    from shuhui.programs.certification.config import cycle_on, load_cycles
    from shuhui.programs.certification.cycle import findings
    from shuhui.programs.service import Library

    city = templates.city()
    settings = Settings(data_dir=city)
    cycle = cycle_on(load_cycles(settings.city_content), ON)
    on_duckdb = findings(Library(settings, core), cycle, ON)
    on_spark = findings(Library(Settings(data_dir=city, engine="spark"), core), cycle, ON)
    assert on_duckdb.recipients and on_duckdb.certified and on_duckdb.undetermined
    assert on_spark == on_duckdb
