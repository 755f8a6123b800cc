"""Vectorised building blocks: numpy arrays in, Arrow columns and batches out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.datacore.schema import TableSpec

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ByteMatrix = npt.NDArray[np.uint8]

_ZERO = ord("0")

# Day numbers (days since 1970-01-01) stand in for dates everywhere; this marks "never".
NEVER = np.int64(2**31 - 1)


def ascii_digits(values: npt.NDArray[np.integer[Any]], width: int) -> ByteMatrix:
    """Zero-padded decimal digits of non-negative ``values`` as an (n, width) ASCII matrix."""
    out = np.empty((values.shape[0], width), dtype=np.uint8)
    rest = values.astype(np.int64, copy=True)
    for position in range(width - 1, -1, -1):
        out[:, position] = rest % 10 + _ZERO
        rest //= 10
    return out


def fixed_strings(matrix: ByteMatrix) -> pa.Array:
    """An Arrow string column from an (n, width) matrix of ASCII bytes, one row per string."""
    n, width = matrix.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    data = np.ascontiguousarray(matrix)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def number_strings(values: npt.NDArray[np.integer[Any]], width: int) -> pa.Array:
    return fixed_strings(ascii_digits(values, width))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of Arrow string arrays (and scalars)."""
    return pc.binary_join_element_wise(*parts, "")


def pool(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def take(values: pa.Array, index: npt.NDArray[np.integer[Any]]) -> pa.Array:
    return values.take(pa.array(index))


def weighted_index(
    rng: np.random.Generator, weights: Sequence[float] | FloatArray, n: int
) -> IntArray:
    """``n`` draws of an index into ``weights`` (relative, not necessarily normalised)."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    drawn: IntArray = np.minimum(
        np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1
    ).astype(np.int64)
    return drawn


def rows_weighted_index(rng: np.random.Generator, cum: FloatArray, rows: IntArray) -> IntArray:
    """One draw per element of ``rows`` from row ``rows[i]`` of the cumulative matrix ``cum``.

    Each row of ``cum`` is a cumulative weight vector ending in its total.
    """
    u = rng.random(len(rows)) * cum[rows, -1]
    drawn: IntArray = np.minimum((u[:, None] >= cum[rows]).sum(axis=1), cum.shape[1] - 1)
    return drawn.astype(np.int64)


def stochastic_round(rng: np.random.Generator, expected: float) -> int:
    """An integer with the given expectation: the floor, plus one with the fractional chance."""
    whole = int(np.floor(expected))
    return whole + int(rng.random() < expected - whole)


def anomaly_count(
    rng: np.random.Generator, rate: float, candidates: int, at_least_one: bool
) -> int:
    """How many of ``candidates`` get an anomaly: ``rate`` of them on average.

    With ``at_least_one`` (the first chunk), a positive rate gives at least one, so even a
    small demo city carries every kind of anomaly.
    """
    count = stochastic_round(rng, rate * candidates)
    if at_least_one and rate > 0 and candidates > 0:
        count = max(count, 1)
    return count


def pick(rng: np.random.Generator, candidates: IntArray, count: int) -> IntArray:
    """``count`` distinct elements of ``candidates`` (all of them if there are fewer), sorted."""
    if count >= candidates.shape[0]:
        return np.sort(candidates)
    return np.sort(rng.choice(candidates, size=count, replace=False))


def dates(days: npt.NDArray[np.integer[Any]], valid: BoolArray | None = None) -> pa.Array:
    """A date32 column from day numbers; rows where ``valid`` is False are null."""
    return pa.array(days.astype(np.int32), type=pa.date32(), mask=None if valid is None else ~valid)


def batch(spec: TableSpec, columns: Mapping[str, Any]) -> pa.RecordBatch:
    """A record batch with exactly ``spec.arrow_schema``.

    Values may be Arrow arrays or numpy arrays; numpy arrays are converted to the declared type.
    """
    schema = spec.arrow_schema
    if set(columns) != set(schema.names):
        raise ValueError(
            f"{spec.name}: columns {sorted(columns)} do not match {sorted(schema.names)}"
        )
    arrays = []
    for field in schema:
        value = columns[field.name]
        if isinstance(value, np.ndarray):
            if pa.types.is_date32(field.type):
                value = dates(value)
            else:
                value = pa.array(value, type=field.type)
        elif value.type != field.type:
            value = value.cast(field.type)
        if isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        arrays.append(value)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
