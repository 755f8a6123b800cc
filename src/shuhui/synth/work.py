"""Work and unemployment: employment spells, monthly contributions, unemployment benefits.

Each working-age resident is employed or not when the window opens; spells then end through
turnover, retirement, death, the employer closing or laying staff off in distress; some who
lose a job register as unemployed, draw benefits and find work again. Benefits stop the month
a new job starts, except for the injected anomaly (benefit kept while employed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shuhui.standard import tables, vocabularies
from shuhui.synth import vocab
from shuhui.synth.columns import (
    NEVER,
    BoolArray,
    FloatArray,
    IntArray,
    anomaly_count,
    batch,
    concat,
    number_strings,
    pick,
    pool,
    take,
)
from shuhui.synth.context import Window, add_years, month_first_day, month_index, split_days
from shuhui.synth.enterprises import SECTION_INJURY_RATES, Enterprises
from shuhui.synth.population import DISTRICT_CODES, People
from shuhui.synth.retirement import general_category, statutory_start
from shuhui.synth.truth import TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED

_COLLEGE = vocabularies.EDUCATION_LEVELS.index("大学专科")
_EMPLOYMENT_AGES = np.array([16, 19, 22, 25, 30, 45, 50, 55, 60, 63])
_EMPLOYMENT_RATES = np.array([0.05, 0.15, 0.45, 0.75, 0.84, 0.84, 0.74, 0.62, 0.45, 0.3])
_EDUCATION_WAGE = np.array([0.75, 0.78, 0.82, 0.9, 0.92, 1.1, 1.3, 1.6, 1.9])
_TURNOVER_PER_YEAR = 0.12
_BENEFIT_PAY_DAY = 19  # paid on the 20th
_BASE_MIN_FEN = vocab.CONTRIBUTION_BASE_MIN_YUAN * 100
_BASE_MAX_FEN = vocab.CONTRIBUTION_BASE_MAX_YUAN * 100

# Why a spell ended, for deciding who may claim unemployment benefit.
_OPEN, _TURNOVER, _LAYOFF, _CLOSURE, _RETIRED, _DIED = range(6)


def retirement_day(birth: IntArray, male: BoolArray, education: IntArray) -> IntArray:
    """First day of the month after reaching statutory retirement age (:mod:`retirement`).

    Men 60, women in cadre posts (approximated as college-educated) 55, other women 50, raised
    by the 2025 reform by birth cohort.
    """
    category = general_category(male, education >= _COLLEGE)
    return statutory_start(birth, male, category)


@dataclass
class Spells:
    person: IntArray
    enterprise: IntArray
    start: IntArray
    end: IntArray  # NEVER while open
    wage: FloatArray  # monthly, yuan

    @classmethod
    def concat(cls, parts: list[Spells]) -> Spells:
        return cls(
            person=np.concatenate([p.person for p in parts]),
            enterprise=np.concatenate([p.enterprise for p in parts]),
            start=np.concatenate([p.start for p in parts]),
            end=np.concatenate([p.end for p in parts]),
            wage=np.concatenate([p.wage for p in parts]),
        )


@dataclass
class Work:
    """A chunk's working lives and what later tables need to know about them."""

    spells: Spells
    registrations: pa.RecordBatch
    benefits: pa.RecordBatch
    truth: pa.RecordBatch
    retirement: IntArray  # per person
    career_start: IntArray  # per person, NEVER without spells
    employer: IntArray  # per person: enterprise of the latest spell, -1 without spells
    employed_at_end: BoolArray  # per person
    last_wage: FloatArray  # per person, yuan, 0 without spells


