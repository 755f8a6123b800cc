"""The jobs domain's own background work: taking back what a dead worker held.

Every consumer (the served app's threads, ``shuhui jobs worker``) runs :class:`Recovery`: once
as it starts and then every few seconds. A running job whose worker is gone — a process of this
machine found ended, or any worker whose heartbeat is older than ``stale_after`` — is queued
again while it has attempts left (``jobs.resumed``), else failed saying it was interrupted so
many times (``jobs.failed``); its work had not committed (the job would be done), so nothing of
it is there to undo. Queued jobs the queue seems to have lost are handed over again. Each job
is taken back in a transaction of its own, fenced by its attempt and its last heartbeat: a
worker that beats meanwhile keeps its job, and two recoveries never take one job twice.
``shuhui jobs recover`` runs it once.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.core.processes import alive
from shuhui.jobs import service
from shuhui.jobs.kinds import Superseded
from shuhui.jobs.models import Job

if TYPE_CHECKING:
    from shuhui.jobs.queue import Jobs

log = logging.getLogger(__name__)


@dataclass
class Recovered:
    queued: list[int] = field(default_factory=list)  # taken back, to run again
    failed: list[int] = field(default_factory=list)  # taken back, their attempts used
    handed: list[int] = field(default_factory=list)  # queued ones handed to the queue again


def recover(jobs: Jobs, now: datetime | None = None) -> Recovered:
    now = now or utcnow()
    found = Recovered()
    with jobs.factory() as db:
        gone = service.interrupted(
            db, now, jobs.stale_after, host=socket.gethostname(), alive=alive
        )
        db.expunge_all()
    for seen in gone:
        try:
            with transaction(jobs.factory) as db:
                job = db.get(Job, seen.id)
                if job is None or (job.attempts, job.heartbeat_at) != (
                    seen.attempts,
                    seen.heartbeat_at,
                ):
                    continue  # it moved on since it was seen: its worker is alive after all
                taken = service.take_back(db, job, now)
        except Superseded:
            continue
        if taken == "queued":
            found.queued.append(seen.id)
            jobs.enqueue(seen.id)
        else:
            found.failed.append(seen.id)
    with transaction(jobs.factory) as db:
        found.handed = list(service.unclaimed(db, now, jobs.stale_after))
    for job_id in found.handed:
        jobs.enqueue(job_id)
    if found.queued or found.failed:
        log.warning(
            "interrupted jobs taken back: queued again %s, failed %s", found.queued, found.failed
        )
    return found


class Recovery:
    """:func:`recover` now and then, in a thread, for as long as a consumer runs."""

    def __init__(self, jobs: Jobs, every: float | None = None) -> None:
        self.jobs = jobs
        self.every = every if every is not None else max(1.0, min(jobs.stale_after / 4, 30.0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jobs-recovery", daemon=True)

    def run_once(self) -> Recovered | None:
        try:
            return recover(self.jobs)
        except Exception:  # the database or the queue is down: the next round tries again
            log.warning("job recovery skipped", exc_info=True)
            return None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.run_once()
