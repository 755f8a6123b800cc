"""The gateway's writes: one writer at a time across the server's worker processes, and calls
recorded in groups.

SQLite lets one transaction write at a time; a writer that finds the database locked waits in
SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms) and wakes to try
again. Under load those sleeps, not the writes, made the channel's tail latency (p99 of 1-3 s
at 10-50 connections). Queued on a thread lock and an advisory file lock instead, a writer is
woken the moment the one before it commits. PostgreSQL queues writers on row locks itself, so
there only the thread lock applies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import transaction

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")


class WriteLock:
    def __init__(self, lock_file: Path | None) -> None:
        self._thread = threading.Lock()
        self._fd: int | None = None
        if lock_file is not None:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> WriteLock:
        self._thread.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread.release()
                raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


def for_database(url: str, data_dir: Path) -> WriteLock:
    """The lock the gateway's writes take: across processes for SQLite, in-process otherwise."""
    return WriteLock(data_dir / "channel-writes.lock" if url.startswith("sqlite") else None)


class GroupWriter(Generic[Item, Result]):
    """Records the write phases of calls in groups, in one thread per process (group commit).

    A call that has been decided is handed over with :meth:`submit` and waits for its future.
    The writer takes every call waiting, records them in one transaction under the write lock
    and commits once; the calls that arrive meanwhile form the next group. One commit, one
    lock, one ledger append and one metering insert then serve the whole group, where each call
    paid for its own before. Should the group's transaction fail, each call is recorded alone,
    so one call's failure is its own and every other call's writes still land whole.

    The thread starts with the first call and ends after ``idle`` seconds without one (the next
    call starts another), so an app that is no longer used — tests make hundreds — does not
    keep a thread, its engine and their database connections.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        lock: WriteLock,
        record: Callable[[Session, list[Item]], list[Result]],
        *,
        max_group: int = 64,
        idle: float = 30.0,
    ) -> None:
        self._factory = factory
        self._lock = lock
        self._record = record
        self._max_group = max_group
        self._idle = idle
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]]] = queue.SimpleQueue()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self.groups = 0  # groups committed, and the calls in them
        self.calls = 0

    def submit(self, item: Item) -> Future[Result]:
        future: Future[Result] = Future()
        self._queue.put((item, future))
        # Under the lock: the thread decides to end under it too, so a call queued just as it
        # ends is either seen by it or finds no thread and starts one.
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="channel-writer", daemon=True
                )
                self._thread.start()
        return future

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle)
            except queue.Empty:
                with self._started:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            while len(group) < self._max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(group)

    def _write(self, group: list[tuple[Item, Future[Result]]]) -> None:
        try:
            with self._lock, transaction(self._factory, defer=True) as db:
                results = self._record(db, [item for item, _ in group])
        except Exception as exc:
            if len(group) == 1:
                group[0][1].set_exception(exc)
                return
            log.warning("a group of %d channel writes failed; writing each alone", len(group))
            for one in group:
                self._write([one])
            return
        self.groups += 1
        self.calls += len(group)
        for (_, future), result in zip(group, results, strict=True):
            future.set_result(result)