def simulate_work(
    rng: np.random.Generator,
    people: People,
    no_record: BoolArray,
    enterprises: Enterprises,
    window: Window,
    *,
    anomaly_rate: float,
    at_least_one: bool,
) -> Work:
    n = people.size
    start, as_of = window.start, window.as_of
    retire = retirement_day(people.birth, people.male, people.education)
    sixteen = add_years(people.birth, 16)
    age_start = people.age - (window.months + 11) // 12  # close enough for employment rates
    able = (sixteen < start) & (retire > start) & (people.death > start) & ~no_record

    p_job = np.interp(age_start, _EMPLOYMENT_AGES, _EMPLOYMENT_RATES, left=0.0, right=0.2)
    p_job = p_job * np.where(people.rural, 0.55, 1.0) * np.where(people.male, 1.0, 0.9)
    p_job = np.minimum(p_job * np.where(people.education >= _COLLEGE, 1.1, 1.0), 0.95)
    employed = able & (rng.random(n) < p_job)

    # Spells running when the window opens.
    who = np.flatnonzero(employed)
    firm = enterprises.choose(rng, who.shape[0], "current")
    tenure = np.round(rng.exponential(5 * 365.25, who.shape[0])).astype(np.int64)
    begin = np.maximum.reduce([start - 1 - tenure, sixteen[who], enterprises.established[firm] + 1])
    wage = _wages(rng, people, who, enterprises.wage_level[firm])
    end, why = _ends(rng, people, who, firm, enterprises, window, retire)
    begin = np.minimum(begin, end)  # only bites in toy cities without a live enterprise
    current = Spells(who, firm, begin, end, wage)

    # Earlier jobs of some of them (history only: ended before the current one began).
    had_before = (rng.random(who.shape[0]) < 0.35) & (people.age[who] >= 25)
    prev = np.flatnonzero(had_before)
    prev_firm = enterprises.choose(rng, prev.shape[0], "old")
    prev_end = begin[prev] - rng.integers(30, 365, prev.shape[0])
    prev_start = np.maximum.reduce(
        [
            prev_end - np.round(rng.exponential(4 * 365.25, prev.shape[0])).astype(np.int64) - 90,
            sixteen[who[prev]],
            enterprises.established[prev_firm] + 1,
        ]
    )
    keep = prev_start < prev_end
    history = Spells(
        who[prev][keep],
        prev_firm[keep],
        prev_start[keep],
        prev_end[keep],
        np.maximum(
            np.round(wage[prev][keep] * rng.uniform(0.7, 0.95, int(keep.sum()))),
            vocab.MINIMUM_WAGE_YUAN,
        ),
    )

    # Unemployed when the window opens, after losing a job in the two years before: about as
    # many as the window's own leavers will be, so the stock of claimants stays level.
    jobless = np.flatnonzero(able & ~employed & (people.age >= 20))
    wanted = min(round(who.shape[0] * 0.06), jobless.shape[0])
    urban_first = np.where(people.rural[jobless], 0.4, 1.0)
    lost = (
        np.sort(rng.choice(jobless, size=wanted, replace=False, p=urban_first / urban_first.sum()))
        if wanted
        else jobless[:0]
    )
    lost_firm = enterprises.choose(rng, lost.shape[0], "old")
    lost_end = start - 1 - rng.integers(0, 730, lost.shape[0])
    lost_begin = np.maximum.reduce(
        [
            lost_end - np.round(rng.exponential(4 * 365.25, lost.shape[0])).astype(np.int64) - 365,
            sixteen[lost],
            enterprises.established[lost_firm] + 1,
        ]
    )
    lost_ok = lost_begin < lost_end
    lost, lost_firm, lost_begin, lost_end = (
        lost[lost_ok],
        lost_firm[lost_ok],
        lost_begin[lost_ok],
        lost_end[lost_ok],
    )
    before = Spells(
        lost,
        lost_firm,
        lost_begin,
        lost_end,
        _wages(rng, people, lost, enterprises.wage_level[lost_firm]),
    )

    # Newcomers to the labour market (graduates, returners) replace part of the leavers.
    seeking = np.flatnonzero(able & ~employed & (people.age >= 18))
    seeking = np.setdiff1d(seeking, lost)
    newcomers = min(
        round(who.shape[0] * _TURNOVER_PER_YEAR * window.months / 12 * 0.5), seeking.shape[0]
    )
    youth = np.interp(people.age[seeking], [18, 22, 30, 45, 60], [1.0, 3.0, 1.5, 0.5, 0.2])
    entrant = (
        np.sort(rng.choice(seeking, size=newcomers, replace=False, p=youth / youth.sum()))
        if newcomers
        else seeking[:0]
    )
    entry = start + rng.integers(0, window.days, entrant.shape[0])
    in_time = (entry < people.death[entrant]) & (entry < retire[entrant])
    entrant, entry = entrant[in_time], entry[in_time]
    entrant_firm = enterprises.choose(rng, entrant.shape[0], "hire")
    entrants = Spells(
        entrant,
        entrant_firm,
        entry,
        _natural_end(people, entrant, retire, as_of),
        _wages(rng, people, entrant, enterprises.wage_level[entrant_firm]),
    )

    # Who registers as unemployed: involuntary leavers in the window, most of the jobless.
    left = (end <= as_of) & np.isin(why, (_TURNOVER, _LAYOFF, _CLOSURE))
    claim_p = np.where(why == _TURNOVER, 0.35, 0.5)
    claims = left & (rng.random(who.shape[0]) < claim_p)
    lost_claims = rng.random(lost.shape[0]) < 0.6
    claimant = np.r_[who[claims], lost[lost_claims]]
    claim_end = np.r_[end[claims], lost_end[lost_claims]]
    # 劳动合同期满 or 单位解除劳动合同 after ordinary turnover; 单位裁员; 单位破产.
    contract = rng.choice([0, 2], size=claimant.shape[0], p=[0.7, 0.3])
    leave_why = np.r_[why[claims], np.full(int(lost_claims.sum()), _TURNOVER)]
    reason = np.where(leave_why == _LAYOFF, 1, np.where(leave_why == _CLOSURE, 3, contract))
    career = np.full(n, NEVER)
    for part in (current, history, before):
        np.minimum.at(career, part.person, part.start)
    registered = claim_end + 1 + rng.integers(0, 30, claimant.shape[0])
    years = (claim_end - career[claimant]) / 365.25
    entitled = np.where(years >= 10, 24, np.where(years >= 5, 18, 12))
    valid = (
        (years >= 1)
        & (registered <= as_of)
        & (registered < people.death[claimant])
        & (registered < retire[claimant])
    )
    claimant, claim_end, registered = claimant[valid], claim_end[valid], registered[valid]
    reason, entitled = reason[valid], entitled[valid]

    # Leavers who find another job: claimants after a while, other leavers sooner.
    quit_only = np.setdiff1d(who[left], claimant)
    quit_end = end[np.searchsorted(who, quit_only)]
    seeker = np.r_[claimant, quit_only]
    gap = np.r_[
        15 + np.round(rng.exponential(120, claimant.shape[0])),
        np.round(rng.exponential(60, quit_only.shape[0])) + 1,
    ].astype(np.int64)
    # Nobody jobless when the window opens has found work before it.
    found = np.maximum(np.r_[registered, quit_end], start) + gap
    finds = (
        (
            rng.random(seeker.shape[0])
            < np.r_[np.full(claimant.shape[0], 0.55), np.full(quit_only.shape[0], 0.6)]
        )
        & (found <= as_of)
        & (found < people.death[seeker])
        & (found < retire[seeker])
    )

    # Benefits: one a month from the month after registration, until entitlement runs out or
    # (normally) the month the new job starts.
    first_month = month_index(registered) + 1
    reemployed = np.where(
        finds[: claimant.shape[0]], month_index(found[: claimant.shape[0]]), NEVER
    )
    paid_months = _benefit_months(
        window, first_month, entitled, people.death[claimant], stop=reemployed
    )
    recipients = np.flatnonzero(paid_months.any(axis=1))

    # The anomaly: a recipient takes a job and keeps drawing the benefit.
    chosen = pick(
        rng, recipients, anomaly_count(rng, anomaly_rate, recipients.shape[0], at_least_one)
    )
    unlimited = _benefit_months(
        window, first_month[chosen], entitled[chosen], people.death[claimant[chosen]], stop=None
    )
    options = unlimited.sum(axis=1)
    nth = (rng.random(chosen.shape[0]) * options).astype(np.int64)
    cols = np.argsort(~unlimited, axis=1, kind="stable")
    overlap_from = cols[np.arange(chosen.shape[0]), nth]
    paid_months[chosen] = unlimited
    finds[chosen] = False
    cheat_start = window.month_starts[overlap_from] + rng.integers(0, 10, chosen.shape[0])
    cheat_firm = enterprises.choose(rng, chosen.shape[0], "hire")
    cheat = Spells(
        claimant[chosen],
        cheat_firm,
        cheat_start,
        _natural_end(people, claimant[chosen], retire, as_of),
        _wages(rng, people, claimant[chosen], enterprises.wage_level[cheat_firm]),
    )
    overlap = (unlimited & (np.arange(window.months)[None, :] >= overlap_from[:, None])).sum(axis=1)

    hired = np.flatnonzero(finds)
    new_firm = enterprises.choose(rng, hired.shape[0], "hire")
    rehired = Spells(
        seeker[hired],
        new_firm,
        found[hired],
        _natural_end(people, seeker[hired], retire, as_of),
        _wages(rng, people, seeker[hired], enterprises.wage_level[new_firm]),
    )

    spells = Spells.concat([history, before, current, entrants, rehired, cheat])
    latest = np.lexsort((spells.start, spells.person))
    last_of_person = np.r_[np.diff(spells.person[latest]) != 0, True][: latest.shape[0]]
    final = latest[last_of_person]
    employer = np.full(n, -1, dtype=np.int64)
    employer[spells.person[final]] = spells.enterprise[final]
    last_wage = np.zeros(n)
    last_wage[spells.person[final]] = spells.wage[final]
    employed_at_end = np.zeros(n, dtype=bool)
    employed_at_end[spells.person[final]] = spells.end[final] > as_of

    status = np.where(
        finds[: claimant.shape[0]],
        1,
        np.where(_entitlement_over(window, first_month, entitled), 2, 0),
    )
    registration_id = concat("SY", number_strings(people.index[claimant], 10))
    registrations = batch(
        tables.UNEMPLOYMENT_REGISTRATIONS,
        {
            "registration_id": registration_id,
            "citizen_id": take(people.citizen_id, claimant),
            "registered_date": registered,
            "district_code": take(pool(DISTRICT_CODES), people.district[claimant]),
            "reason": take(pool(vocabularies.UNEMPLOYMENT_REASONS), reason),
            "entitled_months": entitled.astype(np.int16),
            "monthly_benefit_fen": np.full(
                claimant.shape[0], vocab.UNEMPLOYMENT_BENEFIT_YUAN * 100
            ),
            "status": take(pool(vocabularies.UNEMPLOYMENT_STATUSES), status),
        },
    )
    row, month = np.nonzero(paid_months)
    benefits = batch(
        tables.UNEMPLOYMENT_BENEFITS,
        {
            "registration_id": take(registration_id, row),
            "citizen_id": take(people.citizen_id, claimant[row]),
            "month": window.month_starts[month],
            "pay_date": window.month_starts[month] + _BENEFIT_PAY_DAY,
            "amount_fen": np.full(row.shape[0], vocab.UNEMPLOYMENT_BENEFIT_YUAN * 100),
        },
    )
    truth = batch(
        TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED,
        {
            "citizen_id": take(people.citizen_id, claimant[chosen]),
            "registration_id": take(registration_id, chosen),
            "credit_code": take(enterprises.credit_code, cheat_firm),
            "employment_start": cheat_start,
            "overlap_months": overlap.astype(np.int16),
        },
    )
    return Work(
        spells=spells,
        registrations=registrations,
        benefits=benefits,
        truth=truth,
        retirement=retire,
        career_start=career_with(career, entrants, rehired, cheat),
        employer=employer,
        employed_at_end=employed_at_end,
        last_wage=last_wage,
    )


