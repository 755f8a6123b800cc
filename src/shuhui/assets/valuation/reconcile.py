"""The valuation conclusion (评估结论): several methods' results reconciled into one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    Decimal,
    localcontext,
)
from typing import Any, Final

from shuhui.assets.valuation.common import (
    CONTEXT,
    ONE,
    REF_RECONCILE,
    ZERO,
    Check,
    Number,
    Step,
    Valuation,
    fields_as_dict,
    yuan,
)
from shuhui.core.i18n import Text


@dataclass(frozen=True)
class ReconciledMethod:
    label: str
    value: Decimal
    weight: Decimal
    weighted: Decimal  # value × weight, exact

    def as_dict(self) -> dict[str, Any]:
        return fields_as_dict(self)


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
        return fields_as_dict(self)


METHOD_NAMES: Final = {"cost": "成本法", "income": "收益法", "market": "市场法"}


def reconcile(
    results: Mapping[str, Valuation | Number],
    weights: Mapping[str, Number] | None = None,
) -> Reconciliation:
    """The concluded value from several methods' results: Σ value × weight ÷ Σ weight.

    ``results`` maps a label (usually ``"cost"``, ``"income"``, ``"market"``) to a method's
    result or its value; ``weights`` gives each label a weight ≥ 0 (equal weights when omitted).
    """
    check = Check()
    values: dict[str, Decimal] = {}
    if not isinstance(results, Mapping) or not results:
        check.fail("results", Text("至少给出一种方法的结果", "give at least one method's result"))
    else:
        for label, result in results.items():
            if not isinstance(label, str) or not label.strip():
                check.fail(
                    "results",
                    Text("每个方法名称都不能为空", "every label must be a non-empty string"),
                )
                continue
            given = result if isinstance(result, Decimal | int | str | float) else result.value
            values[label] = check.money(f"results.{label}", given)
    chosen: dict[str, Decimal] = {}
    if weights is None:
        chosen = dict.fromkeys(values, ONE)
    elif not isinstance(weights, Mapping):
        check.fail("weights", Text("须为每种方法给出权重", "must map each label to a weight"))
    else:
        for label in values:
            if label not in weights:
                check.fail(f"weights.{label}", Text("缺少", "missing"))
        for label, weight in weights.items():
            if label not in values:
                check.fail(
                    f"weights.{label}", Text("没有这种方法的结果", "no result with this label")
                )
            else:
                chosen[label] = check.rate(f"weights.{label}", weight, at_least=ZERO)
        if not check.errors and not any(chosen.values()):
            check.fail("weights", Text("权重之和为 0", "the weights add up to 0"))
    check.done()

    with localcontext(CONTEXT):
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
