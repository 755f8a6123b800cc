"""The income method (收益法): projected incomes, optionally as an income share, discounted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import (
    Decimal,
    InvalidOperation,
    localcontext,
)
from typing import Any, Literal

from shuhui.assets.valuation.common import (
    CONTEXT,
    FACTOR_SHOWN,
    MAX_YEARS,
    ONE,
    REF_INCOME,
    ZERO,
    Check,
    Number,
    Step,
    fields_as_dict,
    fixed,
    yuan,
)
from shuhui.core.errors import invalid
from shuhui.core.i18n import Text


@dataclass(frozen=True)
class IncomeYear:
    year: int
    income: Decimal
    attributable: Decimal  # income × share: the part the data asset earns
    periods: Decimal  # the exponent n in (1 + r)^n: the year, or the year − 0.5 at mid-year
    discount_factor: Decimal  # 1 / (1 + r)^n, shown to 6 places
    present_value: Decimal  # attributable ÷ (1 + r)^n, to the fen

    def as_dict(self) -> dict[str, Any]:
        return fields_as_dict(self)


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
        return fields_as_dict(self)


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
    check = Check()
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
                Text(
                    f"超过了预测的 {len(raw)} 年：请为每一年填写收益",
                    f"longer than the {len(raw)} years projected; give an income for every year",
                ),
            )
    if not isinstance(mid_year, bool):
        check.fail("mid_year", Text("须为是或否", "true or false"))
    check.done()

    years: list[IncomeYear] = []
    steps: list[Step] = []
    with localcontext(CONTEXT):
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
                    f"第{y.year}年 预期收益 {fixed(y.income)} × 分成率 {fixed(portion)}",
                    f"year {y.year}: income {fixed(y.income)} × share {fixed(portion)}",
                    y.attributable,
                )
            )
        steps.append(
            Step(
                f"第{y.year}年 折现系数 1/(1+{fixed(rate)})^{fixed(y.periods)}",
                f"year {y.year}: discount factor 1/(1+{fixed(rate)})^{fixed(y.periods)}",
                y.discount_factor,
            )
        )
        steps.append(
            Step(
                f"第{y.year}年 现值 {fixed(y.attributable)} ÷ (1+{fixed(rate)})^{fixed(y.periods)}",
                f"year {y.year}: present value {fixed(y.attributable)} ÷ "
                f"(1+{fixed(rate)})^{fixed(y.periods)}",
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
