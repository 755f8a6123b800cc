"""Shared plumbing of a generation run: random streams and the calendar of the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum

import numpy as np

from shuhui.synth.columns import IntArray

_EPOCH = date(1970, 1, 1).toordinal()


class Stream(IntEnum):
    """One independent random stream per purpose.

    A generator is seeded with ``[seed, stream, chunk]``, so what one table draws never shifts
    what another draws, and adding a stream leaves the others' values as they were. Values are
    part of the output's identity: never renumber them.
    """

    POPULATION = 1
    ENTERPRISES = 2
    RESIDENTS = 3
    NAMES = 4
    DEATHS = 5
    ANOMALIES = 6
    HOUSEHOLDS = 7
    WORK = 8
    PENSIONS = 9
    VISITS = 10
    TRIPS = 11
    UTILITIES = 12
    CERTIFICATES = 13
    LEGAL_REPS = 14
    ENTERPRISE_MONTHS = 15
    ADDRESSES = 16
    DEATH_RECORDS = 17
    CARD_USES = 18
    COLLECTIONS = 19
    ACCOUNTS = 20
    RETIREMENT = 21
    SILENCE = 22
    LOW_BASE = 23
    LOW_BASE_FIRMS = 24
    INFRASTRUCTURE = 25
    INDUSTRY_PROJECTS = 26
    DIGITAL_OUTPUT = 27
    ENABLEMENTS = 28


def rng_for(seed: int, stream: Stream, chunk: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, int(stream), chunk])


def day_number(value: date) -> int:
    """Days since 1970-01-01, the representation of dates in generation code."""
    return value.toordinal() - _EPOCH


def to_date(day: int) -> date:
    return date.fromordinal(day + _EPOCH)


def split_days(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month (1-12) and day of month of each day number."""
    as_dates = days.astype("datetime64[D]")
    months = as_dates.astype("datetime64[M]")
    years = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (as_dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return years, month, day


def month_start(days: IntArray) -> IntArray:
    return (
        days.astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def month_index(days: IntArray) -> IntArray:
    """Months since 1970-01 of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_first_day(month_indexes: IntArray) -> IntArray:
    return month_indexes.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_years(days: IntArray, years: IntArray | int) -> IntArray:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    y, m, d = split_days(days)
    month_idx = (y + years - 1970) * 12 + (m - 1)
    first = month_first_day(month_idx)
    length = month_first_day(month_idx + 1) - first
    same_day: IntArray = first + np.minimum(d - 1, length - 1)
    return same_day


@dataclass(frozen=True)
class Window:
    """The months the event tables cover: ``months`` calendar months ending with ``as_of``."""

    as_of: int  # day number
    first_month: int  # months since 1970-01
    months: int

    @classmethod
    def ending(cls, as_of: date, months: int) -> Window:
        last = (as_of.year - 1970) * 12 + as_of.month - 1
        return cls(as_of=day_number(as_of), first_month=last - months + 1, months=months)

    @property
    def month_starts(self) -> IntArray:
        return month_first_day(np.arange(self.first_month, self.first_month + self.months))

    @property
    def month_ends(self) -> IntArray:
        return (
            month_first_day(np.arange(self.first_month + 1, self.first_month + self.months + 1)) - 1
        )

    @property
    def start(self) -> int:
        return int(self.month_starts[0])

    @property
    def days(self) -> int:
        return self.as_of - self.start + 1

    def index_of(self, days: IntArray) -> IntArray:
        """Window month index (0 = first month) of each day number; may fall outside."""
        return month_index(days) - self.first_month
