"""Small helpers every part of the data channel shares: the local zone and month, the codes of
applications, grants and statements, JSON as the channel stores it, and the channel's revision
(bumped whenever keys, grants or memberships change)."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from shuhui.core.clock import local_today

LOCAL: Final = ZoneInfo("Asia/Shanghai")
# The metered status of an answered call: channel_calls.status holds the HTTP status a call was
# answered with (a refusal's is its problem's); the dashboard and the bills read it.
ANSWERED: Final = 200
BUMP = text("UPDATE channel_state SET revision = revision + 1 WHERE id = 1")
REVISION = text("SELECT revision FROM channel_state WHERE id = 1")


def month_of(now: datetime) -> date:
    return local_today(now).replace(day=1)


def new_code(prefix: str, now: datetime) -> str:
    return f"{prefix}-{local_today(now):%Y%m%d}-{secrets.token_hex(3).upper()}"


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def bump(db: Session) -> None:
    """Marks keys, grants or memberships changed, in the caller's transaction: every process
    forgets what it remembered about keys (see :class:`shuhui.channel.keys.KeyCache`)."""
    db.execute(BUMP)
