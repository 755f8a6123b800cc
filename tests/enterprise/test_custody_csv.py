"""The hosted file's reader and checks (hypothesis): whatever the bytes, a table or a refusal
in words, never anything else; a file written by a spreadsheet's rules (quotes, commas and
line breaks inside values, a byte-order mark, GB18030) reads back value for value; a bad value
anywhere is refused naming its row as a spreadsheet numbers it and its column."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shuhui.core.errors import Problem
from shuhui.datacore.schema import Column, TableSpec
from shuhui.enterprise.custody import checked_file

SPEC = TableSpec(
    name="hosted_91370202ma3c4d5e6t_sample",
    title="样例",
    department="青岛海湾示范科技有限公司",
    columns=(
        Column("name", "string", "名称", required=False),
        Column("count", "int64", "数量", required=False),
        Column("day", "date", "日期", required=False),
    ),
)
# Text a person types into a cell: any character but NUL and lone surrogates (no file holds
# them as text), commas, quotes and line breaks included.
CELL = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
ROW = st.tuples(
    CELL,
    st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2100, 12, 31))),
)


def write(rows: list[tuple[Any, ...]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header or ["name", "count", "day"])
    for name, count, day in rows:
        writer.writerow([name, "" if count is None else count, "" if day is None else day])
    return out.getvalue()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_give_a_table_or_a_refusal_in_words(data: bytes) -> None:
    try:
        checked_file(data, SPEC)
    except Problem as refusal:
        assert refusal.http_status == 422 and refusal.errors
        for e in refusal.errors:
            assert e.field == "csv" or e.field.startswith("csv.")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in e.reason), e.reason


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ROW, max_size=25),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_a_written_file_reads_back_value_for_value(
    rows: list[tuple[Any, ...]], encoding: str
) -> None:
    text = write(rows)
    data = text.encode(encoding)
    # UTF-8 is tried first: a GB18030 file whose bytes happen to be UTF-8 too reads as UTF-8.
    if encoding == "gb18030":
        with contextlib.suppress(UnicodeDecodeError):
            assume(data.decode("utf-8") == text)
    table = checked_file(data, SPEC)
    assert table.num_rows == len(rows)
    names = table.column("name").to_pylist()
    counts = table.column("count").to_pylist()
    days = table.column("day").to_pylist()
    for i, (name, count, day) in enumerate(rows):
        assert names[i] == (name or None)  # an empty cell is no value
        assert counts[i] == count and days[i] == day


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ROW, min_size=1, max_size=20),
    st.data(),
    st.sampled_from(["12.5", "十", "1e3", "18446744073709551616", "1 000"]),
)
def test_a_bad_value_is_refused_at_its_row_and_column(
    rows: list[tuple[Any, ...]], data: st.DataObject, bad: str
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    cells = [
        [name, "" if count is None else str(count), "" if day is None else day.isoformat()]
        for name, count, day in rows
    ]
    cells[at][1] = bad
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "count", "day"])
    writer.writerows(cells)
    try:
        checked_file(out.getvalue().encode("utf-8"), SPEC)
    except Problem as refusal:
        first = refusal.errors[0]
        assert first.field == f"csv.{at + 2}.count", (first.field, at)
        assert f"第 {at + 2} 行" in first.reason and "数量" in first.reason
    else:
        raise AssertionError(f"{bad!r} at row {at + 2} was taken")
