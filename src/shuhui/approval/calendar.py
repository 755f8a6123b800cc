"""Working days by the Chinese calendar (工作日), for the time limits of approval cases.

A day is a working day when it is a weekday that is not a public holiday (法定节假日, with the
days off the State Council moves next to them), or a weekend day made a working day to pay for
those days off (调休上班). Both lists come from the maintained ``holidays`` package
(``holidays.China``: its public holidays, and ``weekend_workdays`` for the adjusted working
days), never from a hand-kept list: the State Council publishes each year's arrangement late in
the year before, and a new release of the package carries it.

Time limits of administrative licensing are counted in working days (《行政许可法》第四十二条,
第八十二条), from the day after the start, so :func:`add_working_days` and
:func:`working_days_between` count from the day after ``start``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from holidays import country_holidays

# add_working_days walks day by day; no statutory limit comes near this many working days, so
# a larger argument is a caller's error rather than a long wait.
MAX_WORKING_DAYS = 5_000


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The year's days off on weekdays' calendar (public holidays and the days off moved next
    to them) and its weekend days that are working days (调休上班), made once per year."""
    china = country_holidays("CN", years=year)
    off = frozenset(day for day in china if day.year == year)
    # The package keeps the adjusted working days of every year it has populated; only this
    # year's belong to this year's sets.
    moved = frozenset(day for day in china.weekend_workdays if day.year == year)
    return off, moved


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China."""
    off, moved = _year(day.year)
    if day in moved:
        return True
    return day.weekday() < 5 and day not in off


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0).

    A limit of 5 working days from acceptance on a Friday before the National Day ends on the
    5th working day after the holiday's days off, counting any adjusted Saturday worked."""
    if days < 0:
        raise ValueError(f"days must not be negative: {days}")
    if days > MAX_WORKING_DAYS:
        raise ValueError(f"days must be at most {MAX_WORKING_DAYS}: {days}")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in (start, end]: 0 when ``end`` is ``start``, and negative
    (the working days in (end, start]) when ``end`` comes before ``start``, so that a deadline
    passed reads as a negative number of days left."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


__all__ = [
    "MAX_WORKING_DAYS",
    "add_working_days",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]
