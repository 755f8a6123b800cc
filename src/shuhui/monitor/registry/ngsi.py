"""The registry as NGSI-LD entities (ETSI GS CIM 009): the query language and the entities.

No HTTP here (``ngsi_routes`` is the API). What is supported is written down in
``docs/ngsi-ld.md``; in short: entities ``urn:ngsi-ld:<Type>:<asset id>`` of the types the
content names (``asset-types.yaml`` ``ngsi_type``), their attributes as Properties (dates as
``{"@type": "Date", "@value": …}``) and ``location`` as a GeoProperty (a GeoJSON Point); a query
by ``type``, ``id``, ``idPattern``, ``q`` and ``attrs``, paged.

The ``q`` subset (CIM 009 §4.9): terms joined by ``;`` (and), each ``attr op value`` with ``op``
one of ``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``; a value is a number, a double-quoted
string (``\\"`` and ``\\\\`` escape), a date ``YYYY-MM-DD`` (quoted or not), a list
``v1,v2`` (``==`` any of, ``!=`` none of) or a range ``a..b`` (``==`` only). A term on an
attribute of another kind than its value (a string against ``capacity``) matches nothing, as
the standard says of mismatched types; an unknown attribute matches nothing too. Anything
else — ``|``, parentheses, paths ``a.b``, ``[...]`` — is a ``BadRequestData`` error naming
where the text went wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_PATH = "/static/ngsi-ld/shuhui-context.json"
MAX_Q = 1_000
MAX_PATTERN = 256
MAX_IDS = 100
MAX_LIMIT = 1_000
DEFAULT_LIMIT = 20

Kind = Literal["string", "number", "date"]
# NGSI-LD attribute → (column, kind). ``location`` is the GeoProperty, made of lon and lat.
ATTRIBUTES: dict[str, tuple[str, Kind]] = {
    "name": ("name", "string"),
    "districtCode": ("district_code", "string"),
    "street": ("street", "string"),
    "villageCode": ("village_code", "string"),
    "operator": ("operator", "string"),
    "status": ("status", "string"),
    "dateCommissioned": ("commissioned_on", "date"),
    "dateRetired": ("retired_on", "date"),
    "capacity": ("capacity", "number"),
    "sensorType": ("sensor_type", "string"),
    "siteId": ("site_id", "string"),
    "siteName": ("site_name", "string"),
}
GEO_ATTRIBUTE = "location"
ALL_ATTRIBUTES = (*ATTRIBUTES, GEO_ATTRIBUTE)
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")
_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID = re.compile(r"urn:ngsi-ld:([A-Za-z][A-Za-z0-9_]{0,63}):([A-Za-z0-9_.-]{1,64})")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")

Scalar = str | float | date


class NgsiError(Exception):
    """An NGSI-LD ProblemDetails: ``kind`` is the error type's last segment."""

    def __init__(self, kind: str, title: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.kind = kind
        self.title = title
        self.detail = detail
        self.status = status

    def body(self) -> dict[str, object]:
        return {"type": ERRORS + self.kind, "title": self.title, "detail": self.detail}


def bad_request(detail: str) -> NgsiError:
    return NgsiError("BadRequestData", "请求参数有误", detail)


@dataclass(frozen=True)
class Term:
    attr: str
    op: str
    values: tuple[Scalar, ...]  # one, or several for a list
    upper: Scalar | None = None  # a range's upper end (values holds the lower)


# --- the q language ---------------------------------------------------------------------------


def _string(text: str, at: int) -> tuple[str, int]:
    out: list[str] = []
    i = at + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                raise bad_request(f"q：第{i + 1}个字符处的转义无效")
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise bad_request(f"q：第{at + 1}个字符处的字符串没有结束引号")


def _scalar(text: str, at: int) -> tuple[Scalar, int]:
    if at < len(text) and text[at] == '"':
        value, end = _string(text, at)
        if _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value), end
            except ValueError:
                return value, end
        return value, end
    found = _DATE.match(text, at)
    if found and not (found.end() < len(text) and text[found.end()].isdigit()):
        try:
            return date.fromisoformat(found.group()), found.end()
        except ValueError:
            raise bad_request(f"q：第{at + 1}个字符处的日期无效") from None
    found = _NUMBER.match(text, at)
    if found and found.end() > at:
        return float(found.group()), found.end()
    raise bad_request(f"q：第{at + 1}个字符处应为数值、日期或带引号的字符串")