def career_with(career: IntArray, *parts: Spells) -> IntArray:
    out = career.copy()
    for part in parts:
        np.minimum.at(out, part.person, part.start)
    return out


def _natural_end(people: People, who: IntArray, retire: IntArray, as_of: int) -> IntArray:
    """End of a spell that only death or retirement can end."""
    end = np.minimum(people.death[who], retire[who] - 1)
    return np.where(end <= as_of, end, NEVER)


def _wages(
    rng: np.random.Generator, people: People, who: IntArray, level: FloatArray
) -> FloatArray:
    age = people.age[who]
    age_factor = np.interp(age, [18, 25, 35, 45, 55, 65], [0.7, 0.85, 1.1, 1.15, 1.05, 1.0])
    wage = (
        level
        * age_factor
        * _EDUCATION_WAGE[people.education[who]]
        * rng.lognormal(0.0, 0.3, who.shape[0])
    )
    floored: FloatArray = np.maximum(np.round(wage), vocab.MINIMUM_WAGE_YUAN)
    return floored


def _ends(
    rng: np.random.Generator,
    people: People,
    who: IntArray,
    firm: IntArray,
    enterprises: Enterprises,
    window: Window,
    retire: IntArray,
) -> tuple[IntArray, IntArray]:
    """When each running spell ends (NEVER if not by the as-of date) and why."""
    k = who.shape[0]
    start, as_of = window.start, window.as_of
    candidates = np.full((6, k), NEVER)
    turnover = rng.random(k) < 1 - np.exp(-_TURNOVER_PER_YEAR * window.months / 12)
    candidates[_TURNOVER] = np.where(turnover, start + rng.integers(0, window.days, k), NEVER)
    distress = enterprises.distress[firm]
    laid_off = (distress >= 0) & (rng.random(k) < 0.35)
    from_day = window.month_starts[np.maximum(distress, 0)]
    candidates[_LAYOFF] = np.where(
        laid_off, from_day + (rng.random(k) * (as_of - from_day + 1)).astype(np.int64), NEVER
    )
    candidates[_CLOSURE] = enterprises.deregistered[firm] - 1
    candidates[_RETIRED] = retire[who] - 1
    candidates[_DIED] = people.death[who]
    why = np.argmin(candidates, axis=0)
    end = candidates[why, np.arange(k)]
    ended = end <= as_of
    return np.where(ended, end, NEVER), np.where(ended, why, _OPEN)


