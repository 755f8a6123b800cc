"""Processes of this machine: whether one still runs (a lock's or a folder's owner)."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether a process of this machine with this id runs (a zombie counts as running; so does
    another user's, which may not be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
