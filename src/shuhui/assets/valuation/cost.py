"""The cost method (成本法): replacement cost × (1 + profit margin) × (1 − 贬值率) × the
quality-adjustment coefficient (质量调整系数)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import (
    Decimal,
    localcontext,
)
from typing import Any, Final, Literal, NamedTuple

from shuhui.assets.valuation.bands import QualityBand, QualityBands
from shuhui.assets.valuation.common import (
    CONTEXT,
    HUNDRED,
    ONE,
    REF_COST,
    ZERO,
    Check,
    Number,
    Step,
    fields_as_dict,
    fixed,
    yuan,
)
from shuhui.core.i18n import Text


class CostLine(NamedTuple):
    code: str
    zh: str
    en: str
    amount: Decimal

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "amount": fixed(self.amount)}


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
        return fields_as_dict(self)


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
    check = Check()
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
        check.fail("cost", Text("至少填一项成本", "give at least one cost item"))
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
            check.fail(
                "quality_coefficient",
                Text(
                    "质量评分和质量系数只填其一", "give a quality score or a coefficient, not both"
                ),
            )
        coefficient = check.rate("quality_coefficient", quality_coefficient, above=ZERO)
    elif quality_score is None:
        check.fail(
            "quality_score",
            Text("必填（或填写质量系数）", "required (or give quality_coefficient)"),
        )
    else:
        score = check.rate("quality_score", quality_score, at_least=ZERO, at_most=HUNDRED)
        if bands is None:
            check.fail(
                "bands",
                Text(
                    "须有质量分档，才能把评分换算为系数",
                    "quality bands are needed to turn a score into a coefficient",
                ),
            )
        else:
            band = bands.band_for(score)
            coefficient = band.coefficient
    check.done()

    with localcontext(CONTEXT):
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
            Step(f"合理利润（利润率 {fixed(margin)}）", f"profit at {fixed(margin)}", profit)
        )
        steps.append(Step("含利润的重置成本", "cost including profit", with_profit))
    steps.append(Step("贬值率", "devaluation rate", rate))
    steps.append(Step("贬值额", "devaluation", devaluation))
    steps.append(Step("扣除贬值后的价值", "value after devaluation", after))
    if band is not None and bands is not None:
        steps.append(
            Step(
                f"数据质量评分 {fixed(score)}，档次「{band.name_zh}」（≥{fixed(band.min_score)}，"
                f"{bands.code}）",
                f"quality score {fixed(score)}, band '{band.name_en}' "
                f"(≥{fixed(band.min_score)}, {bands.code})",
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
