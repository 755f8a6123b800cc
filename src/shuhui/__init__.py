"""Shuhui (数慧): one governed data core for a digital city government, and its public services."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shuhui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
