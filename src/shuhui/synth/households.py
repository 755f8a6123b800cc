"""Households: residents of a chunk grouped into families that look like families.

Each resident gets an *anchor age*: their own age, a child's age plus a parent's (about 28
years), and for some elderly people their children's age. Sorting a district's residents by
anchor and cutting the list into households of realistic sizes puts parents with children and
couples with couples, without any per-household loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.standard import tables, vocabularies
from shuhui.synth import vocab
from shuhui.synth.columns import BoolArray, IntArray, batch, concat, number_strings, pool, take
from shuhui.synth.population import DISTRICT_CODES, DISTRICT_NAMES, People, surnames

_SIZES = np.arange(1, 7)
_SIZE_SHARES = np.array([0.22, 0.33, 0.26, 0.11, 0.05, 0.03])
_HEAD, _SPOUSE, _CHILD, _PARENT, _OTHER = range(5)


@dataclass
class Households:
    member_of: IntArray  # per resident: chunk-local household number
    relation: IntArray  # per resident: index into vocabularies.RELATIONS
    head: IntArray  # per household: chunk-local resident index of the head
    size: IntArray  # per household
    district: IntArray  # per household
    rural: BoolArray  # per household
    metered: BoolArray  # per household: has water/electricity/gas accounts
    household_id: pa.Array  # per household

    @property
    def count(self) -> int:
        return int(self.head.shape[0])


def form_households(
    rng: np.random.Generator, people: People, no_record: BoolArray, first_number: int
) -> Households:
    """Group ``people`` into households numbered from ``first_number`` (globally unique as long
    as each chunk starts at its first resident's index)."""
    n = people.size
    age = people.age.astype(np.float64)
    anchor = age + rng.normal(0.0, 2.0, n)
    child = people.age < 18
    anchor[child] += 28 + rng.normal(0.0, 3.0, int(child.sum()))
    with_children = (people.age >= 60) & (rng.random(n) < 0.3)
    anchor[with_children] -= 30
    # Men and women are interleaved by their position in their own sex's anchor order, so a
    # household cut from the sequence tends to hold a couple of similar age.
    by_anchor = np.lexsort((anchor, people.male, people.district))
    group = (people.district * 2 + people.male)[by_anchor]
    group_start = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    group_size = np.diff(np.r_[group_start, n])
    position = np.arange(n) - np.repeat(group_start, group_size)
    quantile = np.empty(n)
    quantile[by_anchor] = (position + 0.5) / np.repeat(group_size, group_size)
    # People with no record live alone (registered here, living elsewhere): sort them last.
    order = np.lexsort((quantile, no_record, people.district))
    member_sorted = np.empty(n, dtype=np.int64)
    next_household = 0
    group_key = people.district[order] * 2 + no_record[order]
    bounds = np.flatnonzero(np.diff(group_key)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True):
        length = int(hi - lo)
        if no_record[order[lo]]:
            sizes = np.ones(length, dtype=np.int64)
        else:
            sizes = _SIZES[
                np.minimum(
                    np.searchsorted(np.cumsum(_SIZE_SHARES), rng.random(length), side="right"), 5
                )
            ]
            cut = int(np.searchsorted(np.cumsum(sizes), length))
            sizes = sizes[: cut + 1]
            sizes[-1] = length - sizes[:-1].sum()
        local = np.repeat(np.arange(sizes.shape[0]), sizes)
        local = _adopt_children(local, people.age[order[lo:hi]] >= 18)
        member_sorted[lo:hi] = next_household + local
        next_household += int(local.max(initial=-1)) + 1
    member_of = np.empty(n, dtype=np.int64)
    member_of[order] = member_sorted

    # Head: the oldest member (ties: the first in chunk order).
    by_age = np.lexsort((-people.age, member_of))
    first_of_group = np.r_[True, np.diff(member_of[by_age]) != 0]
    head = by_age[first_of_group]
    size = np.bincount(member_of, minlength=head.shape[0])
    head_of = head[member_of]
    relation = _relations(people, member_of, head_of)

    district = people.district[head]
    rural = people.rural[head]
    metered = ~no_record[head]
    number = number_strings(first_number + np.arange(head.shape[0]), 9)
    household_id = concat(take(pool(DISTRICT_CODES), district), number)
    return Households(
        member_of=member_of,
        relation=relation,
        head=head,
        size=size,
        district=district,
        rural=rural,
        metered=metered,
        household_id=household_id,
    )


def _adopt_children(household: IntArray, adult: BoolArray) -> IntArray:
    """Fold households without an adult into the nearest household before them that has one
    (or after, at the start of the list), then renumber households consecutively."""
    count = int(household.max(initial=-1)) + 1
    has_adult = np.bincount(household, weights=adult, minlength=count) > 0
    if has_adult.all() or not has_adult.any():
        return household
    index = np.arange(count)
    before = np.maximum.accumulate(np.where(has_adult, index, -1))
    after = np.minimum.accumulate(np.where(has_adult, index, count)[::-1])[::-1]
    target = np.where(before >= 0, before, after)
    _, renumbered = np.unique(target[household], return_inverse=True)
    return renumbered.astype(np.int64)


def _relations(people: People, member_of: IntArray, head_of: IntArray) -> IntArray:
    n = people.size
    idx = np.arange(n)
    gap = people.age - people.age[head_of]
    relation = np.full(n, _OTHER, dtype=np.int64)
    relation[gap <= -16] = _CHILD
    relation[gap >= 16] = _PARENT
    candidate = (
        (idx != head_of)
        & (people.male != people.male[head_of])
        & (np.abs(gap) <= 10)
        & (people.age >= 20)
    )
    # At most one spouse per household: the first candidate.
    cand = np.flatnonzero(candidate)
    _, first = np.unique(member_of[cand], return_index=True)
    relation[cand[first]] = _SPOUSE
    relation[idx == head_of] = _HEAD
    return relation


def households_batch(
    rng: np.random.Generator, people: People, households: Households
) -> pa.RecordBatch:
    return batch(
        tables.HOUSEHOLDS,
        {
            "household_id": households.household_id,
            "head_citizen_id": take(people.citizen_id, households.head),
            "district_code": take(pool(DISTRICT_CODES), households.district),
            "address": _addresses(rng, households),
            "hukou_type": take(pool(vocabularies.HUKOU_TYPES), households.rural.astype(np.int64)),
            "members": households.size.astype(np.int16),
        },
    )


def _district_pool(per_district: dict[str, tuple[str, ...]]) -> tuple[pa.Array, IntArray, IntArray]:
    names = [name for code in DISTRICT_CODES for name in per_district[code]]
    counts = np.array([len(per_district[code]) for code in DISTRICT_CODES])
    return pool(names), np.cumsum(counts) - counts, counts


_ROADS = _district_pool(vocab.DISTRICT_ROADS)
_TOWNS = _district_pool(vocab.DISTRICT_TOWNS)


def _from_district_pool(
    rng: np.random.Generator, district_pool: tuple[pa.Array, IntArray, IntArray], district: IntArray
) -> pa.Array:
    names, offsets, counts = district_pool
    chosen = offsets[district] + (rng.random(district.shape[0]) * counts[district]).astype(np.int64)
    return take(names, chosen)


def _int_strings(values: IntArray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _addresses(rng: np.random.Generator, households: Households) -> pa.Array:
    district = households.district
    n = len(district)
    prefix = concat("山东省青岛市", take(pool(DISTRICT_NAMES), district))
    urban = concat(
        prefix,
        _from_district_pool(rng, _ROADS, district),
        _int_strings(rng.integers(1, 300, n)),
        "号",
        _int_strings(rng.integers(1, 30, n)),
        "号楼",
        _int_strings(rng.integers(1, 5, n)),
        "单元",
        _int_strings(rng.integers(1, 30, n) * 100 + rng.integers(1, 5, n)),
        "户",
    )
    suffix = take(pool(vocab.VILLAGE_SUFFIXES), rng.integers(0, len(vocab.VILLAGE_SUFFIXES), n))
    village = concat(surnames(rng, n), "家", suffix)
    rural = concat(
        prefix,
        _from_district_pool(rng, _TOWNS, district),
        village,
        _int_strings(rng.integers(1, 500, n)),
        "号",
    )
    return pc.if_else(pa.array(households.rural), rural, urban)
