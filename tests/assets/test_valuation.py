"""Data-asset valuation (数据资产评估) and the accounting view (数据资源入表).

Worked examples are computed by hand in the comments next to each figure; properties say what
must hold for any valid input; bad inputs are refused naming the field.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.assets.valuation.accounting import Classification, IntendedUse, accounting_view
from shuhui.assets.valuation.bands import (
    QualityBand,
    QualityBands,
    check_content,
    load_quality_bands,
    quality_bands,
)
from shuhui.assets.valuation.common import fen, yuan
from shuhui.assets.valuation.cost import cost_method
from shuhui.assets.valuation.income import income_method
from shuhui.assets.valuation.market import Comparable, market_method
from shuhui.assets.valuation.reconcile import reconcile
from shuhui.core.content import ContentError, parse_items
from shuhui.core.errors import Problem
from shuhui.core.settings import Settings

D = Decimal
CITY = Settings().city_content
BANDS = load_quality_bands(CITY, date(2026, 11, 29))

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
positive_money = st.decimals(
    min_value=D("0.01"), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)
scores = st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False)
factors = st.decimals(
    min_value=D("0.5"), max_value=D("1.5"), places=4, allow_nan=False, allow_infinity=False
)
discount_rates = st.decimals(
    min_value=D("-0.5"), max_value=D("0.5"), places=4, allow_nan=False, allow_infinity=False
)
ZERO = D(0)
COSTS = ("acquisition", "processing", "quality", "security", "registration", "other")


def fields_of(problem: pytest.ExceptionInfo[Problem]) -> list[str]:
    assert problem.value.slug == "validation"
    return [e.field for e in problem.value.errors]


def costs(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "acquisition": "120000",
        "processing": 80000,
        "quality": D("30000.00"),
        "security": 15000,
        "registration": 5000,
        "other": "2500",
    }
    return base | overrides


# --- quality bands ----------------------------------------------------------------------------


def test_the_shipped_bands_load_and_cite_their_text() -> None:
    assert BANDS.code == "QD-VAL-QUALITY-2023"
    assert "中评协〔2023〕17号" in BANDS.reference
    assert [b.min_score for b in BANDS.bands] == [90, 80, 70, 60, 0]
    assert BANDS.band_for(D(90)).coefficient == D("1.00")
    assert BANDS.band_for(D("89.9")).coefficient == D("0.95")
    assert BANDS.band_for(D(0)).name_en == "poor"


def test_no_bands_before_the_guidance_took_effect() -> None:
    with pytest.raises(Problem) as problem:
        load_quality_bands(CITY, date(2023, 9, 30))
    assert fields_of(problem) == ["on"]


BAD_CONTENT = """
kind: valuation-parameters
items:
  - code: QB
    name: {zh: 分档, en: Bands}
    parameter: quality-bands
    valid_from: 2024-01-01
    reference: 某文
    bands:
