"""Valuing a data asset (数据资产评估) and how its holder accounts for it (数据资源入表).

Pure functions: no HTTP, no database. Each takes plain inputs, checks them (a bad one raises
``Problem("validation")`` naming every field at fault), and returns a frozen result that carries
every intermediate figure, a ``workings`` list of steps in Chinese and English, the texts it
follows, and ``as_dict()`` for JSON (decimals as strings).

- :func:`cost_method` (成本法), :func:`income_method` (收益法), :func:`market_method` (市场法) and
  :func:`reconcile` (several methods, one conclusion) follow 《数据资产评估指导意见》
  (中评协〔2023〕17号).
- :func:`accounting_view` classifies the asset as the holder's books would under
  《企业数据资源相关会计处理暂行规定》(财会〔2023〕11号, from 2024-01-01) with CAS 6 (无形资产) and
  CAS 1 (存货). Books measure at cost: an appraised value is not a book amount.

Money is yuan as :class:`~decimal.Decimal` to the fen, rounded ROUND_HALF_UP. Every step that
yields a money figure rounds it, and the next step starts from the rounded figure, so the workings
add up exactly as shown and can be redone by hand. Rates and factors are used exactly as given;
floats are refused, so the same inputs always give the same figures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, Protocol

from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.core.errors import FieldError, Problem, invalid

# An amount or rate as a caller may give it. Floats are refused: 0.1 is not one tenth.
Number = Decimal | int | str

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)
# Anything larger is a typo, and bounding magnitudes keeps every product exact in _CONTEXT.
MAX_AMOUNT: Final = Decimal(10) ** 15
RATE_PLACES: Final = 10  # decimal places allowed in a rate or factor
FACTOR_SHOWN: Final = Decimal("0.000001")  # discount factors are shown to 6 places
MAX_YEARS: Final = 100
MAX_COMPARABLES: Final = 1000
# The accounting rules for data resources apply from this day, prospectively.
ACCOUNTING_IN_FORCE: Final = date(2024, 1, 1)

# 100 digits: products of bounded inputs are exact; divisions and powers are correctly rounded
# far below the fen. Invalid operations raise instead of yielding NaN.
_CONTEXT: Final = Context(
    prec=100, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

# The texts followed, quoted in every result's ``references``. The guidance is cited by method,
# the accounting rules by section, the standards (CAS) by article.
GUIDANCE: Final = "《数据资产评估指导意见》（中评协〔2023〕17号）"
REF_COST: Final = (
    GUIDANCE + "成本法：重置成本（前期费用、直接成本、间接成本、机会成本和相关税费）"
    "与价值调整系数（质量因素）"
)
REF_INCOME: Final = GUIDANCE + "收益法：预期收益（可采用分成收益）、折现率、经济寿命或收益期限"
REF_MARKET: Final = GUIDANCE + "市场法：可比案例，质量、供求、期日、容量及其他差异调整"
REF_RECONCILE: Final = (
    GUIDANCE + "对同一数据资产采用多种评估方法时，分析各测算结果的差异及其原因，"
    "说明确定评估结论的理由"
)
RULES: Final = "《企业数据资源相关会计处理暂行规定》（财会〔2023〕11号）"
_RULES_2: Final = RULES + "二、关于数据资源会计处理适用的准则："
REF_RULES_INTANGIBLE: Final = (
    _RULES_2 + "企业使用的数据资源，符合无形资产准则规定的定义和确认条件的，确认为无形资产"
)
REF_RULES_INVENTORY: Final = (
    _RULES_2 + "企业日常活动中持有、最终目的用于出售的数据资源，"
    "符合存货准则规定的定义和确认条件的，确认为存货"
)
REF_RULES_RESEARCH: Final = (
    _RULES_2 + "企业内部数据资源研究开发项目，研究阶段的支出于发生时计入当期损益"
)
REF_RULES_DISCLOSURE: Final = (
    RULES + "三、关于列示和披露要求：企业可以自愿披露未作为无形资产或存货确认的数据资源的相关信息"
)
_CAS6: Final = "《企业会计准则第6号——无形资产》"
_CAS1: Final = "《企业会计准则第1号——存货》"
CAS6_RECOGNITION: Final = _CAS6 + "第四条（经济利益很可能流入企业；成本能够可靠地计量）"
CAS6_RESEARCH: Final = _CAS6 + "第八条（研究阶段的支出于发生时计入当期损益）"
CAS6_AMORTISATION: Final = (
    _CAS6 + "第十七条（使用寿命有限的，在使用寿命内系统合理摊销；"
    "无法可靠确定预期实现方式的，采用直线法）"
)
CAS6_RESIDUAL: Final = _CAS6 + "第十八条（使用寿命有限的无形资产，其残值一般视为零）"
CAS6_INDEFINITE: Final = _CAS6 + "第十九条（使用寿命不确定的无形资产不应摊销）"
CAS1_RECOGNITION: Final = _CAS1 + "第四条（经济利益很可能流入企业；成本能够可靠地计量）"
CAS1_COST: Final = _CAS1 + "第五条（存货应当按照成本进行初始计量）"
CAS1_NRV: Final = _CAS1 + "第十五条（资产负债表日按照成本与可变现净值孰低计量）"

# The content this module reads: (file under content/<city>/, kind).
CONTENT: Final = ("valuation.yaml", "valuation-parameters")
PARAMETERS: Final = frozenset({"quality-bands"})


# --- shared pieces ----------------------------------------------------------------------------


class Step(NamedTuple):
    """One line of the workings: what was done, in Chinese and English, and the figure."""

    zh: str
    en: str
    amount: Decimal | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"zh": self.zh, "en": self.en, "amount": _text(self.amount)}


class Valuation(Protocol):
    """What :func:`reconcile` needs from a method's result."""

    @property
    def method(self) -> str: ...

    @property
    def value(self) -> Decimal: ...

    def as_dict(self) -> dict[str, Any]: ...


