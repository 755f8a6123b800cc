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
_PROVINCES = np.array(sorted(int(p) for p in PROVINCE_CODES), dtype=np.int64)
_CREDIT_PROVINCES = np.append(_PROVINCES, int(CENTRAL_DIVISION_PREFIX))
_CITIZEN_W = np.array(CITIZEN_WEIGHTS, dtype=np.int64)
_CREDIT_W = np.array(CREDIT_WEIGHTS, dtype=np.int64)
_CITIZEN_CHECK = np.frombuffer(CITIZEN_CHECK_CHARS.encode(), dtype=np.uint8)

# Byte -> credit-code value (0..30), or -1 for a byte outside the character set.
_CREDIT_LOOKUP = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(CREDIT_CODE_CHARSET.encode()):
    _CREDIT_LOOKUP[_c] = _i
_PAIRS = np.array(
    sorted(
        _CREDIT_LOOKUP[ord(a)] * 31 + _CREDIT_LOOKUP[ord(c)]
        for a, (_name, cats) in AUTHORITIES.items()
        for c in cats
    ),
    dtype=np.int64,
)


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


def _days_in_month(
    year: npt.NDArray[np.int64], month: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    table = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    days = table[np.clip(month, 0, 12)]
    return np.where((month == 2) & leap, 29, days)


def citizen_id_mask(values: pa.Array | pa.ChunkedArray, *, today: date | None = None) -> Mask:
    """True where the value is a valid GB 11643 citizen identity number."""
    m, ok = _matrix(values)
    if len(m) == 0:
        return ok
    digits = m[:, :17].astype(np.int64) - 48
    ok &= ((digits >= 0) & (digits <= 9)).all(axis=1)
    digits = np.clip(digits, 0, 9)
    expected = _CITIZEN_CHECK[(12 - (digits @ _CITIZEN_W) % 11) % 11]
    ok &= m[:, 17] == expected
    ok &= np.isin(digits[:, 0] * 10 + digits[:, 1], _PROVINCES)
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= _days_in_month(year, month))
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
    v = np.clip(v, 0, 30)
    ok &= np.isin(v[:, 0] * 31 + v[:, 1], _PAIRS)
    division = m[:, 2:8].astype(np.int64) - 48
    ok &= ((division >= 0) & (division <= 9)).all(axis=1)
    ok &= np.isin(
        np.clip(division[:, 0], 0, 9) * 10 + np.clip(division[:, 1], 0, 9), _CREDIT_PROVINCES
    )
    ok &= v[:, 17] == (31 - (v[:, :17] @ _CREDIT_W) % 31) % 31
    return ok


def division_mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    """True where the value is a 6-digit GB/T 2260 code under a known province."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    text = pc.fill_null(values, "")
    ok = pc.match_substring_regex(text, r"^[0-9]{6}$").to_numpy(zero_copy_only=False)
    prefix = pc.utf8_slice_codeunits(text, 0, 2)
    provinces = pa.array([f"{p:02d}" for p in _PROVINCES])
    return np.asarray(ok & pc.is_in(prefix, value_set=provinces).to_numpy(zero_copy_only=False))
