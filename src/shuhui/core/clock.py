"""The one source of "now": UTC for storage, Asia/Shanghai for people."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Databases without time zones (SQLite) hand back naive datetimes that were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local(value: datetime) -> datetime:
    return as_utc(value).astimezone(SHANGHAI)


def local_today(now: datetime | None = None) -> date:
    """The date in Qingdao: what policies, prices and validity dates are counted in."""
    return local(now or utcnow()).date()


def format_local(value: datetime | str | None) -> str:
    """A moment as people in Qingdao read it; an ISO 8601 text (as JSON reports keep their
    times) is read as UTC when it names no zone."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local(moment).strftime("%Y-%m-%d %H:%M")
