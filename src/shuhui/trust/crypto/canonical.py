"""Canonical JSON for ledger entries: RFC 8785, the JSON Canonicalization Scheme (JCS).

The ledger hashes the bytes of an entry, so one entry must have exactly one encoding, whoever
produces it (this code, an auditor's tool in another language, a later version of ours). JCS
gives that: no whitespace, object members sorted by the UTF-16 code units of their names, strings
escaped minimally as ECMAScript's JSON.stringify does, UTF-8 output.

The ledger uses a subset of JSON, and this module enforces it rather than encoding whatever it is
given:

* Floats are refused (TypeError). JCS would serialise them the ECMAScript way, but a float in an
  audit record is a latent ambiguity: 0.1 + 0.2, -0.0 becoming 0, NaN and infinities having no JSON
  form at all. Amounts go in as integers of the smallest unit (fen) or as decimal strings.
* Integers must lie within ±(2**53 - 1) (ValueError). JCS reads every number as an IEEE double,
  so a larger integer would be rounded by any other conforming implementation and the hashes
  would no longer agree. Larger identifiers go in as strings.
* Strings must be valid Unicode: a lone surrogate is an error (ValueError), as RFC 8785 §3.2.2.2
  requires.
* Object names must be strings (TypeError); JSON has no other kind.

Accepted values: None, bool, int, str, list and tuple, dict and any other Mapping; subclasses of
these (an IntEnum, a StrEnum) are encoded as their base value.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias, cast

__all__ = ["MAX_SAFE_INTEGER", "JsonValue", "canonical_json"]

JsonValue: TypeAlias = "bool | int | str | Sequence[JsonValue] | Mapping[str, JsonValue] | None"

MAX_SAFE_INTEGER: Final = 2**53 - 1

# CPython's C string encoder (the ensure_ascii=False one) escapes exactly what JSON.stringify does:
# '"' and '\\', \b \t \n \f \r by their short forms, the other controls below U+0020 as \u00xx in
# lower case, and nothing else (U+007F, U+2028 and U+2029 stay literal). The tests check this for
# every code point below U+0100 and against the rfc8785 package.
_quote = json.encoder.encode_basestring


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 compares bytewise in the order of its 16-bit code units.
    return name.encode("utf-16-be", "surrogatepass")


def _encode(value: object) -> str:
    # Exact type checks first: they are the common case and cheaper than isinstance chains.
    t = type(value)
    if t is str:
        return _quote(cast(str, value))
    if t is int:
        return _encode_int(cast(int, value))
    if t is dict:
        return _encode_object(cast(dict[object, object], value))
    if t is list or t is tuple:
        return _encode_array(cast(Sequence[object], value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        raise TypeError(
            f"floats are not allowed in ledger JSON (got {value!r}): their encoding is a "
            "source of ambiguity; use an integer of the smallest unit or a decimal string"
        )
    if isinstance(value, int):
        return _encode_int(value)
    if isinstance(value, str):
        return _quote(str.__str__(value))
    if isinstance(value, Mapping):
        return _encode_object(value)
    if isinstance(value, list | tuple):
        return _encode_array(value)
    raise TypeError(f"{type(value).__name__} is not a ledger JSON value")


def _encode_int(value: int) -> str:
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise ValueError(
            f"integer {value} is outside ±(2**53 - 1), where JSON numbers stop being exact "
            "(RFC 8785 reads numbers as IEEE doubles); store it as a string"
        )
    # int.__repr__, not str(): an IntEnum member's str() is its name in some Python versions.
    return int.__repr__(value)


def _encode_object(obj: Mapping[object, object]) -> str:
    names = list(obj)
    ascii_only = True
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"object member names must be strings, not {type(name).__name__}")
        # Code point order (Python's) and UTF-16 order differ only between a character above
        # U+FFFF and one in U+E000..U+FFFF, so ASCII-only names (the usual case; str.isascii is
        # O(1)) can skip the UTF-16 encoding.
        ascii_only = ascii_only and name.isascii()
    ordered = cast(list[str], names)
    ordered.sort(key=None if ascii_only else _utf16_key)
    return "{" + ",".join([_quote(name) + ":" + _encode(obj[name]) for name in ordered]) + "}"


def _encode_array(value: Sequence[object]) -> str:
    return "[" + ",".join([_encode(item) for item in value]) + "]"


def canonical_json(value: JsonValue) -> bytes:
    """The RFC 8785 canonical UTF-8 encoding of ``value`` (see the module doc for the subset)."""
    text = _encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"string contains a lone surrogate {text[exc.start : exc.end]!r} at offset "
            f"{exc.start} of the output; RFC 8785 §3.2.2.2 requires valid Unicode"
        ) from None
