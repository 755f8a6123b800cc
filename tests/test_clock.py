"""Times are stored in UTC and shown in Qingdao's (Asia/Shanghai, UTC+8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shuhui.core.clock import format_local


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 6, 16, 30, tzinfo=UTC),
        datetime(2026, 12, 6, 16, 30),  # naive, as SQLite hands it back: UTC
        "2026-12-06T16:30:00+00:00",  # as a JSON report keeps it
        "2026-12-06T16:30:00",
    ],
)
def test_a_moment_is_shown_in_qingdao_time_on_the_next_day(value: datetime | str) -> None:
    assert format_local(value) == "2026-12-07 00:30"


def test_nothing_shows_as_nothing() -> None:
    assert format_local(None) == "" and format_local("") == ""
