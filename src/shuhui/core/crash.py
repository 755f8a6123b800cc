"""Named crash points: a test stops the process dead at a chosen step of a multi-step write.

``crashpoint("datacore.after_switch")`` kills the process with SIGKILL — no ``finally``, no
``atexit``, exactly what ``kill -9`` or a power cut does to a process — when the environment
variable ``SHUHUI_CRASH_AT`` names that point. The variable is read once, at import: a process
that does not set it pays one comparison with ``None`` per point. Tests run the real command as a
subprocess with the variable set, then check what recovery makes of what it left
(tests/datacore/test_crash.py).
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_ENV", "crashpoint"]

CRASH_ENV = "SHUHUI_CRASH_AT"
_TARGET = os.environ.get(CRASH_ENV) or None


def crashpoint(name: str) -> None:
    """Dies here, at once, if ``SHUHUI_CRASH_AT`` names this point."""
    if _TARGET is not None and name == _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
