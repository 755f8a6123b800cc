"""``datastore_search``: rows of open datasets (无条件开放) that have a data-core table, only
their public columns (:func:`shuhui.catalog.service.public_columns`), in DuckDB."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import duckdb

from shuhui.catalog import service
from shuhui.catalog.ckan.actions import action
from shuhui.catalog.ckan.context import Context
from shuhui.catalog.ckan.dicts import distribution_of
from shuhui.catalog.ckan.params import (
    API_PATH,
    DATASTORE_ROWS_MAX,
    DATASTORE_TYPES,
    FALSE,
    TRUE,
    Param,
    text_ok,
)
from shuhui.catalog.models import (
    OPEN_LEVELS,
)
from shuhui.core.clock import as_utc
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.datacore.errors import TableNotFound
from shuhui.datacore.schema import Column, TableSpec

# --- the datastore -------------------------------------------------------------------------


def _open_table(ctx: Context, resource_id: str) -> tuple[TableSpec, list[Column]]:
    """The data-core table behind an open resource, and its columns that may be published."""
    dist, dataset, cls = distribution_of(ctx, resource_id)
    if cls.open_level != "open":
        level = OPEN_LEVELS.get(cls.open_level, ("", ""))[0]
        raise Problem(
            "forbidden",
            detail=f"Access denied: 数据集 {dataset.name} 为{level}数据，"
            "数据接口只提供无条件开放的数据",
        )
    if dataset.table_name is None:
        raise Problem("not-found", detail=f"Not found: 资源 {dist.uid} 没有数据接口（datastore）")
    try:
        spec: TableSpec = ctx.datacore.spec(dataset.table_name)
    except TableNotFound:
        raise Problem(
            "not-found", detail=f"Not found: 资源 {dist.uid} 没有数据接口（datastore）"
        ) from None
    return spec, service.public_columns(ctx.db, spec)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column(columns: dict[str, Column], name: str, field_name: str, hidden: set[str]) -> Column:
    if name in hidden:
        raise Problem(
            "validation", errors=[FieldError(field_name, f"字段 {name!r} 为个人信息，不开放")]
        )
    if name not in columns:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    field_name,
                    Text(f"表中没有 `{name}` 这一列", f'field "{name}" not in the table'),
                )
            ],
        )
    return columns[name]


def _value(column: Column, value: Any, field_name: str) -> Any:
    """A filter value as the column's type; CKAN's datastore compares typed values."""
    bad = Problem(
        "validation",
        errors=[
            FieldError(
                field_name,
                Text(
                    f"`{column.name}` 列的值 {value!r} 格式不对（应为 {column.type}）",
                    f"{column.name}: {value!r} is not a valid {column.type}",
                ),
            )
        ],
    )
    if value is None or isinstance(value, list | dict):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    try:
        if column.type == "string":
            text = str(value)
            if not text_ok(text):
                raise bad
            return text
        if column.type in ("int8", "int16", "int32", "int64"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise bad
            number = int(value)
            if abs(number) >= 2**63:
                raise bad
            return number
        if column.type == "float64":
            if isinstance(value, bool):
                raise bad
            return float(value)
        if column.type == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in TRUE | FALSE:
                return str(value).lower() in TRUE
            raise bad
        if column.type == "date":
            return date.fromisoformat(str(value))
        if column.type == "timestamp":
            return as_utc(datetime.fromisoformat(str(value)))
    except (ValueError, OverflowError):
        raise bad from None
    raise bad


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # strict JSON has no NaN or Infinity
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@action(
    "Rows of an open dataset (CKAN datastore_search)",
    Param("resource_id", "text", "the resource's id", required=True),
    Param("filters", "object", 'equality filters, e.g. {"district": "370202"}', None),
    Param("q", "text_or_object", "words to find in any field, or {field: text}", None),
    Param("fields", "list", "fields to return (default: all published fields)", None),
    Param("sort", "text", "e.g. name asc, registered_capital_fen desc", ""),
    Param("limit", "natural", f"rows (at most {DATASTORE_ROWS_MAX})", 100, DATASTORE_ROWS_MAX),
    Param("offset", "natural", "rows to skip", 0),
    Param("distinct", "boolean", "distinct rows only", False),
    Param("include_total", "boolean", "count all matching rows", True),
    Param("records_format", "text", "objects | lists | csv | tsv", "objects"),
    Param("plain", "boolean", "accepted", True),
    Param("language", "text", "accepted", ""),
)
def datastore_search(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Reads rows of an unconditionally open dataset from the data core. Personal-information
    columns are never published: not in ``fields``, not returned, not filterable."""
    fmt = p["records_format"]
    if fmt not in ("objects", "lists", "csv", "tsv"):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "records_format",
                    Text(
                        "必须是以下之一：`objects`、`lists`、`csv`、`tsv`",
                        "one of objects, lists, csv, tsv",
                    ),
                )
            ],
        )
    spec, public = _open_table(ctx, p["resource_id"])
    table = spec.name
    columns = {c.name: c for c in public}
    hidden = {c.name for c in spec.columns} - set(columns)

    chosen = (
        [_column(columns, n, "fields", hidden) for n in dict.fromkeys(p["fields"])]
        if p["fields"]
        else public
    )
    where: list[str] = []
    args: list[Any] = []
    for name, wanted in (p["filters"] or {}).items():
        column = _column(columns, name, "filters", hidden)
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            raise Problem(
                "validation",
                errors=[FieldError("filters", Text(f"`{name}`：没有给出值", f"{name}: no values"))],
            )
        typed = [_value(column, v, "filters") for v in values]
        where.append(f"{_quote(name)} IN ({', '.join('?' for _ in typed)})")
        args.extend(typed)
    q = p["q"]
    if isinstance(q, dict):
        for name, text in q.items():
            column = _column(columns, name, "q", hidden)
            if not isinstance(text, str) or not text_ok(text):
                raise Problem(
                    "validation",
                    errors=[
                        FieldError("q", Text(f"`{name}`：必须是文字", f"{name}: must be text"))
                    ],
                )
            where.append(f"contains(lower(CAST({_quote(column.name)} AS VARCHAR)), lower(?))")
            args.append(text)
    elif q:
        everything = (
            "concat_ws(' ', "
            + ", ".join(f"CAST({_quote(c.name)} AS VARCHAR)" for c in public)
            + ")"
        )
        for word in q.split():
            where.append(f"contains(lower({everything}), lower(?))")
            args.append(word)
    order: list[str] = []
    for part in (s.strip() for s in p["sort"].split(",")):
        if not part:
            continue
        words = part.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if len(words) > 2 or direction not in ("asc", "desc"):
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "sort",
                        Text(
                            f"排序应写成“列名 asc”或“列名 desc”：{part!r}",
                            f"expected 'field [asc|desc]': {part!r}",
                        ),
                    )
                ],
            )
        column = _column(columns, words[0].strip('"'), "sort", hidden)
        order.append(f"{_quote(column.name)} {direction.upper()}")
    if not order:
        # A stable order, so that pages do not overlap: the key, when it is published.
        order = [_quote(k) for k in spec.primary_key if k in columns]

    select_list = ", ".join(_quote(c.name) for c in chosen)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    distinct = "DISTINCT " if p["distinct"] else ""
    ordering = f" ORDER BY {', '.join(order)}" if order else ""
    query = (
        f"SELECT {distinct}{select_list} FROM {_quote(table)}{condition}{ordering} LIMIT ? OFFSET ?"  # noqa: S608
    )
    con = ctx.datacore.connect()
    try:
        rows = con.execute(query, [*args, p["limit"], p["offset"]]).fetchall()
        total = None
        if p["include_total"]:
            counted = f"SELECT {distinct}{select_list} FROM {_quote(table)}{condition}"  # noqa: S608
            total = con.execute(f"SELECT count(*) FROM ({counted})", args).fetchone()  # noqa: S608
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        raise Problem(
            "validation", errors=[FieldError("filters", str(exc).splitlines()[0])]
        ) from None
    finally:
        con.close()

    fields = [
        {"id": c.name, "type": DATASTORE_TYPES[c.type], "info": {"label": c.title}} for c in chosen
    ]
    values = [[_json_value(v) for v in row] for row in rows]
    records: Any
    if fmt == "objects":
        names = [c.name for c in chosen]
        records = [dict(zip(names, row, strict=True)) for row in values]
    elif fmt == "lists":
        records = values
    else:
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerows(values)
        records = out.getvalue()

    link = {"resource_id": p["resource_id"]}
    for name in ("q", "filters"):
        if p[name]:
            link[name] = p[name] if isinstance(p[name], str) else json.dumps(p[name])
    for name in ("sort", "records_format"):
        if p[name] and p[name] != "objects":
            link[name] = p[name]
    if p["fields"]:
        link["fields"] = ",".join(p["fields"])
    if p["limit"] != 100:
        link["limit"] = str(p["limit"])
    start = f"{API_PATH}datastore_search?{urlencode(link)}"
    after = f"{API_PATH}datastore_search?{urlencode({**link, 'offset': p['offset'] + p['limit']})}"
    result: dict[str, Any] = {
        "resource_id": p["resource_id"],
        "fields": fields,
        "records_format": fmt,
        "records": records,
        "limit": p["limit"],
        "offset": p["offset"],
        "include_total": p["include_total"],
        "_links": {"start": start, "next": after},
    }
    for name in ("q", "filters", "sort"):
        if p[name]:
            result[name] = p[name]
    if total is not None:
        result["total"] = int(total[0])
        result["total_was_estimated"] = False
    return result
