"""The JSON body check (``core.requestbody``): nesting depth and string validity, as properties
over generated JSON and arbitrary bytes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.core import requestbody
from shuhui.core.requestbody import MAX_DEPTH, Refused

BAD = re.compile("[\x00\ud800-\udfff]")
SURROGATES = re.compile("[\ud800-\udfff]")
# Text that may hold NUL and lone surrogates; keys from a small alphabet (and those two), so a
# reported path reads back unambiguously.
TEXT = st.text(st.characters(exclude_categories=()), max_size=8)
KEYS = st.text(st.sampled_from("abcxyz\x00\ud800\udfff"), min_size=1, max_size=3)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT


def nested(depth: int) -> st.SearchStrategy[Any]:
    """JSON values nesting up to ``depth`` arrays or objects."""
    if depth == 0:
        return SCALARS
    inner = nested(depth - 1)
    return (
        SCALARS
        | st.lists(inner, max_size=3)
        | st.dictionaries(KEYS, inner, max_size=3)
        | inner.map(lambda v: [v])  # a narrow tower, to reach the depth often
    )


def towers(levels: int) -> st.SearchStrategy[Any]:
    """A value wrapped ``levels`` deep in arrays and objects, in a drawn order."""
    return st.lists(st.booleans(), min_size=levels, max_size=levels).map(_tower)


def _tower(kinds: list[bool]) -> Any:
    value: Any = 1
    for as_list in kinds:
        value = [value] if as_list else {"a": value}
    return value


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


def has_bad(value: Any, bad: re.Pattern[str] = BAD) -> bool:
    if isinstance(value, str):
        return bool(bad.search(value))
    if isinstance(value, list):
        return any(has_bad(v, bad) for v in value)
    if isinstance(value, dict):
        return any(bad.search(k) or has_bad(v, bad) for k, v in value.items())
    return False


def at(value: Any, path: str) -> Any:
    """The value a reported field names (``body``, ``a.b``, ``body[2]``, ``a[0].c``)."""
    rest = path.removeprefix("body")
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", rest):
        value = value[int(index)] if index else value[key]
    return value


@given(nested(5))
def test_within_the_bounds_loads_is_json_loads(value: Any) -> None:
    raw = json.dumps(value).encode()
    assert requestbody.depth(raw.decode()) == depth_of(value)
    # What the body holds once read: a high surrogate followed by a low one is one valid
    # character in JSON ("\ud800\udfff" is U+103FF), not two lone ones.
    value = json.loads(raw)
    if has_bad(value):
        with pytest.raises(Refused) as refused:
            requestbody.loads(raw)
        assert not refused.value.malformed
        named = at(value, refused.value.field)
        # The field is the bad string, or the object with a bad key.
        assert (isinstance(named, str) and BAD.search(named)) or (
            isinstance(named, dict) and any(BAD.search(k) for k in named)
        )
        # The reason never quotes the string, so the problem itself is valid UTF-8.
        refused.value.reason.encode()
        with pytest.raises(Refused):
            requestbody.check(raw)
    else:
        assert requestbody.loads(raw) == json.loads(raw)
        requestbody.check(raw)
    # A reader that lets NUL through refuses only the surrogates.
    if has_bad(value, SURROGATES):
        with pytest.raises(Refused):
            requestbody.loads(raw, nul_allowed=True)
    else:
        assert requestbody.loads(raw, nul_allowed=True) == json.loads(raw)


@given(st.integers(min_value=0, max_value=3 * MAX_DEPTH), st.booleans(), st.data())
def test_deeper_than_the_bound_is_refused_before_parsing(
    levels: int, spaced: bool, data: st.DataObject
) -> None:
    value = data.draw(towers(levels))
    text = json.dumps(value, indent=1 if spaced else None)
    # Brackets inside strings are text, not depth.
    text = f'{{"decoy": "{"[" * MAX_DEPTH}\\"{{", "v": {text}}}'
    raw = text.encode()
    if levels + 1 > MAX_DEPTH:
        for read in (requestbody.loads, requestbody.check):
            with pytest.raises(Refused) as refused:
                read(raw)
            assert refused.value.field == "body" and refused.value.malformed
    else:
        assert requestbody.loads(raw)["v"] == value
        requestbody.check(raw)


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_json_refused_or_a_value(raw: bytes) -> None:
    refused = False
    try:
        requestbody.loads(raw)
    except Refused:
        refused = True
    except json.JSONDecodeError:
        pass
    # check refuses what loads refuses, and lets a body that is merely not JSON pass on.
    if refused:
        with pytest.raises(Refused):
            requestbody.check(raw)
    else:
        requestbody.check(raw)


@given(nested(3))
def test_only_utf8_is_read(value: Any) -> None:
    # Lone surrogates written as raw UTF-8-style bytes (which json.loads would accept).
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(Refused) as refused:
            requestbody.loads(raw)
        assert refused.value.field == "body" and refused.value.malformed
        return
    if has_bad(value):  # a NUL, escaped by json.dumps
        with pytest.raises(Refused):
            requestbody.loads(raw)
    else:
        assert requestbody.loads(raw) == value


def test_extreme_nesting_and_unterminated_strings() -> None:
    for raw in (b"[" * 100_000, b'{"a":' * 100_000, b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(Refused):
            requestbody.loads(raw)
    # A string never closed: the scan stops there (the brackets after it are text), and the
    # parser calls the body invalid.
    unterminated = b"[" * 3 + b'"' + b"[" * (2 * MAX_DEPTH) + b'\\"' * 10_000
    assert requestbody.depth(unterminated.decode()) == 3
    with pytest.raises(json.JSONDecodeError):
        requestbody.loads(unterminated)


def test_sizes_read_in_plain_words() -> None:
    assert requestbody.size_in_words(1024 * 1024) == "1 MB"
    assert requestbody.size_in_words(1024 * 1024).en == "1 MiB"
    assert requestbody.size_in_words(64 * 1024) == "64 KB"
    assert requestbody.size_in_words(int(26.86 * 1024 * 1024)) == "26.9 MB"
    assert requestbody.size_in_words(500) == "500 字节"
