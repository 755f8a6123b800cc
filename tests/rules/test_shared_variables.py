"""Variables an entity shares with its rules: declared once in the entities file, checked at
load with a field and a reason, evaluated exactly as the same variable written in the rule, and
named in explanations like any other."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.core.errors import Problem
from shuhui.rules.compiler import compile_rule
from shuhui.rules.explain import explain
from shuhui.rules.loader import ENTITIES_FILE, RuleBook, load_book
from shuhui.rules.service import evaluate
from shuhui.rules.testing import input_tables
from tests.rules.conftest import POLICIES, SPECS

ON = date(2026, 10, 31)

# The same rule twice: once taking the person's shared variables, once writing them out.
TWINS = """\
kind: rules
items:
  - code: {code}
    name: {{zh: 测试规则, en: Probe}}
    valid_from: 2020-01-01
    reference: 测试用规则
    department: 测试部门
    entity: person
    variables:
{variables}
      age: {{zh: 周岁年龄, expr: "years_between(birth_date, eval_date)"}}
    conditions:
      all:
        - {{id: alive, zh: 在世, test: "NOT died"}}
        - {{id: old, zh: 年满80周岁, test: "age >= 80"}}
"""
SHARED = """\
      birth_date: shared
      died: shared
"""
INLINE = """\
      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}
      died:
        zh: 已登记死亡
        en: Death registered
        exists:
          table: death_registrations
          window: {date: death_date, to: 0 days}
"""


def twins_book(directory: Path, entities: str | None = None) -> RuleBook:
    directory.mkdir(parents=True, exist_ok=True)
    city = (POLICIES / ENTITIES_FILE).read_text(encoding="utf-8")
    (directory / ENTITIES_FILE).write_text(entities or city, encoding="utf-8")
    for code, variables in (("shared", SHARED), ("inline", INLINE)):
        text = TWINS.format(code=code, variables=variables)
        (directory / f"{code}.yaml").write_text(text, encoding="utf-8")
    return load_book(directory, SPECS)


def refusal(directory: Path, rules: str, entities: str | None = None) -> list[tuple[str, str]]:
    directory.mkdir(parents=True, exist_ok=True)
    city = (POLICIES / ENTITIES_FILE).read_text(encoding="utf-8")
    (directory / ENTITIES_FILE).write_text(entities or city, encoding="utf-8")
    (directory / "probe.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    with pytest.raises(Problem) as refused:
        load_book(directory, SPECS)
    return [(e.field, e.reason) for e in refused.value.errors]


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> RuleBook:
    return twins_book(tmp_path_factory.mktemp("twins"))


def test_the_city_book_declares_died_once(book: RuleBook) -> None:
    died = book.entities["person"].variables["died"]
    users = [r.code for r in book.rules.values() if "died" in r.variables]
    assert len(users) == 7  # with pension-certification and the retirement reminder
    assert all(book.rules[code].variables["died"] is died for code in users)


def test_a_shared_variable_compiles_as_the_inline_one(twins: RuleBook) -> None:
    shared, inline = twins.rules["shared"], twins.rules["inline"]
    assert list(shared.variables) == list(inline.variables) == ["birth_date", "died", "age"]
    assert shared.variables == inline.variables
    assert shared.tables == inline.tables == ("residents", "death_registrations")
    for dialect in ("duckdb", "spark"):
        assert compile_rule(shared, ON).sql(dialect) == compile_rule(inline, ON).sql(dialect)


PEOPLE = 6
deaths = st.lists(
    st.tuples(
        st.integers(0, PEOPLE - 1),
        st.integers(-800, 800),  # the death, in days from the evaluation date
    ),
    max_size=8,
    unique_by=lambda d: d[0],
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deaths=deaths, births=st.lists(st.integers(70, 95), min_size=PEOPLE, max_size=PEOPLE))
def test_a_shared_variable_is_evaluated_exactly_as_the_inline_one(
    twins: RuleBook, deaths: list[tuple[int, int]], births: list[int]
) -> None:
    tables = {
        "residents": [
            {"citizen_id": f"P{i}", "birth_date": str(ON.replace(year=ON.year - years))}
            for i, years in enumerate(births)
        ],
        "death_registrations": [
            {"citizen_id": f"P{i}", "death_date": str(ON + timedelta(days=days))}
            for i, days in deaths
        ],
    }
    got = {}
    for code in ("shared", "inline"):
        rule = twins.rules[code]
        con = duckdb.connect()
        try:
            input_tables(con, tables, rule.tables, SPECS)
            got[code] = {e.key: e for e in evaluate(con, rule, ON)}
        finally:
            con.close()
    assert got["shared"] == got["inline"]
    dead = {f"P{i}" for i, days in deaths if days <= 0}
    assert {k for k, e in got["shared"].items() if e.variables["died"]} == dead


def test_explanations_name_a_shared_variable(twins: RuleBook) -> None:
    tables = {
        "residents": [{"citizen_id": "P1", "birth_date": "1930-01-01"}],
        "death_registrations": [{"citizen_id": "P1", "death_date": "2025-01-01"}],
    }
    texts = {}
    for code in ("shared", "inline"):
        rule = twins.rules[code]
        con = duckdb.connect()
        try:
            input_tables(con, tables, rule.tables, SPECS)
            found = explain(con, rule, ON, "P1", SPECS)
        finally:
            con.close()
        texts[code] = found.text("zh-CN").replace(rule.code, "")
        assert "已登记死亡" in texts[code]
        assert "Death registered" in found.text("en")
    assert texts["shared"] == texts["inline"]


def test_a_shared_variable_brings_the_shared_ones_it_reads(tmp_path: Path) -> None:
    city = (POLICIES / ENTITIES_FILE).read_text(encoding="utf-8")
    entities = city.replace(
        "      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}\n",
        "      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}\n"
        '      age: {zh: 周岁年龄, expr: "years_between(birth_date, eval_date)"}\n',
    )
    assert entities != city
    directory = tmp_path / "book"
    directory.mkdir()
    (directory / ENTITIES_FILE).write_text(entities, encoding="utf-8")
    (directory / "probe.yaml").write_text(
        TWINS.format(code="probe", variables="      died: shared").replace(
            '      age: {zh: 周岁年龄, expr: "years_between(birth_date, eval_date)"}\n',
            "      age: shared\n",
        ),
        encoding="utf-8",
    )
    rule = load_book(directory, SPECS).rules["probe"]
    assert list(rule.variables) == ["died", "birth_date", "age"]
    assert rule.variables["age"].inputs == ("birth_date",)


PROBE = """\
kind: rules
items:
  - code: probe
    name: {zh: 测试规则, en: Probe}
    valid_from: 2020-01-01
    reference: 测试用规则
    department: 测试部门
    entity: person
    variables:
      %s
    conditions: {id: alive, zh: 在世, test: "NOT died"}
