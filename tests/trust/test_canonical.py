"""RFC 8785 (JCS) canonical JSON for ledger entries: the RFC's own examples, ECMAScript's
escaping, UTF-16 member order, the ledger's restrictions, and the rfc8785 package as an oracle."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.trust.crypto.canonical import MAX_SAFE_INTEGER, JsonValue, canonical_json


def test_rfc8785_member_sorting_example() -> None:
    """RFC 8785 §3.2.3: names sorted by their UTF-16 code units, not by code point or UTF-8."""
    value = json.loads(
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", '
        '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", '
        '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
        '"\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    out = canonical_json(value)
    assert [v for v in json.loads(out).values()] == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert (
        out
        == (
            '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
            '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
            '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
        ).encode()
    )


def test_rfc8785_main_example_without_its_numbers() -> None:
    """RFC 8785 §3.2.2's example, less the "numbers" member (the ledger refuses floats)."""
    text = r"""{
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    out = canonical_json(json.loads(text))
    assert (
        out
        == b'{"literals":[null,true,false],"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert out.decode() == r"""{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"""
    with pytest.raises(TypeError, match="floats are not allowed"):
        canonical_json(json.loads('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 1e-27]}'))


def test_euro_sign_and_other_non_ascii_stay_literal() -> None:
    assert canonical_json("\u20ac") == b'"\xe2\x82\xac"'
    assert canonical_json("居民") == '"居民"'.encode()
    assert canonical_json("\U0001f600") == b'"\xf0\x9f\x98\x80"'
    # JSON.stringify leaves DEL and the JavaScript line separators alone.
    assert canonical_json("\x7f\u2028\u2029") == '"\x7f\u2028\u2029"'.encode()


def es_escape(c: str) -> str:
    """How ECMAScript's JSON.stringify (hence JCS) writes one character inside a string."""
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
    short["\r"] = "\\r"
    if c in short:
        return short[c]
    if ord(c) < 0x20:
        return f"\\u{ord(c):04x}"
    return c


def test_escaping_of_every_code_point_below_0x100() -> None:
    for cp in range(0x100):
        c = chr(cp)
        assert canonical_json(c) == f'"{es_escape(c)}"'.encode(), hex(cp)
    assert canonical_json("\x00\x1f\x0b") == b'"\\u0000\\u001f\\u000b"'  # lower-case hex


def test_members_sort_by_utf16_code_units() -> None:
    # U+10000 is D800 DC00 in UTF-16, so it sorts before U+E000 and U+FFFD, though its code
    # point is larger; a code-point sort (Python's) would put it last.
    value = {"\ufffd": 1, "\U00010000": 2, "\ue000": 3, "a": 4, "": 5, "ab": 6, "B": 7}
    out = canonical_json(value)
    assert list(json.loads(out)) == ["", "B", "a", "ab", "\U00010000", "\ue000", "\ufffd"]
    assert sorted(value) != list(json.loads(out))


def test_layout_and_scalars() -> None:
    value: JsonValue = {"b": [1, -2, 0, {"z": None, "y": [True, False]}], "a": "", "c": {}}
    assert canonical_json(value) == b'{"a":"","b":[1,-2,0,{"y":[true,false],"z":null}],"c":{}}'
    assert canonical_json([]) == b"[]"
    assert canonical_json(None) == b"null"
    assert canonical_json(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert canonical_json(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    assert canonical_json((1, (2,))) == b"[1,[2]]"


class Colour(enum.IntEnum):
    RED = 1


class Kind(enum.StrEnum):
    LOGIN = "login"


def test_subclasses_encode_as_their_base_value() -> None:
    value: OrderedDict[str, JsonValue] = OrderedDict(
        [("k", Kind.LOGIN), ("c", Colour.RED), ("b", True)]
    )
    assert canonical_json(value) == b'{"b":true,"c":1,"k":"login"}'
    assert canonical_json({Kind.LOGIN: 1}) == b'{"login":1}'


@pytest.mark.parametrize(
    "value",
    [1.0, 0.5, float("nan"), float("inf"), -0.0, [1, 2.5], {"amount": 12.3}],
)
def test_floats_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="floats are not allowed"):
        canonical_json(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**30, [{"id": 2**64}]])
def test_integers_beyond_double_precision_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"2\*\*53"):
        canonical_json(value)


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", {"\udead": 1}, ["ok", "\ud83d"]])
def test_lone_surrogates_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        canonical_json(value)


@pytest.mark.parametrize(
    "value", [{1: "a"}, {None: 1}, {("a",): 1}, b"bytes", {1, 2}, object(), {"x": b"\x00"}]
)
def test_other_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        canonical_json(value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parses_back_and_is_a_fixed_point(value: JsonValue) -> None:
    out = canonical_json(value)
    assert json.loads(out) == value
    assert canonical_json(json.loads(out)) == out
    # Python's own encoder differs only in member order, where names leave the BMP.
    assert json.loads(out) == json.loads(json.dumps(value, ensure_ascii=False))


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_agrees_with_the_rfc8785_package(value: JsonValue) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_agrees_with_the_rfc8785_package_on_hard_strings() -> None:
    chars = [chr(cp) for cp in (*range(0x100), 0x2028, 0x2029, 0xE000, 0xFEFF, 0xFFFF, 0x10FFFF)]
    assert canonical_json(chars) == rfc8785.dumps(chars)
    keyed = {c: i for i, c in enumerate([*chars, "\U00010000", "\U0001f600", "\ufb33"])}
    assert canonical_json(keyed) == rfc8785.dumps(keyed)