def yuan(amount: Decimal) -> Decimal:
    """Rounds to the fen, half up (四舍五入)."""
    with localcontext(_CONTEXT):
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fen(amount: Decimal) -> int:
    """An amount in yuan as integer fen, the unit the operational database stores."""
    with localcontext(_CONTEXT):
        return int(yuan(amount) * 100)


def _text(value: Decimal | None) -> str | None:
    # Fixed-point, never exponent notation: "1E+2" is not what a finance officer reads.
    return None if value is None else format(value, "f")


def _plain(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):  # before tuples: Step and CostLine are named tuples
        return as_dict()
    if isinstance(value, Decimal):
        return _text(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


class _Check:
    """Collects every bad input, so one answer names them all; ``done()`` raises if any."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(FieldError(name, reason))

    def done(self) -> None:
        if self.errors:
            detail = "; ".join(f"{e.field}: {e.reason}" for e in self.errors)
            raise Problem("validation", detail=detail, errors=list(self.errors))

    def number(self, name: str, value: object) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
            reason = "a float is not exact; give a Decimal, an int or a string"
            self.fail(name, reason if isinstance(value, float) else "must be a number")
            return None
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, ValueError):
            self.fail(name, "not a number")
            return None
        if not number.is_finite():
            self.fail(name, "must be a finite number")
            return None
        if abs(number) > MAX_AMOUNT:
            self.fail(name, f"at most {MAX_AMOUNT:,} in size")
            return None
        return number

    def _places(self, name: str, number: Decimal, places: int, what: str) -> bool:
        with localcontext(_CONTEXT):
            exact = number == number.quantize(Decimal(1).scaleb(-places))
        if not exact:
            self.fail(name, f"{what} has at most {places} decimal places")
        return exact

    def money(self, name: str, value: object, *, positive: bool = False) -> Decimal:
        number = self.number(name, value)
        if number is None:
            return ZERO
        if number < 0 or (positive and number == 0):
            self.fail(name, "must be greater than 0" if positive else "cannot be negative")
            return ZERO
        if not self._places(name, number, 2, "an amount in yuan"):
            return ZERO
        return abs(yuan(number))  # abs: "-0" is 0.00, not -0.00

    def rate(
        self,
        name: str,
        value: object,
        *,
        above: Decimal | None = None,
        at_least: Decimal | None = None,
        at_most: Decimal | None = None,
    ) -> Decimal:
        number = self.number(name, value)
        if number is None:
            return ZERO
        if above is not None and not number > above:
            self.fail(name, f"must be greater than {above}")
        elif at_least is not None and number < at_least:
            self.fail(name, f"must be at least {at_least}")
        elif at_most is not None and number > at_most:
            self.fail(name, f"must be at most {at_most}")
        elif self._places(name, number, RATE_PLACES, "a rate or factor"):
            return number
        return ZERO

    def count(self, name: str, value: object, *, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be a whole number of years")
            return low
        if not low <= value <= high:
            self.fail(name, f"between {low} and {high}")
            return low
        return value

    def sequence(self, name: str, value: object, *, high: int) -> list[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            self.fail(name, "must be a list")
            return []
        if not value:
            self.fail(name, "give at least one")
            return []
        if len(value) > high:
            self.fail(name, f"at most {high}")
            return []
        return list(value)


# --- quality-adjustment bands (content) -------------------------------------------------------


@dataclass(frozen=True)
class QualityBand:
    """Scores at or above ``min_score`` (0-100) take ``coefficient``."""

    min_score: Decimal
    coefficient: Decimal
    name_zh: str
    name_en: str

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class QualityBands:
    """A table of quality bands: the best band first, the last one starting at 0, and a better
    score never taking a smaller coefficient (so value never falls as quality rises)."""

    code: str
    reference: str
    bands: tuple[QualityBand, ...]

    def __post_init__(self) -> None:
        bands = tuple(sorted(self.bands, key=lambda b: b.min_score, reverse=True))
        object.__setattr__(self, "bands", bands)
        if not bands:
            raise ValueError("at least one band")
        for band in bands:
            if not ZERO <= band.min_score <= HUNDRED:
                raise ValueError(f"min_score {band.min_score}: must be between 0 and 100")
            if not band.coefficient > 0:
                raise ValueError(f"coefficient {band.coefficient}: must be greater than 0")
        for higher, lower in pairwise(bands):
            if higher.min_score == lower.min_score:
                raise ValueError(f"min_score {higher.min_score}: appears twice")
            if higher.coefficient < lower.coefficient:
                raise ValueError(
                    f"min_score {higher.min_score}: coefficient smaller than a lower band's"
                )
        if bands[-1].min_score != 0:
            raise ValueError("the lowest band must start at min_score 0")

    def band_for(self, score: Decimal) -> QualityBand:
        for band in self.bands:
            if score >= band.min_score:
                return band
        return self.bands[-1]  # unreachable: the last band starts at 0

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def _content_decimal(path: Path, where: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ContentError(path, where, "write a decimal quoted, e.g. '0.95'")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ContentError(path, where, "not a number") from None
    if not number.is_finite():
        raise ContentError(path, where, "not a finite number")
    return number


def _bands_from_item(path: Path, item: Item) -> QualityBands:
    where = f"{item.code}.bands"
    raw = item.attrs.get("bands")
    if not isinstance(raw, list) or not raw:
        raise ContentError(path, where, "must be a non-empty list")
    bands: list[QualityBand] = []
    for index, entry in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            raise ContentError(path, at, "must be {min_score, coefficient, name}")
        name = entry.get("name")
        if not isinstance(name, dict) or not all(
            isinstance(name.get(k), str) and name[k].strip() for k in ("zh", "en")
        ):
            raise ContentError(path, f"{at}.name", "must be {zh: ..., en: ...}")
        bands.append(
            QualityBand(
                min_score=_content_decimal(path, f"{at}.min_score", entry.get("min_score")),
                coefficient=_content_decimal(path, f"{at}.coefficient", entry.get("coefficient")),
                name_zh=name["zh"].strip(),
                name_en=name["en"].strip(),
            )
        )
    try:
        return QualityBands(code=item.code, reference=item.reference, bands=tuple(bands))
    except ValueError as exc:
        raise ContentError(path, where, str(exc)) from None


def check_content(items: Items) -> None:
    """Checks a valuation-parameters file whole: known parameters, well-formed tables, and no
    two tables of one parameter in force on the same day. Call it at startup."""
    for item in items:
        parameter = item.attrs.get("parameter")
        if parameter not in PARAMETERS:
            raise ContentError(items.path, f"{item.code}.parameter", f"one of {sorted(PARAMETERS)}")
        _bands_from_item(items.path, item)
    for parameter in PARAMETERS:
        tables = sorted(
            (i for i in items if i.attrs.get("parameter") == parameter),
            key=lambda i: i.valid_from,
        )
        for earlier, later in pairwise(tables):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                raise ContentError(
                    items.path,
                    f"{later.code}.valid_from",
                    f"overlaps {earlier.code}; end it (valid_to) before this one starts",
                )


def quality_bands(items: Items, on: date) -> QualityBands:
    """The quality bands in force on the valuation base date ``on`` (评估基准日)."""
    check_content(items)
    found = [i for i in items.in_force(on) if i.attrs.get("parameter") == "quality-bands"]
    if not found:
        raise Problem(
            "validation",
            detail=f"no quality-adjustment bands in force on {on.isoformat()}",
            errors=[FieldError("on", "no quality-adjustment bands in force on this date")],
        )
    return _bands_from_item(items.path, found[0])


def load_quality_bands(city_content: Path, on: date) -> QualityBands:
    """Reads ``valuation.yaml`` under a city's content folder (e.g. ``settings.city_content``)."""
    return quality_bands(load_items(city_content / CONTENT[0], CONTENT[1]), on)


# --- cost method (成本法) ---------------------------------------------------------------------


class CostLine(NamedTuple):
    code: str
    zh: str
    en: str
    amount: Decimal

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "amount": _text(self.amount)}


