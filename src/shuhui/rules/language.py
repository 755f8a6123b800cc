"""The rule language, as the loader hands it to the compiler: entities, variables, parameters,
conditions and outcomes, each carrying what an explanation needs (Chinese text, references).

The YAML form is described in ``content/qingdao/policies/README.md``; :mod:`shuhui.rules.loader`
turns it into these objects and refuses anything the compiler could not evaluate faithfully.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final, Literal

from sqlglot import exp

# The value types of the language. Every data-core column type maps onto one of them; a
# timestamp has no place in a rule (policies speak in calendar dates).
Type = Literal["bool", "int", "number", "string", "date"]
NUMERIC: tuple[Type, ...] = ("int", "number")
COLUMN_TYPES: dict[str, Type] = {
    "string": "string",
    "int8": "int",
    "int16": "int",
    "int32": "int",
    "int64": "int",
    "float64": "number",
    "bool": "bool",
    "date": "date",
}
TYPE_ZH: dict[str, str] = {
    "bool": "是/否",
    "int": "整数",
    "number": "数值",
    "string": "文本",
    "date": "日期",
}

# How a person answers a yes/no question, in either language.
YES: Final = frozenset({"是", "有", "yes", "y", "true", "1"})
NO: Final = frozenset({"否", "无", "没有", "no", "n", "false", "0"})
INT_DIGITS_MAX: Final = 18  # a bigint holds any 18-digit integer
INT_TEXT: Final = re.compile(rf"[+-]?\d{{1,{INT_DIGITS_MAX}}}")


def parse_value(kind: Type, text: str) -> bool | int | float | str | date:
    """A value of the language's type ``kind`` from what a person typed (an application's
    answer). Raises ValueError saying what was expected."""
    raw = " ".join(text.split())
    if not raw:
        raise ValueError(f"required ({TYPE_ZH[kind]})")
    if kind == "bool":
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        raise ValueError("answer 是 or 否 (yes or no)")
    if kind == "int":
        digits = raw.replace(",", "")
        if not INT_TEXT.fullmatch(digits):
            raise ValueError(f"a whole number of at most {INT_DIGITS_MAX} digits")
        return int(digits)
    if kind == "number":
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            raise ValueError("a number") from None
        if not math.isfinite(number):
            raise ValueError("a finite number")
        return number
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError("a date as YYYY-MM-DD") from None
    return raw


VariableKind = Literal[
    "column", "count", "count_distinct", "sum", "exists", "latest", "expr", "supplied"
]
# Aggregates over a source table; each needs a complete source except ``exists``, which can
# still be proven true from an incomplete one (a row found is a row that exists).
AGGREGATES: tuple[VariableKind, ...] = ("count", "count_distinct", "sum", "exists", "latest")

EVAL_DATE = "eval_date"  # the evaluation date, usable in every rule expression


@dataclass(frozen=True)
class Source:
    """A data-core table joined to an entity by one column.

    ``complete`` says the table holds every row that exists for every entity (a register kept by
    its department), so no row means none happened. An incomplete source (a sample, a register
    still being gathered) can only prove that something exists, never that it does not.
    """

    table: str
    key: str
    complete: bool
    note: str


@dataclass(frozen=True)
class Entity:
    code: str
    name_zh: str
    name_en: str
    table: str
    key: str
    reference: str
    sources: dict[str, Source]
    # Registers a source's rows may be looked up in (a hire's graduation record): ``key`` is the
    # register's column matched, ``complete`` whether no match means "not in the register".
    lookups: dict[str, Source] = field(default_factory=dict)
    # Variables written once for the entity and used by many of its rules (``name: shared``).
    variables: dict[str, Variable] = field(default_factory=dict)


@dataclass(frozen=True)
class Lookup:
    """A register joined to each row of an aggregate's source: ``on`` (a source column) equals
    the register's ``key``. The register's other columns become row columns, and ``flag`` is
    true where a row found a match, false where none (the register is complete)."""

    table: str
    on: str
    key: str
    flag: str
    columns: tuple[str, ...]  # the register's columns added to the row (names not in the source)


@dataclass(frozen=True)
class Offset:
    years: int = 0
    months: int = 0
    days: int = 0

    def zh(self) -> str:
        parts = [
            f"{abs(n)}{unit}"
            for n, unit in ((self.years, "年"), (self.months, "个月"), (self.days, "天"))
            if n
        ]
        if not parts:
            return "当日"
        sign = "后" if (self.years, self.months, self.days) > (0, 0, 0) else "前"
        return "".join(parts) + sign


@dataclass(frozen=True)
class Window:
    """Rows whose ``on`` column lies in [anchor + start, anchor + end], both ends included.

    The anchor is the evaluation date, or a date variable of the entity (a birthday, a
    graduation date): periods are the entity's own, not only calendar ones.
    """

    on: str
    anchor: str  # EVAL_DATE or a date variable
    start: Offset | None
    end: Offset | None


@dataclass(frozen=True)
class Variable:
    name: str
    zh: str
    en: str
    kind: VariableKind
    type: Type
    inputs: tuple[str, ...]  # the variables this one is computed from
    table: str | None = None  # column, aggregates
    column: str | None = None  # column, latest, count_distinct
    of: exp.Expr | None = None  # sum: an expression over the table's columns
    where: exp.Expr | None = None  # aggregates: which rows count
    where_text: str = ""
    window: Window | None = None
    order_by: str | None = None  # latest: the date column that orders the rows
    lookup: Lookup | None = None  # aggregates: a register joined to each source row
    expr: exp.Expr | None = None
    expr_text: str = ""
    note: str = ""  # supplied: who holds this input and why the data core does not
    unit: str = ""  # how its number reads ("分/月" is money, shown and typed in 元/月)


@dataclass(frozen=True)
class ParamValue:
    start: date
    value: bool | int | float | str | date


@dataclass(frozen=True)
class Parameter:
    name: str
    zh: str
    en: str
    type: Type
    unit: str
    reference: str
    values: tuple[ParamValue, ...]  # sorted by start

    def value_on(self, on: date) -> ParamValue | None:
        """The value in force on ``on``: the latest one that started on or before it."""
        found = None
        for value in self.values:
            if value.start <= on:
                found = value
        return found


ConditionKind = Literal["test", "all", "any", "not"]


@dataclass(frozen=True)
class Condition:
    id: str
    kind: ConditionKind
    zh: str
    en: str
    test: exp.Expr | None = None
    test_text: str = ""
    children: tuple[Condition, ...] = ()
    refs: tuple[str, ...] = ()  # variables a test reads directly
    params: tuple[str, ...] = ()  # parameters a test reads
    reference: str = ""

    def walk(self) -> list[Condition]:
        """This node and every node below it, parents before children."""
        nodes = [self]
        for child in self.children:
            nodes += child.walk()
        return nodes


@dataclass(frozen=True)
class Amount:
    zh: str
    en: str
    unit: str
    expr: exp.Expr
    expr_text: str
    type: Type
    refs: tuple[str, ...]
    params: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    code: str
    name_zh: str
    name_en: str
    valid_from: date
    valid_to: date | None
    reference: str
    department: str  # the department that implements the policy (实施部门), e.g. 青岛市民政局
    path: Path
    entity: Entity
    variables: dict[str, Variable]  # in dependency order: inputs before what uses them
    parameters: dict[str, Parameter]
    condition: Condition
    amount: Amount | None
    summary: str = ""
    tables: tuple[str, ...] = field(default_factory=tuple)  # every table the rule reads

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)
