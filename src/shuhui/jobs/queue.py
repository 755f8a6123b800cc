"""The queue the jobs go through: huey, on Redis when ``SHUHUI_REDIS_URL`` is set, else on a
SQLite file in the data directory, carrying nothing but job ids.

One :class:`Jobs` per platform (settings) and process: the kinds this process can run, the
huey instance with the one task it runs (:func:`shuhui.jobs.runner.execute` for a job id), and
how a job reaches the queue — after the transaction that made it has committed, so a worker
never looks for a row not yet there. ``serve`` runs a consumer in threads of this process (the
served app, for the one-box default); ``work`` runs one as the whole process (``shuhui jobs
worker``, beside Redis in production). Either takes back, when it starts and every few seconds
after, the jobs a dead worker held (:mod:`shuhui.jobs.tasks`).

The queue is a delivery, not a record: a message lost (Redis restarted without persistence, a
hand-over that failed) is handed over again from the row; a message delivered twice finds the
job taken. Messages are JSON, not huey's pickle, so whoever can write to the queue cannot make
a worker run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from huey.registry import Message
from huey.serializer import Serializer
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.settings import Settings
from shuhui.jobs.kinds import JobKind, Kinds

log = logging.getLogger(__name__)

QUEUE_FILE: Final = Path("jobs") / "queue.db"
# A heartbeat older than this means the worker holding the job is gone (a worker on this
# machine found ended is taken back at once). Long, because on SQLite a job writing its results
# holds the database's one write lock, and its heartbeat waits until it commits.
STALE_AFTER: Final = 120.0
BEAT_EVERY: Final = 1.0
RETRY_DELAY: Final = 5.0  # seconds before an attempt that met an unexpected error is retried
THREADS: Final = 2
# A SQLite queue is polled: at most this long between looks when idle.
POLL_MAX: Final = 1.0

_PENDING: Final = "shuhui.jobs.pending"
_LISTENING: Final = "shuhui.jobs.listening"


def queue_name(settings: Settings) -> str:
    """One queue per platform: named by its database, which every node shares."""
    digest = hashlib.sha256(settings.sqlalchemy_url.encode()).hexdigest()[:12]
    return f"shuhui-{digest}"


class JsonSerializer(Serializer):  # type: ignore[misc]
    """huey's messages as JSON: a plain task (no pipelines, chords or expiry) with its eta."""

    def _serialize(self, data: Message) -> bytes:
        message = data._asdict()
        for unused in ("on_complete", "on_error", "chord_config", "expires", "expires_resolved"):
            if message.get(unused) is not None:
                raise ValueError(f"a job message carries no {unused}")
        eta = message.get("eta")
        message["eta"] = eta.isoformat() if isinstance(eta, datetime) else None
        return json.dumps(message, separators=(",", ":")).encode()

    def _deserialize(self, data: bytes) -> Message:
        message: dict[str, Any] = json.loads(data)
        if message.get("eta"):
            message["eta"] = datetime.fromisoformat(message["eta"])
        message["args"] = tuple(message.get("args") or ())
        message["kwargs"] = dict(message.get("kwargs") or {})
        return Message(**{k: v for k, v in message.items() if k in Message._fields})


def make_huey(settings: Settings) -> Huey:
    common: dict[str, Any] = {"results": False, "serializer": JsonSerializer(), "utc": True}
    if settings.redis_url:
        return RedisHuey(queue_name(settings), url=settings.redis_url, **common)
    path = settings.ensure_data_dir() / QUEUE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(queue_name(settings), filename=str(path), **common)


class _OwnSignals(Consumer):  # type: ignore[misc]
    """huey's consumer inside a process that keeps its signals (the web server's)."""

    def _set_signal_handlers(self) -> None:
        return None


