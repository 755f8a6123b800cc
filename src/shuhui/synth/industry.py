"""The synthetic city's digital economy: the project pipeline, the monthly revenue of its
digital-economy enterprises, and the enterprises its industrial-internet platforms enabled.

Three tables of the standard (:mod:`shuhui.standard.tables`), drawn after the enterprises from
the enterprises' own arrays (section, size, dates of life), so every credit code is a real
enterprise of the city, alive when the row says it acted:

- ``industry_projects`` — digital-economy projects signed from 2019 to the as-of date, a few
  per 10,000 enterprises a year and more each year, invested by enterprises of sections I, C,
  M and R (large ones far more often), in a key field the investor's section suits and a park
  that hosts the field. Each moves signed → started → completed → producing; a stage not
  reached by the as-of date has no date. The share started in the year it was signed
  (当年签约、当年开工) rises from about 38 % (2019) to about 68 % (2025 on), the push the plan
  describes; the annual output is set once producing.
- ``digital_economy_output`` — monthly main-business revenue of the core digital-economy
  enterprises (most of section I, some of C, M and R) from January two years before the as-of
  year to the as-of month, each in one key field, growing at its field's rate (``FIELD_GROWTH``:
  quantum and virtual reality fast, smart terminals slow) with a year-end peak, so year-on-year
  growth differs by field and by layer.
- ``platform_enablements`` — which enterprises the platforms enabled with which solution and
  when: each year a share of the enterprises in business (``NEW_SHARE``: 0.8 % in 2019 rising to
  about 4 %, a little over the plan's 20,000 a year at Qingdao's size) is enabled for the first
  time — manufacturing (section C) and larger enterprises far more likely — with one to three
  solutions, the later ones months apart; the super platform takes the largest share, and no
  platform enables anyone before it went online (its ``valid_from``).

Codes of fields, parks, platforms and solutions are read from the city's content
(``content/qingdao/enterprise/industry.yaml``, ``platforms.yaml``): the one source of truth the
console reads too. The parameters here are keyed by those codes; a code the content adds and
these tables do not know gets the defaults.

The as-of month always holds a signing and an enablement (when any enterprise could), as a
register reported monthly does: a data-quality check reads a table's newest date as its
freshness.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.datacore.schema import TableSpec
from shuhui.standard import tables
from shuhui.standard.vocabularies import INDUSTRY_SECTIONS
from shuhui.synth.columns import (
    NEVER,
    BoolArray,
    FloatArray,
    IntArray,
    batch,
    concat,
    dates,
    number_strings,
    pool,
    take,
    weighted_index,
)
from shuhui.synth.context import (
    Stream,
    day_number,
    month_first_day,
    month_index,
    rng_for,
    split_days,
)

if TYPE_CHECKING:
    from shuhui.synth.enterprises import Enterprises

CONTENT = DEFAULT_DIR / "qingdao"
FIRST_YEAR = 2019
_SECTIONS = tuple(code for code, _ in INDUSTRY_SECTIONS)
_BATCH = 200_000

# --- parameters, keyed by the content's codes -------------------------------------------------

# Yearly growth of an enterprise's revenue per key field: what makes growth differ by field and
# by layer. A field's total grows some 8-10 points faster, as new enterprises join it (about
# 13 % for software, 24 % for chips, 30 % for virtual reality, 35 % for quantum).
FIELD_GROWTH: dict[str, float] = {
    "software": 0.03,
    "industrial-internet": 0.08,
    "smart-terminals": -0.05,
    "new-display": -0.02,
    "integrated-circuits": 0.14,
    "digital-creative": 0.0,
    "virtual-reality": 0.21,
    "artificial-intelligence": 0.18,
    "quantum": 0.29,
    "advanced-computing": 0.12,
}
_DEFAULT_GROWTH = 0.02
# Median investment of a project per field, in 亿元 (chips and displays are capital-heavy).
FIELD_INVESTMENT: dict[str, float] = {
    "software": 1.5,
    "industrial-internet": 2.0,
    "smart-terminals": 5.0,
    "new-display": 18.0,
    "integrated-circuits": 22.0,
    "digital-creative": 2.0,
    "virtual-reality": 3.0,
    "artificial-intelligence": 3.0,
    "quantum": 4.0,
    "advanced-computing": 9.0,
}
_DEFAULT_INVESTMENT = 3.0
# What a project is called, per field: "<trade name><object><phase>".
FIELD_OBJECTS: dict[str, tuple[str, ...]] = {
    "software": ("工业软件研发中心", "软件产业基地", "信创适配中心", "智慧城市软件研发"),
    "industrial-internet": (
        "工业互联网平台",
        "5G全连接工厂",
        "工业互联网创新中心",
        "数字化车间改造",
    ),
    "smart-terminals": ("智能终端产业园", "智能家电数字化工厂", "智能穿戴设备生产线"),
    "new-display": ("新型显示模组生产线", "超高清显示面板", "微显示器件产业化"),
    "integrated-circuits": (
        "集成电路封装测试",
        "功率半导体产业化",
        "芯片设计中心",
        "特色工艺晶圆制造",
    ),
    "digital-creative": ("数字影视制作基地", "动漫游戏研发中心", "数字文旅体验中心"),
    "virtual-reality": ("虚拟现实内容制作基地", "虚拟现实终端生产线", "沉浸式体验中心"),
    "artificial-intelligence": ("人工智能研发中心", "智能算法训练平台", "智能机器人产业化"),
    "quantum": ("量子通信设备研发", "量子精密测量产业化", "量子计算实验室"),
    "advanced-computing": ("智能计算中心", "超算应用中心", "边缘计算数据中心"),
}
_DEFAULT_OBJECTS = ("数字经济产业化",)
_PHASES = ("项目", "建设项目", "一期项目", "二期项目")
# Which fields an enterprise of a section works in (relative weights), and how likely an
# enterprise of the section is a core digital-economy enterprise at all.
SECTION_FIELDS: dict[str, dict[str, float]] = {
    "I": {
        "software": 45, "industrial-internet": 15, "artificial-intelligence": 12,
        "digital-creative": 10, "virtual-reality": 7, "advanced-computing": 6,
        "smart-terminals": 3, "quantum": 2,
    },
    "C": {
        "smart-terminals": 35, "integrated-circuits": 20, "new-display": 15,
        "industrial-internet": 15, "virtual-reality": 10, "quantum": 5,
    },
    "M": {
        "artificial-intelligence": 35, "software": 20, "advanced-computing": 20, "quantum": 15,
        "integrated-circuits": 10,
    },
    "R": {"digital-creative": 80, "virtual-reality": 20},
}  # fmt: skip
DIGITAL_SHARE: dict[str, float] = {"I": 0.85, "C": 0.08, "M": 0.12, "R": 0.25}
# Who invests in projects, and who platforms enable, by section and size (大型 … 微型).
_INVESTOR_SECTION: dict[str, float] = {"I": 5.0, "C": 4.0, "M": 3.0, "R": 2.0, "A": 0.0}
_INVESTOR_SIZE = np.array([30.0, 8.0, 2.0, 0.3])
_ENABLED_SECTION: dict[str, float] = {
    "C": 4.0, "I": 2.0, "M": 1.5, "G": 1.5, "D": 1.5, "B": 1.5, "E": 1.0, "F": 0.8, "A": 0.6,
}  # fmt: skip
_ENABLED_SIZE = np.array([8.0, 4.0, 1.5, 0.6])
# Monthly revenue at the start of the span, yuan, by size; and the calendar's shape.
_REVENUE_BY_SIZE = np.array([1.5e8, 1.2e7, 1.5e6, 2.0e5])
_SEASON = np.array([0.85, 0.75, 1.0, 0.95, 0.98, 1.08, 0.95, 0.97, 1.05, 0.98, 1.05, 1.35])
# Newly enabled enterprises per year, as a share of the enterprises in business at the as-of
# date: the register's ages are drawn back from that date, so it holds fewer enterprises the
# further back a year is, where the real city held about as many.
NEW_SHARE: dict[int, float] = {
    2019: 0.008, 2020: 0.012, 2021: 0.018, 2022: 0.025, 2023: 0.0358, 2024: 0.037,
    2025: 0.038, 2026: 0.039,
}  # fmt: skip
_SUPER_WEIGHT = 8.0
# Projects per 10,000 enterprises in 2019, growing yearly; a small city still gets a few.
_PROJECTS_PER_10K = 4.0
_PROJECT_GROWTH = 1.08
_MIN_PROJECTS_PER_YEAR = 4.0


@dataclass(frozen=True)
class Catalogue:
    """What the generator needs from the city's content, as arrays."""

    fields: tuple[str, ...]
    parks: tuple[str, ...]
    park_district: tuple[str, ...]
    park_hosts: BoolArray  # (park, field)
    platforms: tuple[str, ...]
    platform_from: IntArray  # day number the platform went online
    platform_super: BoolArray
    solutions: tuple[str, ...]
    solution_platform: IntArray
    solution_sections: BoolArray  # (solution, section): it is meant for that section
    platform_sections: BoolArray  # (platform, section)