COST_ITEMS: Final = (
    ("acquisition", "数据获取成本", "acquisition cost"),
    ("processing", "数据加工成本", "processing cost"),
    ("quality", "质量成本（评估、清洗）", "quality cost (assessment, cleaning)"),
    ("security", "安全成本", "security cost"),
    ("registration", "登记与合规成本", "registration and compliance cost"),
    ("other", "其他直接成本", "other direct costs"),
)


@dataclass(frozen=True)
class CostValuation:
    costs: tuple[CostLine, ...]
    not_given: tuple[str, ...]  # codes of the cost items left out, counted as 0
    total_cost: Decimal
    profit_margin: Decimal
    profit: Decimal
    cost_with_profit: Decimal
    devaluation_rate: Decimal
    devaluation: Decimal
    after_devaluation: Decimal
    quality_score: Decimal | None
    quality_band: QualityBand | None
    quality_coefficient: Decimal
    value: Decimal
    references: tuple[str, ...]
    workings: tuple[Step, ...]
    method: Literal["cost"] = field(default="cost", init=False)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def cost_method(
    *,
    acquisition: Number | None = None,
    processing: Number | None = None,
    quality: Number | None = None,
    security: Number | None = None,
    registration: Number | None = None,
    other: Number | None = None,
    profit_margin: Number = 0,
    devaluation_rate: Number = 0,
    quality_score: Number | None = None,
    bands: QualityBands | None = None,
    quality_coefficient: Number | None = None,
) -> CostValuation:
    """成本法: (sum of costs) × (1 + profit margin) × (1 − 贬值率) × 质量调整系数.

    The quality-adjustment coefficient comes from ``quality_score`` (0-100) through ``bands``
    (see :func:`load_quality_bands`), or is given directly as ``quality_coefficient`` when the
    appraiser derived it otherwise (e.g. 层次分析法); give one or the other.

    A cost item left out (``None``) is one the asset did not incur: it counts as 0, and the
    workings say which items were not given. At least one cost item must be given (field
    ``cost``), or there is nothing to value.
    """
    check = _Check()
    given = {
        "acquisition": acquisition,
        "processing": processing,
        "quality": quality,
        "security": security,
        "registration": registration,
        "other": other,
    }
    not_given = tuple(name for name, value in given.items() if value is None)
    if len(not_given) == len(given):
        check.fail("cost", "give at least one cost item")
    amounts = {
        name: yuan(ZERO) if value is None else check.money(name, value)
        for name, value in given.items()
    }
    margin = check.rate("profit_margin", profit_margin, at_least=ZERO)
    rate = check.rate("devaluation_rate", devaluation_rate, at_least=ZERO, at_most=ONE)
    score: Decimal | None = None
    band: QualityBand | None = None
    coefficient = ONE
    if quality_coefficient is not None:
        if quality_score is not None:
            check.fail("quality_coefficient", "give a quality score or a coefficient, not both")
        coefficient = check.rate("quality_coefficient", quality_coefficient, above=ZERO)
    elif quality_score is None:
        check.fail("quality_score", "required (or give quality_coefficient)")
    else:
        score = check.rate("quality_score", quality_score, at_least=ZERO, at_most=HUNDRED)
        if bands is None:
            check.fail("bands", "quality bands are needed to turn a score into a coefficient")
        else:
            band = bands.band_for(score)
            coefficient = band.coefficient
    check.done()

    with localcontext(_CONTEXT):
        costs = tuple(CostLine(code, zh, en, amounts[code]) for code, zh, en in COST_ITEMS)
        total = sum((line.amount for line in costs), ZERO)
        with_profit = yuan(total * (ONE + margin))
        profit = with_profit - total
        after = yuan(with_profit * (ONE - rate))
        devaluation = with_profit - after
        value = yuan(after * coefficient)

    steps = [Step(line.zh, line.en, line.amount) for line in costs]
    if not_given:
        names = {code: (zh, en) for code, zh, en in COST_ITEMS}
        steps.append(
            Step(
                "未填写的成本项按 0 计：" + "、".join(names[c][0] for c in not_given),
                "cost items not given, counted as 0: " + ", ".join(names[c][1] for c in not_given),
            )
        )
    steps.append(Step("成本合计", "total cost", total))
    if margin:
        steps.append(
            Step(f"合理利润（利润率 {_text(margin)}）", f"profit at {_text(margin)}", profit)
        )
        steps.append(Step("含利润的重置成本", "cost including profit", with_profit))
    steps.append(Step("贬值率", "devaluation rate", rate))
    steps.append(Step("贬值额", "devaluation", devaluation))
    steps.append(Step("扣除贬值后的价值", "value after devaluation", after))
    if band is not None and bands is not None:
        steps.append(
            Step(
                f"数据质量评分 {_text(score)}，档次「{band.name_zh}」（≥{_text(band.min_score)}，"
                f"{bands.code}）",
                f"quality score {_text(score)}, band '{band.name_en}' "
                f"(≥{_text(band.min_score)}, {bands.code})",
                score,
            )
        )
    steps.append(Step("质量调整系数", "quality-adjustment coefficient", coefficient))
    steps.append(Step("评估值（成本法）", "value (cost method)", value))
    references = (REF_COST,) + ((bands.reference,) if band is not None and bands else ())
    return CostValuation(
        costs=costs,
        not_given=not_given,
        total_cost=total,
        profit_margin=margin,
        profit=profit,
        cost_with_profit=with_profit,
        devaluation_rate=rate,
        devaluation=devaluation,
        after_devaluation=after,
        quality_score=score,
        quality_band=band,
        quality_coefficient=coefficient,
        value=value,
        references=references,
        workings=tuple(steps),
    )


