"""Enterprises: drawn up front (a few per cent of residents), completed as residents stream.

What persons need from an enterprise (its code, industry, wage level, when it lived, whether it
is sliding into distress) is drawn first and kept as small arrays. Legal representatives are
residents, so they are filled in by the chunk that holds them; headcount and wage bill are
accumulated from the employment spells as they are generated, and the enterprise-level monthly
tables are derived from them at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.datacore.schema import TableSpec
from shuhui.standard import tables, vocabularies
from shuhui.synth import truth, vocab
from shuhui.synth.columns import (
    NEVER,
    BoolArray,
    FloatArray,
    IntArray,
    batch,
    concat,
    pool,
    stochastic_round,
    take,
    weighted_index,
)
from shuhui.synth.context import Stream, Window, day_number, rng_for, split_days
from shuhui.synth.idgen import MA_SPACE, NUMERIC_SPACE, credit_codes, org_code_indexes
from shuhui.synth.population import DISTRICT_CODES, DISTRICT_NAMES, DISTRICT_WEIGHTS

_SECTIONS = tuple(code for code, _ in vocabularies.INDUSTRY_SECTIONS)
SECTION_NAMES = pool([name for _, name in vocabularies.INDUSTRY_SECTIONS])
_PROFILES = [vocab.INDUSTRY_PROFILES[code] for code in _SECTIONS]
_SECTION_SHARES = np.array([row[0] for row in _PROFILES])
SECTION_WAGES = np.array([row[1] for row in _PROFILES], dtype=np.float64)
_SECTION_HEADCOUNT = np.array([row[2] for row in _PROFILES])
SECTION_INJURY_RATES = np.array([row[3] for row in _PROFILES])
_SECTION_TAX = np.array([row[4] for row in _PROFILES])
_SECTION_KWH = np.array([row[5] for row in _PROFILES])
_SIZE_WAGE = np.array([1.3, 1.15, 1.0, 0.85])
# Registered capital range per size class, in ten-thousand yuan (万元).
_CAPITAL_RANGE = np.array(
    [[10_000, 500_000], [1_000, 20_000], [100, 2_000], [10, 200]], dtype=float
)
# Electricity demand by calendar month: summer cooling and winter heating peaks.
_ELECTRICITY_SEASON = np.array([1.1, 1.0, 0.95, 0.9, 0.95, 1.05, 1.2, 1.2, 1.0, 0.95, 0.95, 1.05])
_CREDIT_CODE_REFORM = day_number(date(2015, 10, 1))
_EARLIEST = day_number(date(1980, 1, 1))
_COOPERATIVE = _SECTIONS[0]  # farmers' cooperatives (农民专业合作社) are section A
_BATCH = 200_000


@dataclass
class Enterprises:
    window: Window
    seed: int
    credit_code: pa.Array
    name: pa.Array
    address: pa.Array
    issuer: pa.Array
    section: IntArray
    size: IntArray
    district: IntArray
    status: IntArray
    established: IntArray
    deregistered: IntArray  # day number, NEVER while the enterprise exists
    capital_fen: IntArray
    target: FloatArray  # relative headcount
    wage_level: FloatArray  # mean monthly wage in yuan
    grade: IntArray
    distress: IntArray  # window month the distress starts, -1 for healthy enterprises
    arrears: BoolArray  # (enterprise, window month): contributions not paid
    rep_chunk: IntArray
    # Low-base declarations (set by mark_low_base): from which window month (-1: never), and
    # the share of staff declared below the floor; per (enterprise, month) how many were.
    low_base_from: IntArray = field(init=False)
    low_base_share: FloatArray = field(init=False)
    low_base_count: IntArray = field(init=False)
    low_base_floor: IntArray = field(init=False)  # per window month, fen
    headcount: IntArray = field(init=False)
    wage_bill: FloatArray = field(init=False)
    _reps: list[tuple[IntArray, pa.Array, pa.Array]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.low_base_from = np.full(self.count, -1, dtype=np.int64)
        self.low_base_share = np.zeros(self.count)
        self.low_base_count = np.zeros(self.count * self.window.months, dtype=np.int64)
        self.low_base_floor = np.zeros(self.window.months, dtype=np.int64)
        self.headcount = np.zeros(self.count * self.window.months, dtype=np.int64)
        self.wage_bill = np.zeros(self.count * self.window.months, dtype=np.float64)
        start, end = self.window.start, self.window.as_of
        alive_at_start = (self.established < start) & (self.deregistered > start)
        self._cum_current = _cumulative(self.target * alive_at_start)
        self._cum_old = _cumulative(
            self.target * alive_at_start * (self.established < start - 730), self._cum_current
        )
        hiring = (self.established < start) & (self.deregistered > end) & (self.distress < 0)
        self._cum_hire = _cumulative(self.target * hiring, self._cum_current)

    @property
    def count(self) -> int:
        return int(self.section.shape[0])

    def choose(self, rng: np.random.Generator, n: int, kind: str) -> IntArray:
        """Employers for ``n`` spells: "current" (alive when the window opens), "old" (alive two
        years before that) or "hire" (healthy, hiring during the window)."""
        cum = {"current": self._cum_current, "old": self._cum_old, "hire": self._cum_hire}[kind]
        drawn: IntArray = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
        return np.minimum(drawn, self.count - 1).astype(np.int64)

    def add_employment(self, enterprise: IntArray, month: IntArray, wage_yuan: FloatArray) -> None:
        flat = enterprise * self.window.months + month
        size = self.count * self.window.months
        self.headcount += np.bincount(flat, minlength=size)
        self.wage_bill += np.bincount(flat, weights=wage_yuan, minlength=size)

    def mark_low_base(self, rng: np.random.Generator, rate: float) -> None:
        """Pick the enterprises that will declare some staff on a base below the floor.

        Chosen among enterprises alive through the window, leaning to larger ones (an
        enterprise without staff declares nothing), from a month of the window on.
        """
        alive = (self.established < self.window.start) & (self.deregistered > self.window.as_of)
        eligible = np.flatnonzero(alive)
        wanted = min(stochastic_round(rng, rate * self.count), eligible.shape[0])
        if rate > 0 and eligible.shape[0] > 0:
            wanted = max(wanted, 1)
        if wanted == 0:
            return
        weight = np.sqrt(self.target[eligible])
        chosen = rng.choice(eligible, size=wanted, replace=False, p=weight / weight.sum())
        self.low_base_from[chosen] = rng.integers(0, self.window.months, wanted)
        self.low_base_share[chosen] = rng.uniform(0.3, 1.0, wanted)

    def add_low_base(self, enterprise: IntArray, month: IntArray) -> None:
        flat = enterprise * self.window.months + month
        self.low_base_count += np.bincount(flat, minlength=self.count * self.window.months)

    def set_legal_reps(self, enterprise: IntArray, citizen_id: pa.Array, name: pa.Array) -> None:
        self._reps.append((enterprise, citizen_id, name))

    # --- tables written at the end ---------------------------------------------------------

    def plants(self) -> dict[str, list[tuple[str, str]]]:
        """The live manufacturers (section C) by district code, by credit code: the enterprises
        the monitored hazardous-chemicals sites can be."""
        chosen = np.flatnonzero((self.section == _SECTIONS.index("C")) & (self.status == 0))
        codes = self.credit_code.take(pa.array(chosen)).to_pylist()
        names = self.name.take(pa.array(chosen)).to_pylist()
        found: dict[str, list[tuple[str, str]]] = {}
        for i, code, name in zip(chosen, codes, names, strict=True):
            found.setdefault(DISTRICT_CODES[int(self.district[i])], []).append((code, name))
        return {d: sorted(rows) for d, rows in found.items()}

    def batches(self) -> Iterator[tuple[TableSpec, pa.RecordBatch]]:
        rep_index = np.concatenate([e for e, _i, _n in self._reps])
        order = np.argsort(rep_index, kind="stable")
        if not np.array_equal(rep_index[order], np.arange(self.count)):
            raise RuntimeError("every enterprise needs exactly one legal representative")
        rep_id = pa.concat_arrays([i for _e, i, _n in self._reps]).take(pa.array(order))
        rep_name = pa.concat_arrays([n for _e, _i, n in self._reps]).take(pa.array(order))
        rng = rng_for(self.seed, Stream.ENTERPRISE_MONTHS)
        for lo in range(0, self.count, _BATCH):
            part = np.arange(lo, min(lo + _BATCH, self.count))
            yield tables.ENTERPRISES, self._enterprise_batch(part, rep_id, rep_name)
            yield tables.CERTIFICATES, self._licence_batch(part)
            tax, electricity = self._monthly_batches(rng, part)
            yield tables.ENTERPRISE_TAX, tax
            yield tables.ENTERPRISE_ELECTRICITY, electricity
        distressed = np.flatnonzero(self.distress >= 0)
        yield (
            truth.TRUTH_ENTERPRISE_DISTRESS,
            batch(
                truth.TRUTH_ENTERPRISE_DISTRESS,
                {
                    "credit_code": take(self.credit_code, distressed),
                    "distress_start": self.window.month_starts[self.distress[distressed]],
                },
            ),
        )
        counts = self.low_base_count.reshape(self.count, self.window.months)
        firm, month = np.nonzero(counts)
        yield (
            truth.TRUTH_LOW_CONTRIBUTION_BASE,
            batch(
                truth.TRUTH_LOW_CONTRIBUTION_BASE,
                {
                    "credit_code": take(self.credit_code, firm),
                    "month": self.window.month_starts[month],
                    "employees": counts[firm, month].astype(np.int32),
                    "floor_fen": self.low_base_floor[month],
                },
            ),
        )

    def _enterprise_batch(
        self, part: IntArray, rep_id: pa.Array, rep_name: pa.Array
    ) -> pa.RecordBatch:
        gone = self.deregistered[part] != NEVER
        return batch(
            tables.ENTERPRISES,
            {
                "credit_code": take(self.credit_code, part),
                "name": take(self.name, part),
                "legal_rep_citizen_id": take(rep_id, part),
                "legal_rep_name": take(rep_name, part),
                "industry_code": take(pool(_SECTIONS), self.section[part]),
                "industry_name": take(SECTION_NAMES, self.section[part]),
                "registered_capital_fen": self.capital_fen[part],
                "size_class": take(pool(vocabularies.SIZE_CLASSES), self.size[part]),
                "status": take(pool(vocabularies.ENTERPRISE_STATUSES), self.status[part]),
                "established_date": self.established[part],
                "deregistered_date": pa.array(
                    self.deregistered[part].astype(np.int32), type=pa.date32(), mask=~gone
                ),
                "district_code": take(pool(DISTRICT_CODES), self.district[part]),
                "address": take(self.address, part),
            },
        )

    def _licence_batch(self, part: IntArray) -> pa.RecordBatch:
        n = part.shape[0]
        # 存续 → 有效, 注销 → 注销, 吊销 → 吊销 (indexes into CERTIFICATE_STATUSES)
        status = np.array([0, 2, 3])[self.status[part]]
        return batch(
            tables.CERTIFICATES,
            {
                "certificate_no": take(self.credit_code, part),
                "certificate_type": pa.array(np.full(n, "营业执照", dtype=object), pa.string()),
                "holder_type": pa.array(np.full(n, "企业", dtype=object), pa.string()),
                "holder_citizen_id": pa.nulls(n, pa.string()),
                "holder_credit_code": take(self.credit_code, part),
                "holder_name": take(self.name, part),
                "issuer": take(self.issuer, part),
                "issue_date": self.established[part],
                "status": take(pool(vocabularies.CERTIFICATE_STATUSES), status),
            },
        )

    def _monthly_batches(
        self, rng: np.random.Generator, part: IntArray
    ) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        months = self.window.months
        starts, ends = self.window.month_starts, self.window.month_ends
        n = part.shape[0]
        alive = (self.established[part, None] <= ends[None, :]) & (
            self.deregistered[part, None] > starts[None, :]
        )
        headcount = self.headcount.reshape(-1, months)[part].astype(np.float64)
        wage_bill = self.wage_bill.reshape(-1, months)[part]
        target = self.target[part, None]
        section = self.section[part]
        distress = self.distress[part, None]
        m = np.arange(months)[None, :]
        # Business shrinks by a fifth a month once distress sets in.
        decline = np.where((distress >= 0) & (m >= distress), 0.8 ** (m - distress + 1), 1.0)
        floor_bill = target * 0.3 * self.wage_level[part, None]
        revenue = np.maximum(wage_bill, floor_bill) * decline
        noise = rng.lognormal(0.0, 0.25, (n, months))
        tax_fen = np.round(revenue * _SECTION_TAX[section, None] * noise) * 100
        calendar_month = split_days(starts)[1] - 1
        kwh = (
            np.maximum(headcount, target * 0.3)
            * _SECTION_KWH[section, None]
            * _ELECTRICITY_SEASON[calendar_month][None, :]
            * decline
            * rng.lognormal(0.0, 0.1, (n, months))
        )
        kwh = np.round(kwh)
        price_fen = rng.uniform(60, 80, (n, 1))
        grade = np.where(
            (distress >= 0) & (m >= distress + 2), 3 + (m >= distress + 4), self.grade[part, None]
        )
        grade = np.maximum(grade, self.grade[part, None])
        row, month = np.nonzero(alive)
        code = take(self.credit_code, part[row])
        first = starts[month]
        tax = batch(
            tables.ENTERPRISE_TAX,
            {
                "credit_code": code,
                "month": first,
                "tax_fen": tax_fen[row, month].astype(np.int64),
                "credit_grade": take(pool(vocabularies.CREDIT_GRADES), grade[row, month]),
            },
        )
        electricity = batch(
            tables.ENTERPRISE_ELECTRICITY,
            {
                "credit_code": code,
                "month": first,
                "electricity_kwh": kwh[row, month].astype(np.int64),
                "fee_fen": np.round(kwh[row, month] * price_fen[row, 0]).astype(np.int64),
            },
        )
        return tax, electricity


def _cumulative(weights: FloatArray, fallback: FloatArray | None = None) -> FloatArray:
    """Cumulative weights for drawing; when none is positive, the fallback (or all equal)."""
    cum = np.cumsum(weights)
    if cum.shape[0] == 0 or cum[-1] > 0:
        return cum
    if fallback is not None:
        return fallback
    return np.arange(1, weights.shape[0] + 1, dtype=np.float64)


def build_enterprises(
    *,
    count: int,
    seed: int,
    window: Window,
    distress_rate: float,
    chunk_sizes: IntArray,
) -> Enterprises:
    rng = rng_for(seed, Stream.ENTERPRISES)
    n = count
    as_of = window.as_of
    section = weighted_index(rng, _SECTION_SHARES, n)
    size = weighted_index(rng, vocab.SIZE_SHARES, n)
    district = weighted_index(rng, DISTRICT_WEIGHTS, n)
    age_days = rng.exponential(6.0 * 365.25, n) * np.where(size <= 1, 2.5, 1.0)
    established = np.maximum(as_of - np.round(age_days).astype(np.int64), _EARLIEST)
    u = rng.random(n)
    status = np.where(u < 0.88, 0, np.where(u < 0.97, 1, 2))
    gone_at = established + np.ceil((as_of - established) * rng.uniform(0.2, 1.0, n)).astype(
        np.int64
    )
    deregistered = np.where((status > 0) & (gone_at > established), gone_at, NEVER)
    status = np.where(deregistered == NEVER, 0, status)

    target = (
        np.array(vocab.SIZE_HEADCOUNT)[size]
        * _SECTION_HEADCOUNT[section]
        * rng.lognormal(0.0, 0.5, n)
    )
    wage_level = SECTION_WAGES[section] * _SIZE_WAGE[size] * rng.lognormal(0.0, 0.15, n)
    low, high = _CAPITAL_RANGE[size, 0], _CAPITAL_RANGE[size, 1]
    capital_wan = np.round(np.exp(rng.uniform(np.log(low), np.log(high))))
    capital_fen = capital_wan.astype(np.int64) * 1_000_000
    grade = weighted_index(rng, vocab.CREDIT_GRADE_SHARES, n)

    distress = np.full(n, -1, dtype=np.int64)
    eligible = np.flatnonzero((deregistered == NEVER) & (established < window.start - 365))
    wanted = stochastic_round(rng, distress_rate * n)
    if distress_rate > 0 and eligible.shape[0] > 0:
        wanted = max(wanted, 1)
        # Lean towards enterprises with staff, where falling headcount and arrears can show,
        # without letting a few big employers put a large part of the workforce in distress.
        w = np.sqrt(target[eligible])
        chosen = np.sort(
            rng.choice(eligible, size=min(wanted, eligible.shape[0]), replace=False, p=w / w.sum())
        )
        months = window.months
        lo = min(max(1, months // 2), months - 1)
        hi = max(lo + 1, months - 2)
        distress[chosen] = rng.integers(lo, hi, chosen.shape[0])
    m = np.arange(window.months)[None, :]
    # Now and then a small firm misses a month; large ones practically never do.
    late_payer = np.array([0.0, 0.001, 0.003, 0.005])[size]
    arrears = rng.random((n, window.months)) < late_payer[:, None]
    behind = (distress[:, None] >= 0) & (m > distress[:, None])
    arrears |= behind & ((rng.random((n, window.months)) < 0.75) | (m == window.months - 1))

    rep_chunk = weighted_index(rng, chunk_sizes.astype(np.float64), n)

    cooperative = (section == _SECTIONS.index(_COOPERATIVE)) & (rng.random(n) < 0.3)
    city_level = rng.random(n) < 0.15
    division = np.where(city_level, 370200, np.array([int(c) for c in DISTRICT_CODES])[district])
    numeric = established < _CREDIT_CODE_REFORM
    org_value = _distinct_values(rng, numeric)
    code = credit_codes(
        np.full(n, 9, dtype=np.int64),
        np.where(cooperative, 3, 1).astype(np.int64),
        division,
        org_code_indexes(numeric, org_value),
    )
    district_name = take(pool(DISTRICT_NAMES), district)
    name = _names(rng, section, size, cooperative, district_name)
    issuer = pc.if_else(
        pa.array(city_level),
        pa.scalar("青岛市市场监督管理局"),
        concat(take(pool(_registration_prefix()), district), "市场监督管理局"),
    )
    return Enterprises(
        window=window,
        seed=seed,
        credit_code=code,
        name=name,
        address=_addresses(rng, district),
        issuer=issuer,
        section=section,
        size=size,
        district=district,
        status=status,
        established=established,
        deregistered=deregistered,
        capital_fen=capital_fen,
        target=target,
        wage_level=wage_level,
        grade=grade,
        distress=distress,
        arrears=arrears,
        rep_chunk=rep_chunk,
    )


def _registration_prefix() -> tuple[str, ...]:
    # Districts are named under the city (青岛市市南区); county-level cities stand alone (胶州市).
    return tuple(name if name.endswith("市") else f"青岛市{name}" for name in DISTRICT_NAMES)


def _distinct_values(rng: np.random.Generator, numeric: BoolArray) -> IntArray:
    """Organisation-code values, distinct within each form.

    ``(a * i + b) mod M`` with ``a`` coprime to ``M`` is a bijection on ``0..M-1``, so the i-th
    enterprise of a form gets a value no other enterprise of that form has.
    """
    out = np.empty(numeric.shape[0], dtype=np.int64)
    for is_numeric, space in ((True, NUMERIC_SPACE), (False, MA_SPACE)):
        members = np.flatnonzero(numeric == is_numeric)
        if members.shape[0] > space:
            raise ValueError("too many enterprises for distinct organisation codes")
        a = int(rng.integers(1, space))
        while np.gcd(a, space) != 1:
            a += 1
        b = int(rng.integers(0, space))
        out[members] = (a * np.arange(members.shape[0], dtype=np.int64) + b) % space
    return out


_TRADE = pool(vocab.TRADE_NAME_CHARS)
_WORDS = pool([w for s in _SECTIONS for w in vocab.INDUSTRY_NAME_WORDS[s]])
_WORD_COUNTS = np.array([len(vocab.INDUSTRY_NAME_WORDS[s]) for s in _SECTIONS])
_WORD_OFFSETS = np.cumsum(_WORD_COUNTS) - _WORD_COUNTS


def _names(
    rng: np.random.Generator,
    section: IntArray,
    size: IntArray,
    cooperative: BoolArray,
    district_name: pa.Array,
) -> pa.Array:
    n = len(section)
    k = len(vocab.TRADE_NAME_CHARS)
    first = rng.integers(0, k, n)
    second = (first + rng.integers(1, k, n)) % k  # never the same character twice
    trade = concat(take(_TRADE, first), take(_TRADE, second))
    word = take(
        _WORDS, _WORD_OFFSETS[section] + (rng.random(n) * _WORD_COUNTS[section]).astype(np.int64)
    )
    big = size <= 1
    u = rng.random(n)
    form = np.where(big, np.where(u < 0.5, 2, 0), np.where(u < 0.85, 0, 1))
    group = pc.if_else(pa.array(big & (rng.random(n) < 0.5)), pa.scalar("集团"), pa.scalar(""))
    company = concat("青岛", trade, word, group, take(pool(vocab.ORG_FORMS), form))
    co_op = concat(district_name, trade, word, "专业合作社")
    return pc.if_else(pa.array(cooperative), co_op, company)


def _addresses(rng: np.random.Generator, district: IntArray) -> pa.Array:
    roads, offsets, counts = _road_pool()
    n = district.shape[0]
    road = take(roads, offsets[district] + (rng.random(n) * counts[district]).astype(np.int64))
    number = pc.cast(pa.array(rng.integers(1, 400, n)), pa.string())
    return concat("山东省青岛市", take(pool(DISTRICT_NAMES), district), road, number, "号")


def _road_pool() -> tuple[pa.Array, IntArray, IntArray]:
    names = [road for code in DISTRICT_CODES for road in vocab.DISTRICT_ROADS[code]]
    counts = np.array([len(vocab.DISTRICT_ROADS[code]) for code in DISTRICT_CODES])
    return pool(names), np.cumsum(counts) - counts, counts
