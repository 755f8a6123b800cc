"""The market method (市场法): comparable transactions, adjusted for their differences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import (
    Decimal,
    localcontext,
)
from typing import Any, Final, Literal

from shuhui.assets.valuation.common import (
    CONTEXT,
    MAX_COMPARABLES,
    ONE,
    REF_MARKET,
    ZERO,
    Check,
    Number,
    Step,
    fields_as_dict,
    fixed,
    yuan,
)
from shuhui.core.i18n import Text


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
        return fields_as_dict(self)


@dataclass(frozen=True)
class MarketValuation:
    comparables: tuple[AdjustedComparable, ...]
    weighted: bool
    value: Decimal
    references: tuple[str, ...]
    workings: tuple[Step, ...]
    method: Literal["market"] = field(default="market", init=False)

    def as_dict(self) -> dict[str, Any]:
        return fields_as_dict(self)


def market_method(comparables: Sequence[Comparable]) -> MarketValuation:
    """市场法: each comparable's price × quality × supply-demand × date × volume × other, then
    their average, weighted when every comparable carries a weight (all or none)."""
    check = Check()
    raw = check.sequence("comparables", comparables, high=MAX_COMPARABLES)
    weighted = any(isinstance(c, Comparable) and c.weight is not None for c in raw)
    prepared: list[tuple[str, Decimal, dict[str, Decimal], Decimal | None]] = []
    for i, comp in enumerate(raw):
        at = f"comparables[{i}]"
        if not isinstance(comp, Comparable):
            check.fail(at, Text("须为一项可比交易", "must be a Comparable"))
            continue
        if not isinstance(comp.name, str) or not 1 <= len(comp.name.strip()) <= 200:
            check.fail(f"{at}.name", Text("1 到 200 个字", "1-200 characters"))
        price = check.money(f"{at}.price", comp.price, positive=True)
        factors = {
            code: check.rate(f"{at}.{code}", getattr(comp, code), above=ZERO)
            for code, _, _ in FACTORS
        }
        weight: Decimal | None = None
        if comp.weight is None:
            if weighted:
                check.fail(
                    f"{at}.weight",
                    Text(
                        "要么每项可比交易都给权重，要么都不给",
                        "give a weight for every comparable or for none",
                    ),
                )
        else:
            weight = check.rate(f"{at}.weight", comp.weight, at_least=ZERO)
        prepared.append((str(comp.name).strip(), price, factors, weight))
    if weighted and not check.errors and not any(w for *_, w in prepared):
        check.fail("comparables", Text("权重之和为 0", "the weights add up to 0"))
    check.done()

    adjusted: list[AdjustedComparable] = []
    steps: list[Step] = []
    with localcontext(CONTEXT):
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
                f"　调整后价值 {fixed(c.price)} × {fixed(c.combined_factor)}",
                f"  adjusted value {fixed(c.price)} × {fixed(c.combined_factor)}",
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