def _sections(codes: object) -> BoolArray:
    out = np.zeros(len(_SECTIONS), dtype=bool)
    for code in codes if isinstance(codes, list) else []:
        if code in _SECTIONS:
            out[_SECTIONS.index(code)] = True
    return out


@cache
def catalogue(content: Path = CONTENT) -> Catalogue:
    """Fields, parks, platforms and solutions of ``content`` (a city's content folder). The
    console checks these files whole (shuhui.enterprise); the generator reads the codes."""
    industry = load_items(content / "enterprise" / "industry.yaml", "enterprise-industry")
    fields = tuple(i.code for i in industry if i.attrs.get("type") == "field")
    parks = [i for i in industry if i.attrs.get("type") == "park"]
    hosts = np.zeros((len(parks), len(fields)), dtype=bool)
    for p, park in enumerate(parks):
        for code in park.attrs.get("fields") or []:
            if code in fields:
                hosts[p, fields.index(code)] = True
    listed = load_items(content / "enterprise" / "platforms.yaml", "enterprise-platforms")
    platforms = list(listed)
    solutions = [(p, s) for p, item in enumerate(platforms) for s in item.attrs["solutions"]]
    return Catalogue(
        fields=fields,
        parks=tuple(p.code for p in parks),
        park_district=tuple(str(p.attrs["district_code"]) for p in parks),
        park_hosts=hosts,
        platforms=tuple(p.code for p in platforms),
        platform_from=np.array([day_number(p.valid_from) for p in platforms], dtype=np.int64),
        platform_super=np.array([p.attrs.get("kind") == "super" for p in platforms]),
        solutions=tuple(str(s["code"]) for _, s in solutions),
        solution_platform=np.array([p for p, _ in solutions], dtype=np.int64),
        solution_sections=np.array([_sections(s.get("industries")) for _, s in solutions]),
        platform_sections=np.array([_sections(p.attrs.get("industries")) for p in platforms]),
    )


