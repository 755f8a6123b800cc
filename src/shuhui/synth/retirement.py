"""Statutory retirement ages by retirement category, before and after the 2025 reform.

Until 2024 the ages are those of 《国务院关于安置老弱病残干部的暂行办法》 and
《国务院关于工人退休、退职的暂行办法》 (国发〔1978〕104号): men 60, women cadres 55, women workers
50; workers in special (underground, high-altitude, high-temperature, very heavy or otherwise
harmful) job types 男55 / 女45; workers certified as fully unable to work through illness or
non-work injury 男50 / 女45. 城乡居民基本养老保险 is drawn from 60 (国发〔2014〕8号), which no
reform here touches.

《全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定》 (adopted 2024-09-13, in
force 2025-01-01) and the 《国务院关于渐进式延迟法定退休年龄的办法》 it approves raise the three
general ages over fifteen years by birth cohort: men's 60 and women cadres' 55 by one month for
every four months of birth from January 1965 and January 1970 respectively, up to 63 and 58;
women workers' 50 by one month for every two months from January 1975, up to 55 (the 办法's
对照表: born 1965-01..04 → 60岁1个月, born 1975-01..02 → 50岁1个月). Article 10 of the 办法 keeps
early retirement for special job types (and illness) without setting new ages; the synthetic city
keeps 国发〔1978〕104号's 55/45 and 50/45 for those categories — unverified against any later
national implementing rule.

A pension starts on the first day of the month after the statutory age is reached. Dates are day
numbers (:mod:`shuhui.synth.context`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from shuhui.standard.vocabularies import EDUCATION_LEVELS, RETIREMENT_CATEGORIES
from shuhui.synth import truth
from shuhui.synth.columns import BoolArray, IntArray, anomaly_count, batch, pick, pool, take
from shuhui.synth.context import Window, month_first_day, month_index, split_days

if TYPE_CHECKING:
    from shuhui.synth.pensions import Pensions
    from shuhui.synth.population import People

MALE, CADRE, WORKER, SPECIAL, ILLNESS, RESIDENT = range(len(RETIREMENT_CATEGORIES))
_COLLEGE = EDUCATION_LEVELS.index("大学专科")
_EMPLOYEE_SCHEME = 0  # vocabularies.PENSION_SCHEMES
# Shares of long-standing employee pensions that began early under a special job type (among
# men and women workers: cadres' posts are not special job types) or through illness.
_SPECIAL_SHARE = np.array([0.08, 0.0, 0.06])  # by general category: 男职工, 女干部, 女工人
_ILLNESS_SHARE = 0.012

# Per category: base age (men, women) in years, first birth year the reform touches (0: none),
# months of birth per added month, and the most months added.
_BASE_MEN = np.array([60, 55, 50, 55, 50, 60])
_BASE_WOMEN = np.array([60, 55, 50, 45, 45, 60])
_REFORM_FROM = np.array([1965, 1970, 1975, 0, 0, 0])
_STEP = np.array([4, 4, 2, 1, 1, 1])
_CAP = np.array([36, 36, 60, 0, 0, 0])


def statutory_age_months(birth: IntArray, male: BoolArray, category: IntArray) -> IntArray:
    """The statutory retirement age, in months, of each person for the given category."""
    year, month, _day = split_days(birth)
    cohort_month = (year - 1900) * 12 + month - 1
    base = np.where(male, _BASE_MEN[category], _BASE_WOMEN[category])
    reformed = _REFORM_FROM[category] > 0
    since = cohort_month - (_REFORM_FROM[category] - 1900) * 12
    extra = np.where(
        reformed & (since >= 0), np.minimum(since // _STEP[category] + 1, _CAP[category]), 0
    )
    months: IntArray = base * 12 + extra
    return months


def statutory_start(birth: IntArray, male: BoolArray, category: IntArray) -> IntArray:
    """First day of the month after reaching the category's statutory retirement age."""
    year, month, _day = split_days(birth)
    cohort_month = (year - 1900) * 12 + month - 1
    months = cohort_month + statutory_age_months(birth, male, category) + 1
    return month_first_day(months + (1900 - 1970) * 12)


