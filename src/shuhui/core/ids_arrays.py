"""Vectorised identifier checks, for validating millions of values in a data load.

Same rules as :mod:`shuhui.core.ids`, computed on whole columns with numpy; a property test holds
the two to the same verdict. Loads use these to find bad rows fast, then ask ``ids`` why.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.core.ids import (
    AUTHORITIES,
    CENTRAL_DIVISION_PREFIX,
    CITIZEN_CHECK_CHARS,
    CITIZEN_WEIGHTS,
    CREDIT_CODE_CHARSET,
    CREDIT_WEIGHTS,
    MIN_BIRTH_YEAR,
)
from shuhui.core.regions import PROVINCE_CODES

Mask = npt.NDArray[np.bool_]
# Weighted sums go through float32 matrix products (BLAS), exact here: at most 17 terms of
# 255 x 30, far inside float32's 24-bit integer range. Integer matmul has no BLAS and is slow.
_CITIZEN_W = np.array(CITIZEN_WEIGHTS, dtype=np.float32)
_CREDIT_W = np.array(CREDIT_WEIGHTS, dtype=np.float32)
_CITIZEN_CHECK = np.frombuffer(CITIZEN_CHECK_CHARS.encode(), dtype=np.uint8)


def _table(size: int, true_at: list[int]) -> Mask:
    table = np.zeros(size, dtype=np.bool_)
    table[true_at] = True
    return table


# Lookup tables indexed by two raw digit values (each 0..255 after a wrapping subtraction),
# so no clipping is needed: out-of-range digits simply land on False.
_PROVINCE_OK = _table(256 * 10 + 256, [int(p) for p in PROVINCE_CODES])
_CREDIT_PROVINCE_OK = _table(
    256 * 10 + 256, [int(p) for p in PROVINCE_CODES] + [int(CENTRAL_DIVISION_PREFIX)]
)

# Byte -> credit-code value (0..30), or -1 for a byte outside the character set.
_CREDIT_LOOKUP = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate(CREDIT_CODE_CHARSET.encode()):
    _CREDIT_LOOKUP[_c] = _i
_PAIR_OK = _table(
    31 * 31,
    [
        int(_CREDIT_LOOKUP[ord(a)]) * 31 + int(_CREDIT_LOOKUP[ord(c)])
        for a, (_name, cats) in AUTHORITIES.items()
        for c in cats
    ],
)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] + [0] * 243)


def citizen_check_chars(digits: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """GB 11643 check characters (as ASCII bytes) of an (n, 17) matrix of digit values."""
    total = (digits.astype(np.float32) @ _CITIZEN_W).astype(np.int64)
    result: npt.NDArray[np.uint8] = _CITIZEN_CHECK[(12 - total % 11) % 11]
    return result


def credit_check_values(values: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """GB 32100 check values (0..30) of an (n, 17) matrix of character values."""
    total = (values.astype(np.float32) @ _CREDIT_W).astype(np.int64)
    result: npt.NDArray[np.int64] = (31 - total % 31) % 31
    return result


def _matrix(values: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.uint8], Mask]:
    """The 18-byte values as an (n, 18) byte matrix, and which rows were 18 bytes long."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    lengths = pc.fill_null(pc.binary_length(values), 0).to_numpy(zero_copy_only=False)
    is18 = lengths == 18
    matrix = np.zeros((len(values), 18), dtype=np.uint8)
    if is18.any():
        picked = values.filter(pa.array(is18))
        # Fixed-width strings sit back to back in the data buffer; no per-value Python.
        offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32)[
            picked.offset : picked.offset + len(picked) + 1
        ]
        data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        matrix[is18] = data.reshape(-1, 18)
    return matrix, is18


def citizen_id_mask(values: pa.Array | pa.ChunkedArray, *, today: date | None = None) -> Mask:
    """True where the value is a valid GB 11643 citizen identity number."""
    m, ok = _matrix(values)
    if len(m) == 0:
        return ok
    digits = m[:, :17] - np.uint8(48)  # wraps below '0', so one comparison checks the range
    ok &= (digits <= 9).all(axis=1)
    ok &= m[:, 17] == citizen_check_chars(digits)
    d = digits[:, :14].astype(np.int32)
    ok &= _PROVINCE_OK[d[:, 0] * 10 + d[:, 1]]
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.where((month == 2) & leap, 29, _DAYS_IN_MONTH[np.minimum(month, 255)])
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    today = today or date.today()
    ok &= year * 10000 + month * 100 + day <= today.year * 10000 + today.month * 100 + today.day
    ok &= year >= MIN_BIRTH_YEAR
    return ok


def credit_code_mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    """True where the value is a valid GB 32100 unified social credit code."""
    m, ok = _matrix(values)
    if len(m) == 0:
        return ok
    v = _CREDIT_LOOKUP[m]
    ok &= (v >= 0).all(axis=1)
    ok &= _PAIR_OK[np.maximum(v[:, 0], 0).astype(np.int32) * 31 + np.maximum(v[:, 1], 0)]
    division = m[:, 2:8] - np.uint8(48)
    ok &= (division <= 9).all(axis=1)
    ok &= _CREDIT_PROVINCE_OK[division[:, 0].astype(np.int32) * 10 + division[:, 1]]
    ok &= v[:, 17] == credit_check_values(v[:, :17])
    return ok


def division_mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    """True where the value is a 6-digit GB/T 2260 code under a known province."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    text = pc.fill_null(values, "")
    ok = pc.match_substring_regex(text, r"^[0-9]{6}$").to_numpy(zero_copy_only=False)
    prefix = pc.utf8_slice_codeunits(text, 0, 2)
    provinces = pa.array(sorted(PROVINCE_CODES))
    return np.asarray(ok & pc.is_in(prefix, value_set=provinces).to_numpy(zero_copy_only=False))
