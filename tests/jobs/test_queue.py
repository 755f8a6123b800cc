"""The queue runs a job to its end: progress seen live through the API and the page while it
runs, done with its result; a job whose work raises is failed with its reason and nothing it
wrote remains; an error is retried while attempts remain; a refusal fails at once; the same work
asked twice while queued is one job; who may see a job. On SQLite and PostgreSQL: the moves of
a job's row are where the two databases differ."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from shuhui.core.errors import Problem
from shuhui.jobs.queue import Jobs
from tests.fixtures import as_user
from tests.jobs.conftest import STEPS, WROTE, Steps, entries, row, start

pytestmark = pytest.mark.both_backends


def wait_for(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def test_a_job_runs_to_done_with_its_progress_live(app: FastAPI, jobs: Jobs, steps: Steps) -> None:
    steps.gate = threading.Event()
    job_id = start(app, jobs, steps=4)
    officer = as_user(app, "officer")
    queued = officer.get(f"/api/v1/jobs/{job_id}").json()
    assert queued["state"] == "queued" and queued["progress"]["percent"] is None
    assert queued["progress"]["label"]["zh"] == "等待运行"

    serving = jobs.serve(threads=1)
    try:
        assert steps.reached.wait(15)
        # The work paused after its first step: the heartbeat has written it by now.
        wait_for(lambda: officer.get(f"/api/v1/jobs/{job_id}").json()["progress"]["done"] == 1)
        running = officer.get(f"/api/v1/jobs/{job_id}").json()
        assert running["state"] == "running" and running["attempts"] == 1
        assert running["progress"] == {
            "done": 1,
            "total": 4,
            "percent": 25,
            "label": {"zh": "第 1 步", "en": "step 1"},
        }
        page = officer.get(f"/jobs/{job_id}")
        assert page.status_code == 200
        bar = re.search(r'<div class="job-bar"[^>]*role="progressbar"[^>]*>', page.text, re.S)
        assert bar is not None and 'aria-valuenow="25"' in bar.group(0)
        assert "运行中" in page.text and "第 1 步：1 / 4" in page.text
        assert entries(app, WROTE) == 0  # nothing of its work is visible before it commits
        assert 'data-todo="jobs.active"' in officer.get("/").text  # on the workbench too

        steps.gate.set()
        wait_for(lambda: row(app, job_id).state == "done")
    finally:
        steps.gate.set()
        serving.stop(wait=True)
    done = officer.get(f"/api/v1/jobs/{job_id}").json()
    assert done["progress"]["percent"] == 100 and done["result"] == {"steps": 4}
    assert done["result_text"]["zh"] == "完成 4 步" and done["link"] == "/jobs"
    assert done["finished_at"] is not None and done["reason"] is None
    assert entries(app, WROTE) == 4
    assert [entries(app, f"jobs.{a}") for a in ("queued", "started", "done")] == [1, 1, 1]
    listed = officer.get("/jobs").text
    assert f'<tr data-id="{job_id}" data-state="done">' in listed and "完成 4 步" in listed


def test_a_job_whose_work_raises_fails_with_its_reason_and_leaves_nothing(
    app: FastAPI, jobs: Jobs, steps: Steps
) -> None:
    steps.max_attempts = 1
    jobs = _with(app, jobs, steps)
    job_id = start(app, jobs, fail="error")
    assert jobs.run_pending() == 1
    failed = row(app, job_id)
    assert failed.state == "failed" and failed.attempts == 1 and failed.active_key is None
    assert failed.reason == "运行出现意外错误，已尝试 1 次；详情见服务日志"
    assert failed.reason_en is not None and "RuntimeError" in failed.reason_en
    assert entries(app, WROTE) == 0  # its three entries were rolled back with it
    assert entries(app, "jobs.failed") == 1 and entries(app, "jobs.done") == 0
    page = as_user(app, "officer").get(f"/jobs/{job_id}").text
    assert 'id="job-reason"' in page and "意外错误" in page and "没有留下半截结果" in page


def test_a_refusal_fails_at_once_and_an_error_is_retried(app: FastAPI, jobs: Jobs) -> None:
    refused = start(app, jobs, fail="refusal")
    jobs.run_pending()
    job = row(app, refused)
    assert (job.state, job.attempts, job.reason) == ("failed", 1, "测试要求拒绝")
    assert job.reason_en == "refused as asked"

    retried = start(app, jobs, fail="first")
    jobs.run_pending()  # the first attempt fails and queues it again; the second is done
    job = row(app, retried)
    assert (job.state, job.attempts) == ("done", 2)
    assert entries(app, WROTE) == 3  # the second attempt's only
    assert entries(app, "jobs.resumed") == 1


def test_the_same_work_asked_twice_is_one_job_and_bad_params_are_refused(
    app: FastAPI, jobs: Jobs
) -> None:
    first = start(app, jobs, key="k1")
    assert start(app, jobs, key="k1") == first
    assert start(app, jobs, key="k2") != first
    with pytest.raises(Problem) as bad:
        start(app, jobs, steps=0)
    assert bad.value.errors[0].field == "steps"
    assert jobs.run_pending() == 2
    assert row(app, first).active_key is None
    assert start(app, jobs, key="k1") != first  # ended: the key is free again


def test_who_sees_a_job(app: FastAPI, jobs: Jobs) -> None:
    job_id = start(app, jobs)
    for username, status in (
        ("officer", 200),  # who started it
        ("admin", 200),
        ("civil", 404),  # another department
        ("citizen", 404),
    ):
        assert as_user(app, username).get(f"/api/v1/jobs/{job_id}").status_code == status
    mine = as_user(app, "officer").get("/api/v1/jobs").json()
    assert mine["total"] == 1 and mine["items"][0]["kind"] == STEPS
    assert as_user(app, "civil").get("/api/v1/jobs").json()["total"] == 0
    assert as_user(app, "citizen").get(f"/jobs/{job_id}").status_code == 404


def _with(app: FastAPI, jobs: Jobs, steps: Steps) -> Jobs:
    from tests.jobs.conftest import queue

    made = queue(app.state.settings, app.state.session_factory, steps.kind())
    app.state.jobs = made
    return made
