"""Rule tests as data: small input tables, and the outcome each entity must get.

A test file (``kind: rule-tests``) names one rule and an evaluation date, then cases::

    - name: 85周岁 → 符合，每月100元
      tables:                       # rows of the rule's tables; columns left out are NULL
        residents:
          - {citizen_id: P1, birth_date: 1941-05-01, hukou_type: 城镇}
      expect:
        P1: {outcome: eligible, amount: 10000, missing: [], conditions: {old_enough: true}}

Tables a case does not give are empty. Columns left out are NULL, which is how a case says an
input is missing. ``shuhui rules test`` and the test suite run the same files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from shuhui.core.content import load_yaml
from shuhui.core.errors import Problem
from shuhui.datacore.schema import TableSpec
from shuhui.rules.loader import RuleBook
from shuhui.rules.service import evaluate

KIND = "rule-tests"
OUTCOMES = ("eligible", "not_eligible", "undetermined")


@dataclass(frozen=True)
class Case:
    file: Path
    index: int
    name: str
    rule: str
    on: date
    tables: dict[str, list[dict[str, Any]]]
    expect: dict[str, dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.file.stem}[{self.index}] {self.name}"


@dataclass(frozen=True)
class CaseResult:
    case: Case
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


class RuleTestError(ValueError):
    def __init__(self, path: Path, where: str, reason: str) -> None:
        super().__init__(f"{path.name}: {where}: {reason}")
        self.field = f"{path.name}: {where}"
        self.reason = reason


def rule_test_files(path: Path) -> list[Path]:
    """A file, or every ``*.yaml`` under a folder (the book's ``tests/``)."""
    if path.is_file():
        return [path]
    return sorted(path.rglob("*.yaml"))


def load_cases(path: Path) -> list[Case]:
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise RuleTestError(path, "file", f"cannot read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise RuleTestError(path, "kind", f"must be {KIND!r}")
    rule = doc.get("rule")
    on = doc.get("date")
    if not isinstance(rule, str):
        raise RuleTestError(path, "rule", "name the rule under test")
    if not isinstance(on, date):
        raise RuleTestError(path, "date", "the evaluation date, YYYY-MM-DD")
    raw = doc.get("cases")
    if not isinstance(raw, list) or not raw:
        raise RuleTestError(path, "cases", "must be a non-empty list")
    cases = []
    for i, entry in enumerate(raw):
        where = f"cases[{i}]"
        if not isinstance(entry, dict):
            raise RuleTestError(path, where, "must be a mapping")
        name = entry.get("name")
        tables = entry.get("tables") or {}
        expect = entry.get("expect")
        case_on = entry.get("date", on)
        if not isinstance(name, str) or not name.strip():
            raise RuleTestError(path, f"{where}.name", "say what the case shows")
        if not isinstance(tables, dict) or not all(isinstance(r, list) for r in tables.values()):
            raise RuleTestError(path, f"{where}.tables", "a mapping of table name to rows")
        if not isinstance(expect, dict) or not expect:
            raise RuleTestError(path, f"{where}.expect", "a mapping of entity id to expectations")
        if not isinstance(case_on, date):
            raise RuleTestError(path, f"{where}.date", "YYYY-MM-DD")
        for key, want in expect.items():
            if not isinstance(want, dict) or want.get("outcome") not in OUTCOMES:
                raise RuleTestError(
                    path, f"{where}.expect.{key}.outcome", f"one of {', '.join(OUTCOMES)}"
                )
        cases.append(
            Case(
                path, i, name.strip(), rule, case_on, tables, {str(k): w for k, w in expect.items()}
            )
        )
    return cases


def _value(value: Any, column_type: str) -> Any:
    if column_type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def input_tables(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, list[dict[str, Any]]],
    wanted: tuple[str, ...],
    specs: Mapping[str, TableSpec],
) -> None:
    """Creates each wanted table with its data-core schema (every column nullable: a case may
    leave any input out) and the case's rows."""
    for name in tables:
        if name not in wanted:
            raise ValueError(
                f"table {name!r} is not read by the rule (it reads {', '.join(wanted)})"
            )
    for name in wanted:
        spec = specs[name]
        schema = pa.schema([pa.field(c.name, c.arrow_type, nullable=True) for c in spec.columns])
        rows = tables.get(name, [])
        types = {c.name: c.type for c in spec.columns}
        for row in rows:
            unknown = set(row) - set(types)
            if unknown:
                raise ValueError(f"{name}: no column {', '.join(sorted(unknown))}")
        data = pa.Table.from_pylist(
            [{k: _value(x, types[k]) for k, x in row.items()} for row in rows], schema=schema
        )
        con.register(name, data)  # the case's rows stand in for the table, under its name


def _compare(key: str, want: dict[str, Any], got: Any) -> list[str]:
    failures = []
    if got is None:
        return [f"{key}: no such entity in the case's entity table"]
    if got.outcome != want["outcome"]:
        failures.append(f"{key}: outcome {got.outcome}, expected {want['outcome']}")
    if "amount" in want and got.amount != want["amount"]:
        failures.append(f"{key}: amount {got.amount}, expected {want['amount']}")
    if "missing" in want and sorted(got.missing) != sorted(want["missing"] or []):
        failures.append(
            f"{key}: missing {sorted(got.missing)}, expected {sorted(want['missing'] or [])}"
        )
    for cid, value in (want.get("conditions") or {}).items():
        if cid not in got.conditions:
            failures.append(f"{key}: no condition {cid!r}")
        elif got.conditions[cid] is not value:
            failures.append(f"{key}: condition {cid} is {got.conditions[cid]}, expected {value}")
    for name, value in (want.get("variables") or {}).items():
        if name not in got.variables:
            failures.append(f"{key}: no variable {name!r}")
        elif got.variables[name] != _value(
            value, "date" if isinstance(got.variables[name], date) else ""
        ):
            failures.append(f"{key}: {name} is {got.variables[name]!r}, expected {value!r}")
    return failures


def run_case(book: RuleBook, specs: Mapping[str, TableSpec], case: Case) -> CaseResult:
    rule = book.rules.get(case.rule)
    if rule is None:
        return CaseResult(case, [f"no rule {case.rule!r} in {book.directory}"])
    con = duckdb.connect(":memory:")
    try:
        input_tables(con, case.tables, rule.tables, specs)
        results = {e.key: e for e in evaluate(con, rule, case.on)}
    except ValueError as exc:
        return CaseResult(case, [str(exc)])
    except Problem as exc:
        return CaseResult(case, [f"{e.field}: {e.reason}" for e in exc.errors] or [str(exc)])
    finally:
        con.close()
    failures: list[str] = []
    for key, want in case.expect.items():
        failures += _compare(key, want, results.get(key))
    return CaseResult(case, failures)


def run_tests(book: RuleBook, specs: Mapping[str, TableSpec], path: Path) -> list[CaseResult]:
    results = []
    for file in rule_test_files(path):
        results += [run_case(book, specs, case) for case in load_cases(file)]
    return results
