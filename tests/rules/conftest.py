"""Fixtures: the data core's table schemas, the city's rule book, and rule books written here."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from shuhui.core.content import DEFAULT_DIR
from shuhui.datacore.schema import TableSpec
from shuhui.rules.loader import ENTITIES_FILE, RuleBook, load_book
from shuhui.rules.testing import input_tables
from shuhui.standard import TABLES

POLICIES = DEFAULT_DIR / "qingdao" / "policies"
SPECS: dict[str, TableSpec] = {spec.name: spec for spec in TABLES}


@pytest.fixture(scope="session")
def book() -> RuleBook:
    return load_book(POLICIES, SPECS)


def write_book(directory: Path, rules: str, name: str = "test-rules.yaml") -> Path:
    """A book with the city's entities and the given rule file (YAML, dedented)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(POLICIES / ENTITIES_FILE, directory / ENTITIES_FILE)
    (directory / name).write_text(textwrap.dedent(rules), encoding="utf-8")
    return directory


RULE_HEAD = """\
kind: rules
items:
  - code: probe
    name: {zh: 测试规则, en: Probe}
    valid_from: 2020-01-01
    reference: 测试用规则
    department: 测试部门
    entity: person
"""


@pytest.fixture
def con(book: RuleBook) -> Iterator[duckdb.DuckDBPyConnection]:
    """The elders of the engine tests and one person with neither a birth date nor a household
    registration type, as tables (``test_service.PEOPLE``; imported here, not at the top, as
    the test modules import this one)."""
    from tests.rules.test_service import PEOPLE

    connection = duckdb.connect()
    input_tables(connection, PEOPLE, book.rules["elderly-allowance"].tables, SPECS)
    yield connection
    connection.close()
