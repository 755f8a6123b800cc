"""Load-time checks: each problem is refused with the field path and a reason, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from shuhui.core.errors import Problem
from shuhui.rules.expressions import check, parse
from shuhui.rules.loader import load_book
from tests.rules.conftest import RULE_HEAD, SPECS, write_book


def problems(tmp_path: Path, body: str) -> dict[str, str]:
    directory = write_book(tmp_path / "book", RULE_HEAD + body)
    with pytest.raises(Problem) as caught:
        load_book(directory, SPECS)
    assert caught.value.slug == "validation"
    return {e.field.removeprefix("test-rules.yaml: probe."): e.reason for e in caught.value.errors}


def test_unknown_columns_variables_and_tables(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
    variables:
      born: {zh: 出生, column: born_on}
      visits:
        zh: 就诊
        count: {table: medical_visits, where: "ward = '内科'"}
      taxes:
        zh: 纳税
        count: {table: enterprise_tax}
    conditions:
      all:
        - {id: a, zh: 甲, test: "nothing > 1"}
        - {id: b, zh: 乙, test: "visits > 1"}
""",
    )
    assert found == {
        "variables.born.column": "'born_on' is not a column of residents",
        "variables.visits.count.where": "unknown name 'ward'",
        "variables.taxes.count.table": (
            "'enterprise_tax' is not a source of person (declare it in entities.yaml)"
        ),
        "conditions.all[0].test": "unknown name 'nothing'",
    }


def test_type_mismatches(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
    variables:
      birth_date: {zh: 出生日期, column: birth_date}
      sex: {zh: 性别, column: sex}
    conditions:
      all:
        - {id: a, zh: 甲, test: "birth_date > 1950"}
        - {id: b, zh: 乙, test: "sex"}
        - {id: c, zh: 丙, test: "sex IN ('男', 1)"}
    amount: {zh: 金额, unit: 分, expr: "sex"}
""",
    )
    assert found == {
        "conditions.all[0].test": "birth_date > 1950: cannot compare date with int",
        "conditions.all[1].test": "must be a condition (bool), not string",
        "conditions.all[2].test": "sex IN ('男', 1): 1 is not a string",
        "amount.expr": "an amount is a number, not string",
    }


def test_cycles_are_named_with_their_path(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
    variables:
      a: {zh: 甲, expr: "b + 1"}
      b: {zh: 乙, expr: "c + 1"}
      c: {zh: 丙, expr: "a + 1"}
    conditions: {id: x, zh: 条件, test: "a > 1"}
""",
    )
    assert found["variables.a"] == "cycle among variables: a → b → c → a"


def test_what_would_hide_unknown_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
    variables:
      birth_date: {zh: 出生日期, column: birth_date}
      rode:
        zh: 乘车次数
        count: {table: transit_trips}
    conditions:
      all:
        - {id: a, zh: 甲, test: "birth_date IS NULL"}
        - {id: b, zh: 乙, test: "coalesce(birth_date, DATE '2000-01-01') < DATE '1950-01-01'"}
        - {id: c, zh: 丙, test: "CASE WHEN birth_date < DATE '1950-01-01' THEN TRUE END"}
""",
    )
    assert found["variables.rode.count.table"].startswith(
        "transit_trips is incomplete for person: only `exists` can be known"
    )
    assert "unknown must stay unknown" in found["conditions.all[0].test"]
    assert "unknown must stay unknown" in found["conditions.all[1].test"]
    assert "CASE needs an ELSE" in found["conditions.all[2].test"]


def test_parameters_need_references_types_and_ordered_dates(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
    parameters:
      limit:
        zh: 上限
        type: int
        values:
          - {from: 2024-01-01, value: 3}
          - {from: 2023-01-01, value: 4}
          - {from: 2025-01-01, value: "五"}
    conditions: {id: x, zh: 条件, test: "limit > 1"}
""",
    )
    assert found == {
        "parameters.limit.reference": "every parameter names the text that sets it",
        "parameters.limit.values[1].from": (
            "values must be in order of their start dates, no repeats"
        ),
        "parameters.limit.values[2].value": "'五' is not a int",
    }


def test_a_rule_names_its_department(tmp_path: Path) -> None:
    head = RULE_HEAD.replace("    department: 测试部门\n", "")
    assert head != RULE_HEAD
    directory = write_book(
        tmp_path / "book", head + "    conditions: {id: x, zh: 条件, test: 'TRUE'}\n"
    )
    with pytest.raises(Problem) as caught:
        load_book(directory, SPECS)
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("test-rules.yaml: probe.department", "name the department that implements it (实施部门)")
    ]
    directory = write_book(
        tmp_path / "ok", RULE_HEAD + "    conditions: {id: x, zh: 条件, test: 'TRUE'}\n"
    )
    assert load_book(directory, SPECS).rules["probe"].department == "测试部门"


def test_a_bad_file_is_refused_with_its_place(tmp_path: Path) -> None:
    directory = write_book(tmp_path / "book", "kind: rules\nitems:\n  - code: x\n")
    with pytest.raises(Problem) as caught:
        load_book(directory, SPECS)
    assert caught.value.errors[0].field == "test-rules.yaml: items[0] (x).name"


ENTERPRISE_HEAD = RULE_HEAD.replace("entity: person", "entity: enterprise")


def test_lookups_need_a_complete_register_and_repeat_only_where_harmless(tmp_path: Path) -> None:
    body = """
    variables:
      hires:
        zh: 招用登记失业人员人数
        count:
          table: employment_spells
          lookup: {table: unemployment_registrations, match: citizen_id, as: registered}
          where: "registered"
      nowhere:
        zh: 未声明的登记簿
        exists:
          table: employment_spells
          lookup: {table: disabled_persons, match: citizen_id, as: disabled}
      clash:
        zh: 名称冲突
        exists:
          table: employment_spells
          lookup: {table: college_graduates, match: start_date, as: start_date}
    conditions: {id: x, zh: 条件, test: "hires > 0"}
"""
    directory = write_book(tmp_path / "book", ENTERPRISE_HEAD + body)
    with pytest.raises(Problem) as caught:
        load_book(directory, SPECS)
    found = {e.field.removeprefix("test-rules.yaml: probe."): e.reason for e in caught.value.errors}
    assert found["variables.hires.count.lookup.table"] == (
        "unemployment_registrations.citizen_id is not its primary key: only exists and "
        "count_distinct can look rows up in it"
    )
    assert found["variables.nowhere.exists.lookup.table"].startswith(
        "'disabled_persons' is not a lookup of enterprise"
    )
    assert found["variables.clash.exists.lookup.match"] == (
        "start_date is date, college_graduates.citizen_id is string"
    )


def test_rule_functions_sqlglot_knows_stay_the_rule_languages() -> None:
    # sqlglot reads these two as its own typed functions; the rule language compiles its own.
    for text in ("months_between(a, b)", "add_months(a, -3)"):
        node = parse(text)
        assert isinstance(node, exp.Anonymous), text
    assert check(parse("add_months(a, -3)"), {"a": "date"}).type == "date"
    assert check(parse("months_between(a, b)"), {"a": "date", "b": "date"}).type == "int"
