"""What a data-core table is: its columns, their types and meaning, and who provides it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

# The column types a table may declare, with their Arrow spelling. A small set on purpose:
# every one of them means the same in DuckDB, Parquet and Spark SQL.
ColumnType = Literal[
    "string", "int8", "int16", "int32", "int64", "float64", "bool", "date", "timestamp"
]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


# How the catalog names each type to people (zh, en).
TYPE_TITLES: dict[str, tuple[str, str]] = {
    "string": ("文本", "text"),
    "int8": ("整数", "whole number"),
    "int16": ("整数", "whole number"),
    "int32": ("整数", "whole number"),
    "int64": ("整数", "whole number"),
    "float64": ("数值", "number"),
    "bool": ("是/否", "yes/no"),
    "date": ("日期", "date"),
    "timestamp": ("时间", "date and time"),
}


NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Tables an organisation hosts in the data core (数据托管) are named so, and only they: they are
# kept apart from the city's tables (their own storage and catalog section), seen by no query,
# rule or listing of the data core unless asked for by name (``DataCore.connect(hosted=…)``).
HOSTED_PREFIX = "hosted_"

# Value checks a column may ask for, beyond its type.
Check = Literal["citizen_id", "credit_code", "division"]
CHECK_TITLES: dict[str, tuple[str, str]] = {
    "citizen_id": ("公民身份号码（GB 11643）", "citizen identity number (GB 11643)"),
    "credit_code": ("统一社会信用代码（GB 32100）", "unified social credit code (GB 32100)"),
    "division": ("行政区划代码（GB/T 2260）", "division code (GB/T 2260)"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    title: str  # Chinese description shown in the catalog
    required: bool = True  # no nulls
    personal: bool = False  # personal information (个人信息): reads are ledgered
    check: Check | None = None
    values: tuple[str, ...] | None = None  # a closed vocabulary, when there is one

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class TableSpec:
    name: str  # snake_case, unique in the data core
    title: str  # Chinese title
    department: str  # providing department, in Chinese (e.g. 市人力资源和社会保障局)
    columns: tuple[Column, ...]
    kind: Literal["entity", "event"] = "entity"  # event tables also accept atomic appends
    truth: bool = False  # ground truth for scoring detectors: kept apart, never served
    description: str = ""
    primary_key: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Names go into SQL as quoted identifiers; keeping them plain keeps them portable too.
        for name in (self.name, *(c.name for c in self.columns)):
            if not NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid table or column name ({NAME.pattern})")
        if self.truth != self.name.startswith("truth_"):
            raise ValueError(f"{self.name}: ground-truth tables, and only they, start with truth_")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        for key in self.primary_key:
            if key not in names:
                raise ValueError(f"{self.name}: primary key column {key!r} is not a column")

    @property
    def hosted(self) -> bool:
        """An organisation's own table held in custody, apart from the city's."""
        return self.name.startswith(HOSTED_PREFIX)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns]
        )

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)