# --- income method (收益法) -------------------------------------------------------------------


@dataclass(frozen=True)
class IncomeYear:
    year: int
    income: Decimal
    attributable: Decimal  # income × share: the part the data asset earns
    periods: Decimal  # the exponent n in (1 + r)^n: the year, or the year − 0.5 at mid-year
    discount_factor: Decimal  # 1 / (1 + r)^n, shown to 6 places
    present_value: Decimal  # attributable ÷ (1 + r)^n, to the fen

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class IncomeValuation:
    years: tuple[IncomeYear, ...]
    share: Decimal | None
    discount_rate: Decimal
    remaining_life: int
    projected_years: int
    mid_year: bool
    value: Decimal
    references: tuple[str, ...]
    workings: tuple[Step, ...]
    method: Literal["income"] = field(default="income", init=False)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def income_method(
    *,
    incomes: Sequence[Number],
    discount_rate: Number,
    share: Number | None = None,
    remaining_life: int | None = None,
    mid_year: bool = False,
) -> IncomeValuation:
    """收益法: Σ income_t × share ÷ (1 + r)^t over the remaining economic life.

    ``incomes`` are the projected incomes of years 1, 2, …; with ``share`` (分成率, 0 < s ≤ 1)
    they are the incomes the asset contributes to, without it they are already the asset's own.
    ``remaining_life`` (剩余经济寿命, whole years) defaults to the years projected and may cut
    the projection short, never extend it. ``mid_year`` discounts each year from its middle
    (期中折现, n = t − 0.5) instead of its end.
    """
    check = _Check()
    raw = check.sequence("incomes", incomes, high=MAX_YEARS)
    amounts = [check.money(f"incomes[{i}]", value) for i, value in enumerate(raw)]
    rate = check.rate("discount_rate", discount_rate, above=-ONE)
    portion = None if share is None else check.rate("share", share, above=ZERO, at_most=ONE)
    life = len(raw)
    if remaining_life is not None and raw:
        life = check.count("remaining_life", remaining_life, low=1, high=MAX_YEARS)
        if life > len(raw):
            check.fail(
                "remaining_life",
                f"longer than the {len(raw)} years projected; give an income for every year",
            )
    if not isinstance(mid_year, bool):
        check.fail("mid_year", "true or false")
    check.done()

    years: list[IncomeYear] = []
    steps: list[Step] = []
    with localcontext(_CONTEXT):
        base = ONE + rate
        for t, income in enumerate(amounts[:life], start=1):
            attributable = income if portion is None else yuan(income * portion)
            periods = Decimal(t) - Decimal("0.5") if mid_year else Decimal(t)
            growth = base**t if not mid_year else base**periods
            try:
                pv = yuan(attributable / growth)
                factor = (ONE / growth).quantize(FACTOR_SHOWN)
            except InvalidOperation:  # a rate near −1 over many years: beyond any real figure
                reason = "too close to -1: present values beyond reckoning"
                raise invalid("discount_rate", reason) from None
            years.append(IncomeYear(t, income, attributable, periods, factor, pv))
        value = sum((y.present_value for y in years), ZERO)

    steps.append(Step("折现率", "discount rate", rate))
    if portion is not None:
        steps.append(Step("分成率", "share attributable to the data asset", portion))
    if life < len(amounts):
        steps.append(
            Step(
                f"剩余经济寿命 {life} 年，预测期 {len(amounts)} 年，其后各年不计",
                f"remaining life {life} years of {len(amounts)} projected; later years ignored",
                Decimal(life),
            )
        )
    for y in years:
        if portion is not None:
            steps.append(
                Step(
                    f"第{y.year}年 预期收益 {_text(y.income)} × 分成率 {_text(portion)}",
                    f"year {y.year}: income {_text(y.income)} × share {_text(portion)}",
                    y.attributable,
                )
            )
        steps.append(
            Step(
                f"第{y.year}年 折现系数 1/(1+{_text(rate)})^{_text(y.periods)}",
                f"year {y.year}: discount factor 1/(1+{_text(rate)})^{_text(y.periods)}",
                y.discount_factor,
            )
        )
        steps.append(
            Step(
                f"第{y.year}年 现值 {_text(y.attributable)} ÷ (1+{_text(rate)})^{_text(y.periods)}",
                f"year {y.year}: present value {_text(y.attributable)} ÷ "
                f"(1+{_text(rate)})^{_text(y.periods)}",
                y.present_value,
            )
        )
    steps.append(Step("评估值（收益法，各年现值之和）", "value (income method, sum of PVs)", value))
    return IncomeValuation(
        years=tuple(years),
        share=portion,
        discount_rate=rate,
        remaining_life=life,
        projected_years=len(amounts),
        mid_year=mid_year,
        value=value,
        references=(REF_INCOME,),
        workings=tuple(steps),
    )


