"""Spill space for the SQL sandbox: one private folder per connection, inside the data core.

DuckDB adds its ``temp_directory`` to ``allowed_directories`` whatever they are set to, and an
in-memory database's default is ``.tmp`` under the working directory: left alone, a sandboxed
query could read and write files there. A query still needs room to spill a sort or a join
bigger than memory (a rule over a whole city), so each connection gets a folder of its own
under ``<data core>/spill/`` that holds nothing but its own spill files. DuckDB makes the folder
only when it spills and removes it when the connection closes; the folder of a process that
died (kill -9) is removed by the next connection opened on the same host.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from pathlib import Path

from shuhui.core.processes import alive

SPILL_DIR = "spill"


def _remove_dead(parent: Path, host: str) -> None:
    """Removes the folders this host's dead processes left (``<host>.<pid>.<token>``)."""
    for folder in parent.iterdir():
        parts = folder.name.rsplit(".", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if not alive(int(parts[1])):
            shutil.rmtree(folder, ignore_errors=True)


def spill_folder(core_root: Path) -> Path:
    """A fresh folder path for one connection's spill files (its parent exists; DuckDB makes
    the folder itself when it first spills)."""
    parent = core_root / SPILL_DIR
    parent.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().replace(".", "-")
    _remove_dead(parent, host)
    return (parent / f"{host}.{os.getpid()}.{secrets.token_hex(8)}").absolute()
