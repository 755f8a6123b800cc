"""One attempt at one job, as a worker runs it.

1. **Claim** (a transaction of its own): queued → running, ``attempts`` + 1, ``jobs.started``.
   A job not queued (taken by another worker, ended, or a message delivered twice) is left be.
2. **Work** (one transaction): the kind's ``work`` writes through the session it is given, then
   :func:`.service.finish` marks the job done in that same transaction, so the results and the
   mark commit together or not at all. A heartbeat thread writes the attempt's liveness and
   progress every second in transactions of its own, fenced by the attempt: an attempt whose
   job was taken back learns it at its next progress report, and its finish finds the fence
   closed and rolls back everything.
3. **End**: a refusal (:class:`~shuhui.core.errors.Problem`: another department's policy, a date
   now in the future) fails the job with its reason at once; any other error is retried after
   ``retry_delay`` while attempts remain, then fails the job saying what happened. Either way the
   work's transaction was rolled back first: nothing it wrote remains.

A worker killed anywhere leaves the row running with its heartbeat stopping: the recovery
(:mod:`shuhui.jobs.tasks`) queues it again, or fails it once its attempts are used.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.crash import crashpoint
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.jobs import service
from shuhui.jobs.kinds import Run, Superseded
from shuhui.jobs.models import Job

if TYPE_CHECKING:
    from shuhui.jobs.queue import Jobs

log = logging.getLogger(__name__)

NOT_HERE: Final = Text(
    "当前工作进程不能运行这种任务（版本不一致？）",
    "this worker cannot run this kind of job (a different version?)",
)


class Heartbeat:
    """An attempt's liveness and progress, written every ``every`` seconds by a thread of its
    own: the work only sets what to write, so a progress report costs nothing, and a write that
    must wait (SQLite while the work holds the write lock) never holds the work up."""

    def __init__(
        self, factory: sessionmaker[Session], job_id: int, attempt: int, every: float
    ) -> None:
        self._factory = factory
        self._job_id = job_id
        self._attempt = attempt
        self._every = every
        self._lock = threading.Lock()
        self._shown: service.Shown | None = None
        self._dirty = False
        self._stop = threading.Event()
        self.superseded = False
        self.total = 0
        self._thread = threading.Thread(
            target=self._loop, name=f"job-{job_id}-heartbeat", daemon=True
        )

    def progress(self, done: int, total: int, label: Text) -> None:
        if self.superseded:
            raise Superseded(self._job_id)
        with self._lock:
            self._shown = service.Shown(done, total, label)
            self._dirty = True
            self.total = total

    def check(self) -> None:
        if self.superseded:
            raise Superseded(self._job_id)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.write()

    def write(self) -> None:
        with self._lock:
            shown = self._shown if self._dirty else None
            self._dirty = False
        try:
            with transaction(self._factory) as db:
                service.beat(db, self._job_id, self._attempt, shown)
        except Superseded:
            self.superseded = True
            self._stop.set()
        except SQLAlchemyError:  # locked or unreachable for now: the next beat says it
            log.debug("job %s heartbeat skipped", self._job_id, exc_info=True)
            with self._lock:
                self._dirty = self._dirty or shown is not None


def execute(jobs: Jobs, job_id: int) -> str | None:
    """Runs one attempt of job ``job_id``: "done", "failed", "queued" (to be retried), or None
    when this worker did not get the job."""
    worker = service.worker_name()
    try:
        with transaction(jobs.factory) as db:
            job = service.claim(db, job_id, worker)
            if job is not None:
                db.expunge(job)  # a snapshot of the claimed row, read after the commit
    except Superseded:
        return None
    if job is None:
        return None
    attempt = job.attempts
    kind = jobs.kinds.get(job.kind)
    if kind is None:
        return _end(jobs, job, attempt, NOT_HERE, retry=False)
    try:
        params = kind.params.model_validate(job.params)
    except ValidationError as exc:
        return _end(jobs, job, attempt, service.invalid_params(exc), retry=False)

    beat = Heartbeat(jobs.factory, job_id, attempt, jobs.beat_every)
    beat.start()
    try:
        try:
            with transaction(jobs.factory) as db:
                outcome = kind.work(
                    Run(job_id, attempt, db, params, job.actor, job.department, beat.progress)
                )
                beat.check()
                service.finish(db, job, attempt, outcome, total=beat.total)
                # The work and its mark written, not committed: a kill here must leave nothing.
                crashpoint("jobs.before_commit")
        finally:
            beat.stop()  # before the end is written, which the heartbeat must not race
    except Superseded:
        log.warning("job %s attempt %s was taken back; its work was rolled back", job_id, attempt)
        return None
    except Problem as refused:
        return _end(jobs, job, attempt, service.refusal_reason(refused), retry=False)
    except Exception as exc:
        log.exception("job %s (%s) attempt %s failed", job_id, job.kind, attempt)
        # The error's type is for the operator (English, in the log and the English reason);
        # the Chinese says what happened and where the details are.
        name = type(exc).__name__
        if attempt < job.max_attempts:
            reason = Text(
                f"第 {attempt} 次运行出现意外错误，稍后重试",
                f"attempt {attempt} met an unexpected error ({name}); retrying",
            )
            return _end(jobs, job, attempt, reason, retry=True)
        reason = Text(
            f"运行出现意外错误，已尝试 {attempt} 次；详情见服务日志",
            f"an unexpected error ({name}) in each of {attempt} attempts; see the server log",
        )
        return _end(jobs, job, attempt, reason, retry=False)
    crashpoint("jobs.after_commit")
    return "done"


def _end(jobs: Jobs, job: Job, attempt: int, reason: Text, *, retry: bool) -> str | None:
    """The attempt's end after its work was rolled back: failed, or queued to run again."""
    try:
        with transaction(jobs.factory) as db:
            if retry:
                service.retry_later(db, job.id, attempt, reason)
            else:
                service.fail(db, job.id, attempt, reason)
    except Superseded:
        return None
    if retry:
        jobs.enqueue_later(job.id, jobs.retry_delay)
        return "queued"
    return "failed"
