"""Working days by the Chinese calendar: the State Council's arrangements for 2025 and 2026 as
published (国办发明电〔2024〕12号, 国办发明电〔2025〕7号), read through the ``holidays`` package,
and the arithmetic's laws for any date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.approval.calendar import (
    MAX_WORKING_DAYS,
    add_working_days,
    is_working_day,
    next_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    "day",
    [
        # 2025: Sunday 26 January and Saturday 8 February (Spring Festival), Sunday 27 April
        # (Labour Day), Sunday 28 September and Saturday 11 October (National Day)
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        # 2026: Sunday 4 January, Saturdays 14 and 28 February, Saturday 9 May, Sunday 20
        # September and Saturday 10 October
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_adjusted_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert is_working_day(day)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2025, 1, 28), date(2025, 2, 4)),  # Spring Festival 2025
        (date(2025, 10, 1), date(2025, 10, 8)),  # National Day and Mid-Autumn 2025
        (date(2026, 2, 15), date(2026, 2, 23)),  # Spring Festival 2026
        (date(2026, 10, 1), date(2026, 10, 7)),  # National Day 2026
        (date(2026, 5, 1), date(2026, 5, 5)),  # Labour Day 2026
    ],
)
def test_holiday_weeks_are_days_off(first: date, last: date) -> None:
    day = first
    while day <= last:
        assert not is_working_day(day), day
        day += timedelta(days=1)
    assert is_working_day(last + timedelta(days=1))


def test_ordinary_days() -> None:
    assert is_working_day(date(2026, 3, 10))  # a Tuesday
    assert not is_working_day(date(2026, 3, 14))  # a Saturday
    assert not is_working_day(date(2026, 3, 15))  # a Sunday
    assert not is_working_day(date(2026, 1, 1))  # New Year's Day, a Thursday
    assert not is_working_day(date(2026, 1, 2))  # and the Friday after it, moved from 4 January


def test_adding_across_the_national_day() -> None:
    # Accepted on Wednesday 30 September 2026: 1–7 October off, Thursday 8, Friday 9 and the
    # adjusted Saturday 10 work, then Monday 12 and Tuesday 13.
    start = date(2026, 9, 30)
    assert add_working_days(start, 1) == date(2026, 10, 8)
    assert add_working_days(start, 3) == date(2026, 10, 10)
    assert add_working_days(start, 5) == date(2026, 10, 13)
    assert working_days_between(start, date(2026, 10, 13)) == 5
    # 2025: 1–8 October off, the adjusted Saturday 11 October works.
    assert add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)
    # A limit of 20 working days from the Friday before the 2026 Spring Festival: the adjusted
    # Saturdays 14 and 28 February count, 15–23 February do not.
    assert add_working_days(date(2026, 2, 13), 20) == date(2026, 3, 19)


def test_zero_and_backwards() -> None:
    sunday = date(2026, 3, 15)
    assert add_working_days(sunday, 0) == sunday
    assert working_days_between(sunday, sunday) == 0
    assert working_days_between(date(2026, 3, 13), date(2026, 3, 16)) == 1
    assert working_days_between(date(2026, 3, 16), date(2026, 3, 13)) == -1
    assert next_working_day(sunday) == date(2026, 3, 16)
    assert next_working_day(date(2026, 3, 16)) == date(2026, 3, 16)
    with pytest.raises(ValueError):
        add_working_days(sunday, -1)
    with pytest.raises(ValueError):
        add_working_days(sunday, MAX_WORKING_DAYS + 1)


def test_across_the_new_year() -> None:
    # Wednesday 31 December 2025 + 1: 1 January off, Friday 2 January 2026 off (moved), the
    # adjusted Sunday 4 January works.
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
counts = st.integers(min_value=0, max_value=60)


@given(days, st.integers(min_value=1, max_value=60))
def test_the_result_is_a_working_day(start: date, n: int) -> None:
    assert is_working_day(add_working_days(start, n))


@given(days, counts)
def test_between_undoes_add(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    assert working_days_between(end, start) == -n


@given(days, counts)
def test_monotone_in_the_count(start: date, n: int) -> None:
    assert add_working_days(start, n) < add_working_days(start, n + 1)


@given(days, days, counts)
def test_monotone_in_the_start(a: date, b: date, n: int) -> None:
    early, late = min(a, b), max(a, b)
    assert add_working_days(early, n) <= add_working_days(late, n)


@given(days, st.integers(min_value=0, max_value=40))
def test_between_counts_working_days(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    expected = sum(is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert working_days_between(start, end) == expected