def _benefit_months(
    window: Window,
    first_month: IntArray,
    entitled: IntArray,
    death: IntArray,
    *,
    stop: IntArray | None,
) -> BoolArray:
    """(claimant, window month): whether a benefit is paid that month."""
    month = window.first_month + np.arange(window.months)[None, :]
    pay_day = window.month_starts[None, :] + _BENEFIT_PAY_DAY
    paid = (month >= first_month[:, None]) & (month < (first_month + entitled)[:, None])
    paid &= (pay_day <= window.as_of) & (pay_day < death[:, None])
    if stop is not None:
        paid &= month < stop[:, None]
    return paid


def _entitlement_over(window: Window, first_month: IntArray, entitled: IntArray) -> BoolArray:
    last_pay = month_first_day(first_month + entitled - 1) + _BENEFIT_PAY_DAY
    return last_pay <= window.as_of


def base_floor_fen(window: Window) -> IntArray:
    """Per window month, the lowest base a normal declaration uses (fen): the year's legal floor
    or the city's declared minimum (vocab.CONTRIBUTION_BASE_MIN_YUAN), whichever is higher."""
    lowest: IntArray = np.maximum(legal_floor_fen(window), _BASE_MIN_FEN).astype(np.int64)
    return lowest


def legal_floor_fen(window: Window) -> IntArray:
    """Per window month, the year's legal floor of the base (fen)."""
    years = split_days(window.month_starts)[0]
    known = np.array(sorted(vocab.CONTRIBUTION_BASE_FLOOR_YUAN))
    clipped = known[np.clip(np.searchsorted(known, years), 0, known.shape[0] - 1)]
    floor: IntArray = np.array(
        [vocab.CONTRIBUTION_BASE_FLOOR_YUAN[int(y)] for y in clipped], dtype=np.int64
    )
    return floor * 100


