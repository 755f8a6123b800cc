"""What data custody's API and pages take (a file to host, a review, a withdrawal), with the
bounds of each field, and the bounds of a hosted file itself."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.money import Yuan

# How large a hosted file may be: what one upload carries and one product pages through. A
# bigger data set is split into several files (the refusal says so).
MAX_BYTES: Final = 10 * 1024 * 1024
MAX_ROWS: Final = 200_000
MAX_COLUMNS: Final = 50
MAX_CHARS: Final = 1000  # characters in one value
MAX_KEYS: Final = 5
# The JSON API carries the file as a string: escaped, it may take up to twice its bytes.
MAX_JSON_BYTES: Final = 2 * MAX_BYTES + 256 * 1024
# A page's form: the file, and the fields around it.
MAX_FORM_BYTES: Final = MAX_BYTES + 256 * 1024

# The column types an enterprise may declare, as the data core types them (its own words).
COLUMN_TYPES: Final = {
    "string": ("文本", "text"),
    "int64": ("整数", "whole number"),
    "float64": ("小数", "number"),
    "bool": ("是/否", "yes/no"),
    "date": ("日期（年-月-日）", "date (YYYY-MM-DD)"),
}
ColumnType = Literal["string", "int64", "float64", "bool", "date"]
Terms = Literal["open", "conditional"]
TERMS: Final = {
    "open": ("无条件开放：专区成员申请后由大数据局审核，本企业不逐一审核", "Open"),
    "conditional": ("有条件开放：每个申请先经本企业同意，再经大数据局批准", "On conditions"),
}
SLUG_PATTERN: Final = r"^[a-z][a-z0-9_]{0,31}$"
COLUMN_PATTERN: Final = r"^[a-z][a-z0-9_]{0,62}$"
CODE_PATTERN: Final = r"^TG-\d{8}-[0-9A-F]{6}$"


class ColumnIn(BaseModel):
    """One column of the file, as its header names it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=COLUMN_PATTERN,
        description="the header's name: small letters, digits and _, starting with a letter",
    )
    title: str = Field(min_length=1, max_length=64, description="中文名称")
    type: ColumnType
    personal: bool = Field(
        default=False, description="个人信息：经数据通道提供时一律脱敏，且不能用于筛选"
    )
    required: bool = Field(default=False, description="每一行都必须有值")


class HostIn(BaseModel):
    """A file of the enterprise's own data to host, how to list it and how to offer it."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(
        pattern=SLUG_PATTERN,
        description="the data's short name (small letters, digits, _): with the credit code it "
        "names the table, the catalog entry and the product",
    )
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=2000)
    columns: list[ColumnIn] = Field(min_length=1, max_length=MAX_COLUMNS)
    keys: list[str] = Field(
        default_factory=list,
        max_length=MAX_KEYS,
        description="columns a consumer may filter rows by (not personal ones)",
    )
    category: str = Field(pattern=r"^[0-9]{2}$", description="the catalog's category code")
    zone: str = Field(min_length=1, max_length=32, description="the data channel's zone")
    terms: Terms
    condition: str = Field(
        default="", max_length=512, description="conditional terms: on what conditions"
    )
    price: Yuan = Field(description="元 per answered call (industry use)")
    public_governance_price: Yuan | None = Field(
        default=None, description="元 per call for public-governance use; omitted: the same"
    )


class HostFileIn(HostIn):
    """The API's body: the file travels in it, as text."""

    csv: str = Field(
        min_length=1,
        max_length=MAX_BYTES,
        description="the CSV file's text (UTF-8): a header row of the declared column names, "
        "then one row per record",
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "return"]
    reason: str = Field(default="", max_length=1024)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1024)