"""


def test_an_unknown_shared_variable_is_refused_with_its_field(tmp_path: Path) -> None:
    errors = refusal(tmp_path / "book", PROBE % "died: shared\n      gone: shared")
    assert errors == [
        (
            "probe.yaml: probe.variables.gone",
            "person shares no variable 'gone' (declare it under the entity's variables in "
            "entities.yaml)",
        )
    ]


def test_a_bad_shared_variable_is_refused_where_it_is_declared(tmp_path: Path) -> None:
    city = (POLICIES / ENTITIES_FILE).read_text(encoding="utf-8")
    bad = city.replace(
        "          table: death_registrations\n          window: {date: death_date",
        "          table: enterprise_tax\n          window: {date: death_date",
    )
    assert bad != city
    errors = refusal(tmp_path / "book", PROBE % "died: shared", bad)
    assert errors == [
        (
            "entities.yaml: person.variables.died.exists.table",
            "'enterprise_tax' is not a source of person (declare it in entities.yaml)",
        ),
        (
            "probe.yaml: probe.variables.died",
            "the shared variable 'died' of person is refused in entities.yaml",
        ),
    ]


def test_a_shared_variable_cannot_read_a_rules_parameter(tmp_path: Path) -> None:
    city = (POLICIES / ENTITIES_FILE).read_text(encoding="utf-8")
    bad = city.replace(
        "      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}\n",
        "      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}\n"
        '      old: {zh: 达到年龄, expr: "years_between(birth_date, eval_date) >= min_age"}\n',
    )
    errors = refusal(tmp_path / "book", PROBE % "died: shared", bad)
    assert [field for field, _ in errors] == ["entities.yaml: person.variables.old.expr"]
    assert "min_age" in errors[0][1]


def test_a_rule_may_not_replace_what_a_shared_variable_reads(tmp_path: Path) -> None:
    city = (POLICIES / ENTITIES_FILE).read_text(encoding="utf-8")
    entities = city.replace(
        "      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}\n",
        "      birth_date: {zh: 出生日期, en: Date of birth, column: birth_date}\n"
        '      age: {zh: 周岁年龄, expr: "years_between(birth_date, eval_date)"}\n',
    )
    errors = refusal(
        tmp_path / "book",
        PROBE % "died: shared\n      age: shared\n      birth_date: {zh: 生日, column: birth_date}",
        entities,
    )
    assert errors == [
        (
            "probe.yaml: probe.variables.birth_date",
            "the shared age is computed from the shared birth_date: write `birth_date: shared`, "
            "or give this variable another name",
        )
    ]