# --- market method (市场法) -------------------------------------------------------------------


@dataclass(frozen=True)
class Comparable:
    """A comparable transaction (可比案例) and the adjustments that make it like the asset."""

    name: str
    price: Number
    quality: Number = 1  # 质量调整系数
    supply_demand: Number = 1  # 供求调整系数
    period: Number = 1  # 期日调整系数 (transaction date to base date)
    volume: Number = 1  # 容量调整系数
    other: Number = 1  # 其他调整系数
    weight: Number | None = None


FACTORS: Final = (
    ("quality", "质量调整系数", "quality"),
    ("supply_demand", "供求调整系数", "supply and demand"),
    ("period", "期日调整系数", "date"),
    ("volume", "容量调整系数", "volume"),
    ("other", "其他调整系数", "other"),
)


@dataclass(frozen=True)
class AdjustedComparable:
    name: str
    price: Decimal
    factors: dict[str, Decimal]
    combined_factor: Decimal  # the product of the factors, exact
    adjusted_value: Decimal  # price × combined factor, to the fen
    weight: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class MarketValuation:
    comparables: tuple[AdjustedComparable, ...]
    weighted: bool
    value: Decimal
    references: tuple[str, ...]
    workings: tuple[Step, ...]
    method: Literal["market"] = field(default="market", init=False)

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def market_method(comparables: Sequence[Comparable]) -> MarketValuation:
    """市场法: each comparable's price × quality × supply-demand × date × volume × other, then
    their average, weighted when every comparable carries a weight (all or none)."""
    check = _Check()
    raw = check.sequence("comparables", comparables, high=MAX_COMPARABLES)
    weighted = any(isinstance(c, Comparable) and c.weight is not None for c in raw)
    prepared: list[tuple[str, Decimal, dict[str, Decimal], Decimal | None]] = []
    for i, comp in enumerate(raw):
        at = f"comparables[{i}]"
        if not isinstance(comp, Comparable):
            check.fail(at, "must be a Comparable")
            continue
        if not isinstance(comp.name, str) or not 1 <= len(comp.name.strip()) <= 200:
            check.fail(f"{at}.name", "1-200 characters")
        price = check.money(f"{at}.price", comp.price, positive=True)
        factors = {
            code: check.rate(f"{at}.{code}", getattr(comp, code), above=ZERO)
            for code, _, _ in FACTORS
        }
        weight: Decimal | None = None
        if comp.weight is None:
            if weighted:
                check.fail(f"{at}.weight", "give a weight for every comparable or for none")
        else:
            weight = check.rate(f"{at}.weight", comp.weight, at_least=ZERO)
        prepared.append((str(comp.name).strip(), price, factors, weight))
    if weighted and not check.errors and not any(w for *_, w in prepared):
        check.fail("comparables", "the weights add up to 0")
    check.done()

    adjusted: list[AdjustedComparable] = []
    steps: list[Step] = []
    with localcontext(_CONTEXT):
        for name, price, factors, weight in prepared:
            combined = ONE
            for code, _, _ in FACTORS:
                combined *= factors[code]
            adjusted.append(
                AdjustedComparable(name, price, factors, combined, yuan(price * combined), weight)
            )
        if weighted:
            total_weight = sum((c.weight or ZERO for c in adjusted), ZERO)
            weighted_sum = sum((c.adjusted_value * (c.weight or ZERO) for c in adjusted), ZERO)
            value = yuan(weighted_sum / total_weight)
        else:
            total_weight = Decimal(len(adjusted))
            weighted_sum = sum((c.adjusted_value for c in adjusted), ZERO)
            value = yuan(weighted_sum / total_weight)

    for c in adjusted:
        steps.append(
            Step(f"可比案例「{c.name}」交易价格", f"comparable '{c.name}': price", c.price)
        )
        for code, zh, en in FACTORS:
            steps.append(Step(f"　{zh}", f"  {en} factor", c.factors[code]))
        steps.append(Step("　调整系数乘积", "  product of the factors", c.combined_factor))
        steps.append(
            Step(
                f"　调整后价值 {_text(c.price)} × {_text(c.combined_factor)}",
                f"  adjusted value {_text(c.price)} × {_text(c.combined_factor)}",
                c.adjusted_value,
            )
        )
        if c.weight is not None:
            steps.append(Step("　权重", "  weight", c.weight))
    if weighted:
        steps.append(
            Step("加权合计 Σ(调整后价值×权重)", "weighted sum Σ(value × weight)", weighted_sum)
        )
        steps.append(Step("权重合计", "sum of weights", total_weight))
        steps.append(
            Step("评估值（市场法，加权平均）", "value (market method, weighted mean)", value)
        )
    else:
        steps.append(Step("调整后价值合计", "sum of adjusted values", weighted_sum))
        steps.append(Step("可比案例个数", "number of comparables", total_weight))
        steps.append(Step("评估值（市场法，算术平均）", "value (market method, mean)", value))
    return MarketValuation(
        comparables=tuple(adjusted),
        weighted=weighted,
        value=value,
        references=(REF_MARKET,),
        workings=tuple(steps),
    )


