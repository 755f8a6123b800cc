"""The certification cycle as background work, for a page that starts it (the command line runs
it in the foreground): one thread per run date, its own session and transaction, its progress
and result kept in memory for the page to poll.

A second start of a date while it runs returns the running job; a run that finished is started
again only to find the date done (``already_run``), as the service makes it. State lives in
this process: a served deployment with several workers shows a job on the worker that started
it, and the run itself is safe everywhere (one transaction, a unique run per date).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.core.settings import Settings
from shuhui.programs.certification import service
from shuhui.programs.certification.cycle import CycleResult
from shuhui.programs.certification.windows import check_date
from shuhui.programs.service import Library


@dataclass
class Job:
    """A cycle running (or run) in the background: ``state`` running | done | failed."""

    run_on: date
    actor: str
    started_at: datetime
    state: str = "running"
    done: int = 0  # pensions walked so far
    total: int = 0
    result: CycleResult | None = None
    problem: Problem | None = None  # a refusal (422, 403…): the page shows it
    error: str | None = None  # anything else: the log has the traceback
    thread: threading.Thread | None = field(default=None, repr=False)

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


_jobs: dict[date, Job] = {}
_lock = threading.Lock()


def job(run_on: date) -> Job | None:
    with _lock:
        return _jobs.get(run_on)


def start(
    factory: sessionmaker[Session],
    library: Library,
    settings: Settings,
    run_on: date,
    *,
    actor: str,
    department: str | None = None,
) -> Job:
    """Starts the cycle of ``run_on`` in a thread (or returns the one running for that date).
    The date is checked first, in the caller's thread, so a future date is a 422 at once."""
    now = utcnow()
    check_date(run_on, now)
    with _lock:
        running = _jobs.get(run_on)
        if running is not None and running.state == "running":
            return running
        current = Job(run_on, actor, now)
        _jobs[run_on] = current

    def progress(done: int, total: int) -> None:
        current.done, current.total = done, total

    def work() -> None:
        try:
            with transaction(factory) as db:
                current.result = service.run(
                    db,
                    library,
                    settings,
                    run_on,
                    actor=actor,
                    department=department,
                    progress=progress,
                )
            current.state = "done"
        except Problem as refused:
            current.problem, current.state = refused, "failed"
        except Exception as exc:  # the thread's end: recorded for the page, logged
            import logging

            logging.getLogger(__name__).exception("certification cycle %s failed", run_on)
            current.error, current.state = type(exc).__name__, "failed"

    current.thread = threading.Thread(target=work, name=f"certify-{run_on}", daemon=True)
    current.thread.start()
    return current
