"""Facts: the one shape in which a domain reports a figure for ``shuhui.insight``.

A fact is a number (a count, an amount in fen, a duration) with, where it has one, the base it
is a share of, and where it falls: a district (its region code), a month (its first day) and a
group (a code the indicator names: a department, a chain, a stage). Insight sums facts over
whatever a person filters and breaks them down by any of the three, so a domain reports its
figures once, at the finest grain it keeps, and never per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Fact:
    value: float
    base: float | None = None  # what ``value`` is a share of (a ratio's denominator)
    district: str | None = None  # region code of the district (6 digits)
    month: date | None = None  # the first day of the month it happened in; None: a stock now
    group: str | None = None


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month``'s (before, for ``n`` < 0)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