# --- reconciliation (评估结论) ----------------------------------------------------------------


@dataclass(frozen=True)
class ReconciledMethod:
    label: str
    value: Decimal
    weight: Decimal
    weighted: Decimal  # value × weight, exact

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class Reconciliation:
    methods: tuple[ReconciledMethod, ...]
    total_weight: Decimal
    weighted_sum: Decimal
    value: Decimal
    spread: Decimal  # highest − lowest result: the difference the report must explain
    spread_ratio: Decimal | None  # spread ÷ lowest, to 4 places; None when the lowest is 0
    references: tuple[str, ...]
    workings: tuple[Step, ...]

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


METHOD_NAMES: Final = {"cost": "成本法", "income": "收益法", "market": "市场法"}


def reconcile(
    results: Mapping[str, Valuation | Number],
    weights: Mapping[str, Number] | None = None,
) -> Reconciliation:
    """The concluded value from several methods' results: Σ value × weight ÷ Σ weight.

    ``results`` maps a label (usually ``"cost"``, ``"income"``, ``"market"``) to a method's
    result or its value; ``weights`` gives each label a weight ≥ 0 (equal weights when omitted).
    """
    check = _Check()
    values: dict[str, Decimal] = {}
    if not isinstance(results, Mapping) or not results:
        check.fail("results", "give at least one method's result")
    else:
        for label, result in results.items():
            if not isinstance(label, str) or not label.strip():
                check.fail("results", "every label must be a non-empty string")
                continue
            given = result if isinstance(result, Decimal | int | str | float) else result.value
            values[label] = check.money(f"results.{label}", given)
    chosen: dict[str, Decimal] = {}
    if weights is None:
        chosen = dict.fromkeys(values, ONE)
    elif not isinstance(weights, Mapping):
        check.fail("weights", "must map each label to a weight")
    else:
        for label in values:
            if label not in weights:
                check.fail(f"weights.{label}", "missing")
        for label, weight in weights.items():
            if label not in values:
                check.fail(f"weights.{label}", "no result with this label")
            else:
                chosen[label] = check.rate(f"weights.{label}", weight, at_least=ZERO)
        if not check.errors and not any(chosen.values()):
            check.fail("weights", "the weights add up to 0")
    check.done()

    with localcontext(_CONTEXT):
        methods = tuple(
            ReconciledMethod(label, values[label], chosen[label], values[label] * chosen[label])
            for label in values
        )
        total_weight = sum((m.weight for m in methods), ZERO)
        weighted_sum = sum((m.weighted for m in methods), ZERO)
        value = yuan(weighted_sum / total_weight)
        high = max(values.values())
        low = min(values.values())
        spread = high - low
        ratio = None if low == 0 else (spread / low).quantize(Decimal("0.0001"))

    steps: list[Step] = []
    for m in methods:
        zh = METHOD_NAMES.get(m.label, m.label)
        steps.append(Step(f"{zh} 结果", f"{m.label}: result", m.value))
        steps.append(Step(f"{zh} 权重", f"{m.label}: weight", m.weight))
    steps.append(Step("加权合计 Σ(结果×权重)", "weighted sum Σ(result × weight)", weighted_sum))
    steps.append(Step("权重合计", "sum of weights", total_weight))
    steps.append(
        Step("各方法结果差异（最高−最低）", "spread of results (highest − lowest)", spread)
    )
    if ratio is not None:
        steps.append(Step("差异率（差异÷最低）", "spread ÷ lowest", ratio))
    steps.append(Step("评估结论", "concluded value", value))
    return Reconciliation(
        methods=methods,
        total_weight=total_weight,
        weighted_sum=weighted_sum,
        value=value,
        spread=spread,
        spread_ratio=ratio,
        references=(REF_RECONCILE,),
        workings=tuple(steps),
    )


