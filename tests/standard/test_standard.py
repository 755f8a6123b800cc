"""The city's data standard on its own: its vocabularies, and how the CLI hands it to commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuhui.cli import app
from shuhui.core.settings import get_settings
from shuhui.datacore.cli import CommandContext
from shuhui.datacore.schema import TableSpec
from shuhui.rules import cli as rules_cli
from shuhui.standard import TABLES, tables, vocabularies


def test_every_vocabulary_of_a_spec_is_one_of_the_standard() -> None:
    closed = {value for name, value in vars(vocabularies).items() if name.isupper()}
    codes = {
        tuple(code for code, _ in vocabularies.INDUSTRY_SECTIONS),
        tuple(code for code, _ in vocabularies.ICD10_CHAPTERS),
    }
    used = [c.values for spec in TABLES for c in spec.columns if c.values is not None]
    assert used
    assert all(values in closed | codes for values in used)


def test_tables_lists_every_table_declared() -> None:
    declared = {v.name for v in vars(tables).values() if isinstance(v, TableSpec)}
    assert declared == {spec.name for spec in TABLES}
    assert not any(spec.truth for spec in TABLES)


@pytest.fixture
def empty_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory with no table loaded: the rules know a table only from the standard."""
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_top_level_command_hands_the_standard_to_the_rules(empty_city: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "check", "--date", "2026-10-31"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_a_command_knows_only_the_specs_it_is_given(empty_city: Path) -> None:
    bare = CliRunner().invoke(rules_cli.app, ["check", "--date", "2026-10-31"])
    assert bare.exit_code == 1
    assert "residents" in bare.output
    given = CliRunner().invoke(
        rules_cli.app, ["check", "--date", "2026-10-31"], obj=CommandContext.of(TABLES)
    )
    assert given.exit_code == 0, given.output
