"""One validation for the API and the pages: a pydantic schema's refusal as a ``Problem``.

The API gets its body validated by FastAPI (``web.problems`` turns the ``RequestValidationError``
into problem+json); a page posts a form and validates it here with the same schema, so a bound
changed in ``schemas.py`` holds for both, and both name the field and the reason the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shuhui.core.errors import FieldError, Problem

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


# Faults a service reports in its own words, said the same way when a schema finds them first.
_REASONS = {
    "string_pattern_mismatch": "not a number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
}


def reason_of(error: Mapping[str, Any]) -> str:
    """Why a value was refused: in the words the services use for the same fault where they
    have some (a blank field, no box ticked, not a whole number), else the validator's own."""
    kind = error.get("type")
    ctx = error.get("ctx") or {}
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return "must not be empty" if kind == "string_too_short" else "choose at least one"
    if isinstance(kind, str) and kind in _REASONS:
        return _REASONS[kind]
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    return [FieldError(field_path(e.get("loc", ())), reason_of(e)) for e in errors]


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> Problem:
    """Validation errors as the 422 the API answers: every field with its reason."""
    found = field_errors(errors)
    detail = "; ".join(f"{e.field}: {e.reason}" for e in found[:5])
    return Problem("validation", detail=detail, errors=found)


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
