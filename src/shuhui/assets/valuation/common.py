"""The pieces every valuation method shares: exact decimal arithmetic to the fen, the texts
followed (quoted in each result's ``references``), workings steps, and input checks that name
every bad field at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
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
from typing import Any, Final, NamedTuple, Protocol

from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text

# An amount or rate as a caller may give it. Floats are refused: 0.1 is not one tenth.
Number = Decimal | int | str

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)
# Anything larger is a typo, and bounding magnitudes keeps every product exact in CONTEXT.
MAX_AMOUNT: Final = Decimal(10) ** 15
RATE_PLACES: Final = 10  # decimal places allowed in a rate or factor
FACTOR_SHOWN: Final = Decimal("0.000001")  # discount factors are shown to 6 places
MAX_YEARS: Final = 100
MAX_COMPARABLES: Final = 1000
# The accounting rules for data resources apply from this day, prospectively.
ACCOUNTING_IN_FORCE: Final = date(2024, 1, 1)

# 100 digits: products of bounded inputs are exact; divisions and powers are correctly rounded
# far below the fen. Invalid operations raise instead of yielding NaN.
CONTEXT: Final = Context(
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


class Step(NamedTuple):
    """One line of the workings: what was done, in Chinese and English, and the figure."""

    zh: str
    en: str
    amount: Decimal | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"zh": self.zh, "en": self.en, "amount": fixed(self.amount)}


class Valuation(Protocol):
    """What :func:`reconcile` needs from a method's result."""

    @property
    def method(self) -> str: ...

    @property
    def value(self) -> Decimal: ...

    def as_dict(self) -> dict[str, Any]: ...


def yuan(amount: Decimal) -> Decimal:
    """Rounds to the fen, half up (四舍五入)."""
    with localcontext(CONTEXT):
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fen(amount: Decimal) -> int:
    """An amount in yuan as integer fen, the unit the operational database stores."""
    with localcontext(CONTEXT):
        return int(yuan(amount) * 100)


def fixed(value: Decimal | None) -> str | None:
    # Fixed-point, never exponent notation: "1E+2" is not what a finance officer reads.
    return None if value is None else format(value, "f")


def _plain(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):  # before tuples: Step and CostLine are named tuples
        return as_dict()
    if isinstance(value, Decimal):
        return fixed(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def fields_as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


class Check:
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
            reason = Text(
                "浮点数不精确，请以文本或整数给出",
                "a float is not exact; give a Decimal, an int or a string",
            )
            must = Text("须为数字", "must be a number")
            self.fail(name, reason if isinstance(value, float) else must)
            return None
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, ValueError):
            self.fail(name, Text("不是数字", "not a number"))
            return None
        if not number.is_finite():
            self.fail(name, Text("须为有限的数字", "must be a finite number"))
            return None
        if abs(number) > MAX_AMOUNT:
            self.fail(name, Text(f"不能超过 {MAX_AMOUNT:,}", f"at most {MAX_AMOUNT:,} in size"))
            return None
        return number

    def _places(self, name: str, number: Decimal, places: int, what: Text) -> bool:
        with localcontext(CONTEXT):
            exact = number == number.quantize(Decimal(1).scaleb(-places))
        if not exact:
            self.fail(
                name,
                Text(f"{what}最多 {places} 位小数", f"{what.en} has at most {places} decimals"),
            )
        return exact

    def money(self, name: str, value: object, *, positive: bool = False) -> Decimal:
        number = self.number(name, value)
        if number is None:
            return ZERO
        if number < 0 or (positive and number == 0):
            self.fail(
                name,
                Text("须大于 0", "must be greater than 0")
                if positive
                else Text("不能为负数", "cannot be negative"),
            )
            return ZERO
        if not self._places(name, number, 2, Text("金额（元）", "an amount in yuan")):
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
            self.fail(name, Text(f"须大于 {above}", f"must be greater than {above}"))
        elif at_least is not None and number < at_least:
            self.fail(name, Text(f"不能小于 {at_least}", f"must be at least {at_least}"))
        elif at_most is not None and number > at_most:
            self.fail(name, Text(f"不能大于 {at_most}", f"must be at most {at_most}"))
        elif self._places(name, number, RATE_PLACES, Text("比率或系数", "a rate or factor")):
            return number
        return ZERO

    def count(self, name: str, value: object, *, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, Text("须为整数年", "must be a whole number of years"))
            return low
        if not low <= value <= high:
            self.fail(name, Text(f"须在 {low} 到 {high} 之间", f"between {low} and {high}"))
            return low
        return value

    def sequence(self, name: str, value: object, *, high: int) -> list[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            self.fail(name, Text("须为列表", "must be a list"))
            return []
        if not value:
            self.fail(name, Text("至少填一项", "give at least one"))
            return []
        if len(value) > high:
            self.fail(name, Text(f"最多 {high} 项", f"at most {high}"))
            return []
        return list(value)
