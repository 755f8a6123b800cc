"""The Action API's limits and constants, and its parameters: how each is read from a query
string or a JSON body, as CKAN reads them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from shuhui.core.errors import FieldError, Problem

API_PATH: Final = "/api/3/action/"
ROWS_MAX: Final = 1000  # ckan.search.rows_max
DATASTORE_ROWS_MAX: Final = 32000  # ckan.datastore.search.rows_max
LIST_MAX: Final = 1000  # ckan.group_and_organization_list_max
# How long a search trusts the index without asking the database for the catalog's revision.
REVISION_CHECK: Final = 1.0
DEFAULT_SORT: Final = "score desc, metadata_modified desc"
# Actions whose answers depend only on the request and the catalog revision (see Raw.revision).
KEPT_ANSWERS: Final = frozenset({"package_search"})
# CKAN-compatible identifiers; anything else is not looked up at all.
NAME: Final = re.compile(r"[a-z0-9_-]{2,100}")
UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CREDIT_CODE: Final = re.compile(r"[0-9A-Z]{18}")
# The datastore's column types (PostgreSQL's names, as CKAN reports them).
DATASTORE_TYPES: Final = {
    "string": "text",
    "int8": "int4",
    "int16": "int4",
    "int32": "int4",
    "int64": "int8",
    "float64": "float8",
    "bool": "bool",
    "date": "date",
    "timestamp": "timestamp",
}
LICENSES: Final = {
    True: ("other-open", "Other (Open)"),
    False: ("other-closed", "Other (Not Open)"),
}
ERROR_TYPES: Final = {
    # problem slug -> (CKAN's __type, HTTP status)
    "validation": ("Validation Error", 409),
    "not-found": ("Not Found Error", 404),
    "forbidden": ("Authorization Error", 403),
    "malformed-request": ("Bad Request", 400),
    "http-error": ("Bad Request", 400),
}


# --- parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of an action, as CKAN's validators take it.

    kinds: ``text``; ``natural`` (integer ≥ 0, capped at ``maximum`` as CKAN caps it);
    ``integer``; ``boolean``; ``list`` (a list of strings, a JSON list, or comma-separated);
    ``object`` (a JSON object, or its text); ``text_or_object`` (datastore ``q``).
    """

    name: str
    kind: str
    description: str
    default: Any = None
    maximum: int | None = None
    required: bool = False


TRUE: Final = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE: Final = frozenset({"false", "f", "no", "n", "off", "0"})


def text_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _convert(param: Param, value: Any) -> Any:
    """The typed value, or raises ValueError with CKAN's wording of what is wrong."""
    kind = param.kind
    if kind == "text":
        if value is None or isinstance(value, bool | list | dict):
            raise ValueError("Must be a string")
        text = str(value)
        if not text_ok(text):
            raise ValueError("Invalid characters")
        return text
    if kind in ("natural", "integer"):
        if isinstance(value, bool):
            raise ValueError("Invalid integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("Invalid integer")
            value = int(value)
        if isinstance(value, str):
            if not re.fullmatch(r"\s*[-+]?\d{1,30}\s*", value):
                raise ValueError("Invalid integer")
            value = int(value)
        if not isinstance(value, int):
            raise ValueError("Invalid integer")
        if kind == "natural" and value < 0:
            raise ValueError("Must be a natural number")
        if param.maximum is not None:
            value = min(value, param.maximum)
        return max(min(value, 2**62), -(2**62))
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE
        raise ValueError("Not a boolean value (true or false)")
    if kind == "list":
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                try:
                    value = json.loads(stripped)
                except ValueError:
                    raise ValueError("Could not parse as valid JSON") from None
            else:
                value = [part.strip() for part in stripped.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Must be a list of strings")
        if not all(text_ok(v) for v in value):
            raise ValueError("Invalid characters")
        return value
    if kind in ("object", "text_or_object"):
        if isinstance(value, str):
            stripped = value.strip()
            if kind == "text_or_object" and not stripped.startswith("{"):
                if not text_ok(value):
                    raise ValueError("Invalid characters")
                return value
            try:
                value = json.loads(stripped)
            except ValueError:
                raise ValueError("Could not parse as valid JSON") from None
        if not isinstance(value, dict):
            raise ValueError("Must be a JSON object")
        if not all(text_ok(k) for k in value):
            raise ValueError("Invalid characters")
        return value
    raise AssertionError(kind)


def parse(params: Sequence[Param], raw: dict[str, Any]) -> dict[str, Any]:
    """All parameters at once, as CKAN validates: every field at fault is named."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for param in params:
        value = raw.get(param.name)
        if value is None or (isinstance(value, str) and value == "" and param.kind != "text"):
            if param.required:
                errors.append(FieldError(param.name, "Missing value"))
            out[param.name] = param.default
            continue
        if param.required and isinstance(value, str) and not value.strip():
            errors.append(FieldError(param.name, "Missing value"))
            continue
        try:
            out[param.name] = _convert(param, value)
        except ValueError as exc:
            errors.append(FieldError(param.name, str(exc)))
    if errors:
        raise Problem("validation", errors=errors)
    return out
