"""The Redis queue (``SHUHUI_REDIS_URL``, the production shape) on the machine's Redis at
127.0.0.1:6379: a job's message is JSON carrying only its id, a consumer runs the job to done,
and when Redis loses its messages (it keeps nothing on disk here: a restart) the recovery hands
the queued jobs over again from their rows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from fastapi import FastAPI

from shuhui.jobs.queue import Jobs
from tests.jobs.conftest import Steps, queue, row, start

URL = "redis://127.0.0.1:6379/0"


def reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not reachable(), reason="no Redis at 127.0.0.1:6379")


@pytest.fixture
def on_redis(app: FastAPI, steps: Steps) -> Iterator[Jobs]:
    settings = app.state.settings.model_copy(update={"redis_url": URL})
    made = queue(settings, app.state.session_factory, steps.kind(), stale_after=0.5)
    app.state.jobs = made
    yield made
    made.huey.flush()  # this test's queue only (named by its database)


def test_a_job_goes_through_redis_to_done_and_a_lost_message_is_handed_over_again(
    app: FastAPI, on_redis: Jobs
) -> None:
    jobs = on_redis
    assert jobs.backend == "redis"
    first = start(app, jobs, steps=2)
    client = redis.Redis.from_url(URL)
    (message,) = client.lrange(jobs.huey.storage.queue_key, 0, -1)
    body = json.loads(message)
    assert body["args"] == [first] and body["kwargs"] == {}  # the job's id, nothing else

    serving = jobs.serve(threads=1)
    try:
        deadline = time.monotonic() + 15
        while row(app, first).state != "done":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        serving.stop(wait=True)
    assert row(app, first).result == {"steps": 2}

    # Redis restarts and forgets its messages: the rows still say queued, the recovery (every
    # consumer runs it) hands them over again.
    second = start(app, jobs, steps=1)
    jobs.huey.flush()
    assert jobs.run_pending() == 0
    time.sleep(0.6)  # older than stale_after
    serving = jobs.serve(threads=1)
    try:
        deadline = time.monotonic() + 15
        while row(app, second).state != "done":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        serving.stop(wait=True)
    assert row(app, second).attempts == 1
