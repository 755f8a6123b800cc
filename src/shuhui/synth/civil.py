"""Civil records: deaths and cremations, certificates, graduates, the disability registry."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from shuhui.standard import tables, vocabularies
from shuhui.synth import vocab
from shuhui.synth.columns import (
    NEVER,
    BoolArray,
    IntArray,
    batch,
    concat,
    number_strings,
    pool,
    take,
    weighted_index,
)
from shuhui.synth.context import Window, add_years, day_number, split_days, to_date
from shuhui.synth.population import DISTRICT_CODES, DISTRICT_NAMES, People

# --- deaths ----------------------------------------------------------------------------------

_GOMPERTZ_SLOPE = 0.09  # mortality roughly doubles every eight years of age
_DEATH_RATE = 0.007  # per year, crude


def draw_deaths(
    rng: np.random.Generator, people: People, window: Window, mean_hazard: float
) -> IntArray:
    """Day of death in the window, or NEVER. ``mean_hazard`` is E[exp(slope * age)] of the city."""
    q = np.minimum(_DEATH_RATE / mean_hazard * np.exp(_GOMPERTZ_SLOPE * people.age), 0.6)
    q[people.age == 0] = 0.002  # infant mortality, well below the Gompertz curve's tail
    dies = rng.random(people.size) < 1 - (1 - q) ** (window.months / 12)
    day = window.start + (rng.random(people.size) * window.days).astype(np.int64)
    day = np.maximum(day, people.birth + 1)
    return np.where(dies & (day <= window.as_of), day, NEVER)


def mean_hazard(age_shares: np.ndarray) -> float:
    ages = np.arange(age_shares.shape[0]) * 5 + 2.5
    return float((age_shares * np.exp(_GOMPERTZ_SLOPE * ages)).sum() / age_shares.sum())


def deaths_batches(
    rng: np.random.Generator, people: People, window: Window
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    who = np.flatnonzero(people.death <= window.as_of)
    k = who.shape[0]
    death = people.death[who]
    registered = np.minimum(death + rng.integers(0, 8, k), window.as_of)
    cause = weighted_index(rng, [0.93, 0.05, 0.02], k)
    deaths = batch(
        tables.DEATHS,
        {
            "citizen_id": take(people.citizen_id, who),
            "name": take(people.name, who),
            "death_date": death,
            "registered_date": registered,
            "district_code": take(pool(DISTRICT_CODES), people.district[who]),
            "cause": take(pool(vocabularies.DEATH_CAUSES), cause),
        },
    )
    cremated_on = death + rng.integers(2, 6, k)
    cremated = (rng.random(k) < 0.93) & (cremated_on <= window.as_of)
    homes = pool([vocab.FUNERAL_HOMES[c] for c in DISTRICT_CODES])
    sel = np.flatnonzero(cremated)
    cremations = batch(
        tables.CREMATIONS,
        {
            "citizen_id": take(people.citizen_id, who[sel]),
            "name": take(people.name, who[sel]),
            "cremation_date": cremated_on[sel],
            "funeral_home": take(homes, people.district[who[sel]]),
        },
    )
    return deaths, cremations


# --- education -------------------------------------------------------------------------------

_COLLEGE = vocabularies.EDUCATION_LEVELS.index("大学专科")
_DEGREE_OF_LEVEL = np.array([-1, -1, -1, -1, -1, 0, 1, 2, 3])  # education level -> degree
_GRADUATION_AGE = np.array([21, 22, 25, 28])
_UNI_NAMES = pool([u[0] for u in vocab.UNIVERSITIES])
_UNI_CODES = np.array([int(u[1]) for u in vocab.UNIVERSITIES])
_UNI_LEVEL = np.array([u[2] for u in vocab.UNIVERSITIES])
_UNI_WEIGHT = np.array([u[3] for u in vocab.UNIVERSITIES])
# Per degree, which universities award it (vocational colleges mostly award 专科).
_UNI_CUM = np.cumsum(
    np.stack(
        [
            _UNI_WEIGHT * np.where(_UNI_LEVEL == 0, 3.0, 0.3),
            _UNI_WEIGHT * (_UNI_LEVEL >= 1),
            _UNI_WEIGHT * (_UNI_LEVEL >= 2),
            _UNI_WEIGHT * (_UNI_LEVEL >= 3),
        ]
    ),
    axis=1,
)
_DIPLOMAS_FROM = 2001  # electronic registration of diplomas (学信网) starts with this cohort


def graduates(
    rng: np.random.Generator, people: People, window: Window
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Residents with a diploma on record: who, degree, university, graduation day."""
    who = np.flatnonzero(people.education >= _COLLEGE)
    degree = _DEGREE_OF_LEVEL[people.education[who]]
    year = split_days(people.birth[who])[0] + _GRADUATION_AGE[degree]
    day = _july_first(year)
    keep = (year >= _DIPLOMAS_FROM) & (day <= window.as_of)
    who, degree, day = who[keep], degree[keep], day[keep]
    university = np.minimum(
        (rng.random(who.shape[0])[:, None] * _UNI_CUM[degree, -1:] >= _UNI_CUM[degree]).sum(axis=1),
        len(vocab.UNIVERSITIES) - 1,
    )
    return who, degree, university, day


