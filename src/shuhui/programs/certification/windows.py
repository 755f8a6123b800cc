"""The certification's calendar: months, the window a recipient's year opens (birth month or the
last certification), the street office a visit goes to, and the cycle date's check."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.regions import region_by_code
from shuhui.programs.certification.config import Cycle


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Months from ``start``'s month to ``end``'s month, both counted (Mar → May is 3)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def window_of(
    cycle: Cycle, birth: date, on: date, last_certified: date | None = None
) -> tuple[int, date, date]:
    """The certification year, first and last day of the window open (or last opened) on
    ``on``: from the first of the birth month (or of the month a year after the last
    certification), ``window_months`` long."""
    if cycle.anchor == "last_certification" and last_certified is not None:
        start = add_months(last_certified, 12)
        if start > on:  # the next window has not opened: the one the certification was in
            start = add_months(last_certified, 0)
    else:
        start = date(on.year, birth.month, 1)
        if start > on:
            start = date(on.year - 1, birth.month, 1)
    end = add_months(start, cycle.window_months) - timedelta(days=1)
    return start.year, start, end


def street_office(district_code: str | None) -> str:
    """The department a home visit goes to: the street office (街道办事处) of the recipient's
    district, as a department string (the data core does not hold streets)."""
    region = region_by_code(district_code) if district_code else None
    return f"{region.name if region else '青岛市'}街道办事处"


def check_date(on: date, now: datetime) -> None:
    if on > local_today(now):
        raise Problem(
            "validation",
            detail=Text(
                f"认证日期 {on.isoformat()} 晚于今天，不能提前开展认证",
                f"the cycle date {on} is in the future",
            ),
            errors=[FieldError("date", Text("认证日期不能晚于今天", "must not be in the future"))],
        )
