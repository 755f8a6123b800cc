"""Pensions and insurance enrolment, with two injected anomalies.

*Pension after death*: a recipient dies, the death is registered, and payments go on.
*Double pension*: a recipient also draws the other scheme's pension (城镇职工 and 城乡居民
cannot legally both be drawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.standard import tables, vocabularies
from shuhui.synth import truth
from shuhui.synth.columns import (
    NEVER,
    BoolArray,
    IntArray,
    anomaly_count,
    batch,
    number_strings,
    pick,
    pool,
    take,
    weighted_index,
)
from shuhui.synth.context import (
    Window,
    add_years,
    day_number,
    month_first_day,
    month_index,
    to_date,
)
from shuhui.synth.enterprises import Enterprises
from shuhui.synth.population import DISTRICT_CODES, DISTRICT_WEIGHTS, People
from shuhui.synth.work import Work

_PAY_DAY = 9  # pensions are paid on the 10th
_EMPLOYEE, _RESIDENT = 0, 1  # index into vocabularies.PENSION_SCHEMES and INSURANCE_SCHEMES
_RUNNING, _STOPPED = 0, 1
_ANNUAL_RAISE = 1.02  # pensions rise by about 2 % every July
_PAYING, _SUSPENDED, _DRAWING, _ENDED = range(4)  # vocabularies.ENROLMENT_STATUSES
_RESIDENT_MEDICAL_FROM = day_number(date(2007, 7, 1))
_RESIDENT_PENSION_FROM = day_number(date(2009, 10, 1))
_DISTRICT_INTS = np.array([int(c) for c in DISTRICT_CODES], dtype=np.int64)


@dataclass
class Pensions:
    """A chunk's pensions. Rows of the recipients' table are ``person`` (main pensions first,
    then duplicates); their start dates, categories and payee accounts are settled by
    :mod:`shuhui.synth.accounts` before the batches are built."""

    person: IntArray  # per recipient row: chunk-local resident index
    pension_id: pa.Array  # per recipient row
    begins: IntArray  # per recipient row: start date
    row_scheme: IntArray  # per recipient row: index into vocabularies.PENSION_SCHEMES
    main_rows: int  # rows before this are main pensions, the rest duplicates
    recipient_columns: dict[str, pa.Array | np.ndarray]  # all but start date and category
    paid_row: IntArray  # per payment: recipient row
    paid_month: IntArray  # per payment: window month
    payment_columns: dict[str, pa.Array | np.ndarray]  # all but the payee account
    truth_after_death: pa.RecordBatch
    truth_double: pa.RecordBatch
    scheme: IntArray  # per person: pension scheme drawn, -1 for none
    keeps_drawing: BoolArray  # per person: payments continue after death (the anomaly)
    duplicate: IntArray  # per person: scheme of a duplicate pension, -1 for none
    duplicate_start: IntArray  # per person


def simulate_pensions(
    rng: np.random.Generator,
    people: People,
    work: Work,
    window: Window,
    *,
    after_death_rate: float,
    double_rate: float,
    at_least_one: bool,
) -> Pensions:
    n = people.size
    start, as_of = window.start, window.as_of
    retire = work.retirement
    has_career = work.career_start != NEVER
    long_retired = retire <= start
    employee = np.where(
        long_retired,
        rng.random(n) < np.where(people.rural, 0.35, 0.85),
        (retire <= as_of) & (has_career | (rng.random(n) < np.where(people.rural, 0.1, 0.5))),
    )
    sixty = month_first_day(month_index(add_years(people.birth, 60)) + 1)
    # Anyone with an employee career draws (later) the employee pension, never the resident one.
    resident = ~employee & ~has_career & (sixty <= as_of) & (rng.random(n) < 0.95)
    begins = np.where(employee, retire, sixty)
    scheme = np.where(employee, _EMPLOYEE, np.where(resident, _RESIDENT, -1))
    scheme = np.where(people.death > begins, scheme, -1)
    who = np.flatnonzero(scheme >= 0)
    amount = _amounts(rng, people, who, scheme[who], work.last_wage[who])

    paid = _paid_months(window, begins[who], people.death[who])
    dead = people.death[who] <= as_of
    unstoppable = _paid_months(window, begins[who], np.full(who.shape[0], NEVER))
    late = unstoppable & (window.month_starts[None, :] + _PAY_DAY > people.death[who][:, None])
    candidates = np.flatnonzero(dead & late.any(axis=1))
    chosen = pick(
        rng, candidates, anomaly_count(rng, after_death_rate, int(dead.sum()), at_least_one)
    )
    paid[chosen] = unstoppable[chosen]
    keeps = np.zeros(n, dtype=bool)
    keeps[who[chosen]] = True

    # A second, residents' pension needs the claimant to look 60 or over.
    living = np.flatnonzero(~dead & ((scheme[who] == _RESIDENT) | (people.age[who] >= 60)))
    doubled = pick(rng, living, anomaly_count(rng, double_rate, who.shape[0], at_least_one))
    dup_person = who[doubled]
    dup_scheme = 1 - scheme[dup_person]
    dup_begin = month_first_day(window.first_month - rng.integers(0, 36, len(doubled)))
    dup_amount = _amounts(rng, people, dup_person, dup_scheme, np.zeros(doubled.shape[0]))
    dup_district = weighted_index(rng, DISTRICT_WEIGHTS, doubled.shape[0])
    dup_paid = _paid_months(window, dup_begin, people.death[dup_person])

    person = np.r_[who, dup_person]
    all_scheme = np.r_[scheme[who], dup_scheme]
    district = np.r_[people.district[who], dup_district]
    pension_no = (
        _DISTRICT_INTS[district] * 10**11 + (all_scheme + 1) * 10**10 + people.index[person]
    )
    pension_id = number_strings(pension_no, 17)
    stopped = np.r_[
        dead & ~np.isin(np.arange(who.shape[0]), chosen), np.zeros(doubled.shape[0], bool)
    ]
    monthly = np.r_[amount, dup_amount]
    recipients: dict[str, pa.Array | np.ndarray] = {
        "pension_id": pension_id,
        "citizen_id": take(people.citizen_id, person),
        "scheme": take(pool(vocabularies.PENSION_SCHEMES), all_scheme),
        "monthly_amount_fen": monthly,
        "status": take(pool(vocabularies.PENSION_STATUSES), np.where(stopped, _STOPPED, _RUNNING)),
        "end_date": pa.array(
            people.death[person].astype(np.int32), type=pa.date32(), mask=~stopped
        ),
        "district_code": take(pool(DISTRICT_CODES), district),
    }
    all_paid = np.concatenate([paid, dup_paid])
    row, month = np.nonzero(all_paid)
    # Amounts paid before the latest July were last year's, before the raise.
    as_of_date = to_date(window.as_of)
    july = day_number(date(as_of_date.year - (as_of_date.month < 7), 7, 1))
    before_raise = window.month_starts[month] < july
    paid_amount = np.where(before_raise, np.round(monthly[row] / _ANNUAL_RAISE), monthly[row])
    payments: dict[str, pa.Array | np.ndarray] = {
        "pension_id": take(pension_id, row),
        "citizen_id": take(people.citizen_id, person[row]),
        "month": window.month_starts[month],
        "pay_date": window.month_starts[month] + _PAY_DAY,
        "amount_fen": paid_amount.astype(np.int64),
    }
    after = paid[chosen] & late[chosen]
    months_after = np.nonzero(after)
    amount_after = np.zeros(chosen.shape[0])
    np.add.at(
        amount_after,
        months_after[0],
        np.where(
            window.month_starts[months_after[1]] < july,
            np.round(amount[chosen][months_after[0]] / _ANNUAL_RAISE),
            amount[chosen][months_after[0]],
        ),
    )
    truth_after_death = batch(
        truth.TRUTH_PENSION_AFTER_DEATH,
        {
            "citizen_id": take(people.citizen_id, who[chosen]),
            "pension_id": take(pension_id, chosen),
            "death_date": people.death[who[chosen]],
            "payments_after_death": after.sum(axis=1).astype(np.int16),
            "amount_after_death_fen": amount_after.astype(np.int64),
        },
    )
    truth_double = batch(
        truth.TRUTH_DOUBLE_PENSION,
        {
            "citizen_id": take(people.citizen_id, dup_person),
            "pension_id": take(pension_id, doubled),
            "duplicate_pension_id": take(pension_id, who.shape[0] + np.arange(doubled.shape[0])),
            "duplicate_scheme": take(pool(vocabularies.PENSION_SCHEMES), dup_scheme),
        },
    )
    duplicate = np.full(n, -1, dtype=np.int64)
    duplicate[dup_person] = dup_scheme
    duplicate_start = np.full(n, NEVER)
    duplicate_start[dup_person] = dup_begin
    return Pensions(
        person=person,
        pension_id=pension_id,
        begins=np.r_[begins[who], dup_begin],
        row_scheme=all_scheme,
        main_rows=int(who.shape[0]),
        recipient_columns=recipients,
        paid_row=row,
        paid_month=month,
        payment_columns=payments,
        truth_after_death=truth_after_death,
        truth_double=truth_double,
        scheme=scheme,
        keeps_drawing=keeps,
        duplicate=duplicate,
        duplicate_start=duplicate_start,
    )


def recipients_batch(pensions: Pensions, category: IntArray) -> pa.RecordBatch:
    return batch(
        tables.PENSION_RECIPIENTS,
        {
            **pensions.recipient_columns,
            "start_date": pensions.begins,
            "retirement_category": take(pool(vocabularies.RETIREMENT_CATEGORIES), category),
        },
    )


def payments_batch(pensions: Pensions, payee: pa.Array) -> pa.RecordBatch:
    """The payments, each into the account its pension row is paid into (``payee`` per row)."""
    return batch(
        tables.PENSION_PAYMENTS,
        {**pensions.payment_columns, "payee_account": take(payee, pensions.paid_row)},
    )


def _paid_months(window: Window, begins: IntArray, death: IntArray) -> BoolArray:
    pay_day = window.month_starts[None, :] + _PAY_DAY
    return (
        (window.month_starts[None, :] >= begins[:, None])
        & (pay_day <= window.as_of)
        & (pay_day <= death[:, None])
    )


def _amounts(
    rng: np.random.Generator,
    people: People,
    who: IntArray,
    scheme: IntArray,
    last_wage: np.ndarray,
) -> IntArray:
    """Monthly pension in fen: employees' from their last wage when known, residents' small."""
    k = who.shape[0]
    typical = 3600 * rng.lognormal(0.0, 0.28, k) * np.where(people.rural[who], 0.85, 1.0)
    from_wage = (0.42 * last_wage + 1300) * rng.lognormal(0.0, 0.08, k)
    employee = np.maximum(np.where(last_wage > 0, from_wage, typical), 1500)
    resident = 200 + rng.lognormal(np.log(110), 0.5, k)
    yuan = np.where(scheme == _EMPLOYEE, employee, resident)
    return (np.floor(yuan) * 100 + rng.integers(0, 100, k)).astype(np.int64)


def enrolments(
    rng: np.random.Generator,
    people: People,
    work: Work,
    pensions: Pensions,
    enterprises: Enterprises,
    window: Window,
) -> pa.RecordBatch:
    """One row per person and insurance held: employees' four, or residents' medical and pension."""
    n = people.size
    as_of = window.as_of
    dead = people.death <= as_of
    has_career = work.career_start != NEVER
    employee_pensioner = pensions.scheme == _EMPLOYEE
    drawing = (pensions.scheme >= 0) & (~dead | pensions.keeps_drawing)

    # Employees (with spells): 养老, 医疗, 失业, 工伤.
    a = np.flatnonzero(has_career)
    a_status = np.where(
        dead[a],
        _ENDED,
        np.where(work.employed_at_end[a], _PAYING, np.where(employee_pensioner[a], -1, _SUSPENDED)),
    )
    a_rows = np.repeat(a, 4)
    a_type = np.tile(np.arange(4), a.shape[0])
    a_stat = np.repeat(a_status, 4)
    retired_row = a_stat == -1
    a_stat = np.where(retired_row, np.where(a_type <= 1, _DRAWING, _ENDED), a_stat)
    a_stat = np.where((a_type == 0) & pensions.keeps_drawing[a_rows], _DRAWING, a_stat)

    # Employee pensioners without spells in the data (retired long ago): 养老 and 医疗.
    b = np.flatnonzero(employee_pensioner & ~has_career)
    b_rows = np.repeat(b, 2)
    b_type = np.tile(np.arange(2), b.shape[0])
    b_stat = np.where(drawing[b_rows], _DRAWING, _ENDED)
    b_start = np.maximum(
        add_years(work.retirement[b_rows], -30), add_years(people.birth[b_rows], 18)
    )

    # Everyone else: residents' medical insurance, and residents' pension for adults.
    rest = ~has_career & ~employee_pensioner
    c_med = np.flatnonzero(rest & (rng.random(n) < 0.97))
    adult_saver = (people.age >= 22) & (rng.random(n) < 0.85)
    c_pen = np.flatnonzero(rest & ((pensions.scheme == _RESIDENT) | adult_saver))
    c_rows = np.r_[c_med, c_pen]
    c_type = np.r_[np.full(c_med.shape[0], 1), np.full(c_pen.shape[0], 0)]
    c_status = np.where(
        (c_type == 0) & drawing[c_rows], _DRAWING, np.where(dead[c_rows], _ENDED, _PAYING)
    )
    c_start = np.where(
        c_type == 1,
        np.maximum(people.birth[c_rows], _RESIDENT_MEDICAL_FROM),
        np.maximum(add_years(people.birth[c_rows], 16), _RESIDENT_PENSION_FROM),
    )

    # Duplicate pensions are enrolled in the other scheme too.
    d = np.flatnonzero(pensions.duplicate >= 0)

    person = np.r_[a_rows, b_rows, c_rows, d]
    kind = np.r_[a_type, b_type, c_type, np.zeros(d.shape[0], dtype=np.int64)]
    scheme = np.r_[
        np.full(a_rows.shape[0], _EMPLOYEE),
        np.full(b_rows.shape[0], _EMPLOYEE),
        np.full(c_rows.shape[0], _RESIDENT),
        pensions.duplicate[d],
    ]
    status = np.r_[a_stat, b_stat, c_status, np.full(d.shape[0], _DRAWING)]
    begin = np.r_[work.career_start[a_rows], b_start, c_start, pensions.duplicate_start[d]]
    employer = np.r_[work.employer[a_rows], np.full(person.shape[0] - a_rows.shape[0], -1)]
    codes = take(enterprises.credit_code, np.maximum(employer, 0))
    credit_code = pc.if_else(pa.array(employer >= 0), codes, pa.scalar(None, pa.string()))
    return batch(
        tables.ENROLMENTS,
        {
            "citizen_id": take(people.citizen_id, person),
            "insurance_type": take(pool(vocabularies.INSURANCE_TYPES), kind),
            "scheme": take(pool(vocabularies.INSURANCE_SCHEMES), scheme),
            "credit_code": credit_code,
            "start_date": np.minimum(begin, as_of),
            "status": take(pool(vocabularies.ENROLMENT_STATUSES), status),
        },
    )