def _july_first(year: IntArray) -> IntArray:
    return ((year - 1970) * 12 + 6).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def college_graduates(
    rng: np.random.Generator,
    people: People,
    window: Window,
    diplomas: tuple[IntArray, IntArray, IntArray, IntArray],
    employed_at_end: BoolArray,
) -> pa.RecordBatch:
    who, degree, university, day = diplomas
    recent = split_days(day)[0] >= to_date(window.as_of).year - 4
    who, degree, university, day = who[recent], degree[recent], university[recent], day[recent]
    k = who.shape[0]
    status = np.where(employed_at_end[who], 0, np.where(rng.random(k) < 0.15, 2, 1))
    major = rng.integers(0, len(vocab.MAJORS), len(who))
    return batch(
        tables.COLLEGE_GRADUATES,
        {
            "citizen_id": take(people.citizen_id, who),
            "name": take(people.name, who),
            "university": take(_UNI_NAMES, university),
            "degree": take(pool(vocabularies.DEGREES), degree),
            "major": take(pool(vocab.MAJORS), major),
            "graduation_date": day,
            "employment_status": take(pool(vocabularies.GRADUATE_STATUSES), status),
        },
    )


# --- disability ------------------------------------------------------------------------------

_CARD_FROM = day_number(date(2008, 1, 1))  # second-generation disability cards


