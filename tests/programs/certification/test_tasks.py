"""The cycle started from a page runs as a background job (shuhui.jobs): a future date or another
department refused before anything is queued, the same date asked again while queued is the
same job, the run's result kept on the job, a second run of the date finds it done."""

from __future__ import annotations

from datetime import date

import pytest

from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.jobs import service as jobs
from shuhui.programs.certification.schemas import CycleIn
from shuhui.programs.certification.tasks import CYCLE
from shuhui.trust.identity import service as identity
from tests.programs.certification.conftest import FIRST, Cert


def start(cert: Cert, username: str, on: date) -> tuple[int, bool]:
    with transaction(cert.factory) as db:
        user = identity.get_user_by_username(db, username)
        assert user is not None
        job, new = jobs.start(db, cert.app.state.jobs, CYCLE, CycleIn(date=on), user)
        return job.id, new


def test_a_background_run(cert: Cert) -> None:
    with pytest.raises(Problem) as future:
        start(cert, "officer", date(2099, 1, 1))
    assert future.value.errors[0].field == "date"
    with pytest.raises(Problem) as other:
        start(cert, "civil", FIRST)  # 民政局 does not run the cycle
    assert other.value.slug == "forbidden"

    first, new = start(cert, "officer", FIRST)
    assert new and start(cert, "officer", FIRST) == (first, False)  # queued: the same job
    assert cert.app.state.jobs.run_pending() == 1
    with cert.factory() as db:
        job = jobs.get(db, first)
        assert job is not None and job.state == "done", job.reason
        assert job.result is not None and not job.result["already_run"]
        assert int(job.result["recipients"]) > 300
        assert job.link == f"/hrss/certification?ran={FIRST.isoformat()}#runs"

    again, new = start(cert, "officer", FIRST)  # the first ended: a new job, which finds it run
    assert new and again != first
    cert.app.state.jobs.run_pending()
    with cert.factory() as db:
        job = jobs.get(db, again)
        assert job is not None and job.state == "done" and job.result is not None
        assert job.result["already_run"] and job.link is not None and "again=1" in job.link
