"""One gateway writer at a time, across the server's worker processes.

SQLite lets one transaction write at a time; a writer that finds the database locked waits in
SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms) and wakes to try
again. Under load those sleeps, not the writes, made the channel's tail latency (p99 of 1-3 s
at 10-50 connections). Queued on a thread lock and an advisory file lock instead, a writer is
woken the moment the one before it commits. PostgreSQL queues writers on row locks itself, so
there only the thread lock applies.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType


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
