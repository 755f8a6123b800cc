"""Data products as the city configures them (``content/<city>/data-products.yaml``): their
parameters, their two SQL steps, their output, privacy controls and price list.

Loading checks every product whole (a product that would not run is refused at start, naming
the item and the field), so the gateway only ever runs products that can answer. A product an
organisation hosts (kind ``hosted``) is the same :class:`Product`, made from its row by
:mod:`shuhui.channel.hosted` rather than from content.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

import duckdb

from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.core.regions import region_by_code

KIND: Final = "data-products"
KINDS: Final = ("subject", "aggregate", "open")  # what content may declare; see ProductKind
PARAM_TYPES: Final = (
    "citizen_id",
    "credit_code",
    "division",
    "integer",
    "choice",
    "date",
    "string",
)
MAX_STRING_PARAM: Final = 256  # characters of a string parameter (a hosted table's key value)
OUTPUT_TYPES: Final = ("string", "integer", "number", "boolean", "list", "date")
NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Names a product's SQL may use besides its own parameters.
BUILTIN_PARAMS: Final = ("today",)

# hosted: rows of an organisation's own table (数据托管), never declared in content.
ProductKind = Literal["subject", "aggregate", "open", "hosted"]
PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_STRING = re.compile(r"'(?:[^']|'')*'")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
ANSWER_START = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(SELECT|WITH)\b", re.I | re.S)


def sql_params(sql: str) -> set[str]:
    """The named parameters (``:name``) an SQLite statement takes."""
    return set(PARAM.findall(_STRING.sub("''", _COMMENT.sub(" ", sql))))


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool
    title_zh: str
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def parse(self, value: Any, today: date) -> Any:
        """The value as the SQL gets it, or a 422 naming ``params.<name>`` and why."""
        where = f"params.{self.name}"
        if value is None:
            if self.required:
                raise _invalid(where, "required")
            return self.default
        if self.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _invalid(where, "must be an integer")
            if not -(2**63) <= value < 2**63:  # SQLite's integers; a product may set no bounds
                raise _invalid(where, "must be a 64-bit integer")
            if self.minimum is not None and value < self.minimum:
                raise _invalid(where, f"must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise _invalid(where, f"must be at most {self.maximum}")
            return value
        if not isinstance(value, str):
            raise _invalid(where, "must be a string")
        if self.type == "string":
            if len(value) > MAX_STRING_PARAM:
                raise _invalid(
                    where,
                    Text(
                        f"最多 {MAX_STRING_PARAM} 个字",
                        f"at most {MAX_STRING_PARAM} characters",
                    ),
                )
            return value
        try:
            if self.type == "citizen_id":
                return parse_citizen_id(value, today=today).number
            if self.type == "credit_code":
                return parse_credit_code(value).code
        except InvalidIdentifier as exc:
            raise _invalid(where, exc.reason) from None
        if self.type == "division":
            region = region_by_code(value)
            if region is None or region.kind == "city":
                raise _invalid(where, "not a district or county-level city of this city")
            return value
        if self.type == "choice":
            if value not in self.choices:
                raise _invalid(where, f"must be one of {', '.join(self.choices)}")
            return value
        if self.type == "date":
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise _invalid(
                    where, Text("必须是日期（年-月-日）", "must be a date, YYYY-MM-DD")
                ) from None
        raise AssertionError(self.type)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"description": self.title_zh}
        if self.type == "integer":
            schema["type"] = "integer"
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        elif self.type == "choice":
            schema.update(type="string", enum=list(self.choices))
        elif self.type == "date":
            schema.update(type="string", format="date")
        elif self.type == "string":
            schema.update(type="string", maxLength=MAX_STRING_PARAM)
        else:
            schema.update(type="string", minLength=18, maxLength=18)
            if self.type == "division":
                schema.update(minLength=6, maxLength=6, pattern="^[0-9]{6}$")
        if self.default is not None:
            schema["default"] = self.default
        return schema


def _invalid(where: str, reason: str) -> Problem:
    return Problem("validation", detail=f"{where}: {reason}", errors=[FieldError(where, reason)])


MaskRule = Literal["citizen_id", "credit_code", "text"]
MASKS: Final[dict[str, MaskRule]] = {m: m for m in ("citizen_id", "credit_code", "text")}


@dataclass(frozen=True)
class OutputField:
    name: str
    type: str
    title_zh: str
    mask: MaskRule | None = None  # a personal value leaves the platform masked by this rule


@dataclass(frozen=True)
class Tier:
    up_to: int | None  # calls in the month up to and including this one; None: the rest
    fen: int


@dataclass(frozen=True)
class Privacy:
    k_min: int = 10
    group_size: str | None = None
    counts: tuple[str, ...] = ()
    epsilon: float | None = None  # ε one distinct query spends, over all its counts together
    budget: float = 1.0  # ε a consumer may spend per version of the tables (grant's default)
    versions_a_month: int = 2  # a calendar month allows this many versions' budgets at most


@dataclass(frozen=True)
class Product:
    code: str
    name_zh: str
    name_en: str
    kind: ProductKind
    zone: str
    provider: str
    tables: tuple[str, ...]
    summary: str
    params: tuple[Param, ...]
    output: tuple[OutputField, ...]
    tiers: tuple[Tier, ...]
    public_governance_fen: int
    item: Item
    prepare: str = ""
    answer: str = ""
    subject_param: str | None = None
    subject_column: str | None = None
    holder: str | None = None  # person | enterprise
    consent: str | None = None  # the certificate-use type the subject must authorise
    dataset: str | None = None  # open and hosted products: the data-core table
    privacy: Privacy = field(default_factory=Privacy)
    # Hosted products: the providing organisation's credit code (who reviews applications
    # unless ``provider_reviews`` is False, and whose statements bill the calls), the columns
    # a call may filter by, and when the provider withdrew it (it then answers no call).
    provider_code: str | None = None
    provider_reviews: bool = True
    keys: tuple[str, ...] = ()
    withdrawn_at: datetime | None = None

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.output)

    def in_force(self, on: date) -> bool:
        """Whether it may be applied for and called on a day: in force by its content's dates
        and, for a hosted product, not withdrawn."""
        return self.withdrawn_at is None and self.item.in_force(on)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class Products:
    items: Items
    # The content's products by code; with the hosted ones, a chain over both (see
    # shuhui.channel.hosted), so the content's stay the very mapping the city loaded.
    by_code: Mapping[str, Product]

    def get(self, code: str) -> Product | None:
        return self.by_code.get(code)

    def __iter__(self) -> Any:
        return iter(self.by_code.values())

    def in_force(self, on: date) -> list[Product]:
        return [p for p in self.by_code.values() if p.in_force(on)]


def load(content: Path, zones: set[str], certificate_types: dict[str, str]) -> Products:
    """The city's products, checked: ``zones`` are the zone codes, ``certificate_types`` the
    certificate-use types by code with the holder kind each applies to."""
    items = load_items(content / "data-products.yaml", KIND)
    return Products(
        items, {i.code: _product(items.path, i, zones, certificate_types) for i in items}
    )


def _product(path: Path, item: Item, zones: set[str], cert_types: dict[str, str]) -> Product:
    a = item.attrs

    def fail(where: str, reason: str) -> ContentError:
        return ContentError(path, f"{item.code}.{where}", reason)

    kind = a.get("kind")
    if kind not in KINDS:
        raise fail("kind", f"must be one of {', '.join(KINDS)}")
    if a.get("zone") not in zones:
        raise fail("zone", f"unknown zone {a.get('zone')!r}")
    tables = a.get("tables")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, str) for t in tables):
        raise fail("tables", "a non-empty list of data-core table names")
    params = tuple(_param(fail, i, raw) for i, raw in enumerate(a.get("params") or []))
    names = [p.name for p in params]
    if len(set(names)) != len(names) or set(names) & set(BUILTIN_PARAMS):
        raise fail("params", f"names must be unique and not {', '.join(BUILTIN_PARAMS)}")
    pricing = a.get("pricing")
    if not isinstance(pricing, dict):
        raise fail("pricing", "required: {tiers: [...], public_governance_fen: 0}")
    tiers = _tiers(fail, pricing.get("tiers"))
    free = pricing.get("public_governance_fen", 0)
    if not isinstance(free, int) or free < 0:
        raise fail("pricing.public_governance_fen", "a whole number of fen, 0 or more")
    common: dict[str, Any] = dict(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        kind=kind,
        zone=a["zone"],
        provider=str(a.get("provider") or ""),
        tables=tuple(tables),
        summary=" ".join(str(a.get("summary") or "").split()),
        params=params,
        tiers=tiers,
        public_governance_fen=free,
        item=item,
    )
    if not common["provider"]:
        raise fail("provider", "the providing department is required")
    if kind == "open":
        dataset = a.get("dataset")
        if dataset not in tables:
            raise fail("dataset", "an open product names its dataset, one of its tables")
        return Product(**common, output=(), dataset=dataset)
    output = tuple(_output(fail, i, raw) for i, raw in enumerate(a.get("output") or []))
    if not output:
        raise fail("output", "a product declares its output columns")
    prepare, answer = str(a.get("prepare") or ""), str(a.get("answer") or "")
    if not prepare.strip():
        raise fail("prepare", "SQL text is required")
    try:
        statements = duckdb.extract_statements(prepare)
    except duckdb.Error as exc:
        raise fail("prepare", f"not valid SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise fail("prepare", "exactly one SELECT statement (DuckDB)")
    if set(statements[0].named_parameters) - set(BUILTIN_PARAMS):
        raise fail("prepare", f"takes only {', '.join(BUILTIN_PARAMS)}: it runs once, not per call")
    if not ANSWER_START.match(answer) or not sqlite3.complete_statement(answer.strip() + ";"):
        raise fail("answer", "one SELECT (or WITH … SELECT) statement (SQLite)")
    unknown = sql_params(answer) - set(names) - set(BUILTIN_PARAMS)
    if unknown:
        raise fail("answer", f"unknown parameters {', '.join(sorted(unknown))}")
    if kind == "subject":
        subject = a.get("subject")
        if not isinstance(subject, dict):
            raise fail("subject", "required: {param, column, holder}")
        param = next((p for p in params if p.name == subject.get("param")), None)
        if param is None or param.type not in ("citizen_id", "credit_code") or not param.required:
            raise fail("subject.param", "a required citizen_id or credit_code parameter")
        holder = subject.get("holder")
        if holder not in ("person", "enterprise"):
            raise fail("subject.holder", "person or enterprise")
        if not isinstance(subject.get("column"), str) or not NAME.match(subject["column"]):
            raise fail("subject.column", "the prepared column holding the subject")
        consent = a.get("consent")
        if cert_types.get(str(consent)) not in (holder, "any"):
            raise fail(
                "consent", f"a certificate-use type of certificate-types.yaml for a {holder}"
            )
        return Product(
            **common,
            output=output,
            prepare=prepare,
            answer=answer,
            subject_param=param.name,
            subject_column=subject["column"],
            holder=holder,
            consent=str(consent),
        )
    privacy = _privacy(fail, a.get("privacy"), {f.name for f in output})
    return Product(**common, output=output, prepare=prepare, answer=answer, privacy=privacy)


def _param(fail: Any, i: int, raw: Any) -> Param:
    where = f"params[{i}]"
    if not isinstance(raw, dict) or not NAME.match(str(raw.get("name", ""))):
        raise fail(where, "each parameter has a snake_case name")
    kind = raw.get("type")
    if kind not in PARAM_TYPES:
        raise fail(f"{where}.type", f"one of {', '.join(PARAM_TYPES)}")
    choices = tuple(str(c) for c in raw.get("choices") or [])
    if kind == "choice" and not choices:
        raise fail(f"{where}.choices", "a choice lists its values")
    return Param(
        name=raw["name"],
        type=kind,
        required=bool(raw.get("required", False)),
        title_zh=str(raw.get("zh") or raw["name"]),
        default=raw.get("default"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        choices=choices,
    )


def _output(fail: Any, i: int, raw: Any) -> OutputField:
    if not isinstance(raw, dict) or not NAME.match(str(raw.get("name", ""))):
        raise fail(f"output[{i}]", "each output column has a snake_case name")
    if raw.get("type") not in OUTPUT_TYPES:
        raise fail(f"output[{i}].type", f"one of {', '.join(OUTPUT_TYPES)}")
    mask = raw.get("mask")
    if mask is not None and (mask not in MASKS or raw["type"] != "string"):
        raise fail(f"output[{i}].mask", f"a string output masked by {', '.join(MASKS)}")
    title = str(raw.get("zh") or raw["name"])
    return OutputField(raw["name"], raw["type"], title, None if mask is None else MASKS[mask])


def _tiers(fail: Any, raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("pricing.tiers", "at least one tier")
    tiers: list[Tier] = []
    for i, t in enumerate(raw):
        up_to, fen = (t.get("up_to"), t.get("fen")) if isinstance(t, dict) else (None, None)
        last = i == len(raw) - 1
        if not isinstance(fen, int) or fen < 0:
            raise fail(f"pricing.tiers[{i}].fen", "a whole number of fen, 0 or more")
        if last != (up_to is None):
            raise fail(f"pricing.tiers[{i}].up_to", "every tier but the last ends at up_to")
        previous = tiers[-1].up_to if tiers else 0
        if up_to is not None and (not isinstance(up_to, int) or up_to <= (previous or 0)):
            raise fail(f"pricing.tiers[{i}].up_to", "tiers end at increasing call counts")
        tiers.append(Tier(up_to, fen))
    return tuple(tiers)


def _privacy(fail: Any, raw: Any, outputs: set[str]) -> Privacy:
    if not isinstance(raw, dict):
        raise fail("privacy", "an aggregate declares k_min, group_size and counts")
    k_min = raw.get("k_min", 10)
    if not isinstance(k_min, int) or k_min < 2:
        raise fail("privacy.k_min", "a whole number, 2 or more")
    group_size = raw.get("group_size")
    counts = tuple(str(c) for c in raw.get("counts") or [])
    if group_size not in outputs or group_size not in counts:
        raise fail("privacy.group_size", "the output count of people in each group")
    if not set(counts) <= outputs:
        raise fail("privacy.counts", "output columns")
    epsilon = raw.get("epsilon")
    if epsilon is not None and (not isinstance(epsilon, int | float) or epsilon <= 0):
        raise fail("privacy.epsilon", "a positive number")
    budget = raw.get("budget", 1.0)
    if not isinstance(budget, int | float) or isinstance(budget, bool) or budget <= 0:
        raise fail("privacy.budget", "a positive number: ε per version of the tables")
    if epsilon is not None and budget < epsilon:
        raise fail("privacy.budget", "at least one query's epsilon")
    versions_a_month = raw.get("versions_a_month", 2)
    if not isinstance(versions_a_month, int) or isinstance(versions_a_month, bool):
        raise fail("privacy.versions_a_month", "a whole number, 1 or more")
    if versions_a_month < 1:
        raise fail("privacy.versions_a_month", "a whole number, 1 or more")
    return Privacy(
        k_min,
        group_size,
        counts,
        None if epsilon is None else float(epsilon),
        float(budget),
        versions_a_month,
    )
