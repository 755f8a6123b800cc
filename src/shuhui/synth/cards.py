"""Social-security card uses and pensions collected in person: more signs of a life.

Nearly everyone holds a 社会保障卡. What a year of it records here: paying a hospital or
pharmacy with it (most elderly patients do; younger ones mostly use the medical-insurance QR
code instead), boarding a bus with it as the senior pass (from 60), paying bills or using it
as a bank card, showing it to prove identity at a service hall, and collecting a pension at a
bank counter or terminal. Pensioners who collect in person also leave a row in the pension
office's collection records (待遇柜面领取记录).

Like visits and trips, these stop at death, and *no record* residents leave none. A pension
paid after death is never collected in person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.standard import tables, vocabularies
from shuhui.synth.behaviour import URBAN_CORE as _URBAN_CORE
from shuhui.synth.behaviour import alive_on, event_days
from shuhui.synth.columns import (
    BoolArray,
    FloatArray,
    IntArray,
    batch,
    concat,
    pool,
    take,
    weighted_index,
)
from shuhui.synth.context import Window
from shuhui.synth.payees import BANK_NAMES, bank_of
from shuhui.synth.pensions import Pensions
from shuhui.synth.population import DISTRICT_CODES, DISTRICT_NAMES, People

_DISTRICTS = pool(DISTRICT_CODES)
_PAY_DAY = 9  # as in pensions: paid on the 10th
_PHARMACIES = pool(["漱玉平民大药房", "医保城大药房", "同仁堂药店", "国大药房", "社区医保定点药店"])
_HALLS = pool(["政务服务中心", "人力资源和社会保障服务大厅", "医疗保障服务大厅"])
_BRANCH_KINDS = pool(["支行", "营业部", "分理处"])
_MEDICAL, _BUS, _FINANCE, _IDENTITY, _BENEFIT = range(len(vocabularies.CARD_USE_PURPOSES))
_COUNTER, _TERMINAL = range(len(vocabularies.COLLECTION_METHODS))


@dataclass
class Collections:
    rows: pa.RecordBatch
    who: IntArray
    day: IntArray
    branch: pa.Array
    district: IntArray
    method: IntArray


def _branches(rng: np.random.Generator, bank: IntArray, district: IntArray) -> pa.Array:
    kind = take(_BRANCH_KINDS, _indexes(rng, len(_BRANCH_KINDS), bank.shape[0]))
    return concat(take(BANK_NAMES, bank), "青岛", take(pool(DISTRICT_NAMES), district), kind)


def _near_home(rng: np.random.Generator, people: People, who: IntArray, share: float) -> IntArray:
    """A district for each event: the person's own with ``share``, else anywhere."""
    k = who.shape[0]
    anywhere = weighted_index(rng, np.ones(len(DISTRICT_CODES)), k)
    district: IntArray = np.where(rng.random(k) < share, people.district[who], anywhere)
    return district


def collections(
    rng: np.random.Generator,
    people: People,
    silent: BoolArray,
    pensions: Pensions,
    row_bank: IntArray,
    window: Window,
) -> Collections:
    """Pensions collected at a bank counter or terminal in the days after pay day.

    A minority collect in person at all — rural and very old pensioners more than others —
    and those who do, do so in most but not all months.
    """
    n_rows = pensions.person.shape[0]
    person = pensions.person
    age = people.age[person]
    p_collector = 0.12 + 0.18 * people.rural[person] + 0.15 * (age >= 80)
    collector = (rng.random(n_rows) < p_collector) & ~silent[person]
    habit: FloatArray = rng.uniform(0.3, 0.9, size=(n_rows,))
    paid_row, paid_month = pensions.paid_row, pensions.paid_month
    taken = collector[paid_row] & (rng.random(paid_row.shape[0]) < habit[paid_row])
    row, month = paid_row[taken], paid_month[taken]
    who = person[row]
    day = window.month_starts[month] + _PAY_DAY + rng.integers(0, 12, row.shape[0])
    keep = (day <= window.as_of) & alive_on(people, who, day)
    row, who, day = row[keep], who[keep], day[keep]
    k = row.shape[0]
    district = _near_home(rng, people, who, 0.92)
    branch = _branches(rng, row_bank[row], district)
    counter_share = np.where(people.age[who] >= 75, 0.75, 0.5)
    method = np.where(rng.random(k) < counter_share, _COUNTER, _TERMINAL)
    rows = batch(
        tables.BENEFIT_COLLECTIONS,
        {
            "citizen_id": take(people.citizen_id, who),
            "pension_id": take(pensions.pension_id, row),
            "collected_on": day,
            "branch": branch,
            "method": take(pool(vocabularies.COLLECTION_METHODS), method),
        },
    )
    return Collections(rows, who, day, branch, district, method)


