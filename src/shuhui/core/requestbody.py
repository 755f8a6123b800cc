"""What a request body may be: how large, and for JSON how deep and with which strings.

The size bound is enforced by the web layer while it reads (``web.limits``): every body is held
to ``SHUHUI_MAX_BODY_BYTES`` unless its route declares a larger bound with :func:`accepts`,
next to the route, where an upload legitimately needs more (a document to seal, say).

A JSON body is then held to what Python's ``json`` module does not check by itself:

- **depth**: the parser recurses once per nested array or object, so a body nested 100,000
  deep ends in a ``RecursionError`` somewhere inside it. A scan of the raw text refuses more
  than :data:`MAX_DEPTH` levels before the parser sees the body;
- **strings**: ``"\\ud800"`` (half of a surrogate pair, alone) and ``"\\u0000"`` parse into
  strings that no UTF-8 encoder, hash or database column takes. The text must be UTF-8 (RFC
  8259), decoded strictly, so they can only come as ``\\u`` escapes; when the body has any, the
  parsed keys and values are checked and the first string at fault is named by its path
  (``purpose``, ``params.name``, ``items[2]``).

Every JSON body the platform reads is checked so: the web middleware runs :func:`check` on the
bodies FastAPI parses; a route that reads its body itself declares so with
``accepts(own_json=True)`` and checks as it parses, to answer a refusal in its own way — the
data channel's gateway after the key, so that the refusal is metered and recorded like any
other, and the CKAN action API in CKAN's words with :func:`loads` (letting a NUL through: it
only searches with what it is sent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from shuhui.core.i18n import Text

MAX_DEPTH = 64
# What the depth scan stops at, and the rest of a string after its opening quote (escapes
# included; possessive, so an unterminated string costs one pass, not one per quote).
_TOKEN = re.compile(r'[\[\]{}"]')
_STRING_REST = re.compile(r'(?:[^"\\]++|\\.)*+"', re.DOTALL)
# After parsing, a code point in the surrogate range can only be half of a pair: a whole pair
# (``\ud83d\ude00``) parses into the one character it encodes.
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ATTRIBUTE = "__shuhui_body__"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BodyRule:
    """What a route declares about the bodies it reads."""

    # The route's own bound in bytes; None keeps the platform's (SHUHUI_MAX_BODY_BYTES). Never
    # below the platform's: a route asks for room, not for less.
    max_bytes: int | None = None
    # The route parses its JSON itself with :func:`loads` and answers a refusal in its own way;
    # the middleware then only bounds the size.
    own_json: bool = False


def accepts(*, max_bytes: int | None = None, own_json: bool = False) -> Callable[[F], F]:
    """Declares, on a route's endpoint, what bodies it reads (see :class:`BodyRule`); the web
    app collects the declarations from its routers when it starts."""
    if max_bytes is not None and max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    rule = BodyRule(max_bytes, own_json)

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ATTRIBUTE, rule)
        return endpoint

    return mark


def rule_of(endpoint: object) -> BodyRule | None:
    rule = getattr(endpoint, _ATTRIBUTE, None)
    return rule if isinstance(rule, BodyRule) else None


def size_in_words(limit: int) -> Text:
    """A byte bound as people read it: "1 MB", "64 KB", "500 字节"."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if limit >= unit:
            amount = f"{limit / unit:.1f}".removesuffix(".0")
            return Text(f"{amount} {name}", f"{amount} {name.replace('B', 'iB')}")
    return Text(f"{limit} 字节", f"{limit} bytes")


class Refused(ValueError):
    """A JSON body outside the bounds: ``field`` names where (``body`` for the whole), and
    ``malformed`` says whether the body as a whole cannot be read (400) or one value is wrong
    (422). A ``ValueError``, so code that refuses unparsable JSON refuses this too."""

    def __init__(self, field: str, reason: Text, *, malformed: bool) -> None:
        super().__init__(f"{field}: {reason.en}")
        self.field = field
        self.reason = reason
        self.malformed = malformed


