"""An exclusive lock on a file, held across processes on one machine (``flock``).

What two processes must not do at once on the data directory — issue the platform key, switch
the data core's catalog, sign a ledger checkpoint — takes the lock of a file beside what it
changes. The lock goes with the open file, so a process that dies releases it.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def flocked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Holds the lock of ``path`` (created with its folder if missing) while the block runs and
    yields True; with ``wait=False`` yields False at once if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