def generate(
    enterprises: Enterprises, seed: int, as_of: date, content: Path = CONTENT
) -> Iterator[tuple[TableSpec, pa.RecordBatch]]:
    """The three tables' batches for the city's enterprises."""
    cat = catalogue(content)
    end = day_number(as_of)
    yield (
        tables.INDUSTRY_PROJECTS,
        projects(rng_for(seed, Stream.INDUSTRY_PROJECTS), enterprises, cat, end),
    )
    for rows in output(rng_for(seed, Stream.DIGITAL_OUTPUT), enterprises, cat, end):
        yield tables.DIGITAL_ECONOMY_OUTPUT, rows
    yield (
        tables.PLATFORM_ENABLEMENTS,
        enablements(rng_for(seed, Stream.ENABLEMENTS), enterprises, cat, end),
    )


# --- helpers -----------------------------------------------------------------------------------


def _year_bounds(year: int, end: int) -> tuple[int, int]:
    """The first day of ``year`` and its last day not after ``end``."""
    return day_number(date(year, 1, 1)), min(day_number(date(year, 12, 31)), end)


def _field_weights(cat: Catalogue) -> FloatArray:
    """(section, field): how an enterprise of each section picks its key field."""
    weights = np.zeros((len(_SECTIONS), len(cat.fields)))
    for s, section in enumerate(_SECTIONS):
        for code, w in SECTION_FIELDS.get(section, {}).items():
            if code in cat.fields:
                weights[s, cat.fields.index(code)] = w
    # A section (or a city's field list) these tables do not cover: any field alike.
    weights[weights.sum(axis=1) == 0] = 1.0
    return weights


