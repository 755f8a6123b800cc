"""What the enterprise platform's API and pages take (needs, officers' steps, an officer's look
at a profile), with the bounds of each field. The assessment and custody have their own."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from shuhui.core.ids import InvalidIdentifier, parse_credit_code
from shuhui.core.money import Yuan

NEED_KINDS = ("financing", "talent", "digital", "land", "market")
NeedKind = Literal["financing", "talent", "digital", "land", "market"]
NEED_CODE_PATTERN = r"^SQ-\d{8}-\d{6}$"


def _credit_code(value: str) -> str:
    try:
        return parse_credit_code(value.strip()).code
    except InvalidIdentifier as exc:
        raise ValueError(exc.reason) from None


CreditCode = Annotated[
    str,
    Field(min_length=1, max_length=32),
    AfterValidator(_credit_code),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$"}
    ),
]
Purpose = Annotated[
    str,
    Field(
        min_length=2,
        max_length=200,
        description="why an officer opens an enterprise's file (kept in the ledger; the "
        "enterprise sees it under 谁用了我的数据)",
    ),
]


class NeedIn(BaseModel):
    """A need (诉求) an enterprise posts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: NeedKind = Field(description="融资, 人才用工, 数字化转型, 用地用房, 市场开拓")
    title: str = Field(min_length=2, max_length=80, description="一句话说明诉求")
    detail: str = Field(min_length=10, max_length=2000, description="诉求的具体情况")
    amount: Yuan | None = Field(
        default=None, description="融资诉求的金额（元）; other kinds leave it empty"
    )


class NeedStepIn(BaseModel):
    """An officer taking a need (受理 → 办理) or closing it (办结) with what was done."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(default="", max_length=2000, description="办理情况；办结时必填")


class NeedCloseIn(BaseModel):
    """The department closing a need (办结): what was done, which the enterprise is told."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=5, max_length=2000, description="办理结果（至少 5 个字）")


class RatingIn(BaseModel):
    """The enterprise's rating of a closed need."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    stars: int = Field(ge=1, le=5, description="1（非常不满意）至 5（非常满意）")
    comment: str = Field(default="", max_length=500)


class ProfileLookIn(BaseModel):
    """An officer opening an enterprise's file: which enterprise, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    credit_code: CreditCode
    purpose: Purpose