def _decoded(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        # UTF-16 and UTF-32 as json.loads recognises them; decoded strictly, unlike json.loads
        # (which lets UTF-8-encoded surrogates through).
        return raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise Refused(
            "body",
            Text("不是有效的 UTF-8 文本", "not valid UTF-8 text"),
            malformed=True,
        ) from None


def _too_deep(max_depth: int) -> Refused:
    return Refused(
        "body",
        Text(f"JSON 嵌套超过 {max_depth} 层", f"JSON nested deeper than {max_depth} levels"),
        malformed=True,
    )


def depth(text: str, *, beyond: int | None = None) -> int:
    """How deeply arrays and objects nest in ``text``, brackets inside strings not counted
    (once past ``beyond``, the scan stops there). Exact for valid JSON; for invalid JSON a
    figure the parser's refusal makes moot. One pass, whatever the text."""
    deepest = level = pos = 0
    while (token := _TOKEN.search(text, pos)) is not None:
        pos = token.end()
        char = token.group()
        if char == '"':
            rest = _STRING_REST.match(text, pos)
            if rest is None:  # an unterminated string: nothing after it is structure
                break
            pos = rest.end()
        elif char in "[{":
            level += 1
            if level > deepest:
                deepest = level
                if beyond is not None and deepest > beyond:
                    break
        else:
            level -= 1
    return deepest


def _check_depth(text: str, max_depth: int) -> None:
    # Fewer brackets than the bound cannot nest past it: most bodies stop here, in C.
    if text.count("[") + text.count("{") > max_depth and depth(text, beyond=max_depth) > max_depth:
        raise _too_deep(max_depth)


def bad_text(text: str, *, key: bool = False) -> Text | None:
    """Why ``text`` (a value, or a field's name with ``key``) is no text a store can hold: a
    NUL or half of a surrogate pair; None when it is fine."""
    found = _BAD_CHARS.search(text)
    return None if found is None else _why(found.group(), key=key)


def bad_string(
    value: Any, path: str = "", *, bad: re.Pattern[str] = _BAD_CHARS
) -> tuple[str, Text] | None:
    """The first string in a parsed JSON value (keys included) holding a NUL or half of a
    surrogate pair (or what ``bad`` matches): where (a path never quoting the string itself)
    and why."""
    if isinstance(value, str):
        found = bad.search(value)
        if found is None:
            return None
        return path or "body", _why(found.group())
    if isinstance(value, dict):
        for key in value:
            found = bad.search(key)
            if found is not None:
                return path or "body", _why(found.group(), key=True)
        for key, item in value.items():
            inner = bad_string(item, f"{path}.{key}" if path else key, bad=bad)
            if inner is not None:
                return inner
    elif isinstance(value, list):
        for index, item in enumerate(value):
            inner = bad_string(item, f"{path or 'body'}[{index}]", bad=bad)
            if inner is not None:
                return inner
    return None


def _why(char: str, *, key: bool = False) -> Text:
    where_zh, where_en = ("字段名", "a field name") if key else ("文本", "the text")
    if char == "\x00":
        return Text(f"{where_zh}含有 NUL 字符（\\u0000）", f"{where_en} holds a NUL character")
    return Text(
        f"{where_zh}含有不成对的代理字符（如 \\ud800），不是有效的 Unicode 文本",
        f"{where_en} holds half of a surrogate pair (like \\ud800): not valid Unicode",
    )


def _check_strings(value: Any, nul_allowed: bool) -> None:
    found = bad_string(value, bad=_SURROGATES if nul_allowed else _BAD_CHARS)
    if found is not None:
        raise Refused(found[0], found[1], malformed=False)


def decoded(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> str:
    """The body as text, strictly decoded and nested no deeper than ``max_depth``, for a reader
    that parses it its own way; raises :class:`Refused` otherwise."""
    text = _decoded(raw)
    _check_depth(text, max_depth)
    return text


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH, nul_allowed: bool = False) -> Any:
    """``json.loads`` within the bounds: raises :class:`Refused` for a body too deep, not UTF-8
    or holding a bad string, and ``json.JSONDecodeError`` (a ``ValueError`` too) for one that
    is not JSON. ``nul_allowed`` lets NUL characters through, for a reader that only compares
    what it is sent (a search) and stores none of it."""
    text = decoded(raw, max_depth=max_depth)
    try:
        value = json.loads(text)
    except RecursionError:  # not reached through the scan above; kept as the parser's own bound
        raise _too_deep(max_depth) from None
    if "\\u" in text:
        _check_strings(value, nul_allowed)
    return value


def check(raw: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuses what :func:`loads` refuses, parsing only when the cheap scans cannot rule a
    refusal out; a body that is not JSON at all passes, for its reader to say so."""
    text = decoded(raw, max_depth=max_depth)
    if "\\u" not in text:
        return
    try:
        value = json.loads(text)
    except ValueError:
        return
    except RecursionError:
        raise _too_deep(max_depth) from None
    _check_strings(value, nul_allowed=False)