def parse_q(text: str) -> list[Term]:
    """The terms of ``text``, or a ``BadRequestData`` saying where it went wrong."""
    if len(text) > MAX_Q:
        raise bad_request(f"q 过长（不超过{MAX_Q}个字符）")
    if not text:
        raise bad_request("q 不能为空")
    terms: list[Term] = []
    i = 0
    while True:
        found = _ATTR.match(text, i)
        if not found:
            raise bad_request(f"q：第{i + 1}个字符处应为属性名")
        attr, i = found.group(), found.end()
        op = next((o for o in OPERATORS if text.startswith(o, i)), None)
        if op is None:
            raise bad_request(f"q：第{i + 1}个字符处应为比较运算符（==、!=、>、>=、<、<=）")
        i += len(op)
        first, i = _scalar(text, i)
        values, upper = [first], None
        if text.startswith("..", i):
            if op != "==":
                raise bad_request(f"q：范围（..）只能与 == 一起使用（第{i + 1}个字符）")
            upper, i = _scalar(text, i + 2)
        else:
            while i < len(text) and text[i] == ",":
                if op not in ("==", "!="):
                    raise bad_request(f"q：列表（,）只能与 == 或 != 一起使用（第{i + 1}个字符）")
                value, i = _scalar(text, i + 1)
                values.append(value)
        terms.append(Term(attr, op, tuple(values), upper))
        if i == len(text):
            return terms
        if text[i] != ";":
            raise bad_request(f"q：第{i + 1}个字符处应为 ;（仅支持“与”）")
        i += 1


def render_q(terms: Sequence[Term]) -> str:
    """The text of ``terms`` (the parser's inverse; tests round-trip through it)."""

    def scalar(value: Scalar) -> str:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float):
            return repr(value) if not value.is_integer() else str(int(value))
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    parts = []
    for term in terms:
        text = term.attr + term.op + ",".join(scalar(v) for v in term.values)
        if term.upper is not None:
            text += ".." + scalar(term.upper)
        parts.append(text)
    return ";".join(parts)


def _kind_of(value: Scalar) -> Kind:
    if isinstance(value, date):
        return "date"
    return "number" if isinstance(value, float) else "string"


_SQL_OPS = {"==": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def term_sql(term: Term, params: dict[str, object]) -> str:
    """One term as SQL over the registry's columns, its values added to ``params``."""
    known = ATTRIBUTES.get(term.attr)
    scalars = (*term.values, *(() if term.upper is None else (term.upper,)))
    if known is None or any(_kind_of(v) != known[1] for v in scalars):
        return "FALSE"
    column = known[0]

    def param(value: Scalar) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f"${name}"

    if term.upper is not None:
        return f"({column} BETWEEN {param(term.values[0])} AND {param(term.upper)})"
    if len(term.values) > 1:
        listed = ", ".join(param(v) for v in term.values)
        return f"({column} {'IN' if term.op == '==' else 'NOT IN'} ({listed}))"
    return f"({column} {_SQL_OPS[term.op]} {param(term.values[0])})"


# --- ids and types ----------------------------------------------------------------------------


def entity_id(ngsi_type: str, asset_id: str) -> str:
    return f"urn:ngsi-ld:{ngsi_type}:{asset_id}"


def parse_id(text: str) -> tuple[str, str] | None:
    """(type, asset id) of one of ours; None for another URI; an error for a non-URI."""
    if len(text) > 200 or not _URI.fullmatch(text):
        raise bad_request("实体标识须为URI（如 urn:ngsi-ld:FiveGBaseStation:5G-370202-000001）")
    found = _ID.fullmatch(text)
    return None if found is None else (found.group(1), found.group(2))


def split_list(text: str, what: str, limit: int = MAX_IDS) -> list[str]:
    items = text.split(",")
    if not all(items) or len(items) > limit:
        raise bad_request(f"{what} 须为逗号分隔的列表（最多{limit}项，不能有空项）")
    return items


# --- entities ---------------------------------------------------------------------------------


def entity(
    row: Mapping[str, Any],
    ngsi_type: str,
    attrs: Sequence[str] | None,
    key_values: bool,
    context: str | None,
) -> dict[str, Any]:
    """One asset as an NGSI-LD entity (normalized, or keyValues), with ``@context`` inline
    when ``context`` is given (``application/ld+json``)."""
    out: dict[str, Any] = {"id": entity_id(ngsi_type, row["asset_id"]), "type": ngsi_type}
    wanted = set(attrs) if attrs is not None else None
    for attr, (column, kind) in ATTRIBUTES.items():
        value = row.get(column)
        if value is None or (wanted is not None and attr not in wanted):
            continue
        if kind == "date":
            shown: Any = (
                value.isoformat() if key_values else {"@type": "Date", "@value": value.isoformat()}
            )
        else:
            shown = value
        out[attr] = shown if key_values else {"type": "Property", "value": shown}
    if wanted is None or GEO_ATTRIBUTE in wanted:
        point = {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        out[GEO_ATTRIBUTE] = point if key_values else {"type": "GeoProperty", "value": point}
    if context is not None:
        out["@context"] = [context, CORE_CONTEXT]
    return out
