"""A worker that dies mid-run, in-process: its job is taken back (at once when its process on
this machine has ended, else once its heartbeat is stale), queued again while it has attempts,
failed clearly after them; the attempt taken back can neither report progress nor finish; a
queued job the queue lost is handed over again and a second delivery finds it taken. The moves
are fenced in the database: on SQLite and PostgreSQL."""

from __future__ import annotations

import pickle
import socket
import subprocess
from datetime import timedelta

import pytest
from fastapi import FastAPI
from huey.registry import Message
from sqlalchemy import update

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.core.i18n import Text
from shuhui.jobs import service
from shuhui.jobs.kinds import Outcome, Superseded
from shuhui.jobs.models import Job
from shuhui.jobs.queue import Jobs, JsonSerializer
from shuhui.jobs.tasks import recover
from shuhui.trust.ledger import service as ledger
from tests.fixtures import as_user
from tests.jobs.conftest import WROTE, entries, row, start

pytestmark = pytest.mark.both_backends


def dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def claim(app: FastAPI, job_id: int, worker: str) -> Job:
    with transaction(app.state.session_factory) as db:
        job = service.claim(db, job_id, worker)
        assert job is not None
        db.expunge(job)
        return job


def test_a_silent_worker_loses_its_job_and_its_attempt_can_neither_report_nor_finish(
    app: FastAPI, jobs: Jobs
) -> None:
    job_id = start(app, jobs)
    jobs.huey.flush()  # the message: this test's "worker" took the job by hand
    held = claim(app, job_id, "elsewhere:4242")  # a worker on another machine
    assert recover(jobs).queued == []  # its heartbeat is fresh: it keeps the job
    with transaction(app.state.session_factory) as db:
        stale = utcnow() - timedelta(seconds=jobs.stale_after + 1)
        db.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=stale))

    assert recover(jobs).queued == [job_id]
    back = row(app, job_id)
    assert (back.state, back.attempts) == ("queued", 1)
    assert back.reason == "工作进程在运行中中断（第 1 次尝试），已重新排队"

    # The silent worker wakes: its heartbeat and its finish are refused, its work rolled back.
    with pytest.raises(Superseded), transaction(app.state.session_factory) as db:
        service.beat(db, job_id, held.attempts, None)
    with pytest.raises(Superseded), transaction(app.state.session_factory) as db:
        ledger.record(db, held.actor, WROTE, detail={"job": job_id})
        service.finish(db, held, held.attempts, Outcome({}, Text("完成", "done")))
    assert entries(app, WROTE) == 0

    assert jobs.run_pending() == 1  # the recovery handed it to the queue again
    done = row(app, job_id)
    assert (done.state, done.attempts) == ("done", 2) and entries(app, WROTE) == 3


def test_a_job_whose_worker_dies_each_time_fails_clearly_after_its_attempts(
    app: FastAPI, jobs: Jobs
) -> None:
    job_id = start(app, jobs)
    jobs.huey.flush()
    here = socket.gethostname()
    for attempt in (1, 2, 3):
        # A worker of this machine takes it and dies: taken back at once, not after minutes.
        held = claim(app, job_id, f"{here}:{dead_pid()}")
        assert held.attempts == attempt
        found = recover(jobs)
        if attempt < 3:
            assert found.queued == [job_id] and row(app, job_id).state == "queued"
            jobs.huey.flush()
    assert found.failed == [job_id]
    failed = row(app, job_id)
    assert failed.state == "failed" and failed.active_key is None
    assert failed.reason == "工作进程在运行中中断，已尝试 3 次，不再重试"
    assert entries(app, "jobs.resumed") == 2 and entries(app, "jobs.failed") == 1
    assert entries(app, WROTE) == 0
    page = as_user(app, "officer").get(f"/jobs/{job_id}").text
    assert "工作进程在运行中中断，已尝试 3 次" in page and 'data-state="failed"' in page
    assert 'data-todo="jobs.failed"' in as_user(app, "officer").get("/").text  # the workbench


def test_a_living_worker_keeps_its_job_and_a_lost_message_is_handed_over_again(
    app: FastAPI, jobs: Jobs
) -> None:
    mine = start(app, jobs)
    lost = start(app, jobs)
    jobs.huey.flush()  # the queue lost both messages
    claim(app, mine, service.worker_name())  # this process: alive
    assert recover(jobs).handed == []  # the lost one was handed over only now: not yet due
    with transaction(app.state.session_factory) as db:
        old = utcnow() - timedelta(seconds=jobs.stale_after + 1)
        db.execute(update(Job).where(Job.id == lost).values(enqueued_at=old))
    found = recover(jobs)
    assert found.queued == [] and found.failed == [] and found.handed == [lost]
    jobs.enqueue(lost)  # delivered twice: the second finds it taken
    assert jobs.run_pending() == 2
    assert row(app, lost).state == "done" and row(app, lost).attempts == 1
    assert row(app, mine).state == "running"


def test_messages_are_json_and_a_pickle_is_refused() -> None:
    serializer = JsonSerializer()
    message = Message("id-1", "shuhui.jobs.queue.run_job", None, 0, 0, None, (7,), {})
    data = serializer.serialize(message)
    assert data.startswith(b"{") and serializer.deserialize(data) == message
    with pytest.raises(ValueError):
        serializer.deserialize(pickle.dumps(message))
