"""Traces of daily life: medical visits, transit-card trips, household utility meters.

These are what 无感认证 (certifying a pensioner is alive without asking) looks at, so they stop
at death, and residents picked as *no record* leave none at all.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.standard import tables, vocabularies
from shuhui.synth import vocab
from shuhui.synth.columns import (
    BoolArray,
    FloatArray,
    IntArray,
    batch,
    concat,
    pool,
    rows_weighted_index,
    take,
    weighted_index,
)
from shuhui.synth.context import Window, split_days
from shuhui.synth.households import Households
from shuhui.synth.population import DISTRICT_CODES, DISTRICT_NAMES, People

# --- medical visits -------------------------------------------------------------------------

_VISIT_AGES = [0, 5, 15, 30, 50, 65, 80, 100]
_VISITS_PER_YEAR = [5.0, 3.0, 1.6, 1.8, 2.6, 4.5, 6.5, 7.0]
# Respiratory illness makes winter the busy season; the trough is in late summer.
_VISIT_SEASON = 1 + 0.3 * np.cos(2 * np.pi * (np.arange(12) - 0.5) / 12)
_WINTER = np.array(
    [True, True, False, False, False, False, False, False, False, False, False, True]
)


def _hospital_table() -> tuple[pa.Array, FloatArray]:
    """All facility names and, per district, the cumulative weights of going to each."""
    names = [h[0] for h in vocab.HOSPITALS]
    clinics = []
    for code, district in zip(DISTRICT_CODES, DISTRICT_NAMES, strict=True):
        for town in vocab.DISTRICT_TOWNS[code]:
            kind = "社区卫生服务中心" if town.endswith("街道") else "卫生院"
            clinics.append((code, f"{district}{town}{kind}"))
    names += [c[1] for c in clinics]
    weights = np.zeros((len(DISTRICT_CODES), len(names)))
    for i, (_name, where, weight) in enumerate(vocab.HOSPITALS):
        for d, code in enumerate(DISTRICT_CODES):
            if where == code:
                weights[d, i] = weight * 3
            elif where == "":
                weights[d, i] = weight
    hospital_total = weights.sum(axis=1, keepdims=True)
    weights *= (1 - vocab.COMMUNITY_CLINIC_SHARE) / hospital_total
    for j, (code, _name) in enumerate(clinics, start=len(vocab.HOSPITALS)):
        d = DISTRICT_CODES.index(code)
        weights[d, j] = vocab.COMMUNITY_CLINIC_SHARE / len(vocab.DISTRICT_TOWNS[code])
    return pool(names), np.cumsum(weights, axis=1)


_HOSPITALS, _HOSPITAL_CUM = _hospital_table()
_CHAPTER_CODES = [code for code, _ in vocabularies.ICD10_CHAPTERS]
_CHAPTERS = pool(_CHAPTER_CODES)
_CHAPTER_NAMES = pool([name for _, name in vocabularies.ICD10_CHAPTERS])
_CHAPTER_WEIGHTS = np.array(
    [vocab.ICD10_CHAPTER_WEIGHTS[code][:3] for code in _CHAPTER_CODES]
).T  # (age group, chapter)
_CHAPTER_WINTER = np.array([vocab.ICD10_CHAPTER_WEIGHTS[code][3] for code in _CHAPTER_CODES])
# Rows: age group (child, adult, elderly) x season (other, winter).
_CHAPTER_CUM = np.cumsum(
    np.repeat(_CHAPTER_WEIGHTS, 2, axis=0)
    * np.tile(np.stack([np.ones(22), _CHAPTER_WINTER]), (3, 1)),
    axis=1,
)
_PREGNANCY = _CHAPTER_CODES.index("XV")
_PERINATAL = _CHAPTER_CODES.index("XVI")
_SYMPTOMS = _CHAPTER_CODES.index("XVIII")
_VISIT_COST_YUAN = np.array([220.0, 480.0, 11000.0])
_FUND_SHARE = np.array([0.5, 0.55, 0.7])


def event_days(
    rng: np.random.Generator, window: Window, owner: IntArray, season: FloatArray | None
) -> IntArray:
    """A day in the window for each event, months weighted by length (and ``season``)."""
    starts = window.month_starts
    lengths = np.minimum(window.month_ends, window.as_of) - starts + 1
    weights = lengths.astype(np.float64)
    if season is not None:
        weights = weights * season[split_days(starts)[1] - 1]
    month = weighted_index(rng, weights, owner.shape[0])
    return starts[month] + (rng.random(owner.shape[0]) * lengths[month]).astype(np.int64)


def alive_on(people: People, who: IntArray, day: IntArray) -> BoolArray:
    return (day >= people.birth[who]) & (day < people.death[who])


def medical_visits(
    rng: np.random.Generator, people: People, no_record: BoolArray, window: Window
) -> pa.RecordBatch:
    rate = np.interp(people.age, _VISIT_AGES, _VISITS_PER_YEAR) * window.months / 12
    count = np.where(no_record, 0, rng.poisson(rate))
    who = np.repeat(np.arange(people.size), count)
    day = event_days(rng, window, who, _VISIT_SEASON)
    keep = alive_on(people, who, day)
    who, day = who[keep], day[keep]
    k = who.shape[0]
    age = people.age[who]
    group = np.where(age < 15, 0, np.where(age < 65, 1, 2))
    winter = _WINTER[split_days(day)[1] - 1]
    chapter = rows_weighted_index(rng, _CHAPTER_CUM, group * 2 + winter)
    mother = ~people.male[who] & (age >= 18) & (age <= 45)
    chapter = np.where((chapter == _PREGNANCY) & ~mother, _SYMPTOMS, chapter)
    chapter = np.where((chapter == _PERINATAL) & (age > 0), _SYMPTOMS, chapter)
    kind = weighted_index(rng, vocab.VISIT_TYPE_SHARES, k)
    hospital = rows_weighted_index(rng, _HOSPITAL_CUM, people.district[who])
    cost = np.round(_VISIT_COST_YUAN[kind] * rng.lognormal(0.0, 0.6, k) * 100)
    fund = np.round(cost * np.clip(_FUND_SHARE[kind] + rng.normal(0, 0.08, k), 0, 0.95))
    return batch(
        tables.MEDICAL_VISITS,
        {
            "citizen_id": take(people.citizen_id, who),
            "hospital": take(_HOSPITALS, hospital),
            "visit_date": day,
            "visit_type": take(pool(vocabularies.VISIT_TYPES), kind),
            "icd10_chapter": take(_CHAPTERS, chapter),
            "diagnosis_category": take(_CHAPTER_NAMES, chapter),
            "total_cost_fen": cost.astype(np.int64),
            "fund_paid_fen": fund.astype(np.int64),
        },
    )


# --- transit -------------------------------------------------------------------------------

URBAN_CORE = np.array(
    [
        code in ("370202", "370203", "370212", "370213", "370211", "370214")
        for code in DISTRICT_CODES
    ]
)
_METRO = pool([line for code in DISTRICT_CODES for line in vocab.METRO_LINES[code]])
_METRO_COUNT = np.array([len(vocab.METRO_LINES[code]) for code in DISTRICT_CODES])
_METRO_OFFSET = np.cumsum(_METRO_COUNT) - _METRO_COUNT
_TRIPS_PER_YEAR = 12.0  # recorded (sampled) taps per card-holder
_US = 1_000_000
_SHANGHAI_OFFSET_S = 8 * 3600


def transit_trips(
    rng: np.random.Generator, people: People, no_record: BoolArray, window: Window
) -> pa.RecordBatch:
    n = people.size
    age = people.age
    holder_p = np.where(URBAN_CORE[people.district], 0.7, 0.4) * np.interp(
        age, [0, 6, 12, 18, 60, 75, 90], [0, 0, 0.5, 0.9, 0.9, 0.6, 0.2]
    )
    holder = (rng.random(n) < holder_p) & ~no_record
    count = np.where(holder, rng.poisson(_TRIPS_PER_YEAR * window.months / 12, n), 0)
    who = np.repeat(np.arange(n), count)
    day = event_days(rng, window, who, None)
    keep = alive_on(people, who, day)
    who, day = who[keep], day[keep]
    k = who.shape[0]
    district = np.where(
        rng.random(k) < 0.85,
        people.district[who],
        weighted_index(rng, np.ones(len(DISTRICT_CODES)), k),
    )
    metro = (_METRO_COUNT[district] > 0) & (rng.random(k) < 0.35)
    nth_line = (rng.random(k) * _METRO_COUNT[district]).astype(np.int64)
    metro_line = take(_METRO, np.where(metro, _METRO_OFFSET[district] + nth_line, 0))
    bus_line = concat(pc.cast(pa.array(rng.integers(1, 960, k)), pa.string()), "路")
    line = pc.if_else(pa.array(metro), metro_line, bus_line)
    # Local boarding times: morning and evening peaks over a daytime background.
    u = rng.random(k)
    hour = np.where(
        u < 0.3,
        rng.normal(7.6, 0.7, k),
        np.where(u < 0.6, rng.normal(17.8, 0.8, k), rng.uniform(6.0, 22.0, k)),
    )
    seconds = np.clip(np.round(hour * 3600), 5 * 3600, 23 * 3600).astype(np.int64)
    boarded = ((day * 86400 + seconds - _SHANGHAI_OFFSET_S) * _US).astype(np.int64)
    elderly_free = ~metro & (people.age[who] >= 70)
    fare = np.where(metro, 200 + 100 * rng.integers(0, 6, k), np.where(elderly_free, 0, 200))
    return batch(
        tables.TRANSIT_TRIPS,
        {
            "citizen_id": take(people.citizen_id, who),
            "trip_date": day,
            "boarded_at": pa.array(boarded, type=pa.timestamp("us", tz="UTC")),
            "mode": take(pool(vocabularies.TRANSIT_MODES), metro.astype(np.int64)),
            "line": line,
            "district_code": take(pool(DISTRICT_CODES), district),
            "fare_fen": fare.astype(np.int32),
        },
    )


# --- utilities -----------------------------------------------------------------------------

_WATER_SEASON = np.array([0.9, 0.85, 0.9, 0.95, 1.05, 1.15, 1.25, 1.25, 1.1, 0.95, 0.9, 0.9])
_POWER_SEASON = np.array([1.2, 1.1, 0.95, 0.85, 0.85, 1.0, 1.35, 1.4, 1.0, 0.85, 0.9, 1.1])
_GAS_SEASON = np.array([1.4, 1.3, 1.1, 0.9, 0.8, 0.7, 0.65, 0.65, 0.75, 0.9, 1.1, 1.35])


def utility_usage(
    rng: np.random.Generator, people: People, households: Households, window: Window
) -> pa.RecordBatch:
    """Monthly meter readings of every metered household, scaled to the members alive."""
    metered = np.flatnonzero(households.metered)
    h = households.count
    mid = window.month_starts + 14
    alive = np.empty((h, window.months))
    for m in range(window.months):
        present = (people.birth <= mid[m]) & (people.death > mid[m])
        alive[:, m] = np.bincount(households.member_of, weights=present, minlength=h)
    alive = np.maximum(alive[metered], 0.1)  # an empty flat still draws a little
    calendar = split_days(window.month_starts)[1] - 1
    shape = (metered.shape[0], window.months)
    scale = rng.lognormal(0.0, 0.3, (metered.shape[0], 1))  # thrifty and lavish households
    has_gas = (
        rng.random((metered.shape[0], 1)) < np.where(households.rural[metered], 0.4, 0.85)[:, None]
    )
    water = 2.8 * alive**0.75 * _WATER_SEASON[calendar] * scale * rng.lognormal(0, 0.2, shape)
    power = 70 * alive**0.6 * _POWER_SEASON[calendar] * scale * rng.lognormal(0, 0.2, shape)
    gas = np.where(
        has_gas, 9 * alive**0.5 * _GAS_SEASON[calendar] * scale * rng.lognormal(0, 0.25, shape), 0
    )
    read = window.month_starts <= window.as_of
    row, month = np.nonzero(np.broadcast_to(read[None, :], shape))
    return batch(
        tables.UTILITY_USAGE,
        {
            "household_id": take(households.household_id, metered[row]),
            "month": window.month_starts[month],
            "water_m3": np.round(water[row, month]).astype(np.int32),
            "electricity_kwh": np.round(power[row, month]).astype(np.int32),
            "gas_m3": np.round(gas[row, month]).astype(np.int32),
        },
    )