# --- the accounting view (会计处理) -----------------------------------------------------------


class IntendedUse(StrEnum):
    INTERNAL_USE = "internal_use"  # 企业内部使用 (including serving customers with it)
    HELD_FOR_SALE = "held_for_sale"  # 日常活动中持有、最终目的用于出售


class Classification(StrEnum):
    INTANGIBLE_ASSET = "intangible_asset"  # 无形资产
    INVENTORY = "inventory"  # 存货
    EXPENSED = "expensed"  # 费用化（未确认为资产，可自愿披露）


CLASSIFICATION_NAMES: Final = {
    Classification.INTANGIBLE_ASSET: ("无形资产", "intangible asset"),
    Classification.INVENTORY: ("存货", "inventory"),
    Classification.EXPENSED: ("费用化（未确认为资产，可自愿披露）", "expensed (disclosure only)"),
}


@dataclass(frozen=True)
class AmortisationLine:
    year: int
    opening: Decimal
    amortisation: Decimal
    accumulated: Decimal
    closing: Decimal

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class AccountingView:
    classification: Classification
    name_zh: str
    name_en: str
    measurement_zh: str
    measurement_en: str
    balance_sheet_line: str | None  # the line of the balance sheet, as 财会〔2023〕11号 adds it
    unmet_conditions: tuple[str, ...]  # recognition conditions not met (when expensed)
    cost: Decimal  # expenditure on the data resource (excluding research)
    research_expensed: Decimal  # research-phase expenditure, always expensed
    expensed: Decimal  # everything charged to profit or loss now
    initial_amount: Decimal  # what is recognised as an asset (0 when expensed)
    useful_life_years: int | None
    amortisation: tuple[AmortisationLine, ...]
    net_realisable_value: Decimal | None
    write_down: Decimal  # 存货跌价准备
    carrying_amount: Decimal  # after the NRV check; before amortisation for an intangible
    references: tuple[str, ...]
    workings: tuple[Step, ...]

    def as_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def _straight_line(cost: Decimal, years: int) -> tuple[AmortisationLine, ...]:
    # Accumulated amortisation is rounded, not each year's charge: the charges differ by at most
    # a fen, none is negative, and the last year ends exactly at zero (残值视为零).
    lines: list[AmortisationLine] = []
    previous = ZERO
    with localcontext(_CONTEXT):
        for year in range(1, years + 1):
            accumulated = cost if year == years else yuan(cost * year / years)
            lines.append(
                AmortisationLine(
                    year=year,
                    opening=cost - previous,
                    amortisation=accumulated - previous,
                    accumulated=accumulated,
                    closing=cost - accumulated,
                )
            )
            previous = accumulated
    return tuple(lines)


