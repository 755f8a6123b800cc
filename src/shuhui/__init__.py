"""Shuhui (数慧): one governed data core for a digital city government, and its public services."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    __version__: str


@cache
def _version() -> str:
    # importlib.metadata scans the installed distributions: about a tenth of a second that
    # `shuhui --help` and every other command but `version` would wait for, so read on first use.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shuhui")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
