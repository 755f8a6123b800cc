"""``shuhui programs certify --date D [--json]`` as a person runs it: counts per outcome as JSON,
a repeated date says nothing changed, a future or malformed date exits 2 in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures import Templates, copy_city
from tests.test_cli import run


def test_certify_from_the_command_line(
    tmp_path: Path, templates: Templates, database_url: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    copy_city(templates.city(), data)
    env = {"SHUHUI_DATA_DIR": str(data), "SHUHUI_DATABASE_URL": database_url}
    first = run("programs", "certify", "--date", "2026-10-31", "--json", env=env)
    assert first.returncode == 0, first.stderr
    body = json.loads(first.stdout)
    counts = body["counts"]
    assert body["already_run"] is False and counts["recipients"] > 300
    assert counts["certified"] + counts["undetermined"] + counts["deceased"] == counts["recipients"]
    again = run("programs", "certify", "--date", "2026-10-31", env=env)
    assert again.returncode == 0
    assert "已经开展过，本次未做任何改动" in again.stdout
    assert f"{counts['certified']:,}" in again.stdout
    future = run("programs", "certify", "--date", "2099-01-01", env=env)
    assert future.returncode == 2 and "晚于今天" in future.stderr
    malformed = run("programs", "certify", "--date", "2026-13-01", env=env)
    assert malformed.returncode == 2 and "YYYY-MM-DD" in malformed.stderr
