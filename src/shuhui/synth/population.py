"""Who lives in the city: the age pyramid, birth places, and each chunk's residents.

Identity numbers must be unique, and a chunk must not have to know the others. So the whole
population is laid out once, cheaply: every resident is a *cell* (birth division, birth day,
sex) and a *rank* inside that cell. Cell counts come from one multinomial draw over the
pyramid; the rank gives a distinct 3-digit sequence number inside the cell. A random
permutation deals residents to chunks. That costs six bytes per resident, the only state that
grows with the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.core.regions import qingdao_districts
from shuhui.synth import vocab
from shuhui.synth.columns import (
    BoolArray,
    FloatArray,
    IntArray,
    concat,
    number_strings,
    pool,
    rows_weighted_index,
    take,
    weighted_index,
)
from shuhui.synth.context import Stream, add_years, day_number, rng_for, split_days
from shuhui.synth.idgen import citizen_ids

MAX_AGE = 104
# Sequence numbers per cell and sex: 3 digits whose last one carries the sex.
_SEQUENCES_PER_CELL = 500

DISTRICT_CODES: tuple[str, ...] = tuple(r.code for r in qingdao_districts())
DISTRICT_NAMES: tuple[str, ...] = tuple(r.name for r in qingdao_districts())
DISTRICT_WEIGHTS = np.array([vocab.DISTRICT_POPULATION[c] for c in DISTRICT_CODES])
URBAN_SHARE = np.array([vocab.DISTRICT_URBAN_SHARE[c] for c in DISTRICT_CODES])


def _birth_divisions() -> tuple[IntArray, IntArray]:
    """Division codes a resident may be born under, and the current district of each (-1: none)."""
    codes = [int(c) for c in DISTRICT_CODES]
    home = list(range(len(DISTRICT_CODES)))
    for current, old, _share, _until in vocab.RETIRED_BIRTH_CODES:
        codes.append(int(old))
        home.append(DISTRICT_CODES.index(current))
    for code, _weight in vocab.MIGRANT_BIRTH_DIVISIONS:
        codes.append(int(code))
        home.append(-1)
    return np.array(codes, dtype=np.int64), np.array(home, dtype=np.int64)


BIRTH_DIVISIONS, BIRTH_HOME_DISTRICT = _birth_divisions()


def ages_at(birth: IntArray, on: date) -> IntArray:
    """Completed years of age on ``on``."""
    year, month, day = split_days(birth)
    before_birthday = (on.month * 100 + on.day) < (month * 100 + day)
    return on.year - year - before_birthday.astype(np.int64)


def _male_share(age: IntArray) -> FloatArray:
    # Slightly more boys at birth; women outlive men.
    return np.interp(age, [0, 40, 65, 85, 95], [0.515, 0.51, 0.48, 0.42, 0.35])


@dataclass(frozen=True)
class Layout:
    """Every resident's cell and rank, in the order residents are generated."""

    first_birth_day: int
    days: int
    cell: npt.NDArray[np.int32]
    rank: npt.NDArray[np.int16]
    sequence_offset: int
    sequence_stride: int

    @classmethod
    def build(cls, residents: int, seed: int, as_of: date) -> Layout:
        rng = rng_for(seed, Stream.POPULATION)
        as_of_day = day_number(as_of)
        first = int(add_years(np.array([as_of_day]), -(MAX_AGE + 1))[0]) + 1
        birth = np.arange(first, as_of_day + 1, dtype=np.int64)
        age = np.minimum(ages_at(birth, as_of), MAX_AGE)
        group = np.minimum(age // 5, len(vocab.AGE_GROUP_SHARES) - 1)
        shares = np.array(vocab.AGE_GROUP_SHARES)
        p_day = shares[group] / np.bincount(group, minlength=len(shares))[group]

        year = split_days(birth)[0]
        qingdao_born = np.where(age < 18, 0.82, np.where(age < 60, 0.62, 0.85))
        district_w = DISTRICT_WEIGHTS / DISTRICT_WEIGHTS.sum()
        p_div = np.zeros((BIRTH_DIVISIONS.shape[0], birth.shape[0]))
        p_div[: len(DISTRICT_CODES)] = district_w[:, None] * qingdao_born[None, :]
        for i, (current, _old, share, until) in enumerate(vocab.RETIRED_BIRTH_CODES):
            row = DISTRICT_CODES.index(current)
            moved = p_div[row] * share * (year < until)
            p_div[row] -= moved
            p_div[len(DISTRICT_CODES) + i] = moved
        migrant_w = np.array([w for _code, w in vocab.MIGRANT_BIRTH_DIVISIONS])
        first_migrant = len(DISTRICT_CODES) + len(vocab.RETIRED_BIRTH_CODES)
        p_div[first_migrant:] = (migrant_w / migrant_w.sum())[:, None] * (1 - qingdao_born)[None, :]

        male = _male_share(age)
        p = p_div[:, :, None] * (p_day[:, None] * np.stack([male, 1 - male], axis=1))[None, :, :]
        p = p.ravel()
        counts = rng.multinomial(residents, p / p.sum())
        if counts.max(initial=0) > _SEQUENCES_PER_CELL:
            raise ValueError("too many residents for distinct identity numbers per birth day")
        cells = np.flatnonzero(counts)
        per_cell = counts[cells]
        cell_sorted = np.repeat(cells.astype(np.int32), per_cell)
        starts = np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
        rank_sorted = (np.arange(residents) - starts).astype(np.int16)
        order = rng.permutation(residents)
        return cls(
            first_birth_day=first,
            days=birth.shape[0],
            cell=cell_sorted[order],
            rank=rank_sorted[order],
            # Scrambles which sequence numbers a cell uses; a stride coprime with 500 keeps
            # distinct ranks distinct.
            sequence_offset=int(rng.integers(0, _SEQUENCES_PER_CELL)),
            sequence_stride=int(rng.choice([7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47])),
        )


@dataclass
class People:
    """One chunk of residents; every array has one element per resident, in chunk order."""

    index: IntArray  # global resident number, 0-based
    citizen_id: pa.Array
    name: pa.Array
    male: BoolArray
    birth: IntArray  # day number
    age: IntArray  # completed years on the as-of date
    birth_division: IntArray
    district: IntArray  # index into DISTRICT_CODES
    rural: BoolArray
    education: IntArray  # index into vocabularies.EDUCATION_LEVELS
    marital: IntArray  # index into vocabularies.MARITAL_STATUSES
    phone: pa.Array
    death: IntArray  # day number, or NEVER

    @property
    def size(self) -> int:
        return int(self.index.shape[0])

    @property
    def district_code(self) -> pa.Array:
        return take(pool(DISTRICT_CODES), self.district)


def draw_people(
    layout: Layout, seed: int, as_of: date, chunk: int, start: int, stop: int
) -> People:
    """Residents ``start`` to ``stop`` (exclusive) of the city; ``chunk`` seeds their streams."""
    cell = layout.cell[start:stop].astype(np.int64)
    rank = layout.rank[start:stop].astype(np.int64)
    division_index = cell // (layout.days * 2)
    birth = layout.first_birth_day + (cell // 2) % layout.days
    male = cell % 2 == 0
    k = (rank * layout.sequence_stride + layout.sequence_offset + cell * 7) % _SEQUENCES_PER_CELL
    sequence = 2 * k + male
    division = BIRTH_DIVISIONS[division_index]
    age = ages_at(birth, as_of)
    n = cell.shape[0]

    rng = rng_for(seed, Stream.RESIDENTS, chunk)
    home = BIRTH_HOME_DISTRICT[division_index]
    anywhere = weighted_index(rng, DISTRICT_WEIGHTS, n)
    district = np.where((home >= 0) & (rng.random(n) < 0.8), home, anywhere)
    rural = rng.random(n) >= URBAN_SHARE[district]
    education = _education(rng, birth, age, rural)
    marital = _marital(rng, age, male)
    phone = _phones(rng, age)
    return People(
        index=np.arange(start, stop, dtype=np.int64),
        citizen_id=citizen_ids(division, birth, sequence),
        name=person_names(rng_for(seed, Stream.NAMES, chunk), male, split_days(birth)[0]),
        male=male,
        birth=birth,
        age=age,
        birth_division=division,
        district=district,
        rural=rural,
        education=education,
        marital=marital,
        phone=phone,
        death=np.full(n, np.int64(2**31 - 1)),
    )


_COHORT_CUM = np.cumsum(np.array(vocab.EDUCATION_BY_COHORT, dtype=np.float64), axis=1)
# Rural residents of the same cohort reached higher education about half as often.
_RURAL_FACTOR = np.array([1.6, 1.3, 1.15, 0.9, 0.8, 0.55, 0.5, 0.4, 0.3])
_COHORT_CUM_RURAL = np.cumsum(
    np.array(vocab.EDUCATION_BY_COHORT, dtype=np.float64) * _RURAL_FACTOR, axis=1
)
# Highest level a person of a given age can have reached (index into EDUCATION_LEVELS).
_EDUCATION_CAP_AGES = np.array([7, 13, 16, 19, 22, 25, 28])
_EDUCATION_CAPS = np.array([0, 1, 2, 4, 5, 6, 7, 8])


def _education(
    rng: np.random.Generator, birth: IntArray, age: IntArray, rural: BoolArray
) -> IntArray:
    year = split_days(birth)[0]
    cohort = np.clip((year - 1940) // 10, 0, len(vocab.EDUCATION_BY_COHORT) - 1)
    cum = np.concatenate([_COHORT_CUM, _COHORT_CUM_RURAL])
    level = rows_weighted_index(rng, cum, cohort + rural * len(vocab.EDUCATION_BY_COHORT))
    capped: IntArray = np.minimum(
        level, _EDUCATION_CAPS[np.searchsorted(_EDUCATION_CAP_AGES, age, side="right")]
    )
    return capped


_MARITAL_AGES = np.array([20, 25, 30, 40, 60, 75])
_MARITAL_CUM = np.cumsum(
    np.array(
        [
            [1.0, 0, 0, 0],
            [0.85, 0.15, 0, 0],
            [0.45, 0.53, 0.02, 0],
            [0.12, 0.82, 0.05, 0.01],
            [0.04, 0.86, 0.07, 0.03],
            [0.02, 0.80, 0.05, 0.13],
            [0.01, 0.55, 0.03, 0.41],
        ]
    ),
    axis=1,
)


def _marital(rng: np.random.Generator, age: IntArray, male: BoolArray) -> IntArray:
    band = np.searchsorted(_MARITAL_AGES, age, side="right")
    status = rows_weighted_index(rng, _MARITAL_CUM, band)
    # Widowhood is mostly women's: turn some widowed men back into married.
    return np.where(male & (status == 3) & (rng.random(age.shape[0]) < 0.55), 1, status)


def _phones(rng: np.random.Generator, age: IntArray) -> pa.Array:
    n = age.shape[0]
    prefix = np.array(vocab.MOBILE_PREFIXES)[rng.integers(0, len(vocab.MOBILE_PREFIXES), n)]
    numbers = number_strings(prefix * 10**8 + rng.integers(0, 10**8, n), 11)
    has_phone = (age >= 12) & ~((age >= 85) & (rng.random(n) < 0.5))
    return pc.if_else(pa.array(has_phone), numbers, pa.nulls(n, pa.string()))


_SURNAMES = pool([s for s, _w in vocab.SURNAMES])
_SURNAME_WEIGHTS = np.array([w for _s, w in vocab.SURNAMES])
_CHARS = pool(("", *vocab.GIVEN_CHARS_MALE, *vocab.GIVEN_CHARS_FEMALE))
_N_MALE_CHARS = len(vocab.GIVEN_CHARS_MALE)
_N_FEMALE_CHARS = len(vocab.GIVEN_CHARS_FEMALE)
_WHOLE = pool(
    (
        *vocab.OLD_NAMES_MALE,
        *vocab.OLD_NAMES_FEMALE,
        *vocab.NEW_NAMES_MALE,
        *vocab.NEW_NAMES_FEMALE,
    )
)


def surnames(rng: np.random.Generator, n: int) -> pa.Array:
    return take(_SURNAMES, weighted_index(rng, _SURNAME_WEIGHTS, n))


def person_names(rng: np.random.Generator, male: BoolArray, birth_year: IntArray) -> pa.Array:
    """Chinese names: a surname by frequency and a given name typical of sex and generation."""
    n = male.shape[0]
    family = surnames(rng, n)

    def char() -> IntArray:
        return np.where(
            male,
            1 + rng.integers(0, _N_MALE_CHARS, n),
            1 + _N_MALE_CHARS + rng.integers(0, _N_FEMALE_CHARS, n),
        )

    first, second = char(), char()
    second = np.where(rng.random(n) < 0.15, 0, second)  # one-character given names
    given = concat(take(_CHARS, first), take(_CHARS, second))

    u = rng.random(n)
    old, new = birth_year < 1965, birth_year >= 2008
    whole_kind = np.where(old, 0, 2) + (~male)  # 0 old male, 1 old female, 2 new male, 3 new female
    whole_index = whole_kind * 20 + rng.integers(0, 20, n)
    use_whole = (old | new) & (u < 0.35)
    given = pc.if_else(pa.array(use_whole), take(_WHOLE, whole_index), given)
    return concat(family, given)
