"""What the HR & social-security services' API and pages take, with the bounds of each field;
what they give is made by ``views`` (plain dicts, read by the pages as by the API)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from shuhui.core.bounds import Day, Month
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id


def _citizen_id(value: str) -> str:
    try:
        return parse_citizen_id(value.strip()).number
    except InvalidIdentifier as exc:
        raise ValueError(exc.reason) from None


# 18 characters, the last a check digit (GB 11643-1999) that the validator computes.
CITIZEN_ID_PATTERN = (
    r"^[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$"
)
CitizenId = Annotated[
    str,
    Field(min_length=1, max_length=32),
    AfterValidator(_citizen_id),
    WithJsonSchema({"type": "string", "pattern": CITIZEN_ID_PATTERN}),
]
Purpose = Annotated[
    str,
    Field(
        min_length=2,
        max_length=200,
        description="why an officer reads another person's record (kept in the ledger; the "
        "person sees it under 谁用了我的数据)",
    ),
]


class Period(BaseModel):
    """The months a record or a certificate covers (YYYY-MM, both included); left empty, the
    latest months the record holds."""

    model_config = ConfigDict(extra="forbid")

    months_from: Month | None = Field(default=None, description="first month, YYYY-MM")
    months_to: Month | None = Field(default=None, description="last month, YYYY-MM")


class CertificateIn(Period):
    """Asking for one's own 参保证明."""


class OfficerCertificateIn(Period):
    """An officer reading a person's record, or issuing their 参保证明, at the counter."""

    citizen_id: CitizenId
    purpose: Purpose


# A form value as a page or a client sends it: text (bounded), a number, a yes/no, or nothing.
FORM_VALUE_MAX = 2000
FormValue = Annotated[str, Field(max_length=FORM_VALUE_MAX)] | int | float | bool | None


class BundleFiling(BaseModel):
    """The one form of a bundle (一件事), field by field."""

    model_config = ConfigDict(extra="forbid")

    values: dict[Annotated[str, Field(min_length=1, max_length=64)], FormValue] = Field(
        max_length=200, description="the union form's fields by name"
    )


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The values a person filled in (an empty box is not an answer)."""
    return {k: v for k, v in values.items() if v not in ("", None)}


class ReminderRunIn(BaseModel):
    """A run of a reminder: as on a day (today by default; not after today)."""

    model_config = ConfigDict(extra="forbid")

    evaluated_on: Day | None = Field(default=None, description="default: today (Asia/Shanghai)")
