"""What the data-asset registry takes in: an application, a review, a valuation's inputs.

The API's bodies and the pages' forms are validated by these same models, so a refusal names the
same field for the same reason wherever the values were typed. The cost method's inputs are
declared here once (:class:`CostIn`): the API body, the page form and the computation read them
from this model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.money import YuanText

TEXT_LIMIT: Final = 4000
REASON_LIMIT: Final = 1024

# A rate or factor as decimal text (a fraction: 0.08 is 8%).
Amount = Annotated[str, Field(max_length=32, pattern=r"^-?\d+(\.\d+)?$")]
# Money in 元 as a person types it ("8,000", "8000元", "￥8,000.50"), carried as decimal yuan.
Money = Annotated[YuanText, Field(max_length=40)]


class ApplicationIn(BaseModel):
    """An application to register a dataset or a data product, or its corrected resubmission."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["dataset", "product"] = "dataset"
    dataset: str | None = Field(default=None, max_length=100)
    title: str = Field(min_length=1, max_length=256)
    holder_name: str = Field(min_length=1, max_length=256)
    holder_code: str = Field(min_length=18, max_length=18, description="unified credit code")
    rights: list[Literal["holding", "processing", "operation"]] = Field(min_length=1)
    sources: str = Field(min_length=1, max_length=TEXT_LIMIT)
    processing: str = Field(min_length=1, max_length=TEXT_LIMIT)
    scenarios: str = Field(min_length=1, max_length=TEXT_LIMIT)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "return", "reject"]
    reason: str = Field(default="", max_length=REASON_LIMIT)


def _cost(zh: str, en: str) -> Money | Amount | None:
    # Each input's label (zh as the title, en as the description) is where the page form and
    # the refusals read it from.
    return Field(default=None, title=zh, description=en)


class CostIn(BaseModel):
    """The cost method's inputs (成本法): cost items in yuan, left out when not incurred (they
    count as 0), the rates, and a quality coefficient when the appraiser derived one otherwise
    (left out, the dataset's measured quality sets it through the city's bands)."""

    model_config = ConfigDict(extra="forbid")

    acquisition: Money | None = _cost("数据获取成本", "Acquisition cost")
    processing: Money | None = _cost("数据加工成本", "Processing cost")
    quality: Money | None = _cost("质量成本", "Quality cost")
    security: Money | None = _cost("安全成本", "Security cost")
    registration: Money | None = _cost("登记与合规成本", "Registration cost")
    other: Money | None = _cost("其他直接成本", "Other direct costs")
    profit_margin: Amount | None = _cost("合理利润率", "Profit margin")
    devaluation_rate: Amount | None = _cost("贬值率", "Devaluation rate")
    quality_coefficient: Amount | None = _cost("质量调整系数", "Quality coefficient")

    def given(self) -> dict[str, str]:
        """The inputs given, by name; those left out are not there."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


# Rates a person types as percentages on the pages ("8", "8%", "8.5%" → 0.08, 0.085); the API
# takes them as fractions. Each has the range a valuation usually stays in: a value outside it is
# not refused (a case may justify it) but the page asks for a confirmation before saving it.
PERCENT_INPUTS: Final[dict[str, tuple[Decimal, Decimal]]] = {
    "profit_margin": (Decimal(0), Decimal("0.5")),
    "devaluation_rate": (Decimal(0), Decimal("0.8")),
    "discount_rate": (Decimal("0.01"), Decimal("0.3")),
}
# Inputs that are factors (a plain number, 1 = no adjustment), neither money nor a percentage.
FACTOR_INPUTS: Final = frozenset({"quality_coefficient"})

# (name, zh label, en label) of each cost input, in the order the form shows them.
COST_INPUTS: Final[tuple[tuple[str, str, str], ...]] = tuple(
    (name, info.title or name, info.description or name)
    for name, info in CostIn.model_fields.items()
)


class ComparableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    price: Money
    quality: Amount = "1"
    supply_demand: Amount = "1"
    period: Amount = "1"
    volume: Amount = "1"
    other: Amount = "1"


class ValuationIn(BaseModel):
    """A valuation's inputs: every method whose inputs are given is used, then reconciled."""

    model_config = ConfigDict(extra="forbid")

    cost: CostIn = Field(default_factory=CostIn)
    incomes: list[Money] = Field(default_factory=list, max_length=100)
    discount_rate: Amount | None = None
    income_share: Amount | None = None
    comparables: list[ComparableIn] = Field(default_factory=list, max_length=100)
    weights: dict[Literal["cost", "income", "market"], Amount] = Field(default_factory=dict)
    intended_use: Literal["internal_use", "held_for_sale"] = "internal_use"
    useful_life_years: int | None = Field(default=None, ge=1, le=100)
    benefits_probable: bool = True
    estimated_selling_price: Money | None = None
