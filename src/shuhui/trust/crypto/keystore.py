"""Private-key files: SM2 keys as PKCS#8 PEM, readable only by their owner.

One way to write them, for the platform key, the seals' keys and people's platform-held keys: the
key is written beside its final name with mode 0600 from the first byte, flushed to disk, then put
in place in one step, so no reader ever sees half a key or a key someone else could read.
"""

from __future__ import annotations

import os
from pathlib import Path

from shuhui.trust.crypto.sm import SM2PrivateKey


def stage(path: Path, key: SM2PrivateKey) -> Path:
    """Writes ``key`` beside ``path`` (owner-only, flushed to disk) and returns where: the caller
    puts it in place with :func:`put_in_place` once it may, or removes it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.unlink(missing_ok=True)  # left by a crashed run of this same pid number
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.to_pem())
        handle.flush()
        os.fsync(handle.fileno())
    return staged


def put_in_place(staged: Path, path: Path, *, replace: bool = False) -> None:
    """Moves a staged key to ``path`` in one step. Without ``replace`` a key already there is
    never overwritten (:class:`FileExistsError`): a key in use stays the key in use."""
    if replace:
        os.replace(staged, path)
        return
    try:
        os.link(staged, path)  # fails, atomically, if the name is taken
    finally:
        staged.unlink(missing_ok=True)


def write(path: Path, key: SM2PrivateKey) -> Path:
    """Writes a new key file at ``path``; refuses to overwrite one (:class:`FileExistsError`)."""
    put_in_place(stage(path, key), path)
    return path


def read(path: Path) -> SM2PrivateKey | None:
    """The key at ``path``, or None if there is no file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return SM2PrivateKey.from_pem(text)
