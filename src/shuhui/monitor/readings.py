"""A validated sensor reading: what ``telemetry`` stores and ``alarms`` evaluates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Reading:
    """One metric of one message: a message ``{"ts": …, "values": {"smoke": 3.1, "temperature":
    24.0}}`` from a device is two readings. ``ts`` is timezone-aware (UTC once validated)."""

    device: str
    ts: datetime
    metric: str
    value: float