def accounting_view(
    *,
    intended_use: IntendedUse | str,
    cost: Number,
    benefits_probable: bool,
    cost_reliably_measurable: bool,
    useful_life_years: int | None = None,
    indefinite_life: bool = False,
    estimated_selling_price: Number | None = None,
    costs_to_complete: Number = 0,
    selling_costs: Number = 0,
    research_costs: Number = 0,
    on: date | None = None,
) -> AccountingView:
    """How the holder's books treat the data resource (数据资源入表).

    - ``internal_use`` (企业内部使用) → intangible asset at cost, amortised straight-line over
      ``useful_life_years`` with zero residual, or not amortised with ``indefinite_life``;
    - ``held_for_sale`` (日常活动中持有、最终目的用于出售) → inventory at cost, then at the lower
      of cost and net realisable value when ``estimated_selling_price`` is given
      (NRV = price − ``costs_to_complete`` − ``selling_costs`` including taxes);
    - either, when future benefits are not probable or the cost cannot be measured reliably →
      expensed as incurred, disclosed voluntarily.

    ``cost`` is what was spent on the resource (purchase, processing, quality assessment,
    registration, security…), not its appraised value. ``research_costs`` (研究阶段支出) are
    expensed in every case. Inputs that do not apply to the classification are ignored. ``on``
    (the reporting date) must be on or after 2024-01-01, when the rules took effect.
    """
    check = _Check()
    use: IntendedUse | None = None
    try:
        use = IntendedUse(intended_use)
    except ValueError:
        check.fail("intended_use", f"one of {[u.value for u in IntendedUse]}")
    amount = check.money("cost", cost)
    research = check.money("research_costs", research_costs)
    for name, flag in (
        ("benefits_probable", benefits_probable),
        ("cost_reliably_measurable", cost_reliably_measurable),
        ("indefinite_life", indefinite_life),
    ):
        if not isinstance(flag, bool):
            check.fail(name, "true or false")
    if isinstance(on, datetime):
        on = on.date()
    if on is not None and (not isinstance(on, date) or on < ACCOUNTING_IN_FORCE):
        check.fail("on", "财会〔2023〕11号 applies from 2024-01-01 (prospectively)")
    recognised = benefits_probable is True and cost_reliably_measurable is True
    life: int | None = None
    if recognised and use is IntendedUse.INTERNAL_USE:
        if indefinite_life is True and useful_life_years is not None:
            check.fail("useful_life_years", "not with indefinite_life")
        elif indefinite_life is not True:
            if useful_life_years is None:
                check.fail("useful_life_years", "required for a finite life (or indefinite_life)")
            else:
                life = check.count("useful_life_years", useful_life_years, low=1, high=MAX_YEARS)
    price: Decimal | None = None
    to_complete = selling = ZERO
    if recognised and use is IntendedUse.HELD_FOR_SALE and estimated_selling_price is not None:
        price = check.money("estimated_selling_price", estimated_selling_price)
        to_complete = check.money("costs_to_complete", costs_to_complete)
        selling = check.money("selling_costs", selling_costs)
    check.done()
    assert use is not None  # done() raised otherwise

    steps: list[Step] = []
    if research:
        steps.append(Step("研究阶段支出，计入当期损益", "research expenditure, expensed", research))
    amortisation: tuple[AmortisationLine, ...] = ()
    nrv: Decimal | None = None
    write_down = ZERO
    if not recognised:
        kind = Classification.EXPENSED
        unmet = tuple(
            name
            for name, flag in (
                ("benefits_probable", benefits_probable),
                ("cost_reliably_measurable", cost_reliably_measurable),
            )
            if not flag
        )
        recognition = CAS6_RECOGNITION if use is IntendedUse.INTERNAL_USE else CAS1_RECOGNITION
        references = [recognition, REF_RULES_DISCLOSURE]
        measurement = ("发生时计入当期损益", "charged to profit or loss as incurred")
        line = None
        initial = ZERO
        expensed = amount + research
        reasons_zh = {
            "benefits_probable": "经济利益并非很可能流入",
            "cost_reliably_measurable": "成本不能可靠计量",
        }
        reasons_en = {
            "benefits_probable": "future economic benefits not probable",
            "cost_reliably_measurable": "cost not reliably measurable",
        }
        steps.append(
            Step(
                "不满足资产确认条件：" + "、".join(reasons_zh[u] for u in unmet),
                "recognition criteria not met: " + "; ".join(reasons_en[u] for u in unmet),
            )
        )
        steps.append(Step("数据资源支出，计入当期损益", "expenditure, expensed", amount))
        steps.append(Step("费用化合计", "total expensed", expensed))
        carrying = ZERO
    elif use is IntendedUse.INTERNAL_USE:
        kind = Classification.INTANGIBLE_ASSET
        unmet = ()
        references = [REF_RULES_INTANGIBLE, CAS6_RECOGNITION]
        line = "无形资产——其中：数据资源"
        initial = carrying = amount
        expensed = research
        steps.append(Step("确认为无形资产，按成本初始计量", "intangible asset at cost", amount))
        if life is None:
            measurement = (
                "成本；使用寿命不确定，不摊销，每年减值测试",
                "cost; indefinite life, not amortised, tested for impairment yearly",
            )
            references.append(CAS6_INDEFINITE)
            steps.append(Step("使用寿命不确定，不摊销", "indefinite useful life: not amortised"))
        else:
            measurement = (
                "成本；使用寿命内直线法摊销，残值为零",
                "cost; straight-line amortisation over the useful life, zero residual",
            )
            references += [CAS6_AMORTISATION, CAS6_RESIDUAL]
            amortisation = _straight_line(amount, life)
            steps.append(Step("使用寿命（年）", "useful life (years)", Decimal(life)))
            for a in amortisation:
                steps.append(
                    Step(f"第{a.year}年 摊销额", f"year {a.year}: amortisation", a.amortisation)
                )
                steps.append(
                    Step(
                        f"第{a.year}年末 账面价值",
                        f"end of year {a.year}: carrying amount",
                        a.closing,
                    )
                )
    else:
        kind = Classification.INVENTORY
        unmet = ()
        references = [REF_RULES_INVENTORY, CAS1_RECOGNITION, CAS1_COST, CAS1_NRV]
        line = "存货——其中：数据资源"
        initial = carrying = amount
        expensed = research
        measurement = (
            "成本；资产负债表日按成本与可变现净值孰低计量",
            "cost; lower of cost and net realisable value at the balance-sheet date",
        )
        steps.append(Step("确认为存货，按成本初始计量", "inventory at cost", amount))
        if price is None:
            steps.append(
                Step(
                    "未提供估计售价：资产负债表日须做可变现净值测试",
                    "no selling price given: test NRV at the balance-sheet date",
                )
            )
        else:
            nrv = price - to_complete - selling
            carrying = max(ZERO, min(amount, nrv))
            write_down = amount - carrying
            steps.append(Step("估计售价", "estimated selling price", price))
            steps.append(
                Step("至完工时估计将要发生的成本", "estimated costs to complete", to_complete)
            )
            steps.append(
                Step("估计的销售费用以及相关税费", "estimated selling costs and taxes", selling)
            )
            steps.append(Step("可变现净值", "net realisable value", nrv))
            steps.append(Step("存货跌价准备", "write-down to NRV", write_down))
            steps.append(
                Step(
                    "账面价值（成本与可变现净值孰低）",
                    "carrying amount (lower of cost and NRV)",
                    carrying,
                )
            )
    if research:
        references += [REF_RULES_RESEARCH, CAS6_RESEARCH]
    zh, en = CLASSIFICATION_NAMES[kind]
    return AccountingView(
        classification=kind,
        name_zh=zh,
        name_en=en,
        measurement_zh=measurement[0],
        measurement_en=measurement[1],
        balance_sheet_line=line,
        unmet_conditions=unmet,
        cost=amount,
        research_expensed=research,
        expensed=expensed,
        initial_amount=initial,
        useful_life_years=life,
        amortisation=amortisation,
        net_realisable_value=nrv,
        write_down=write_down,
        carrying_amount=carrying,
        references=tuple(references),
        workings=tuple(steps),
    )
