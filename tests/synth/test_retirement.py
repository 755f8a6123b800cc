"""Statutory retirement ages by category, before and after the 2025 reform."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from shuhui.standard.vocabularies import RETIREMENT_CATEGORIES
from shuhui.synth.context import day_number, month_first_day, month_index
from shuhui.synth.retirement import age_months, statutory_age_months, statutory_start

CATEGORY = {name: i for i, name in enumerate(RETIREMENT_CATEGORIES)}


def _months(born: date, male: bool, category: str) -> int:
    return int(
        statutory_age_months(
            np.array([day_number(born)]), np.array([male]), np.array([CATEGORY[category]])
        )[0]
    )


def test_the_reform_tables() -> None:
    # The 2024 decision's tables: one month per four (women workers: two) months of birth
    # from the first reformed cohort, up to 63, 58 and 55.
    cases = [
        (date(1964, 12, 31), True, "男职工", 60 * 12),
        (date(1965, 1, 1), True, "男职工", 60 * 12 + 1),
        (date(1965, 4, 30), True, "男职工", 60 * 12 + 1),
        (date(1965, 5, 1), True, "男职工", 60 * 12 + 2),
        (date(1976, 8, 31), True, "男职工", 62 * 12 + 11),
        (date(1976, 9, 1), True, "男职工", 63 * 12),
        (date(1990, 1, 1), True, "男职工", 63 * 12),
        (date(1969, 12, 31), False, "女干部", 55 * 12),
        (date(1970, 1, 1), False, "女干部", 55 * 12 + 1),
        (date(1981, 9, 1), False, "女干部", 58 * 12),
        (date(1974, 12, 31), False, "女工人", 50 * 12),
        (date(1975, 1, 1), False, "女工人", 50 * 12 + 1),
        (date(1975, 3, 1), False, "女工人", 50 * 12 + 2),
        (date(1984, 11, 1), False, "女工人", 55 * 12),
        # Early retirement and the residents' scheme keep their ages.
        (date(1980, 1, 1), True, "特殊工种", 55 * 12),
        (date(1980, 1, 1), False, "特殊工种", 45 * 12),
        (date(1980, 1, 1), True, "因病完全丧失劳动能力", 50 * 12),
        (date(1980, 1, 1), False, "因病完全丧失劳动能力", 45 * 12),
        (date(1980, 1, 1), False, "城乡居民", 60 * 12),
    ]
    for born, male, category, months in cases:
        assert _months(born, male, category) == months, (born, male, category)


@given(
    born=st.dates(date(1920, 1, 1), date(2000, 12, 31)),
    male=st.booleans(),
    category=st.sampled_from(RETIREMENT_CATEGORIES),
)
def test_a_pension_starts_the_month_after_the_age_is_reached(
    born: date, male: bool, category: str
) -> None:
    birth = np.array([day_number(born)])
    sex = np.array([male])
    kind = np.array([CATEGORY[category]])
    start = statutory_start(birth, sex, kind)
    required = statutory_age_months(birth, sex, kind)[0]
    reached = age_months(birth, start)[0]
    # On the first of a month; the age is reached, at most a month ago.
    assert (start.astype("datetime64[D]").astype(object)[0]).day == 1
    assert required <= reached <= required + 1
    # On the first of the month before, it was not yet reached (or only that day, for those
    # born on the 1st): the start is the first 1st of a month after reaching it.
    before = age_months(birth, month_first_day(month_index(start) - 1))[0]
    assert before < required or (before == required and born.day == 1)
