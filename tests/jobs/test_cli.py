"""``shuhui jobs …`` as an operator runs it: the list as JSON, a job shown in Chinese, followed
live to its end (exit 1 when it failed), and the recovery run once."""

from __future__ import annotations

import json
import os
import subprocess
import threading

from fastapi import FastAPI

from shuhui.jobs.queue import Jobs
from tests.jobs.conftest import Steps, start
from tests.test_cli import SHUHUI, run


def env_of(app: FastAPI) -> dict[str, str]:
    settings = app.state.settings
    return {
        "SHUHUI_DATA_DIR": str(settings.data_dir),
        "SHUHUI_DATABASE_URL": settings.sqlalchemy_url,
        "COLUMNS": "200",
    }


def test_the_jobs_from_the_command_line(app: FastAPI, jobs: Jobs, steps: Steps) -> None:
    env = env_of(app)
    failed = start(app, jobs, fail="refusal")
    jobs.run_pending()
    steps.gate = threading.Event()
    running = start(app, jobs, steps=2)

    listed = run("jobs", "ls", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["id"], r["state"]) for r in rows] == [(running, "queued"), (failed, "failed")]

    shown = run("jobs", "show", str(failed), "--follow", "--json", env=env)
    assert shown.returncode == 1  # followed to a failure
    assert json.loads(shown.stdout)["reason"]["zh"] == "测试要求拒绝"

    serving = jobs.serve(threads=1)
    try:
        assert steps.reached.wait(15)
        follow = subprocess.Popen(
            [*SHUHUI, "jobs", "show", str(running), "--follow"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Timer(1.5, steps.gate.set).start()
        out, err = follow.communicate(timeout=60)
    finally:
        steps.gate.set()
        serving.stop(wait=True)
    assert follow.returncode == 0, err
    assert "状态：已完成" in out and "结果：完成 2 步" in out

    recovered = run("jobs", "recover", env=env)
    assert recovered.returncode == 0 and "重新排队 0 个，判定失败 0 个" in recovered.stdout