class Jobs:
    """The background jobs of one platform in this process."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        kinds: Iterable[JobKind[Any]],
        *,
        huey: Huey | None = None,
        stale_after: float = STALE_AFTER,
        beat_every: float = BEAT_EVERY,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self._kinds = Kinds.of(kinds)
        self.stale_after = stale_after
        self.beat_every = beat_every
        self.retry_delay = retry_delay
        self._lock = threading.Lock()
        self._huey = huey
        self._task: Any = None

    @property
    def kinds(self) -> Kinds:
        return self._kinds

    @property
    def huey(self) -> Huey:
        """The queue, opened when first used (an app that starts no job makes no queue file)."""
        with self._lock:
            if self._huey is None:
                self._huey = make_huey(self.settings)
            if self._task is None:
                # The one task: run the job of this id. Registered on this instance (huey keeps
                # a registry per instance), under a name every process gives it alike.
                self._task = self._huey.task(name="run_job")(self._run)
            return self._huey

    @property
    def task(self) -> Any:
        """huey's wrapper of the one task (calling it enqueues a job id)."""
        _ = self.huey  # opens the queue and registers the task, once
        return self._task

    @property
    def backend(self) -> str:
        return "redis" if self.settings.redis_url else "sqlite"

    def _run(self, job_id: int) -> None:
        from shuhui.jobs.runner import execute

        execute(self, int(job_id))

    # --- handing jobs to the queue ----------------------------------------------------------

    def enqueue(self, job_id: int) -> None:
        self.task(job_id)

    def enqueue_later(self, job_id: int, delay: float) -> None:
        if delay <= 0:
            self.enqueue(job_id)
        else:
            self.task.schedule((job_id,), delay=delay)

    def enqueue_after_commit(self, db: Session, job_id: int) -> None:
        """Hands ``job_id`` to the queue once ``db``'s transaction commits (never if it rolls
        back): a worker must find the row when the message arrives."""
        db.info.setdefault(_PENDING, []).append(job_id)
        if db.info.get(_LISTENING):
            return
        db.info[_LISTENING] = True
        event.listen(db, "after_commit", self._hand_over)
        event.listen(db, "after_soft_rollback", _forget)

    def _hand_over(self, db: Session) -> None:
        if db.get_nested_transaction() is not None:
            return  # a savepoint released: the transaction goes on
        for job_id in db.info.pop(_PENDING, []):
            try:
                self.enqueue(job_id)
            except Exception:  # the row stays queued: the next recovery hands it over
                log.warning("job %s not handed to the queue yet", job_id, exc_info=True)

    def run_pending(self) -> int:
        """Runs what the queue holds now, in this thread, until it is empty; how many messages
        were run (tests, and a command that drains the queue once)."""
        n = 0
        while (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            n += 1
        return n

    # --- consuming ----------------------------------------------------------------------------

    def _consumer(self, threads: int, *, own_signals: bool) -> Consumer:
        kind = _OwnSignals if own_signals else Consumer
        huey = self.huey
        return kind(
            huey,
            workers=threads,
            worker_type="thread",
            periodic=False,
            initial_delay=0.1,
            backoff=1.5,
            max_delay=POLL_MAX,
        )

    def serve(self, threads: int | None = None) -> Serving:
        """A consumer in threads of this process (daemons: a process that ends takes its jobs
        down with it, and the next start takes them back), and the recovery beside it. On
        SQLite one job at a time: two would queue for its one write lock, the second past
        its busy timeout."""
        from shuhui.jobs.tasks import Recovery

        if threads is None:
            threads = 1 if self.settings.sqlalchemy_url.startswith("sqlite") else THREADS
        recovery = Recovery(self)
        recovery.run_once()
        consumer = self._consumer(threads, own_signals=True)
        consumer.start()
        recovery.start()
        return Serving(consumer, recovery)

    def work(self, threads: int = THREADS) -> None:
        """This process as a worker until SIGINT (finishes the jobs it runs, then stops) or
        SIGTERM (stops now: what it ran is taken back and run again)."""
        from shuhui.jobs.tasks import Recovery

        recovery = Recovery(self)
        recovery.run_once()
        recovery.start()
        try:
            self._consumer(threads, own_signals=False).run()
        finally:
            recovery.stop()


class Serving:
    """A consumer running in this process, and its recovery: ``stop`` ends both."""

    def __init__(self, consumer: Consumer, recovery: Any) -> None:
        self.consumer = consumer
        self.recovery = recovery
        self._stopped = threading.Event()

    def stop(self, *, wait: bool = False) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.recovery.stop()
        self.consumer.stop(graceful=wait)


def _forget(db: Session, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction rolled back: its jobs never were
        db.info.pop(_PENDING, None)
