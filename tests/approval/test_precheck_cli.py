"""``shuhui approval precheck`` and ``shuhui approval samples`` as a person runs them: the JSON's
shape exactly, exit codes, the readable table, refusals, and the data core's check recorded."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuhui.approval import samples
from shuhui.cli import app
from shuhui.core.settings import get_settings
from tests.approval.precheck_docs import document, upload
from tests.fixtures import Templates, copy_city


@pytest.fixture
def card_file(tmp_path: Path) -> Path:
    path = tmp_path / "身份证.png"
    path.write_bytes(upload("id-card"))
    return path


@pytest.fixture
def shuhui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "zh-CN")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_json_is_material_fields_and_issues_exactly(card_file: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "shuhui.cli", "approval", "precheck", str(card_file)]
    done = subprocess.run(
        [*command, "--material", "id-card", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(tmp_path / "var")},
    )

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == {
        "material": "id-card",
        "fields": document("id-card").fields(),
        "issues": [],
    }
    assert list(printed["fields"]) == ["姓名", "性别", "民族", "出生", "住址", "公民身份号码"]


def test_issues_are_field_and_reason_and_the_exit_code_says_there_are_some(
    shuhui: CliRunner, card_file: Path
) -> None:
    done = shuhui.invoke(
        app,
        [
            "approval",
            "precheck",
            str(card_file),
            "-m",
            "id-card",
            "--json",
            "--form",
            "姓名=王建国",
        ],
    )

    assert done.exit_code == 1, done.output
    printed = json.loads(done.stdout)
    assert set(printed) == {"material", "fields", "issues"}
    name = document("id-card").fields()["姓名"]
    assert printed["issues"] == [
        {"field": "姓名", "reason": f"材料上的姓名“{name}”与表单填写的“王建国”不一致。"}
    ]


def test_without_json_a_readable_chinese_table(shuhui: CliRunner, card_file: Path) -> None:
    done = shuhui.invoke(
        app,
        ["approval", "precheck", str(card_file), "--material", "id-card", "--form", "姓名=王建国"],
    )

    assert done.exit_code == 1
    assert "居民身份证（id-card）" in done.stdout
    assert "字段" in done.stdout and "读到的值" in done.stdout
    assert document("id-card").fields()["公民身份号码"] in done.stdout
    assert "发现 1 个问题" in done.stdout


def test_a_file_that_is_not_an_image_is_refused_with_its_problem(
    shuhui: CliRunner, tmp_path: Path
) -> None:
    fake = tmp_path / "scan.png"
    fake.write_text("not really a picture", encoding="utf-8")

    done = shuhui.invoke(app, ["approval", "precheck", str(fake), "-m", "id-card", "--json"])
    plain = shuhui.invoke(app, ["approval", "precheck", str(fake), "-m", "id-card"])

    assert done.exit_code == 2
    problem = json.loads(done.stdout)
    assert problem["status"] == 415 and problem["errors"][0]["field"] == "file"
    assert plain.exit_code == 2
    assert "不是 PNG、JPEG 图片或 PDF 文件" in plain.stderr


def test_an_unknown_material_type_or_a_missing_file_is_refused(
    shuhui: CliRunner, card_file: Path, tmp_path: Path
) -> None:
    unknown = shuhui.invoke(app, ["approval", "precheck", str(card_file), "-m", "id-cards"])
    missing = shuhui.invoke(
        app, ["approval", "precheck", str(tmp_path / "none.png"), "-m", "id-card"]
    )

    assert unknown.exit_code == 2
    assert "没有名为 id-cards 的材料类型" in unknown.stderr and "id-card" in unknown.stderr
    assert missing.exit_code == 2
    assert "无法读取" in missing.stderr


def test_samples_writes_documents_people_can_try(shuhui: CliRunner, tmp_path: Path) -> None:
    done = shuhui.invoke(app, ["approval", "samples", str(tmp_path / "out"), "--seed", "7"])

    assert done.exit_code == 0, done.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert (
        "samples.json" in written and "id-card.png" in written and "business-licence.pdf" in written
    )
    assert len(done.stdout.splitlines()) == len(written) - 1


def test_a_check_against_the_data_core_is_recorded_in_the_ledger(
    shuhui: CliRunner, templates: Templates, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    copy_city(templates.city(), data_dir)
    from shuhui.datacore.store import DataCore

    row = (
        DataCore(data_dir / "datacore", data_dir / "truth")
        .sql("SELECT citizen_id, name, sex, birth_date FROM residents ORDER BY citizen_id LIMIT 1")
        .to_pylist()[0]
    )
    card = samples.IdCard(
        row["name"],
        row["sex"],
        "汉",
        row["birth_date"],
        "山东省青岛市市南区山东路1号",
        row["citizen_id"],
    )
    path = tmp_path / "member.png"
    path.write_bytes(samples.png(samples.render(card)))

    done = shuhui.invoke(
        app, ["approval", "precheck", str(path), "-m", "id-card", "--json", "--datacore"]
    )

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["issues"] == []
    with sqlite3.connect(data_dir / "shuhui.db") as db:
        entries = db.execute(
            "SELECT actor, subject FROM ledger_entries"
            " WHERE action = 'approval.material.prechecked'"
        ).fetchall()
    assert len(entries) == 1
    assert entries[0][1] == card.citizen_id and entries[0][0].startswith("cli:")