def disabled(
    rng: np.random.Generator, people: People, window: Window
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Registered disabled residents: who, type, level, card issue day."""
    p = np.where(people.age >= 1, 0.006 + 0.00035 * people.age, 0.0)
    who = np.flatnonzero(rng.random(people.size) < p)
    k = who.shape[0]
    kind = weighted_index(rng, vocab.DISABILITY_TYPE_SHARES, k)
    level = weighted_index(rng, vocab.DISABILITY_LEVEL_SHARES, k)
    first = np.maximum(add_years(people.birth[who], 1), _CARD_FROM)
    issued = first + (rng.random(k) * np.maximum(window.as_of - first, 1)).astype(np.int64)
    return who, kind, level, np.minimum(issued, window.as_of)


def disabled_batch(
    people: People, registry: tuple[IntArray, IntArray, IntArray, IntArray]
) -> pa.RecordBatch:
    who, kind, level, issued = registry
    return batch(
        tables.DISABLED_PERSONS,
        {
            "citizen_id": take(people.citizen_id, who),
            "name": take(people.name, who),
            "disability_type": take(pool(vocabularies.DISABILITY_TYPES), kind),
            "disability_level": take(pool(vocabularies.DISABILITY_LEVELS), level),
            "certificate_no": _disability_card_no(people, registry),
            "issue_date": issued,
            "district_code": take(pool(DISTRICT_CODES), people.district[who]),
        },
    )


def _disability_card_no(
    people: People, registry: tuple[IntArray, IntArray, IntArray, IntArray]
) -> pa.Array:
    # 残疾人证号: the identity number, then the type (1-7) and level (1-4) digits.
    who, kind, level, _issued = registry
    return concat(take(people.citizen_id, who), number_strings((kind + 1) * 10 + level + 1, 2))


# --- e-certificates --------------------------------------------------------------------------

_VALID, _VOID, _CANCELLED = 0, 1, 2  # vocabularies.CERTIFICATE_STATUSES
_LOCAL_PREFIX = pool([n if n.endswith("市") else f"青岛市{n}" for n in DISTRICT_NAMES])
_PROPERTY_FROM = day_number(date(2016, 1, 1))  # unified real-estate registration


def certificates(
    rng: np.random.Generator,
    people: People,
    window: Window,
    diplomas: tuple[IntArray, IntArray, IntArray, IntArray],
    registry: tuple[IntArray, IntArray, IntArray, IntArray],
    heads: IntArray,
    resident_digits: int,
) -> pa.RecordBatch:
    """Diplomas, marriage certificates, property certificates and disability cards."""
    dead = people.death <= window.as_of
    parts: list[dict[str, pa.Array]] = []

    who, degree, university, day = diplomas
    year = split_days(day)[0]
    # 证书编号: institution code, year, level digit and a serial.
    number = number_strings(
        ((_UNI_CODES[university] * 10000 + year) * 10 + degree + 1) * 10**8
        + people.index[who] % 10**8,
        18,
    )
    parts.append(
        _cert_columns(
            people,
            who,
            number,
            "毕业证书",
            take(_UNI_NAMES, university),
            day,
            np.full(who.shape[0], _VALID),
        )
    )

    ever_married = np.flatnonzero(people.marital >= 1)
    wed = add_years(people.birth[ever_married], rng.integers(22, 31, ever_married.shape[0]))
    wed = np.minimum(wed, window.as_of)
    wed_year = split_days(wed)[0]
    marriage_no = concat(
        "J",
        take(pool(DISTRICT_CODES), people.district[ever_married]),
        "-",
        number_strings(wed_year, 4),
        "-",
        number_strings(people.index[ever_married], resident_digits),
    )
    issuer = concat(take(_LOCAL_PREFIX, people.district[ever_married]), "民政局")
    status = np.where(people.marital[ever_married] == 2, _VOID, _VALID)  # 离婚: no longer valid
    parts.append(_cert_columns(people, ever_married, marriage_no, "结婚证", issuer, wed, status))

    owners = heads[
        (people.age[heads] >= 25)
        & (rng.random(heads.shape[0]) < np.where(people.rural[heads], 0.35, 0.7))
    ]
    issued = _PROPERTY_FROM + (rng.random(len(owners)) * (window.as_of - _PROPERTY_FROM)).astype(
        np.int64
    )
    issued = np.maximum(issued, add_years(people.birth[owners], 18))
    issued = np.minimum(issued, window.as_of)
    district_name = take(pool(DISTRICT_NAMES), people.district[owners])
    property_no = concat(
        "鲁(",
        number_strings(split_days(issued)[0], 4),
        ")青岛市",
        district_name,
        "不动产权第",
        number_strings(people.index[owners], max(7, resident_digits)),
        "号",
    )
    parts.append(
        _cert_columns(
            people,
            owners,
            property_no,
            "不动产权证书",
            pa.array(np.full(owners.shape[0], "青岛市自然资源和规划局", dtype=object), pa.string()),
            issued,
            np.where(dead[owners], _CANCELLED, _VALID),
        )
    )

    d_who, _kind, _level, d_issued = registry
    parts.append(
        _cert_columns(
            people,
            d_who,
            _disability_card_no(people, registry),
            "残疾人证",
            concat(take(_LOCAL_PREFIX, people.district[d_who]), "残疾人联合会"),
            d_issued,
            np.where(dead[d_who], _CANCELLED, _VALID),
        )
    )
    columns = {name: pa.concat_arrays([part[name] for part in parts]) for name in parts[0]}
    return batch(tables.CERTIFICATES, columns)


def _cert_columns(
    people: People,
    who: IntArray,
    number: pa.Array,
    kind: str,
    issuer: pa.Array,
    issued: IntArray,
    status: IntArray,
) -> dict[str, pa.Array]:
    k = who.shape[0]
    return {
        "certificate_no": number,
        "certificate_type": pa.array(np.full(k, kind, dtype=object), pa.string()),
        "holder_type": pa.array(np.full(k, "个人", dtype=object), pa.string()),
        "holder_citizen_id": take(people.citizen_id, who),
        "holder_credit_code": pa.nulls(k, pa.string()),
        "holder_name": take(people.name, who),
        "issuer": issuer,
        "issue_date": pa.array(issued.astype(np.int32), pa.date32()),
        "status": take(pool(vocabularies.CERTIFICATE_STATUSES), status),
    }
