"""Checks one batch of incoming rows against a table's declared schema.

Whole columns are checked at once (Arrow casts, numpy identifier masks); only rows already known
to be bad are looked at one by one, to say why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuhui.core import ids
from shuhui.core.i18n import Text
from shuhui.core.ids_arrays import citizen_id_mask, credit_code_mask, division_mask
from shuhui.datacore.errors import RowError
from shuhui.datacore.schema import CHECK_TITLES, TYPE_TITLES, Column, TableSpec

MAX_ERRORS = 20


def show_value(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _first_bad(mask_bad: np.ndarray, limit: int) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask_bad)[:limit]]


def _failing_cast_rows(array: pa.Array, target: pa.DataType, limit: int) -> list[int]:
    """Rows whose value cannot be cast, found by bisection: O(log n) casts per bad row."""
    bad: list[int] = []
    start = 0
    n = len(array)
    while start < n and len(bad) < limit:
        try:
            pc.cast(array.slice(start), target, safe=True)
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        lo, hi = start, n  # the first failure lies in [lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                pc.cast(array.slice(lo, mid - lo), target, safe=True)
                lo = mid
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                hi = mid
        bad.append(lo)
        start = lo + 1
    return bad


def _id_reason(column: Column, value: str, today: date) -> Text:
    title = CHECK_TITLES[column.check][0] if column.check else ""
    try:
        if column.check == "citizen_id":
            ids.parse_citizen_id(value, today=today)
        elif column.check == "credit_code":
            ids.parse_credit_code(value)
        else:
            return Text(
                f"不是有效的{title}：应为已知省份下的 6 位数字",
                "not a 6-digit GB/T 2260 division code under a known province",
            )
    except ids.InvalidIdentifier as exc:
        kind = column.check.replace("_", " ") if column.check else ""
        return Text(f"不是有效的{title}：{exc.reason}", f"invalid {kind}: {exc.reason.en}")
    return Text(f"不是有效的{title}", "invalid")


def _error(row: int | None, column: str, reason: Text, value: object | None = None) -> RowError:
    shown = None if value is None else show_value(value)
    return RowError(row, column, reason.en, shown, zh=str(reason))


_MASKS: dict[str, Callable[[pa.Array, date], np.ndarray]] = {
    "citizen_id": lambda array, today: citizen_id_mask(array, today=today),
    "credit_code": lambda array, _today: credit_code_mask(array),
    "division": lambda array, _today: division_mask(array),
}


def conform(
    spec: TableSpec, batch: pa.RecordBatch | pa.Table, *, first_row: int, today: date | None = None
) -> tuple[pa.RecordBatch | None, list[RowError]]:
    """Returns the batch in the table's exact schema, or the errors (rows numbered from 1)."""
    today = today or date.today()
    errors: list[RowError] = []
    names = batch.schema.names
    wanted = [c.name for c in spec.columns]
    for name in wanted:
        if name not in names:
            errors.append(_error(None, name, Text("文件中缺少这一列", "missing column")))
    for name in names:
        if name not in wanted:
            errors.append(
                _error(
                    None,
                    name,
                    Text("表中没有这一列（未声明）", "unknown column (not in the table's schema)"),
                )
            )
    if errors:
        return None, errors

    arrays: list[pa.Array] = []
    for column in spec.columns:
        raw = batch.column(names.index(column.name))
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
            # Text files give "" for a missing value.
            raw = pc.if_else(pc.equal(raw, ""), pa.scalar(None, raw.type), raw)
        try:
            array = raw if raw.type == column.arrow_type else pc.cast(raw, column.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            kind = Text(f"不是有效的{TYPE_TITLES[column.type][0]}", f"not a valid {column.type}")
            for i in _failing_cast_rows(raw, column.arrow_type, MAX_ERRORS - len(errors)):
                errors.append(_error(first_row + i, column.name, kind, raw[i]))
            continue
        if column.required and array.null_count:
            missing = Text("必填，不能为空", "required value is missing")
            for i in _first_bad(np.asarray(array.is_null()), MAX_ERRORS - len(errors)):
                errors.append(_error(first_row + i, column.name, missing))
        present = np.asarray(array.is_valid())
        if column.check is not None:
            ok = _MASKS[column.check](array, today)
            for i in _first_bad(present & ~ok, MAX_ERRORS - len(errors)):
                value = array[i].as_py()
                reason = _id_reason(column, value, today)
                errors.append(
                    RowError(first_row + i, column.name, reason.en, value, zh=str(reason))
                )
        if column.values is not None:
            allowed = pc.is_in(array, value_set=pa.array(column.values, column.arrow_type))
            bad = present & ~np.asarray(allowed.to_numpy(zero_copy_only=False))
            one_of = Text(
                f"只能是以下之一：{'、'.join(column.values)}",
                f"not one of {', '.join(column.values)}",
            )
            for i in _first_bad(bad, MAX_ERRORS - len(errors)):
                errors.append(_error(first_row + i, column.name, one_of, array[i].as_py()))
        arrays.append(array)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        errors.sort(key=lambda e: (e.row or 0, wanted.index(e.column) if e.column in wanted else 0))
        return None, errors[:MAX_ERRORS]
    return pa.RecordBatch.from_arrays(arrays, schema=spec.arrow_schema), []