def card_uses(
    rng: np.random.Generator,
    people: People,
    silent: BoolArray,
    visits: pa.RecordBatch,
    collected: Collections,
    pensioner: BoolArray,
    window: Window,
) -> pa.RecordBatch:
    """A year of card uses of every card holder (``visits``: the chunk's medical visits).

    Every pensioner holds a card (pensions are paid onto it in most cases), and every living
    pensioner not in ``silent`` uses it at least once: one with no other use this year still
    withdraws or pays at the bank with it.
    """
    n = people.size
    age = people.age
    year = window.months / 12
    holds = ((rng.random(n) < np.where(age < 16, 0.9, 0.97)) | pensioner) & ~silent
    parts: list[tuple[IntArray, IntArray, int, pa.Array, IntArray]] = []

    # Hospitals: paid with the card on most elderly patients' visits, fewer younger ones'.
    v_who = pc.index_in(visits.column("citizen_id"), value_set=people.citizen_id)
    v_who_np = v_who.to_numpy(zero_copy_only=False).astype(np.int64)
    v_day = visits.column("visit_date").cast(pa.int32()).to_numpy().astype(np.int64)
    p_card = np.where(age >= 60, 0.85, np.where(age >= 16, 0.35, 0.5))
    by_card = holds[v_who_np] & (rng.random(v_who_np.shape[0]) < p_card[v_who_np])
    chosen = np.flatnonzero(by_card)
    parts.append(
        (
            v_who_np[chosen],
            v_day[chosen],
            _MEDICAL,
            visits.column("hospital").take(pa.array(chosen)),
            people.district[v_who_np[chosen]],
        )
    )

    # Pharmacies: medicine bought on the medical-insurance account, much more by the old.
    rate = np.interp(age, [0, 16, 40, 60, 75, 90], [0.3, 0.6, 1.0, 4.0, 6.0, 6.0]) * year
    who, day = _events(rng, people, window, holds, rate)
    district = _near_home(rng, people, who, 0.95)
    pharmacy = take(_PHARMACIES, _indexes(rng, len(_PHARMACIES), who.shape[0]))
    place = concat(pharmacy, "（", take(pool(DISTRICT_NAMES), district), "店）")
    parts.append((who, day, _MEDICAL, place, district))

    # Buses: the card is the senior pass from 60 (free from 70); the old ride less.
    urban_core = _URBAN_CORE[people.district]
    riding = np.where(urban_core, 0.6, 0.3) * np.interp(age, [60, 75, 85, 95], [1, 0.8, 0.4, 0.1])
    rider = holds & (age >= 60) & (rng.random(n) < riding)
    who, day = _events(rng, people, window, rider, np.full(n, 20.0 * year))
    district = _near_home(rng, people, who, 0.85)
    line = concat("公交", pc.cast(pa.array(rng.integers(1, 960, who.shape[0])), pa.string()), "路")
    parts.append((who, day, _BUS, line, district))

    # Bank counters, bill payments: pensioners use the card as their bank card.
    rate = np.where(age >= 18, np.where(pensioner, 3.0, 1.0), 0.0) * year
    who, day = _events(rng, people, window, holds, rate)
    district = _near_home(rng, people, who, 0.9)
    banks = bank_of(rng, people)
    parts.append((who, day, _FINANCE, _branches(rng, banks[who], district), district))

    # Service halls: the card as proof of identity.
    rate = np.where(age >= 60, 1.0, np.where(age >= 18, 0.5, 0.0)) * year
    who, day = _events(rng, people, window, holds, rate)
    district = _near_home(rng, people, who, 0.95)
    hall = take(_HALLS, _indexes(rng, len(_HALLS), who.shape[0]))
    parts.append(
        (who, day, _IDENTITY, concat(take(pool(DISTRICT_NAMES), district), hall), district)
    )

    # Pensions collected in person: the card is inserted at a terminal, shown at most counters.
    with_card = holds[collected.who] & (
        (collected.method == _TERMINAL) | (rng.random(collected.who.shape[0]) < 0.85)
    )
    chosen = np.flatnonzero(with_card)
    parts.append(
        (
            collected.who[chosen],
            collected.day[chosen],
            _BENEFIT,
            collected.branch.take(pa.array(chosen)),
            collected.district[chosen],
        )
    )

    # Living pensioners with no use yet: one bank use on a day of the window.
    used = np.zeros(n, dtype=bool)
    for part in parts:
        used[part[0]] = True
    quiet = np.flatnonzero(pensioner & holds & ~used & (people.death > window.as_of))
    day = window.start + (rng.random(quiet.shape[0]) * window.days).astype(np.int64)
    day = np.maximum(day, people.birth[quiet])
    district = _near_home(rng, people, quiet, 0.9)
    parts.append((quiet, day, _FINANCE, _branches(rng, banks[quiet], district), district))

    who = np.concatenate([p[0] for p in parts])
    return batch(
        tables.CARD_USES,
        {
            "citizen_id": take(people.citizen_id, who),
            "used_on": np.concatenate([p[1] for p in parts]),
            "purpose": take(
                pool(vocabularies.CARD_USE_PURPOSES),
                np.concatenate([np.full(p[0].shape[0], p[2]) for p in parts]),
            ),
            "place": pa.concat_arrays([_plain(p[3]) for p in parts]),
            "district_code": take(_DISTRICTS, np.concatenate([p[4] for p in parts])),
        },
    )


def _indexes(rng: np.random.Generator, options: int, k: int) -> IntArray:
    drawn: IntArray = rng.integers(0, options, size=(k,))
    return drawn


def _plain(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks().cast(pa.string())
    return values.cast(pa.string())


def _events(
    rng: np.random.Generator,
    people: People,
    window: Window,
    eligible: BoolArray,
    rate: np.ndarray,
) -> tuple[IntArray, IntArray]:
    """Days of a Poisson number of events per eligible person, spread over the window."""
    count = np.where(eligible, rng.poisson(rate), 0)
    who = np.repeat(np.arange(people.size), count)
    day = event_days(rng, window, who, None)
    keep = alive_on(people, who, day)
    return who[keep], day[keep]
