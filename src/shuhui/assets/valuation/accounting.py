"""The accounting view (数据资源入表): how the holder's books classify and measure the asset
under 财会〔2023〕11号 with CAS 6 and CAS 1 — at cost, never at an appraised value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import (
    Decimal,
    localcontext,
)
from enum import StrEnum
from typing import Any, Final

from shuhui.assets.valuation.common import (
    ACCOUNTING_IN_FORCE,
    CAS1_COST,
    CAS1_NRV,
    CAS1_RECOGNITION,
    CAS6_AMORTISATION,
    CAS6_INDEFINITE,
    CAS6_RECOGNITION,
    CAS6_RESEARCH,
    CAS6_RESIDUAL,
    CONTEXT,
    MAX_YEARS,
    REF_RULES_DISCLOSURE,
    REF_RULES_INTANGIBLE,
    REF_RULES_INVENTORY,
    REF_RULES_RESEARCH,
    ZERO,
    Check,
    Number,
    Step,
    fields_as_dict,
    yuan,
)
from shuhui.core.i18n import Text


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
        return fields_as_dict(self)


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
        return fields_as_dict(self)


def _straight_line(cost: Decimal, years: int) -> tuple[AmortisationLine, ...]:
    # Accumulated amortisation is rounded, not each year's charge: the charges differ by at most
    # a fen, none is negative, and the last year ends exactly at zero (残值视为零).
    lines: list[AmortisationLine] = []
    previous = ZERO
    with localcontext(CONTEXT):
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
    check = Check()
    use: IntendedUse | None = None
    try:
        use = IntendedUse(intended_use)
    except ValueError:
        check.fail(
            "intended_use", Text("不是可选的用途之一", f"one of {[u.value for u in IntendedUse]}")
        )
    amount = check.money("cost", cost)
    research = check.money("research_costs", research_costs)
    for name, flag in (
        ("benefits_probable", benefits_probable),
        ("cost_reliably_measurable", cost_reliably_measurable),
        ("indefinite_life", indefinite_life),
    ):
        if not isinstance(flag, bool):
            check.fail(name, Text("须为是或否", "true or false"))
    if isinstance(on, datetime):
        on = on.date()
    if on is not None and (not isinstance(on, date) or on < ACCOUNTING_IN_FORCE):
        check.fail(
            "on",
            Text(
                "财会〔2023〕11号自 2024 年 1 月 1 日起施行（未来适用）",
                "财会〔2023〕11号 applies from 2024-01-01 (prospectively)",
            ),
        )
    recognised = benefits_probable is True and cost_reliably_measurable is True
    life: int | None = None
    if recognised and use is IntendedUse.INTERNAL_USE:
        if indefinite_life is True and useful_life_years is not None:
            check.fail(
                "useful_life_years", Text("使用寿命不确定时不填", "not with indefinite_life")
            )
        elif indefinite_life is not True:
            if useful_life_years is None:
                check.fail(
                    "useful_life_years",
                    Text(
                        "使用寿命有限时必填（或选择使用寿命不确定）",
                        "required for a finite life (or indefinite_life)",
                    ),
                )
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
