"""The cycle started from a page runs in a thread: a future date refused at once, the run's
result kept for the page, a second start of the date finds it done."""

from __future__ import annotations

from datetime import date

import pytest

from shuhui.core.errors import Problem
from shuhui.programs.certification import tasks
from tests.programs.certification.conftest import FIRST, Cert


def test_a_background_run(cert: Cert) -> None:
    with pytest.raises(Problem):
        tasks.start(cert.factory, cert.library, cert.settings, date(2099, 1, 1), actor="officer")
    job = tasks.start(cert.factory, cert.library, cert.settings, FIRST, actor="officer")
    job.wait(120)
    assert job.state == "done" and job.result is not None and not job.result.already_run
    assert tasks.job(FIRST) is job and job.result.counts["recipients"] > 300
    again = tasks.start(cert.factory, cert.library, cert.settings, FIRST, actor="officer")
    again.wait(60)
    assert again.result is not None and again.result.already_run
