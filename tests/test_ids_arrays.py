"""The vectorised checks give the same verdict as the scalar ones, value for value."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.core import ids
from shuhui.core.ids_arrays import citizen_id_mask, credit_code_mask, division_mask

TODAY = date(2026, 11, 29)
ALPHABET = "0123456789X" + ids.CREDIT_CODE_CHARSET + "IOSVZx -中"


def scalar_ok(parse: Callable[[str], object], value: str | None) -> bool:
    if value is None:
        return False
    try:
        parse(value)
    except ids.InvalidIdentifier:
        return False
    return True


def mutate(rng: random.Random, value: str) -> str:
    kind = rng.randrange(4)
    i = rng.randrange(len(value))
    if kind == 0:
        return value[:i] + rng.choice(ALPHABET) + value[i + 1 :]
    if kind == 1:
        return value[:i] + value[i + 1 :]
    if kind == 2:
        return value[:i] + rng.choice(ALPHABET) + value[i:]
    return value


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_citizen_mask_matches_scalar(seed: int) -> None:
    rng = random.Random(seed)
    values: list[str | None] = [
        mutate(rng, v) for v in ids.generate_citizen_ids(rng, 40, born_to=date(2026, 1, 1))
    ]
    values += [None, "", "11010519491231002X", "110105194902290014", "110105200002290013"]
    mask = citizen_id_mask(pa.array(values, pa.string()), today=TODAY)
    expected = [scalar_ok(lambda v: ids.parse_citizen_id(v, today=TODAY), v) for v in values]
    assert mask.tolist() == expected


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_credit_mask_matches_scalar(seed: int) -> None:
    rng = random.Random(seed)
    values: list[str | None] = [mutate(rng, v) for v in ids.generate_credit_codes(rng, 40)]
    values += [None, "91110000600037341L", "11100000000013125" + "X"]
    mask = credit_code_mask(pa.array(values, pa.string()))
    assert mask.tolist() == [scalar_ok(ids.parse_credit_code, v) for v in values]


@given(st.lists(st.text(ALPHABET, min_size=0, max_size=20) | st.none(), max_size=30))
def test_masks_never_raise_on_arbitrary_text(values: list[str | None]) -> None:
    array = pa.array(values, pa.string())
    assert len(citizen_id_mask(array, today=TODAY)) == len(values)
    assert len(credit_code_mask(array)) == len(values)
    assert len(division_mask(array)) == len(values)


def test_sliced_and_chunked_arrays() -> None:
    good = "11010519491231002X"
    array = pa.array(["x", good, "bad", good])
    assert citizen_id_mask(array.slice(1), today=TODAY).tolist() == [True, False, True]
    chunked = pa.chunked_array([array.slice(0, 2), array.slice(2)])
    assert citizen_id_mask(chunked, today=TODAY).tolist() == [False, True, False, True]


def test_division_mask() -> None:
    assert division_mask(pa.array(["370202", "990000", "37020", None, "3702a2"])).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]