def _draw_rows(rng: np.random.Generator, weights: FloatArray, rows: IntArray) -> IntArray:
    """One column index per element of ``rows``, from row ``rows[i]`` of ``weights``."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(rows.shape[0]) * cum[rows, -1]
    drawn: IntArray = np.minimum(
        (u[:, None] >= cum[rows]).sum(axis=1).astype(np.int64), weights.shape[1] - 1
    )
    return drawn


def _section_weights(table: dict[str, float], default: float) -> FloatArray:
    return np.array([table.get(s, default) for s in _SECTIONS])


def _uniform_days(rng: np.random.Generator, low: IntArray, high: IntArray) -> IntArray:
    days: IntArray = low + np.floor(rng.random(low.shape[0]) * (high - low + 1)).astype(np.int64)
    return days


# --- the project pipeline ----------------------------------------------------------------------


def projects(
    rng: np.random.Generator, ent: Enterprises, cat: Catalogue, end: int
) -> pa.RecordBatch:
    last_year = int(split_days(np.array([end]))[0][0])
    weight = _section_weights(_INVESTOR_SECTION, 0.2)[ent.section] * _INVESTOR_SIZE[ent.size]
    field_weights = _field_weights(cat)
    investor: list[IntArray] = []
    signed: list[IntArray] = []
    for year in range(FIRST_YEAR, last_year + 1):
        start, stop = _year_bounds(year, end)
        # Investors exist the whole year (up to the as-of date): a firm does not sign a large
        # investment in the months it is founded or wound up.
        alive = (ent.established <= start) & (ent.deregistered > stop) & (weight > 0)
        candidates = np.flatnonzero(alive)
        if candidates.shape[0] == 0:
            continue
        share = (stop - start + 1) / 365.0
        rate = max(
            _PROJECTS_PER_10K * _PROJECT_GROWTH ** (year - FIRST_YEAR) * ent.count / 10_000,
            _MIN_PROJECTS_PER_YEAR,
        )
        count = int(rng.poisson(rate * share))
        if year == last_year:
            count = max(count, 1)
        if count == 0:
            continue
        chosen = candidates[weighted_index(rng, weight[candidates], count)]
        days = _uniform_days(rng, np.full(count, start), np.full(count, stop))
        if year == last_year:
            days[0] = max(start, stop - int(rng.integers(0, 15)))
        investor.append(chosen)
        signed.append(days)
    if not investor:
        return _projects_batch(cat, ent, *(np.zeros(0, dtype=np.int64) for _ in range(8)))
    who = np.concatenate(investor)
    sign = np.concatenate(signed)
    order = np.argsort(sign, kind="stable")
    who, sign = who[order], sign[order]
    n = who.shape[0]
    field = _draw_rows(rng, field_weights, ent.section[who])
    hosts = cat.park_hosts[:, field].T.astype(np.float64)  # (project, park)
    hosts[hosts.sum(axis=1) == 0] = 1.0
    park = _draw_rows(rng, hosts, np.arange(n))

    signed_year = split_days(sign)[0]
    year_end = month_first_day((signed_year - 1970) * 12 + 12) - 1
    same_share = np.minimum(0.38 + 0.05 * (signed_year - FIRST_YEAR), 0.68)
    same = rng.random(n) < same_share
    in_year = sign + 1 + np.floor(rng.random(n) * (year_end - sign)).astype(np.int64)
    lag = np.round(rng.lognormal(np.log(150), 0.5, n)).astype(np.int64)
    next_year = np.maximum(sign + lag, year_end + 1 + rng.integers(0, 150, n))
    started = np.where(same & (in_year <= year_end), in_year, next_year)
    median = np.array([FIELD_INVESTMENT.get(c, _DEFAULT_INVESTMENT) for c in cat.fields])[field]
    invest_wan = np.clip(np.round(median * 1e4 * rng.lognormal(0.0, 0.9, n)), 1_000, 3_000_000)
    # Building takes longer the more is invested: 10 months to about 3 years.
    build = np.round(300 + 250 * np.log10(invest_wan / 1_000) * rng.uniform(0.6, 1.2, n))
    completed = started + build.astype(np.int64)
    producing = completed + rng.integers(20, 181, n)
    output_wan = np.round(invest_wan * rng.uniform(0.8, 2.5, n))
    return _projects_batch(
        cat,
        ent,
        who,
        field,
        park,
        sign,
        np.where(started <= end, started, NEVER),
        np.where(completed <= end, completed, NEVER),
        np.where(producing <= end, producing, NEVER),
        (invest_wan * 1_000_000).astype(np.int64),
        output_wan=(output_wan * 1_000_000).astype(np.int64),
    )


def _projects_batch(
    cat: Catalogue,
    ent: Enterprises,
    who: IntArray,
    field: IntArray,
    park: IntArray,
    signed: IntArray,
    started: IntArray,
    completed: IntArray,
    producing: IntArray,
    invest_fen: IntArray,
    output_wan: IntArray | None = None,
) -> pa.RecordBatch:
    n = who.shape[0]
    year = split_days(signed)[0] if n else np.zeros(0, dtype=np.int64)
    # Numbered within the year of signing, in signing order: SZXM2023-00012.
    first_of_year = np.searchsorted(year, year, side="left") if n else year
    seq = np.arange(n) - first_of_year + 1
    code = concat("SZXM", number_strings(year, 4), "-", number_strings(seq, 5))
    trade = pc.utf8_slice_codeunits(take(ent.name, who), 2, 4)
    objects = [FIELD_OBJECTS.get(c, _DEFAULT_OBJECTS) for c in cat.fields]
    flat = pool([o for group in objects for o in group])
    counts = np.array([len(g) for g in objects], dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    # The object and phase follow from the project's sequence: no extra draws, so the other
    # columns keep their values if the wording changes.
    which = offsets[field] + (seq + year) % counts[field] if n else field
    phase = take(pool(_PHASES), (seq * 7 + year) % len(_PHASES)) if n else pool([])
    name = concat(trade, take(flat, which), phase)
    producing_now = producing != NEVER
    output_fen = output_wan if output_wan is not None else np.zeros(n, dtype=np.int64)
    return batch(
        tables.INDUSTRY_PROJECTS,
        {
            "project_code": code,
            "name": name,
            "credit_code": take(ent.credit_code, who),
            "field_code": take(pool(cat.fields), field),
            "park_code": take(pool(cat.parks), park),
            "district_code": take(pool(cat.park_district), park),
            "investment_fen": invest_fen,
            "signed_date": dates(signed),
            "started_date": dates(started, started != NEVER),
            "completed_date": dates(completed, completed != NEVER),
            "producing_date": dates(producing, producing_now),
            "annual_output_fen": pa.array(output_fen, type=pa.int64(), mask=~producing_now),
        },
    )


# --- monthly revenue of the digital-economy enterprises ----------------------------------------


def output(
    rng: np.random.Generator, ent: Enterprises, cat: Catalogue, end: int
) -> Iterator[pa.RecordBatch]:
    last = int(month_index(np.array([end]))[0])
    first = last - last % 12 - 24  # January two years before the as-of year
    months = np.arange(first, last + 1)
    starts = month_first_day(months)
    ends = month_first_day(months + 1) - 1
    calendar = months % 12
    share = _section_weights(DIGITAL_SHARE, 0.0)[ent.section]
    alive_span = (ent.established <= ends[-1]) & (ent.deregistered > starts[0])
    digital = (rng.random(ent.count) < share) & alive_span
    if not digital.any() and alive_span.any():
        # Even a tiny city has its one software house.
        digital[np.flatnonzero(alive_span)[np.argmax(share[alive_span])]] = True
    members = np.flatnonzero(digital)
    field = _draw_rows(rng, _field_weights(cat), ent.section[members])
    growth = np.array([FIELD_GROWTH.get(c, _DEFAULT_GROWTH) for c in cat.fields])[field]
    growth = np.maximum(growth + rng.normal(0.0, 0.08, members.shape[0]), -0.3)
    base = _REVENUE_BY_SIZE[ent.size[members]] * rng.lognormal(0.0, 0.6, members.shape[0])
    for lo in range(0, members.shape[0], _BATCH):
        part = slice(lo, lo + _BATCH)
        who = members[part]
        t = np.arange(months.shape[0])[None, :]
        level = base[part, None] * (1 + growth[part, None]) ** (t / 12)
        # A firm founded in the span grows into its size over its first year.
        age = (starts[None, :] - ent.established[who, None]) / 365.0
        level *= np.clip(age + 1 / 12, 1 / 12, 1.0)
        level *= _SEASON[calendar][None, :] * rng.lognormal(0.0, 0.08, level.shape)
        alive = (ent.established[who, None] <= ends[None, :]) & (
            ent.deregistered[who, None] > starts[None, :]
        )
        row, month = np.nonzero(alive)
        yield batch(
            tables.DIGITAL_ECONOMY_OUTPUT,
            {
                "credit_code": take(ent.credit_code, who[row]),
                "month": starts[month],
                "field_code": take(pool(cat.fields), field[part][row]),
                "revenue_fen": np.round(level[row, month]).astype(np.int64) * 100,
            },
        )


# --- platform enablements ----------------------------------------------------------------------


def enablements(
    rng: np.random.Generator, ent: Enterprises, cat: Catalogue, end: int
) -> pa.RecordBatch:
    last_year = int(split_days(np.array([end]))[0][0])
    weight = _section_weights(_ENABLED_SECTION, 0.5)[ent.section] * _ENABLED_SIZE[ent.size]
    enabled = np.zeros(ent.count, dtype=bool)
    in_business = int(((ent.established <= end) & (ent.deregistered > end)).sum())
    firms: list[IntArray] = []
    firsts: list[IntArray] = []
    for year in range(FIRST_YEAR, last_year + 1):
        start, stop = _year_bounds(year, end)
        eligible = np.flatnonzero(~enabled & (ent.established <= stop) & (ent.deregistered > start))
        if eligible.shape[0] == 0:
            continue
        share = NEW_SHARE.get(year, NEW_SHARE[max(NEW_SHARE)] * 1.03 ** (year - max(NEW_SHARE)))
        expected = share * in_business * (stop - start + 1) / 365.0
        count = min(int(rng.poisson(expected)), eligible.shape[0])
        if year == last_year:
            count = max(count, 1)
        # Weighted sampling without replacement (Efraimidis–Spirakis): the largest u^(1/w).
        keys = np.log(rng.random(eligible.shape[0])) / weight[eligible]
        chosen = eligible[np.argpartition(-keys, count - 1)[:count]] if count else eligible[:0]
        chosen = np.sort(chosen)
        low = np.maximum(ent.established[chosen], start)
        high = np.minimum(ent.deregistered[chosen] - 1, stop)
        days = _uniform_days(rng, low, high)
        if year == last_year:
            fresh = np.flatnonzero(ent.deregistered[chosen] > stop)
            if fresh.shape[0]:
                days[fresh[0]] = max(int(low[fresh[0]]), stop - int(rng.integers(0, 15)))
        enabled[chosen] = True
        firms.append(chosen)
        firsts.append(days)
    if not firms:
        return _enablements_batch(cat, ent, *(np.zeros(0, dtype=np.int64) for _ in range(3)))
    firm = np.concatenate(firms)
    first = np.concatenate(firsts)
    big = ent.size[firm] <= 1
    how_many = np.where(
        big, weighted_index(rng, [0.45, 0.35, 0.2], firm.shape[0]),
        weighted_index(rng, [0.72, 0.21, 0.07], firm.shape[0]),
    ) + 1  # fmt: skip
    picks = _solutions(rng, cat, ent.section[firm], first)
    gaps = np.cumsum(rng.exponential(300.0, (firm.shape[0], 3)), axis=1)
    when = first[:, None] + np.concatenate(
        [np.zeros((firm.shape[0], 1)), np.round(gaps[:, :2])], axis=1
    ).astype(np.int64)
    keep = (
        (np.arange(3)[None, :] < how_many[:, None])
        & (picks >= 0)
        & (when <= end)
        & (when < ent.deregistered[firm, None])
    )
    row, slot = np.nonzero(keep)
    return _enablements_batch(cat, ent, firm[row], picks[row, slot], when[row, slot])


def _solutions(
    rng: np.random.Generator, cat: Catalogue, section: IntArray, first: IntArray
) -> IntArray:
    """Three distinct solutions per enterprise, most likely first (-1 where fewer exist)."""
    per_platform = np.bincount(cat.solution_platform, minlength=len(cat.platforms))
    platform_weight = np.where(cat.platform_super, _SUPER_WEIGHT, 1.0) / per_platform
    out = np.full((section.shape[0], 3), -1, dtype=np.int64)
    sp = cat.solution_platform
    for lo in range(0, section.shape[0], 50_000):
        s = section[lo : lo + 50_000]
        meant = cat.solution_sections[:, s].T  # (enterprise, solution)
        serves = cat.platform_sections[sp][:, s].T
        w = platform_weight[sp][None, :] * np.where(meant, 3.0, np.where(serves, 1.0, 0.15))
        online = cat.platform_from[sp][None, :] <= first[lo : lo + 50_000, None]
        with np.errstate(divide="ignore"):
            keys = np.where(online, np.log(w), -np.inf) - np.log(
                -np.log(rng.random(w.shape))
            )  # Gumbel: the top keys are a weighted draw without replacement
        top = np.argsort(-keys, axis=1)[:, :3]
        valid = np.take_along_axis(keys, top, axis=1) > -np.inf
        out[lo : lo + 50_000, : top.shape[1]] = np.where(valid, top, -1)
    return out


def _enablements_batch(
    cat: Catalogue, ent: Enterprises, firm: IntArray, solution: IntArray, when: IntArray
) -> pa.RecordBatch:
    order = np.lexsort((solution, when)) if firm.shape[0] else firm
    return batch(
        tables.PLATFORM_ENABLEMENTS,
        {
            "credit_code": take(ent.credit_code, firm[order]),
            "platform_code": take(pool(cat.platforms), cat.solution_platform[solution[order]]),
            "solution_code": take(pool(cat.solutions), solution[order]),
            "enabled_date": dates(when[order]),
        },
    )


__all__ = ["CONTENT", "Catalogue", "catalogue", "generate"]
