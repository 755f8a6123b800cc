"""One validation for the API and the pages: a pydantic schema's refusal as a ``Problem``.

The API gets its body validated by FastAPI (``web.problems`` turns the ``RequestValidationError``
into problem+json); a page posts a form and validates it here with the same schema, so a bound
changed in ``schemas.py`` holds for both, and both name the field and the reason the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text, english

Schema = TypeVar("Schema", bound=BaseModel)

# Where FastAPI says a value came from; a client knows which part of the request it sent.
_SOURCES = ("body", "query", "path", "header", "cookie", "form")


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "roles", 0)`` → ``roles[0]``; ``("weights", "a")`` → ``weights.a``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(loc[0] if loc else "body")


# What a schema refuses, in the words the services use for the same fault: (zh, en), with the
# validator's context (``{min_length}``, ``{ge}``…) put in.
_REASONS: dict[str, tuple[str, str]] = {
    "missing": ("必须填写", "required"),
    "string_pattern_mismatch": ("格式不正确", "not in the expected format"),
    "string_too_short": ("至少 {min_length} 个字符", "at least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "at most {max_length} characters"),
    "too_short": ("至少 {min_length} 项", "at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "at most {max_length} items"),
    "int_parsing": ("必须是整数", "must be a whole number"),
    "int_from_float": ("必须是整数", "must be a whole number"),
    "int_type": ("必须是整数", "must be a whole number"),
    "float_parsing": ("必须是数字", "must be a number"),
    "float_type": ("必须是数字", "must be a number"),
    "decimal_parsing": ("必须是数字", "must be a number"),
    "decimal_type": ("必须是数字", "must be a number"),
    "finite_number": ("必须是有限的数字", "must be a finite number"),
    "greater_than": ("必须大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than": ("必须小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "bool_parsing": ("必须是“是”或“否”", "must be yes or no"),
    "bool_type": ("必须是“是”或“否”", "must be yes or no"),
    "string_type": ("必须是文字", "must be text"),
    "list_type": ("必须是列表", "must be a list"),
    "dict_type": ("必须是对象", "must be an object"),
    "model_type": ("必须是对象", "must be an object"),
    "model_attributes_type": ("必须是对象", "must be an object"),
    "date_parsing": ("不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)"),
    "date_type": ("不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)"),
    "datetime_parsing": ("不是有效时间", "not a valid date and time"),
    "datetime_from_date_parsing": ("不是有效时间", "not a valid date and time"),
    "datetime_type": ("不是有效时间", "not a valid date and time"),
    "extra_forbidden": ("不接受这一项", "not accepted here"),
    "json_invalid": ("不是合法的 JSON", "not valid JSON"),
    "json_type": ("不是合法的 JSON", "not valid JSON"),
    "url_parsing": ("不是有效网址", "not a valid URL"),
    "uuid_parsing": ("不是有效编号", "not a valid identifier"),
}
_QUOTED = re.compile(r"'([^']*)'")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORDS = re.compile(r"[A-Za-z]{2,}")


def reason_of(error: Mapping[str, Any]) -> Text:
    """Why a value was refused, in Chinese with its English: in the words the services use for
    the same fault (a blank field, no box ticked, not a whole number). A validator of ours that
    raises with a Chinese message keeps it; the choices of an enumeration are named as the API
    takes them (in backquotes, as code)."""
    kind = error.get("type")
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        if kind == "string_too_short":
            return Text("不能为空", "must not be empty")
        return Text("至少选择一项", "choose at least one")
    if kind in ("literal_error", "enum"):
        choices = _QUOTED.findall(str(ctx.get("expected", ""))) or [str(ctx.get("expected", ""))]
        return Text(
            "必须是以下之一：" + "、".join(f"`{c}`" for c in choices),
            "must be one of " + ", ".join(f"`{c}`" for c in choices),
        )
    if isinstance(kind, str) and kind in _REASONS:
        zh, en = _REASONS[kind]
        return Text(zh.format(**ctx), en.format(**ctx))
    raised = ctx.get("error")
    if isinstance(raised, Exception) and raised.args and isinstance(raised.args[0], Text):
        return raised.args[0]
    if _HAN.search(msg) or not _WORDS.search(msg):
        return Text(msg, msg)  # our own Chinese, or no words at all (a range: "1-1098")
    return Text("输入无效", msg)


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    return [FieldError(field_path(e.get("loc", ())), reason_of(e)) for e in errors]


def validation_detail(found: list[FieldError]) -> Text:
    """The summary of a refusal for an API client: each field (as code) and why, the first five."""
    return Text(
        "；".join(f"`{e.field}`：{e.reason}" for e in found[:5]),
        "; ".join(f"`{e.field}`: {english(e.reason)}" for e in found[:5]),
    )


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> Problem:
    """Validation errors as the 422 the API answers: every field with its reason."""
    found = field_errors(errors)
    return Problem("validation", detail=validation_detail(found), errors=found)


def validate(schema: type[Schema], data: Mapping[str, Any]) -> Schema:
    """``schema`` over ``data``, or the ``Problem`` naming each refused field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors()) from None


def form_data(form: Any, schema: type[BaseModel], lists: Iterable[str] = ()) -> dict[str, Any]:
    """A posted form's fields as ``schema`` takes them: all values for the fields named in
    ``lists`` (checkbox groups, multi-selects), one string for the others, a field left blank
    left out where the schema has a default for it. Whatever else the form carries (the CSRF
    token, a button's name) is not the schema's business and is not passed on."""
    many = set(lists)
    out: dict[str, Any] = {}
    for name, spec in schema.model_fields.items():
        if name in many:
            out[name] = [str(v) for v in form.getlist(name)]
            continue
        value = form.get(name)
        text = value if isinstance(value, str) else ""
        if text.strip() or spec.is_required():
            out[name] = text
    return out


def validate_form(schema: type[Schema], form: Any, lists: Iterable[str] = ()) -> Schema:
    """A posted form validated by the API's schema (see ``form_data``), or the ``Problem``."""
    return validate(schema, form_data(form, schema, lists))
