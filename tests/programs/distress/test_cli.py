"""``shuhui programs distress`` from the command line: a run, the same date again, a refusal."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures import Templates, copy_city
from tests.programs.fundrisk.test_detectors import _run

DAY = "2026-10-31"


def test_a_run_then_the_same_date_then_a_future_date(
    tmp_path: Path, templates: Templates, database_url: str
) -> None:
    data = tmp_path / "data"
    copy_city(templates.city(), data)
    env = {"SHUHUI_DATA_DIR": str(data), "SHUHUI_DATABASE_URL": database_url}
    first = _run("programs", "distress", "--date", DAY, "--json", env=env)
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert made["already_run"] is False and made["found"] >= 1
    assert made["evaluated_on"] == DAY
    second = _run("programs", "distress", "--date", DAY, "--json", env=env)
    again = json.loads(second.stdout)
    assert again["already_run"] is True and again["found"] == made["found"]
    said = _run("programs", "distress", "--date", DAY, env=env)
    assert said.returncode == 0 and "已识别过" in said.stdout
    future = _run("programs", "distress", "--date", "2099-01-01", "--json", env=env)
    assert future.returncode == 2
    assert json.loads(future.stdout)["errors"][0]["field"] == "evaluated_on"  # as in the API
    malformed = _run("programs", "distress", "--date", "31/10/2026", env=env)
    assert malformed.returncode == 2 and "YYYY-MM-DD" in malformed.stderr
