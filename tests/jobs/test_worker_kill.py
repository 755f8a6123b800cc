"""A real ``shuhui jobs worker`` process killed mid-run (SIGKILL at the crash point
``jobs.before_commit``: the work and the job's mark written, not committed) leaves nothing
half-applied; the next worker takes the job back at once (the dead process was of this machine)
and runs it to done, and a job that has used its attempts is failed saying why. Two policy
campaigns over the test city, on the SQLite queue in the data directory, three workers:

1. crashes in campaign A (attempt 1);
2. queues A again, then crashes in campaign B (allowed one attempt);
3. fails B ("interrupted, tried once") and runs A to done: one campaign, not two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select, update

from shuhui.core.db import transaction
from shuhui.jobs import service
from shuhui.jobs.models import Job
from shuhui.programs.models import Campaign, Candidate
from shuhui.programs.schemas import CampaignIn
from shuhui.programs.tasks import CAMPAIGN
from tests.jobs.conftest import entries, row, user

ELDERLY = "elderly-allowance"  # 民政局's: civil
HARDSHIP = "hardship-disability-living-subsidy"  # 残联's: disability


def worker(app: FastAPI, *, crash: bool) -> subprocess.Popen[str]:
    settings = app.state.settings
    env = {
        **os.environ,
        "SHUHUI_DATA_DIR": str(settings.data_dir),
        "SHUHUI_DATABASE_URL": settings.sqlalchemy_url,
        "SHUHUI_SECRET_KEY": "test-secret",
        "SHUHUI_LOG_JSON": "false",
        "SHUHUI_LOG_LEVEL": "WARNING",
    }
    env.pop("SHUHUI_REDIS_URL", None)
    env.pop("SHUHUI_CRASH_AT", None)
    if crash:
        env["SHUHUI_CRASH_AT"] = "jobs.before_commit"
    return subprocess.Popen(
        [sys.executable, "-m", "shuhui.cli", "jobs", "worker", "--threads", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def killed(process: subprocess.Popen[str]) -> None:
    """The worker died at the crash point (SIGKILL), and was reaped: its process is gone."""
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, process.stdout.read() if process.stdout else ""


def start(app: FastAPI, username: str, rule: str) -> int:
    who = user(app, username)
    with transaction(app.state.session_factory) as db:
        db.add(who)
        job, _ = service.start(db, app.state.jobs, CAMPAIGN, CampaignIn(rule=rule), who)
        return job.id


def campaigns(app: FastAPI, rule: str) -> list[Any]:
    with app.state.session_factory() as db:
        return list(db.scalars(select(Campaign.code).where(Campaign.rule == rule)))


def test_a_killed_worker_leaves_nothing_and_the_job_resumes_or_fails_clearly(
    city_app: FastAPI,
) -> None:
    app = city_app
    a = start(app, "civil", ELDERLY)
    b = start(app, "disability", HARDSHIP)
    with transaction(app.state.session_factory) as db:
        db.execute(update(Job).where(Job.id == b).values(max_attempts=1))

    killed(worker(app, crash=True))
    held = row(app, a)
    assert (held.state, held.attempts) == ("running", 1)
    assert campaigns(app, ELDERLY) == [] and entries(app, "programs.campaign_run") == 0
    assert entries(app, "jobs.done") == 0 and row(app, b).state == "queued"

    killed(worker(app, crash=True))
    assert row(app, a).state == "queued" and row(app, a).reason is not None
    assert (row(app, b).state, row(app, b).attempts) == ("running", 1)
    assert campaigns(app, HARDSHIP) == [] and entries(app, "programs.campaign_run") == 0

    last = worker(app, crash=False)
    try:
        deadline = time.monotonic() + 60
        while not (row(app, a).ended and row(app, b).ended):
            assert last.poll() is None, last.stdout.read() if last.stdout else ""
            assert time.monotonic() < deadline, "the worker did not finish the jobs"
            time.sleep(0.2)
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(timeout=30)

    done, failed = row(app, a), row(app, b)
    assert (done.state, done.attempts) == ("done", 2), done.reason
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.reason == "工作进程在运行中中断，已尝试 1 次，不再重试"
    (code,) = campaigns(app, ELDERLY)  # one campaign: the killed attempt left none behind
    assert done.result is not None and done.result["campaign"] == code
    assert done.link == f"/hrss/campaigns/{code}"
    with app.state.session_factory() as db:
        found = db.scalar(
            select(func.count())
            .select_from(Candidate)
            .join(Campaign, Candidate.campaign_id == Campaign.id)
            .where(Campaign.code == code)
        )
    assert found == done.result["candidates"] > 0
    assert campaigns(app, HARDSHIP) == []
    assert entries(app, "programs.campaign_run") == 1
    counts = {a: entries(app, f"jobs.{a}") for a in ("queued", "started", "resumed", "done")}
    assert counts == {"queued": 2, "started": 3, "resumed": 1, "done": 1}
    assert entries(app, "jobs.failed") == 1