"""


@pytest.mark.parametrize(
    ("bands", "where", "reason"),
    [
        (
            "[{min_score: 0, coefficient: 0.95, name: {zh: 差, en: poor}}]",
            "[0].coefficient",
            "quoted",
        ),
        (
            "[{min_score: 90, coefficient: '0.9', name: {zh: 优, en: good}},"
            " {min_score: 0, coefficient: '1.0', name: {zh: 差, en: poor}}]",
            "bands",
            "smaller",
        ),
        ("[{min_score: 50, coefficient: '1', name: {zh: 中, en: fair}}]", "bands", "start at"),
        ("[{min_score: 0, coefficient: '0', name: {zh: 差, en: poor}}]", "bands", "greater"),
        ("[{min_score: 0, coefficient: '1'}]", "[0].name", "zh"),
    ],
)
def test_a_broken_band_table_is_refused_naming_the_spot(
    bands: str, where: str, reason: str
) -> None:
    items = parse_items(Path("v.yaml"), BAD_CONTENT + f"      {bands}\n", "valuation-parameters")
    with pytest.raises(ContentError) as error:
        check_content(items)
    assert error.value.where.endswith(where)
    assert reason in error.value.reason


def test_two_band_tables_in_force_on_one_day_are_refused() -> None:
    table = "[{min_score: 0, coefficient: '1', name: {zh: 全, en: all}}]"
    second = BAD_CONTENT.split("items:\n")[1].replace("code: QB", "code: QB2")
    text = BAD_CONTENT + f"      {table}\n" + second + f"      {table}\n"
    items = parse_items(Path("v.yaml"), text, "valuation-parameters")
    with pytest.raises(ContentError, match="overlaps QB"):
        quality_bands(items, date(2024, 6, 1))


# --- cost method ------------------------------------------------------------------------------


def test_cost_method_worked_example() -> None:
    result = cost_method(
        **costs(), profit_margin="0.10", devaluation_rate="0.15", quality_score=85, bands=BANDS
    )
    # 120000 + 80000 + 30000 + 15000 + 5000 + 2500 = 252500.00
    assert result.total_cost == D("252500.00")
    # profit 252500 × 0.10 = 25250.00, with profit 277750.00
    assert (result.profit, result.cost_with_profit) == (D("25250.00"), D("277750.00"))
    # 277750 × (1 − 0.15) = 236087.50, so the devaluation is 41662.50
    assert (result.after_devaluation, result.devaluation) == (D("236087.50"), D("41662.50"))
    # score 85 is in the band ≥80 → 0.95; 236087.50 × 0.95 = 224283.125 → half up 224283.13
    assert result.quality_band is not None and result.quality_band.name_zh == "良"
    assert result.quality_coefficient == D("0.95")
    assert result.value == D("224283.13")
    assert result.method == "cost"
    assert result.workings[-1] == ("评估值（成本法）", "value (cost method)", D("224283.13"))
    assert [s.amount for s in result.workings[:6]] == [
        D("120000.00"),
        D("80000.00"),
        D("30000.00"),
        D("15000.00"),
        D("5000.00"),
        D("2500.00"),
    ]
    assert any("中评协〔2023〕17号" in r for r in result.references)
    assert BANDS.reference in result.references


def test_cost_method_with_a_coefficient_the_appraiser_derived() -> None:
    result = cost_method(
        acquisition="1000.01",
        processing=0,
        quality=0,
        security=0,
        registration=0,
        quality_coefficient="0.5",
    )
    # 1000.01 × 1 × 1 × 0.5 = 500.005 → 500.01 (half up, not half even)
    assert result.value == D("500.01")
    assert result.quality_score is None and result.quality_band is None


def test_cost_items_left_out_count_as_zero_and_the_workings_say_so() -> None:
    result = cost_method(acquisition="1000", security="200", quality_coefficient="1")
    assert result.total_cost == D("1200.00") and result.value == D("1200.00")
    assert result.not_given == ("processing", "quality", "registration", "other")
    assert [line.amount for line in result.costs] == [D("1000.00"), 0, 0, D("200.00"), 0, 0]
    note = result.workings[6]
    left_out = "数据加工成本、质量成本（评估、清洗）、登记与合规成本、其他直接成本"
    assert note.zh == f"未填写的成本项按 0 计：{left_out}"
    assert note.amount is None
    # Given in full, there is nothing to note.
    assert cost_method(**costs(), quality_coefficient="1").not_given == ()


def test_a_cost_method_needs_at_least_one_cost_item() -> None:
    with pytest.raises(Problem) as problem:
        cost_method(profit_margin="0.1", quality_coefficient="1")
    assert fields_of(problem) == ["cost"]


def test_cost_method_as_dict_is_json_with_decimal_strings() -> None:
    result = cost_method(**costs(), quality_score="92.5", bands=BANDS)
    data = json.loads(json.dumps(result.as_dict(), ensure_ascii=False))
    assert data["method"] == "cost"
    assert data["value"] == "252500.00"  # score 92.5 → 1.00, no margin, no devaluation
    assert data["quality_band"]["coefficient"] == "1.00"
    assert data["costs"][0] == {
        "code": "acquisition",
        "zh": "数据获取成本",
        "en": "acquisition cost",
        "amount": "120000.00",
    }
    assert data["workings"][-1]["amount"] == "252500.00"


@given(
    base=st.lists(money, min_size=6, max_size=6),
    which=st.sampled_from(COSTS),
    more=money,
    margin=st.decimals(min_value=0, max_value=1, places=3),
    rate=st.decimals(min_value=0, max_value=1, places=3),
    score=scores,
)
def test_cost_value_never_falls_as_a_cost_rises(
    base: list[Decimal], which: str, more: Decimal, margin: Decimal, rate: Decimal, score: Decimal
) -> None:
    given_costs: dict[str, Any] = dict(zip(COSTS, base, strict=True))
    common: dict[str, Any] = {
        "profit_margin": margin,
        "devaluation_rate": rate,
        "quality_score": score,
        "bands": BANDS,
    }
    low = cost_method(**given_costs, **common)
    high = cost_method(**(given_costs | {which: given_costs[which] + more}), **common)
    assert ZERO <= low.value <= high.value


@given(base=st.lists(money, min_size=6, max_size=6), a=scores, b=scores)
def test_cost_value_never_falls_as_quality_rises(
    base: list[Decimal], a: Decimal, b: Decimal
) -> None:
    given_costs: dict[str, Any] = dict(zip(COSTS, base, strict=True))
    low, high = sorted((a, b))
    worse = cost_method(**given_costs, quality_score=low, bands=BANDS)
    better = cost_method(**given_costs, quality_score=high, bands=BANDS)
    assert ZERO <= worse.value <= better.value


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"acquisition": -1}, "acquisition"),
        ({"processing": "-0.01"}, "processing"),
        ({"quality": 1.5}, "quality"),
        ({"security": "12.345"}, "security"),
        ({"registration": "abc"}, "registration"),
        ({"other": "NaN"}, "other"),
        ({"acquisition": "1e16"}, "acquisition"),
        ({"profit_margin": "-0.1"}, "profit_margin"),
        ({"devaluation_rate": "1.01"}, "devaluation_rate"),
        ({"quality_score": 101}, "quality_score"),
        ({"quality_score": None}, "quality_score"),
        ({"quality_score": None, "quality_coefficient": "0"}, "quality_coefficient"),
        ({"quality_coefficient": "1"}, "quality_coefficient"),  # with a score too
        ({"bands": None}, "bands"),
    ],
)
def test_cost_method_refuses_bad_input_naming_the_field(change: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = costs() | {"quality_score": 80, "bands": BANDS} | change
    with pytest.raises(Problem) as problem:
        cost_method(**args)
    assert fields_of(problem) == [field]


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(Problem) as problem:
        cost_method(**costs(acquisition=-1, security=-2), quality_score=-5, bands=BANDS)
    assert fields_of(problem) == ["acquisition", "security", "quality_score"]
    assert problem.value.type.status == 422


@given(which=st.sampled_from(COSTS), amount=positive_money)
def test_any_negative_cost_is_refused_naming_it(which: str, amount: Decimal) -> None:
    with pytest.raises(Problem) as problem:
        cost_method(**costs(**{which: -amount}), quality_score=90, bands=BANDS)
    assert fields_of(problem) == [which]


# --- income method ----------------------------------------------------------------------------


def test_income_method_worked_example() -> None:
    result = income_method(incomes=[100000, "120000", D(150000)], share="0.25", discount_rate="0.1")
    # attributable: 100000 × 0.25 = 25000, 120000 × 0.25 = 30000, 150000 × 0.25 = 37500
    assert [y.attributable for y in result.years] == [D("25000.00"), D("30000.00"), D("37500.00")]
    # 1/1.1 = 0.9090909…, 1/1.21 = 0.8264462…, 1/1.331 = 0.7513148…
    assert [y.discount_factor for y in result.years] == [
        D("0.909091"),
        D("0.826446"),
        D("0.751315"),
    ]
    # 25000/1.1 = 22727.2727… → 22727.27; 30000/1.21 = 24793.3884… → 24793.39;
    # 37500/1.331 = 28174.3050… → 28174.31
    assert [y.present_value for y in result.years] == [
        D("22727.27"),
        D("24793.39"),
        D("28174.31"),
    ]
    # 22727.27 + 24793.39 + 28174.31 = 75694.97
    assert result.value == D("75694.97")
    assert result.remaining_life == 3 and result.method == "income"
    assert result.workings[-1].amount == D("75694.97")


def test_income_method_truncates_at_the_remaining_life() -> None:
    result = income_method(incomes=[25000, 30000, 37500], discount_rate="0.10", remaining_life=2)
    # 22727.27 + 24793.39 = 47520.66; year 3 is past the asset's life
    assert result.value == D("47520.66")
    assert (result.remaining_life, result.projected_years) == (2, 3)
    assert len(result.years) == 2
    assert any("剩余经济寿命 2 年" in s.zh for s in result.workings)


def test_income_method_mid_year() -> None:
    # at 21%, 1.21^0.5 = 1.1 and 1.21^1.5 = 1.331: 110000/1.1 + 133100/1.331 = 200000
    result = income_method(incomes=[110000, 133100], discount_rate="0.21", mid_year=True)
    assert [y.periods for y in result.years] == [D("0.5"), D("1.5")]
    assert result.value == D("200000.00")


def test_income_method_with_a_negative_discount_rate() -> None:
    # a rate above −1 is allowed: 1000 / (1 − 0.2) = 1250
    assert income_method(incomes=[1000], discount_rate="-0.2").value == D("1250.00")


@given(incomes=st.lists(money, min_size=1, max_size=15), a=discount_rates, b=discount_rates)
def test_income_value_falls_as_the_discount_rate_rises(
    incomes: list[Decimal], a: Decimal, b: Decimal
) -> None:
    low, high = sorted((a, b))
    cheap = income_method(incomes=incomes, discount_rate=low)
    dear = income_method(incomes=incomes, discount_rate=high)
    assert ZERO <= dear.value <= cheap.value
    if high > low and any(i >= 100 for i in incomes):
        assert dear.value < cheap.value


@given(
    incomes=st.lists(money, min_size=1, max_size=15),
    rate=discount_rates,
    share=st.decimals(min_value=D("0.01"), max_value=1, places=2),
    mid_year=st.booleans(),
)
def test_income_value_is_never_negative_and_adds_up(
    incomes: list[Decimal], rate: Decimal, share: Decimal, mid_year: bool
) -> None:
    result = income_method(incomes=incomes, discount_rate=rate, share=share, mid_year=mid_year)
    assert result.value >= 0
    assert result.value == sum(y.present_value for y in result.years)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"incomes": []}, "incomes"),
        ({"incomes": "100"}, "incomes"),
        ({"incomes": [100, -1]}, "incomes[1]"),
        ({"discount_rate": "-1"}, "discount_rate"),
        ({"discount_rate": 0.08}, "discount_rate"),
        ({"share": "0"}, "share"),
        ({"share": "1.2"}, "share"),
        ({"remaining_life": 0}, "remaining_life"),
        ({"remaining_life": 4}, "remaining_life"),
        ({"remaining_life": 2.5}, "remaining_life"),
        ({"incomes": [10**12] * 100, "discount_rate": "-0.9999999999"}, "discount_rate"),
    ],
)
def test_income_method_refuses_bad_input_naming_the_field(args: dict[str, Any], field: str) -> None:
    call: dict[str, Any] = {"incomes": [100, 200, 300], "discount_rate": "0.1"} | args
    with pytest.raises(Problem) as problem:
        income_method(**call)
    assert fields_of(problem) == [field]


# --- market method ----------------------------------------------------------------------------

A = Comparable("上海数据交易所 案例A", "500000", "1.05", "0.98", "1.02", "0.90", "1.00")
B = Comparable("贵阳大数据交易所 案例B", "420000", "0.95", "1.00", "1.03", "1.10", "0.97")
C = Comparable("青岛 案例C", "610000", "0.92", "1.02", "0.99", "0.85", "1.00")


def test_market_method_worked_example() -> None:
    result = market_method([A, B, C])
    # A: 1.05 × 0.98 × 1.02 × 0.90 × 1.00 = 0.944622; 500000 × 0.944622 = 472311.00
    # B: 0.95 × 1.00 × 1.03 × 1.10 × 0.97 = 1.0440595; 420000 × 1.0440595 = 438504.99
    # C: 0.92 × 1.02 × 0.99 × 0.85 × 1.00 = 0.7896636; 610000 × 0.7896636 = 481694.796 → .80
    assert [c.combined_factor for c in result.comparables] == [
        D("0.944622"),
        D("1.0440595"),
        D("0.7896636"),
    ]
    assert [c.adjusted_value for c in result.comparables] == [
        D("472311.00"),
        D("438504.99"),
        D("481694.80"),
    ]
    # (472311.00 + 438504.99 + 481694.80) / 3 = 1392510.79 / 3 = 464170.2633… → 464170.26
    assert result.value == D("464170.26")
    assert not result.weighted and result.method == "market"
    assert result.workings[-1].amount == D("464170.26")
    assert result.as_dict()["comparables"][0]["factors"]["period"] == "1.02"


def test_market_method_weighted() -> None:
    weighted = [
        Comparable(**{**c.__dict__, "weight": w}) for c, w in ((A, "0.4"), (B, "0.3"), (C, "0.3"))
    ]
    result = market_method(weighted)
    # 472311.00 × 0.4 + 438504.99 × 0.3 + 481694.80 × 0.3
    #   = 188924.40 + 131551.497 + 144508.44 = 464984.337; ÷ 1.0 → 464984.34
    assert result.weighted
    assert result.value == D("464984.34")


comparables = st.lists(
    st.builds(
        Comparable,
        name=st.just("案例"),
        price=positive_money,
        quality=factors,
        supply_demand=factors,
        period=factors,
        volume=factors,
        other=factors,
    ),
    min_size=1,
    max_size=8,
)


@given(cases=comparables, k=st.integers(min_value=1, max_value=1000))
def test_market_value_scales_with_the_prices(cases: list[Comparable], k: int) -> None:
    base = market_method(cases)
    scaled = market_method([dataclasses.replace(c, price=D(c.price) * k) for c in cases])
    assert base.value >= 0 and scaled.value >= 0
    # Exact but for the rounding of each adjusted value and of the mean to the fen.
    assert abs(scaled.value - k * base.value) <= D("0.01") * (k + 1)


@pytest.mark.parametrize(
    ("cases", "field"),
    [
        ([], "comparables"),
        ([Comparable("x", 0)], "comparables[0].price"),
        ([Comparable("x", 100, quality=0)], "comparables[0].quality"),
        ([A, Comparable("x", 100, supply_demand="-1")], "comparables[1].supply_demand"),
        ([Comparable("x", 100, period=cast(Any, 1.1))], "comparables[0].period"),
        ([Comparable("x", 100, volume="0.00000000001")], "comparables[0].volume"),
        ([Comparable("x", 100, other="abc")], "comparables[0].other"),
        ([Comparable("", 100)], "comparables[0].name"),
        ([Comparable("x", 100, weight=1), Comparable("y", 100)], "comparables[1].weight"),
        ([Comparable("x", 100, weight=0)], "comparables"),
        ([Comparable("x", 100, weight=-1)], "comparables[0].weight"),
    ],
)
def test_market_method_refuses_bad_input_naming_the_field(
    cases: list[Comparable], field: str
) -> None:
    with pytest.raises(Problem) as problem:
        market_method(cases)
    assert fields_of(problem) == [field]


# --- reconciliation ---------------------------------------------------------------------------


def test_reconcile_worked_example() -> None:
    values = {"cost": "224283.13", "income": "250000.00", "market": "464170.26"}
    result = reconcile(values, {"cost": "0.2", "income": "0.5", "market": "0.3"})
    # 224283.13 × 0.2 + 250000 × 0.5 + 464170.26 × 0.3 = 44856.626 + 125000 + 139251.078
    #   = 309107.704 → 309107.70
    assert result.weighted_sum == D("309107.704")
    assert result.value == D("309107.70")
    # spread 464170.26 − 224283.13 = 239887.13; ÷ 224283.13 = 1.0695… → 1.0696
    assert result.spread == D("239887.13")
    assert result.spread_ratio == D("1.0696")
    # equal weights: 938453.39 / 3 = 312817.7966… → 312817.80
    assert reconcile(values).value == D("312817.80")


def test_reconcile_takes_the_methods_results() -> None:
    cost = cost_method(**costs(), quality_score=95, bands=BANDS)  # 252500.00
    market = market_method([A, B, C])  # 464170.26
    result = reconcile({cost.method: cost, market.method: market}, {"cost": 1, "market": 3})
    # (252500.00 × 1 + 464170.26 × 3) / 4 = (252500 + 1392510.78) / 4 = 411252.695 → 411252.70
    assert result.value == D("411252.70")
    assert [m.label for m in result.methods] == ["cost", "market"]
    assert result.workings[0].zh == "成本法 结果"
    json.dumps(result.as_dict())


@given(
    values=st.lists(money, min_size=1, max_size=3),
    weights=st.lists(st.decimals(min_value=0, max_value=10, places=2), min_size=3, max_size=3),
)
def test_the_conclusion_lies_between_the_methods(
    values: list[Decimal], weights: list[Decimal]
) -> None:
    labels = ["cost", "income", "market"][: len(values)]
    chosen = dict(zip(labels, weights, strict=False))
    if not any(chosen.values()):
        chosen[labels[0]] = D(1)
    result = reconcile(dict(zip(labels, values, strict=True)), chosen)
    assert min(values) <= result.value <= max(values)
    assert result.value >= 0


@pytest.mark.parametrize(
    ("results", "weights", "field"),
    [
        ({}, None, "results"),
        ({"cost": "-1"}, None, "results.cost"),
        ({"cost": 1, "market": 2}, {"cost": 1}, "weights.market"),
        ({"cost": 1}, {"cost": 1, "income": 1}, "weights.income"),
        ({"cost": 1}, {"cost": "-0.5"}, "weights.cost"),
        ({"cost": 1}, {"cost": 0}, "weights"),
    ],
)
def test_reconcile_refuses_bad_input_naming_the_field(
    results: dict[str, Any], weights: dict[str, Any] | None, field: str
) -> None:
    with pytest.raises(Problem) as problem:
        reconcile(results, weights)
    assert fields_of(problem) == [field]


# --- the accounting view ----------------------------------------------------------------------


def test_internal_use_is_an_intangible_asset_amortised_straight_line() -> None:
    view = accounting_view(
        intended_use=IntendedUse.INTERNAL_USE,
        cost="100000",
        benefits_probable=True,
        cost_reliably_measurable=True,
        useful_life_years=3,
        on=date(2026, 11, 29),
    )
    assert view.classification is Classification.INTANGIBLE_ASSET
    assert view.balance_sheet_line == "无形资产——其中：数据资源"
    assert view.initial_amount == view.carrying_amount == D("100000.00")
    # accumulated: 100000 × 1/3 = 33333.33, × 2/3 = 66666.67, × 3/3 = 100000.00
    assert [a.amortisation for a in view.amortisation] == [
        D("33333.33"),
        D("33333.34"),
        D("33333.33"),
    ]
    assert [a.closing for a in view.amortisation] == [D("66666.67"), D("33333.33"), D("0.00")]
    assert view.expensed == 0
    assert any("财会〔2023〕11号" in r for r in view.references)
    assert any("第十七条" in r for r in view.references)  # straight-line (CAS 6)
    data = json.loads(json.dumps(view.as_dict(), ensure_ascii=False))
    assert data["classification"] == "intangible_asset"
    assert data["amortisation"][1]["amortisation"] == "33333.34"


def test_an_indefinite_life_is_not_amortised() -> None:
    view = accounting_view(
        intended_use="internal_use",
        cost=500,
        benefits_probable=True,
        cost_reliably_measurable=True,
        indefinite_life=True,
    )
    assert view.classification is Classification.INTANGIBLE_ASSET
    assert view.amortisation == () and view.useful_life_years is None
    assert any("第十九条" in r for r in view.references)


def test_a_tiny_cost_is_amortised_without_a_negative_year() -> None:
    view = accounting_view(
        intended_use="internal_use",
        cost="0.05",
        benefits_probable=True,
        cost_reliably_measurable=True,
        useful_life_years=10,
    )
    charges = [a.amortisation for a in view.amortisation]
    assert all(c >= 0 for c in charges) and sum(charges) == D("0.05")


def test_held_for_sale_is_inventory_at_the_lower_of_cost_and_nrv() -> None:
    view = accounting_view(
        intended_use="held_for_sale",
        cost=80000,
        benefits_probable=True,
        cost_reliably_measurable=True,
        estimated_selling_price=90000,
        costs_to_complete=5000,
        selling_costs=10000,
    )
    assert view.classification is Classification.INVENTORY
    assert view.balance_sheet_line == "存货——其中：数据资源"
    # NRV = 90000 − 5000 − 10000 = 75000 < cost 80000: written down by 5000
    assert view.net_realisable_value == D("75000.00")
    assert (view.write_down, view.carrying_amount) == (D("5000.00"), D("75000.00"))
    assert any("第十五条" in r for r in view.references)  # lower of cost and NRV (CAS 1)
    assert view.amortisation == ()


def test_inventory_without_a_selling_price_stays_at_cost() -> None:
    view = accounting_view(
        intended_use="held_for_sale",
        cost=80000,
        benefits_probable=True,
        cost_reliably_measurable=True,
        useful_life_years=5,
    )
    assert view.carrying_amount == D("80000.00") and view.net_realisable_value is None
    assert view.write_down == 0 and view.useful_life_years is None


def test_inventory_is_not_written_below_zero() -> None:
    view = accounting_view(
        intended_use="held_for_sale",
        cost=100,
        benefits_probable=True,
        cost_reliably_measurable=True,
        estimated_selling_price=50,
        selling_costs=80,
    )
    # NRV = 50 − 80 = −30: the whole cost of 100 is written down, no further
    assert view.net_realisable_value == D("-30.00")
    assert (view.carrying_amount, view.write_down) == (D("0.00"), D("100.00"))


@pytest.mark.parametrize("use", list(IntendedUse))
@pytest.mark.parametrize(
    ("probable", "reliable", "unmet"),
    [
        (False, True, ("benefits_probable",)),
        (True, False, ("cost_reliably_measurable",)),
        (False, False, ("benefits_probable", "cost_reliably_measurable")),
    ],
)
def test_not_meeting_the_recognition_criteria_is_expensed(
    use: IntendedUse, probable: bool, reliable: bool, unmet: tuple[str, ...]
) -> None:
    view = accounting_view(
        intended_use=use,
        cost=50000,
        benefits_probable=probable,
        cost_reliably_measurable=reliable,
        research_costs=8000,
    )
    assert view.classification is Classification.EXPENSED
    assert view.unmet_conditions == unmet
    # 50000 spent on the resource + 8000 of research, all charged to profit or loss
    assert view.expensed == D("58000.00")
    assert view.initial_amount == view.carrying_amount == 0
    assert view.balance_sheet_line is None
    assert any("自愿披露" in r for r in view.references)
    assert any("第四条" in r for r in view.references)


def test_research_is_expensed_even_when_the_asset_is_recognised() -> None:
    view = accounting_view(
        intended_use="internal_use",
        cost=1000,
        research_costs="200.50",
        benefits_probable=True,
        cost_reliably_measurable=True,
        useful_life_years=2,
    )
    assert (view.initial_amount, view.expensed) == (D("1000.00"), D("200.50"))
    assert any("第八条" in r for r in view.references)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"intended_use": "hoarding"}, "intended_use"),
        ({"cost": -1}, "cost"),
        ({"cost": 1.0}, "cost"),
        ({"research_costs": "-5"}, "research_costs"),
        ({"benefits_probable": "yes"}, "benefits_probable"),
        ({"useful_life_years": None}, "useful_life_years"),
        ({"useful_life_years": 0}, "useful_life_years"),
        ({"indefinite_life": True}, "useful_life_years"),  # both given
        ({"on": date(2023, 12, 31)}, "on"),
        ({"on": datetime(2023, 12, 31, 23, 59)}, "on"),
        (
            {"intended_use": "held_for_sale", "estimated_selling_price": 10, "selling_costs": -1},
            "selling_costs",
        ),
    ],
)
def test_accounting_view_refuses_bad_input_naming_the_field(
    args: dict[str, Any], field: str
) -> None:
    call: dict[str, Any] = {
        "intended_use": "internal_use",
        "cost": 1000,
        "benefits_probable": True,
        "cost_reliably_measurable": True,
        "useful_life_years": 5,
    } | args
    with pytest.raises(Problem) as problem:
        accounting_view(**call)
    assert fields_of(problem) == [field]


@given(
    cost=money,
    use=st.sampled_from(list(IntendedUse)),
    probable=st.booleans(),
    reliable=st.booleans(),
    life=st.integers(min_value=1, max_value=50),
    price=st.none() | money,
    selling=money,
)
def test_accounting_amounts_are_never_negative_and_add_up(
    cost: Decimal,
    use: IntendedUse,
    probable: bool,
    reliable: bool,
    life: int,
    price: Decimal | None,
    selling: Decimal,
) -> None:
    view = accounting_view(
        intended_use=use,
        cost=cost,
        benefits_probable=probable,
        cost_reliably_measurable=reliable,
        useful_life_years=life,
        estimated_selling_price=price,
        selling_costs=selling,
    )
    assert view.carrying_amount >= 0 and view.write_down >= 0 and view.expensed >= 0
    assert view.initial_amount + view.expensed == cost
    if view.classification is Classification.INTANGIBLE_ASSET:
        assert sum(a.amortisation for a in view.amortisation) == cost
        assert all(a.amortisation >= 0 for a in view.amortisation)
    if view.classification is Classification.INVENTORY:
        assert view.carrying_amount + view.write_down == cost


# --- money ------------------------------------------------------------------------------------


def test_money_rounds_half_up_to_the_fen() -> None:
    assert yuan(D("0.005")) == D("0.01") and yuan(D("0.015")) == D("0.02")
    assert yuan(D("-0.005")) == D("-0.01")
    assert fen(D("1234.565")) == 123457


def test_a_band_table_can_be_built_in_code() -> None:
    bands = QualityBands(
        code="T",
        reference="test",
        bands=(QualityBand(D(0), D("0.5"), "差", "poor"), QualityBand(D(50), D(1), "好", "good")),
    )
    assert [b.min_score for b in bands.bands] == [50, 0]  # sorted, best first
    result = cost_method(**costs(), quality_score=49, bands=bands)
    assert result.value == D("126250.00")  # 252500 × 0.5
