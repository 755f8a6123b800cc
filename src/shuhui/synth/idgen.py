"""Vectorised identifiers in exactly the formats of :mod:`shuhui.core.ids`.

``core.ids`` generates one value at a time in Python; a city of millions needs whole arrays.
The check characters come from :mod:`shuhui.core.ids_arrays`, which the data core also
validates with, and the tests parse every generated value with ``core.ids``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shuhui.core.ids import CREDIT_CODE_CHARSET
from shuhui.core.ids_arrays import citizen_check_chars, credit_check_values
from shuhui.synth.columns import ByteMatrix, IntArray, ascii_digits, fixed_strings
from shuhui.synth.context import split_days

_CHARSET = np.frombuffer(CREDIT_CODE_CHARSET.encode("ascii"), dtype=np.uint8)
# GB 11714 organisation code: value of each charset character (letters count from A = 10).
_ORG_VALUES = np.array(
    [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in CREDIT_CODE_CHARSET],
    dtype=np.int64,
)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHARSET_INDEX_OF_X = CREDIT_CODE_CHARSET.index("X")
MA_SPACE = len(CREDIT_CODE_CHARSET) ** 6  # organisation codes "MA" + 6 characters
NUMERIC_SPACE = 10**8  # organisation codes of 8 digits


def citizen_ids(division: IntArray, birth: IntArray, sequence: IntArray) -> pa.Array:
    """18-character 公民身份号码 from a 6-digit division, birth day number and 3-digit sequence.

    The sequence's last digit must already carry the sex (odd for men).
    """
    year, month, day = split_days(birth)
    body = np.concatenate(
        [
            ascii_digits(division, 6),
            ascii_digits(year * 10000 + month * 100 + day, 8),
            ascii_digits(sequence, 3),
        ],
        axis=1,
    )
    return fixed_strings(_with_citizen_check(body))


def _with_citizen_check(body: ByteMatrix) -> ByteMatrix:
    check = citizen_check_chars(body.astype(np.int64) - ord("0"))
    return np.concatenate([body, check[:, None]], axis=1)


def org_code_indexes(numeric: np.ndarray, values: IntArray) -> IntArray:
    """GB 11714 organisation codes as (n, 9) charset indexes.

    Where ``numeric`` is true, ``values`` (< 10^8) becomes 8 digits; elsewhere ``values``
    (< 31^6) becomes "MA" and 6 base-31 characters, the form assigned since the 2015 reform.
    A GB 11714 check character ends each; it is always a digit or X, both in the charset.
    """
    n = values.shape[0]
    body = np.empty((n, 8), dtype=np.int64)
    rest = values.astype(np.int64, copy=True)
    base = np.where(numeric, 10, len(CREDIT_CODE_CHARSET))
    for position in range(7, -1, -1):
        body[:, position] = rest % base
        rest //= base
    body[~numeric, 0] = CREDIT_CODE_CHARSET.index("M")
    body[~numeric, 1] = CREDIT_CODE_CHARSET.index("A")
    check = 11 - (_ORG_VALUES[body] @ _ORG_WEIGHTS) % 11
    check_index = np.where(check == 10, _CHARSET_INDEX_OF_X, np.where(check == 11, 0, check))
    return np.concatenate([body, check_index[:, None]], axis=1)


def credit_codes(
    authority: IntArray, category: IntArray, division: IntArray, org: IntArray
) -> pa.Array:
    """18-character 统一社会信用代码.

    ``authority`` and ``category`` are charset indexes (digits are their own index), ``division``
    a 6-digit number and ``org`` the (n, 9) charset indexes from :func:`org_code_indexes`.
    """
    division_digits = ascii_digits(division, 6).astype(np.int64) - ord("0")
    body = np.concatenate([authority[:, None], category[:, None], division_digits, org], axis=1)
    check = credit_check_values(body)
    indexes = np.concatenate([body, check[:, None]], axis=1)
    return fixed_strings(_CHARSET[indexes])
