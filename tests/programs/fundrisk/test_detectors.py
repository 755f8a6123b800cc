"""Each detector on the small city against the ground truth, and from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI

from shuhui.programs.evaluation import EVALUATORS, EvaluationContext, evaluate
from shuhui.programs.fundrisk.evaluation import TRUTH
from tests.fixtures import Templates, copy_city
from tests.programs.fundrisk.conftest import ON

# The figure is ≥ 0.95 for the first two; the small city has few of each anomaly, so
# one miss would show. Every detector is held to the same floor here.
FLOORS = dict.fromkeys(TRUTH, 0.95)


def test_the_evaluator_is_registered() -> None:
    assert "shuhui.programs.fundrisk.evaluation:evaluate" in EVALUATORS


def test_every_detector_finds_what_was_injected(city_app: FastAPI) -> None:
    scores = evaluate(EvaluationContext(city_app.state.datacore, ON))
    for detector, floor in FLOORS.items():
        result = scores[detector]
        assert result.true >= 1, detector  # the small city injects at least one of each
        assert result.precision >= floor, (detector, result)
        assert result.recall >= floor, (detector, result)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
        check=False,
    )


def test_detect_from_the_command_line_twice(
    tmp_path: Path, templates: Templates, database_url: str
) -> None:
    data = tmp_path / "data"
    copy_city(templates.city(), data)
    env = {"SHUHUI_DATA_DIR": str(data), "SHUHUI_DATABASE_URL": database_url}
    first = _run("programs", "detect", "--date", ON.isoformat(), "--json", env=env)
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    assert counts["repeated"] is False and counts["new"] >= len(TRUTH)
    second = _run("programs", "detect", "--date", ON.isoformat(), "--json", env=env)
    again = json.loads(second.stdout)
    assert again["repeated"] is True and again["new"] == 0
    assert {k: v["open"] for k, v in again["detectors"].items()} == {
        k: v["found"] for k, v in counts["detectors"].items()
    }
    future = _run("programs", "detect", "--date", "2099-01-01", "--json", env=env)
    assert future.returncode == 2
    assert json.loads(future.stdout)["errors"][0]["field"] == "date"
    scores = _run("programs", "evaluate", "--date", ON.isoformat(), "--json", env=env)
    assert scores.returncode == 0, scores.stderr
    assert set(json.loads(scores.stdout)) >= set(TRUTH)
