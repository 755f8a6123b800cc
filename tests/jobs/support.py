"""What tests of pages that start a background job share: the job a page's post started, run to
its end in the test's own thread, and where its result is."""

from __future__ import annotations

from fastapi import FastAPI
from httpx2 import Response

from shuhui.jobs import service
from shuhui.jobs.models import Job


def job_of(started: Response) -> int:
    """The job a page's post started: it answers with a redirect to the job's page."""
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith("/jobs/"), location
    return int(location.rsplit("/", 1)[-1])


def run_job(app: FastAPI, started: Response) -> Job:
    """Runs what the queue holds (the job the post started) here, and returns its row."""
    job_id = job_of(started)
    app.state.jobs.run_pending()
    with app.state.session_factory() as db:
        job = service.get(db, job_id)
        assert job is not None
        db.expunge(job)
    return job


def result_of(app: FastAPI, started: Response) -> str:
    """The page of the result of the job a post started, once it ran to done."""
    job = run_job(app, started)
    assert job.state == "done", (job.state, job.reason)
    assert job.link is not None
    return job.link
