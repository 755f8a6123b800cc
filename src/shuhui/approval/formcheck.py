"""The check of an application before it goes to the department: every field of the form
against the item's JSON Schema (draft 2020-12, dates as dates, identifiers with their check
characters) and every required material uploaded or waived.

It collects every fault, never stopping at the first, so the applicant corrects everything in
one go (the same courtesy the department owes them in a correction request, 一次性告知). A
fault is a :class:`FieldError` naming the field by its path in the form (``shop_name``,
``address.street``, ``staff[2]``) or the material as ``materials.<code>``, with the reason in
Chinese (its English as ``Text.en``).

Identifier fields are those whose schema says ``format: citizen-id`` or ``format: credit-code``
(or ``x-id: citizen_id`` / ``credit_code``), and those named ``*citizen_id``, ``*id_number`` or
``*credit_code``; their check characters (GB 11643, GB 32100) are checked with ``core.ids``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

# jsonschema ships no type information (and its stubs are not a dependency here).
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import (
    SchemaError,
)
from jsonschema.exceptions import ValidationError as FormError

from shuhui.approval.items import Form, Material, ServiceItem
from shuhui.core.content import ContentError
from shuhui.core.errors import FieldError
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code

IdKind = Literal["citizen_id", "credit_code"]
ID_FORMATS: dict[str, IdKind] = {"citizen-id": "citizen_id", "credit-code": "credit_code"}
_TYPES = {
    "string": ("文字", "text"),
    "integer": ("整数", "a whole number"),
    "number": ("数字", "a number"),
    "boolean": ("“是”或“否”", "yes or no"),
    "array": ("列表", "a list"),
    "object": ("对象", "an object"),
    "null": ("空", "empty"),
}


def _citizen(value: object) -> bool:
    if isinstance(value, str):
        parse_citizen_id(value)
    return True


def _credit(value: object) -> bool:
    if isinstance(value, str):
        parse_credit_code(value)
    return True


def _format_checker() -> Any:
    """jsonschema's format checks (``date`` among them) and the identifiers' check characters,
    whose ``InvalidIdentifier`` says, in Chinese, what is wrong."""
    checker = FormatChecker()
    checker.checks("citizen-id", raises=InvalidIdentifier)(_citizen)
    checker.checks("credit-code", raises=InvalidIdentifier)(_credit)
    return checker


FORMATS = _format_checker()


def identifier_kind(name: str, schema: Mapping[str, Any]) -> IdKind | None:
    """Whether a form field holds a citizen ID or a credit code, by its schema or its name."""
    declared = schema.get("format")
    if isinstance(declared, str) and declared in ID_FORMATS:
        return ID_FORMATS[declared]
    marked = schema.get("x-id")
    if marked in ("citizen_id", "credit_code"):
        return marked  # type: ignore[no-any-return]
    if name.endswith(("citizen_id", "id_number")):
        return "citizen_id"
    if name.endswith("credit_code"):
        return "credit_code"
    return None


class _Schema:
    """A form's schema as a cache key, by identity: the catalogue keeps one per item, and the
    key holds it, so its id is not reused while cached."""

    __slots__ = ("value",)

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Schema) and other.value is self.value


@lru_cache(maxsize=256)
def _validator(schema: _Schema) -> Any:
    try:
        Draft202012Validator.check_schema(schema.value)
    except SchemaError as exc:
        raise ContentError(
            Path("form"), str(schema.value.get("title", "form")), exc.message
        ) from exc
    return Draft202012Validator(schema.value, format_checker=FORMATS)


def validator_for(form: Form) -> Any:
    """The form's validator (made once per schema); ``ContentError`` if the schema is not a
    valid JSON Schema."""
    return _validator(_Schema(form.schema))


def _path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(error: FormError) -> Text:
    kind = error.validator
    value = error.validator_value
    if kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        zh = "、".join(_TYPES.get(str(t), (str(t), str(t)))[0] for t in wanted)
        en = " or ".join(_TYPES.get(str(t), (str(t), str(t)))[1] for t in wanted)
        return Text(f"必须是{zh}", f"must be {en}")
    if kind == "minLength":
        if value == 1:
            return Text("不能为空", "must not be empty")
        return Text(f"至少 {value} 个字符", f"at least {value} characters")
    if kind == "maxLength":
        return Text(f"最多 {value} 个字符", f"at most {value} characters")
    if kind == "pattern":
        return Text("格式不正确", "not in the expected format")
    if kind in ("enum", "const"):
        choices = [str(c) for c in (value if kind == "enum" else [value])]
        return Text("必须是以下之一：" + "、".join(choices), "must be one of " + ", ".join(choices))
    if kind == "minimum":
        return Text(f"不能小于 {value}", f"must be at least {value}")
    if kind == "maximum":
        return Text(f"不能大于 {value}", f"must be at most {value}")
    if kind == "exclusiveMinimum":
        return Text(f"必须大于 {value}", f"must be greater than {value}")
    if kind == "exclusiveMaximum":
        return Text(f"必须小于 {value}", f"must be less than {value}")
    if kind == "minItems":
        return Text(f"至少 {value} 项", f"at least {value} items")
    if kind == "maxItems":
        return Text(f"最多 {value} 项", f"at most {value} items")
    if kind == "format":
        if isinstance(error.cause, InvalidIdentifier):
            return error.cause.reason
        if value == "date":
            return Text("不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)")
        return Text("格式不正确", f"not a valid {value}")
    return Text("输入无效", error.message)


def form_errors(form: Form, values: Mapping[str, Any]) -> list[FieldError]:
    """Every fault of the form's values, in the order of the form's fields."""
    found: dict[str, FieldError] = {}
    for error in validator_for(form).iter_errors(dict(values)):
        parent = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    where = _path([*parent, name])
                    found.setdefault(where, FieldError(where, Text("必须填写", "required")))
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema.get("properties") or {}).keys())
            for name in error.instance:
                if name not in known:
                    where = _path([*parent, name])
                    found.setdefault(
                        where,
                        FieldError(where, Text("不是本表单的字段", "not a field of this form")),
                    )
            continue
        where = _path(parent) or "form"
        found.setdefault(where, FieldError(where, _reason(error)))
    # Identifier fields the schema does not mark with a format: their check characters too.
    for field in form.fields:
        value = values.get(field.name)
        kind = identifier_kind(field.name, field.schema)
        if not isinstance(value, str) or kind is None or field.name in found:
            continue
        if field.schema.get("format") in ID_FORMATS:
            continue  # the format checker has read it
        try:
            if kind == "citizen_id":
                parse_citizen_id(value)
            else:
                parse_credit_code(value)
        except InvalidIdentifier as exc:
            found[field.name] = FieldError(field.name, exc.reason)
    order = {f.name: i for i, f in enumerate(form.fields)}
    return sorted(
        found.values(), key=lambda e: order.get(e.field.split(".")[0].split("[")[0], 1_000)
    )


def material_errors(
    materials: Iterable[Material], provided: Mapping[str, bool]
) -> list[FieldError]:
    """Every required material neither uploaded nor waived; ``provided`` maps a material's code
    to whether it is uploaded or waived."""
    return [
        FieldError(
            f"materials.{m.code}", Text(f"请上传{m.name_zh}", f"upload the {m.name_en.lower()}")
        )
        for m in materials
        if m.required and not provided.get(m.code, False)
    ]


def submission_errors(
    item: ServiceItem, values: Mapping[str, Any], provided: Mapping[str, bool]
) -> list[FieldError]:
    """Everything wrong with an application: the form's faults, then the materials missing."""
    return [*form_errors(item.form, values), *material_errors(item.materials, provided)]


def summary(item: ServiceItem, errors: list[FieldError]) -> Text:
    """The refusal's one line: how many things to fix, and which, by their Chinese titles."""
    titles: list[str] = []
    for error in errors:
        if error.field.startswith("materials."):
            code = error.field.removeprefix("materials.")
            material = next((m for m in item.materials if m.code == code), None)
            titles.append(material.name_zh if material else code)
            continue
        field = item.form.field(error.field.split(".")[0].split("[")[0])
        titles.append(field.title_zh if field else error.field)
    shown = "、".join(titles[:8]) + ("等" if len(titles) > 8 else "")
    return Text(
        f"申请有 {len(errors)} 处需要补充或修改：{shown}",
        f"{len(errors)} things to complete or correct in the application",
    )