def general_category(male: BoolArray, cadre: BoolArray) -> IntArray:
    """男职工, 女干部 or 女工人: the category of an ordinary retirement."""
    category: IntArray = np.where(male, MALE, np.where(cadre, CADRE, WORKER)).astype(np.int64)
    return category


def age_months(birth: IntArray, on: IntArray) -> IntArray:
    """Completed months of age on each day ``on``."""
    by, bm, bd = split_days(birth)
    oy, om, od = split_days(on)
    months: IntArray = (oy - by) * 12 + (om - bm) - (od < bd)
    return months


def categorise(
    rng: np.random.Generator,
    people: People,
    pensions: Pensions,
    window: Window,
    *,
    early_rate: float,
    at_least_one: bool,
) -> tuple[IntArray, pa.RecordBatch]:
    """Each pension row's retirement category, and the truth of pensions started too early.

    Employee pensions start at the general age of the pensioner's sex and post (the generator
    already used it). Some of those that began before the window are re-dated to the earlier
    start of a special job type or of illness; ``early_rate`` of them (the anomaly) are moved to
    a start 6 to 60 months before the recorded category allows. Only starts before the window
    move, so payments in the window stay as they were. The truth lists every row whose start is
    before its category's statutory age, whatever put it there (a duplicate pension drawn
    before 60 counts too).
    """
    row_person = pensions.person
    male = people.male[row_person]
    birth = people.birth[row_person]
    employee = pensions.row_scheme == _EMPLOYEE_SCHEME
    general = general_category(male, people.education[row_person] >= _COLLEGE)
    category = np.where(employee, general, RESIDENT)
    begins = pensions.begins
    k = row_person.shape[0]
    main = np.arange(k) < pensions.main_rows
    settled = main & employee & (begins <= window.start)

    u = rng.random(k)
    special = settled & (u < _SPECIAL_SHARE[general])
    ill = settled & ~special & (u >= 1 - _ILLNESS_SHARE)
    early_start = np.where(
        special,
        statutory_start(birth, male, np.full(k, SPECIAL)),
        statutory_start(birth, male, np.full(k, ILLNESS)),
    )
    # Illness retirements fall anywhere between the illness age and the ordinary start.
    span = np.maximum(month_index(begins) - month_index(early_start), 0)
    lag = (rng.random(k) * span).astype(np.int64)
    ill_start = month_first_day(month_index(early_start) + np.where(special, 0, lag))
    moved = special | ill
    begins = np.where(moved, np.minimum(ill_start, begins), begins)
    category = np.where(special, SPECIAL, np.where(ill, ILLNESS, category))

    alive = people.death[row_person] > window.as_of
    candidates = np.flatnonzero(settled & ~moved & alive)
    chosen = pick(rng, candidates, anomaly_count(rng, early_rate, int(settled.sum()), at_least_one))
    months_early = rng.integers(6, 61, chosen.shape[0])
    begins[chosen] = month_first_day(month_index(begins[chosen]) - months_early)
    pensions.begins = begins

    statutory = statutory_start(birth, male, category)
    early = np.flatnonzero(begins < statutory)
    at_start = age_months(birth[early], begins[early])
    return category, batch(
        truth.TRUTH_EARLY_RETIREMENT,
        {
            "pension_id": take(pensions.pension_id, early),
            "citizen_id": take(people.citizen_id, row_person[early]),
            "category": take(pool(RETIREMENT_CATEGORIES), category[early]),
            "age_at_start": (at_start // 12).astype(np.int16),
            "age_at_start_months": at_start.astype(np.int16),
            "statutory_age_months": statutory_age_months(
                birth[early], male[early], category[early]
            ).astype(np.int16),
        },
    )
