"""The secret CSRF tokens are signed with, when no SHUHUI_SECRET_KEY is configured: made once
in the data directory by whichever process starts first. Several nodes sharing a data directory
(tests/test_two_nodes.py) start at the same moment, so making it must be a race with one winner
that every node reads whole: not a key each, and never an empty file read before its key is in
it (which an earlier version let a second process do)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

from shuhui.core.settings import Settings


def _signing_key(data_dir: str, ready: Any, keys: Any) -> None:
    ready.wait()
    keys.put(Settings(data_dir=Path(data_dir), secret_key=None).signing_key())


def test_nodes_starting_together_on_one_data_directory_make_one_secret(tmp_path: Path) -> None:
    """Nodes configured with no SHUHUI_SECRET_KEY make one on first start, in the shared data
    directory: started at the same moment, they must all end up with the same one."""
    context = multiprocessing.get_context("fork")
    for round_ in range(3):
        folder = tmp_path / str(round_)
        ready, keys = context.Event(), context.Queue()
        starting = [
            context.Process(target=_signing_key, args=(str(folder), ready, keys)) for _ in range(6)
        ]
        for process in starting:
            process.start()
        ready.set()
        made = [keys.get(timeout=30) for _ in starting]
        for process in starting:
            process.join(timeout=30)
        assert len(set(made)) == 1 and len(made[0]) == 64, made
        assert (folder / "secret.key").read_bytes().strip() == made[0]
        assert sorted(os.listdir(folder)) == ["secret.key"]
