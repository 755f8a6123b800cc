"""A gateway call's body, read so that no body can fail the call: it parses to the payload, or
to :class:`Malformed` with the problem that names what is wrong.

The gateway refuses a malformed body only after it knows the key (so the refusal is metered
against the consumer and in the ledger like any other, see ``gateway._read_phase``); what it
stores and echoes of a call — the purpose, parameter names in a refusal — must then be text
that the ledger's canonical JSON, PostgreSQL and the JSON response can all hold. So every
string and key is checked here, once, before anything reads them, with the platform's one
text check (``core.requestbody.bad_text``: no lone UTF-16 surrogate, which JSON's
``"\\ud800"`` escape makes, no NUL); the body strictly UTF-8; every number a signed 64-bit
integer or a finite float; nesting a few levels deep at most (a call is ``{purpose, params}``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

from shuhui.core import requestbody
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text

# A call is {purpose, params: {name: value}}: two levels. The bound leaves room for a list
# parameter and refuses nesting that only an attack would send.
MAX_DEPTH: Final = 8
INT64: Final = 2**63
FIELD_CHARS: Final = 64  # of a field's name echoed in a refusal

NOT_JSON: Final = Text("不是有效的 JSON", "not valid JSON")
TOO_DEEP: Final = Text(f"嵌套过深（最多 {MAX_DEPTH} 层）", f"nested too deep (at most {MAX_DEPTH})")
HUGE_INT: Final = Text(
    "整数超出范围（须在 -2^63 到 2^63-1 之间）",
    "integer out of range (a signed 64-bit integer)",
)
NOT_FINITE: Final = Text("数值必须是有限数", "must be a finite number")


@dataclass(frozen=True)
class Malformed:
    """A body the gateway cannot take, and the 422 that says why."""

    problem: Problem


def read(body: bytes) -> Any:
    """The call's body parsed (an empty body is ``{}``), or :class:`Malformed` if it is not
    JSON. What it holds is for the gateway to :func:`check`, whoever made the payload."""
    if not body.strip():
        return {}
    try:
        # Strict UTF-8 and a bounded depth, as every body the platform reads (core.requestbody);
        # the call's own, tighter bounds are :func:`check`'s, which names the field.
        return json.loads(requestbody.decoded(body), parse_constant=_no_constant)
    except requestbody.Refused as refused:
        return Malformed(invalid(refused.field, refused.reason))
    except ValueError:  # and the digits limit of huge integers
        return Malformed(invalid("body", NOT_JSON))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's extension, not RFC 8259


# Where a value sits: its parent's place and its key (a name, or an index in a list); None for
# the body itself. Built as tuples and spelt out only for a refusal: a call's walk stays cheap.
Place = tuple["Place", str | int] | None


def check(payload: Any) -> Problem | None:
    """The first thing in the payload that no store or answer could hold, as a 422 naming its
    field (``purpose``, ``params.years``, ``body`` for the whole); None if there is none.
    Iterative, so no depth of nesting can exhaust the stack."""
    stack: list[tuple[Any, int, Place]] = [(payload, 0, None)]
    while stack:
        value, depth, place = stack.pop()
        if isinstance(value, str):
            reason = requestbody.bad_text(value)
            if reason is not None:
                return invalid(_field(place), reason)
        elif value is None or isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -INT64 <= value < INT64:
                return invalid(_field(place), HUGE_INT)
        elif isinstance(value, float):
            if not math.isfinite(value):
                return invalid(_field(place), NOT_FINITE)
        elif isinstance(value, dict):
            if depth >= MAX_DEPTH:
                return invalid(_field(place), TOO_DEEP)
            for key, item in value.items():
                reason = requestbody.bad_text(key, key=True)
                if reason is not None:
                    return invalid(_field((place, key)), reason)
                stack.append((item, depth + 1, (place, key)))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                return invalid(_field(place), TOO_DEEP)
            stack.extend((item, depth + 1, (place, i)) for i, item in enumerate(value))
    return None


def _field(place: Place) -> str:
    """``params.years``, ``params.list[2]``; ``body`` for the body itself."""
    parts: list[str] = []
    while place is not None:
        place, key = place
        parts.append(f"[{key}]" if isinstance(key, int) else f".{shown_name(key)}")
    field = "".join(reversed(parts)).removeprefix(".")
    return field or "body"


def shown_name(name: str) -> str:
    """A field's name as a refusal may echo it: valid text, and not too long."""
    safe = name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return safe if len(safe) <= FIELD_CHARS else safe[: FIELD_CHARS - 1] + "…"