def contributions(
    rng: np.random.Generator,
    people: People,
    spells: Spells,
    enterprises: Enterprises,
    window: Window,
) -> pa.RecordBatch:
    """Monthly contributions of every spell month in the window, four insurances each.

    A month counts when the spell covers its 15th. Employers in arrears owe but pay nothing.
    Bases are the wage clipped to the year's floor and the ceiling, except at the enterprises
    marked to declare some staff below the floor (the anomaly; ``rng`` picks which staff).
    Also records headcount and wage bill on the enterprises.
    """
    mid = window.month_starts + 14
    active = (spells.start[:, None] <= mid[None, :]) & (spells.end[:, None] >= mid[None, :])
    active &= mid[None, :] <= window.as_of
    row, month = np.nonzero(active)
    firm = spells.enterprise[row]
    wage = spells.wage[row]
    enterprises.add_employment(firm, month, wage)
    base = np.clip(wage * 100, base_floor_fen(window)[month], _BASE_MAX_FEN)
    # The anomaly: some staff of a marked enterprise declared between the minimum wage and 90 %
    # of the legal floor, from the month it starts on.
    legal = legal_floor_fen(window)
    enterprises.low_base_floor[:] = legal
    declared_low = (
        rng.random(spells.person.shape[0]) < enterprises.low_base_share[spells.enterprise]
    )
    low_from = enterprises.low_base_from[firm]
    low = declared_low[row] & (low_from >= 0) & (month >= low_from)
    low_base = np.round(
        legal[month] * rng.uniform(vocab.MINIMUM_WAGE_YUAN * 100 / legal[month], 0.9)
    )
    base = np.where(low, low_base, base)
    enterprises.add_low_base(firm[low], month[low])
    rates = np.stack(
        [
            np.full(row.shape[0], vocab.CONTRIBUTION_RATES[0]),
            np.full(row.shape[0], vocab.CONTRIBUTION_RATES[1]),
            np.full(row.shape[0], vocab.CONTRIBUTION_RATES[2]),
            SECTION_INJURY_RATES[enterprises.section[firm]],
        ],
        axis=1,
    )
    amount = np.round(base[:, None] * rates).astype(np.int64).ravel()
    arrears = np.repeat(enterprises.arrears[firm, month], 4)
    k = row.shape[0]
    return batch(
        tables.CONTRIBUTIONS,
        {
            "citizen_id": take(people.citizen_id, np.repeat(spells.person[row], 4)),
            "credit_code": take(enterprises.credit_code, np.repeat(firm, 4)),
            "month": np.repeat(window.month_starts[month], 4),
            "insurance_type": take(pool(vocabularies.INSURANCE_TYPES), np.tile(np.arange(4), k)),
            "base_fen": np.repeat(base.astype(np.int64), 4),
            "amount_fen": amount,
            "paid_fen": np.where(arrears, 0, amount),
        },
    )


def spells_batch(people: People, spells: Spells, enterprises: Enterprises) -> pa.RecordBatch:
    open_ = spells.end == NEVER
    return batch(
        tables.EMPLOYMENT_SPELLS,
        {
            "citizen_id": take(people.citizen_id, spells.person),
            "credit_code": take(enterprises.credit_code, spells.enterprise),
            "start_date": spells.start,
            "end_date": pa.array(spells.end.astype(np.int32), type=pa.date32(), mask=open_),
            "monthly_wage_fen": (spells.wage * 100).astype(np.int64),
        },
    )
