"""``shuhui rules …`` on a small generated city, as an operator runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from shuhui.cli import app
from shuhui.core.settings import get_settings
from shuhui.datacore.store import DataCore
from shuhui.synth import CityConfig, generate_city

ON = "2026-10-31"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("rules-city")
    core = DataCore(data_dir / "datacore", data_dir / "truth")
    session = core.session("test city")
    generate_city(session, CityConfig(residents=2_000, seed=7, chunk=1_000))
    session.commit()
    return data_dir


@pytest.fixture
def shuhui(city: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(city))
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "zh-CN")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["rules", *args])
    # JSON is read from standard output alone: a log line another test's thread writes to
    # standard error meanwhile lands in ``output`` too.
    return result.exit_code, result.stdout if "--json" in args else result.output


def test_ls_and_check(shuhui: CliRunner) -> None:
    code, output = invoke(shuhui, "ls", "--json")
    assert code == 0, output
    listed = {r["code"]: r for r in json.loads(output)}
    assert {"elderly-allowance", "job-stabilisation-refund"} <= set(listed)
    assert listed["elderly-allowance"]["entity"] == "person"
    assert listed["elderly-allowance"]["reference"].startswith("青岛市高龄津贴制度")
    code, output = invoke(shuhui, "check", "--date", ON)
    assert code == 0, output
    assert "no problems" in output
    code, output = invoke(shuhui, "check", "--date", "2014-01-01")
    assert code == 1
    assert "2014-01-01 不在这条规则的有效期内" in output


def test_run_counts_every_entity_and_agrees_with_plain_sql(shuhui: CliRunner, city: Path) -> None:
    code, output = invoke(shuhui, "run", "elderly-allowance", "--date", ON, "--json")
    assert code == 0, output
    result = json.loads(output)
    core = DataCore(city / "datacore", city / "truth")
    (residents,) = core.sql("SELECT count(*) AS n FROM residents").column("n").to_pylist()
    assert result["entities"] == residents
    assert set(result["counts"]) == {"eligible", "not_eligible", "undetermined"}
    # The same population counted independently: alive on the date, 80 or older.
    (expected,) = (
        core.sql(
            "SELECT count(*) AS n FROM residents r WHERE date_diff('year', birth_date, DATE "
            f"'{ON}') - CASE WHEN strftime(birth_date, '%m%d') > '1031' THEN 1 ELSE 0 END >= 80 "
            "AND NOT EXISTS (SELECT 1 FROM death_registrations d WHERE d.citizen_id = "
            f"r.citizen_id AND d.death_date <= DATE '{ON}')"
        )
        .column("n")
        .to_pylist()
    )
    assert result["counts"]["eligible"] == expected > 0
    assert result["versions"] == {"residents": 1, "death_registrations": 1}

    code, output = invoke(
        shuhui, "run", "hardship-disability-living-subsidy", "--date", ON, "--json"
    )
    hardship = json.loads(output)
    assert hardship["counts"]["eligible"] == 0
    assert hardship["counts"]["undetermined"] > 0
    assert hardship["missing"] == {"minimum_living_allowance": hardship["counts"]["undetermined"]}


def test_explain_one_entity(shuhui: CliRunner, city: Path) -> None:
    core = DataCore(city / "datacore", city / "truth")
    (person,) = (
        core.sql("SELECT citizen_id FROM disabled_persons ORDER BY citizen_id LIMIT 1")
        .column("citizen_id")
        .to_pylist()
    )
    code, output = invoke(
        shuhui, "explain", "hardship-disability-living-subsidy", person, "--date", ON, "--json"
    )
    assert code == 0, output
    found = json.loads(output)
    assert found["outcome"] == "undetermined"
    assert found["missing"] == ["minimum_living_allowance"]
    certified = next(i for i in found["inputs"] if i["name"] == "certified")
    assert certified["value"] is True
    assert certified["table"] == "disabled_persons" and certified["version"] == 1
    assert certified["rows"] == [{"citizen_id": person}]
    code, text = invoke(
        shuhui, "explain", "hardship-disability-living-subsidy", person, "--date", ON
    )
    assert "结论: 待定" in text and "属于最低生活保障家庭" in text
    code, output = invoke(shuhui, "explain", "elderly-allowance", "nobody", "--date", ON)
    assert code == 1
    assert "没有找到这个自然人" in output
    code, output = invoke(shuhui, "run", "no-such-rule", "--date", ON)
    assert code == 1
    assert "没有名为 no-such-rule 的规则。" in output and "您是不是要找" not in output
    code, output = invoke(shuhui, "explain", "elderly-alowance", person, "--date", ON)
    assert code == 1
    assert "没有名为 elderly-alowance 的规则。您是不是要找：elderly-allowance？" in output
    code, output = invoke(shuhui, "run", "[/red]", "--date", ON)
    assert code == 1 and "没有名为 [/red] 的规则" in output


def test_rule_tests_run_from_the_cli(shuhui: CliRunner, tmp_path: Path) -> None:
    code, output = invoke(shuhui, "test")
    assert code == 0, output
    assert " 0 failed" in output
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "kind: rule-tests\nrule: elderly-allowance\ndate: 2026-10-31\ncases:\n"
        "  - name: wrong\n    tables:\n      residents:\n"
        "        - {citizen_id: P1, birth_date: 1941-05-01, hukou_type: 城镇}\n"
        "    expect:\n      P1: {outcome: not_eligible}\n",
        encoding="utf-8",
    )
    code, output = invoke(shuhui, "test", str(broken))
    assert code == 1
    assert "P1: outcome eligible, expected not_eligible" in output
    assert date.fromisoformat(ON)  # the dates above are real dates


def test_run_stores_every_result_as_parquet(shuhui: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "elderly.parquet"
    code, output = invoke(
        shuhui, "run", "elderly-allowance", "--date", ON, "--store", str(path), "--json"
    )
    assert code == 0, output
    stored = json.loads(output)
    code, output = invoke(shuhui, "run", "elderly-allowance", "--date", ON, "--json")
    summary = json.loads(output)
    assert stored["counts"] == summary["counts"]
    assert stored["rows"] == summary["entities"] and stored["path"] == str(path)
    ((n,),) = duckdb.sql("SELECT count(*) FROM read_parquet(?)", params=[str(path)]).fetchall()
    assert n == stored["rows"]
    code, output = invoke(shuhui, "run", "elderly-allowance", "--date", ON, "--store", str(path))
    assert code == 0, output
    assert "written" in output
