"""Reading the files a department hands over: Parquet, CSV, Arrow IPC — as batches; and a
small CSV handed over in a request (an organisation's upload), read whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from shuhui.datacore.errors import LoadError, RowError
from shuhui.datacore.schema import TableSpec
from shuhui.datacore.validate import MAX_ERRORS, show_value

BATCH_ROWS = 262_144
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow-stream",
}


def read_batches(path: Path, spec: TableSpec) -> Iterator[pa.RecordBatch]:
    """Batches of the file as written; types are checked later, row by row, against the spec."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise LoadError(
            spec.name,
            [
                RowError(
                    None,
                    None,
                    f"unsupported file type {path.suffix!r}; "
                    f"use one of {', '.join(sorted(FORMATS))}",
                )
            ],
        )
    if not path.is_file():
        raise LoadError(spec.name, [RowError(None, None, f"no such file: {path}")])
    try:
        if kind == "parquet":
            yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
        elif kind == "csv":
            yield from _csv(path, spec)
        elif kind == "arrow":
            with pa.memory_map(str(path)) as source:
                try:
                    reader = ipc.open_file(source)
                    for i in range(reader.num_record_batches):
                        yield reader.get_batch(i)
                except pa.ArrowInvalid:
                    source.seek(0)
                    yield from ipc.open_stream(source)
        else:
            with pa.memory_map(str(path)) as source:
                yield from ipc.open_stream(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LoadError(
            spec.name, [RowError(None, None, f"cannot read {path.name}: {exc}")]
        ) from exc


def _csv(path: Path, spec: TableSpec) -> Iterator[pa.RecordBatch]:
    # Everything is read as text, so a bad value is reported with its row by our own checks
    # rather than as a reader error with no row number.
    with path.open("rb") as handle:
        header = [h.strip('"') for h in handle.readline().decode("utf-8-sig").strip().split(",")]
    ragged: list[RowError] = []
    for batch in _open_csv(path, header, ragged, threads=True):
        if ragged:
            break
        yield batch
    if ragged:
        # Only a serial reader knows a row's number: read again, up to the rows to report.
        numbered: list[RowError] = []
        for _ in _open_csv(path, header, numbered, threads=False):
            if len(numbered) >= MAX_ERRORS:
                break
        raise LoadError(spec.name, numbered or ragged)


def ragged_row(number: int | None, header: list[str], fields: int, text: str) -> RowError:
    """A row with more or fewer fields than the header, named as a spreadsheet numbers it."""
    expected = len(header)
    missing = fields < expected
    lacking = header[fields:]
    return RowError(
        number,
        header[fields] if missing else None,
        f"{fields} fields where the header has {expected}"
        + (
            f": {', '.join(lacking)} missing"
            if missing
            else " (a stray comma, or a value with a comma not in quotes)"
        ),
        text,
        zh=f"这一行有 {fields} 个值，表头有 {expected} 列"
        + (
            f"：缺少 {'、'.join(lacking)}"
            if missing
            else "（多了逗号，或含逗号的值没有加英文双引号）"
        ),
    )


def _open_csv(
    path: Path, header: list[str], ragged: list[RowError], *, threads: bool
) -> pacsv.CSVStreamingReader:
    """A reader of the file as text that skips a row with more or fewer fields than the header
    and adds it to ``ragged``, numbered as a spreadsheet shows it (the header is row 1) when
    reading serially; a threaded reader leaves the number unknown."""

    def on_ragged(row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        if len(ragged) < MAX_ERRORS:
            ragged.append(ragged_row(row.number, header, row.actual_columns, show_value(row.text)))
        return "skip"

    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24, encoding="utf8", use_threads=threads),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_ragged),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def csv_upload(data: bytes, spec: TableSpec, *, max_rows: int, max_chars: int) -> pa.Table:
    """A CSV file uploaded in a request, as a table of text in the file's column order, for
    :meth:`DataCore.load` to check against ``spec`` (types, required values, vocabularies) with
    ``header_rows=1``.

    The file is small (the route bounds its size), so it is read whole by the standard
    library's reader, which numbers every row exactly as a spreadsheet does (the header is row
    1). Text is UTF-8, with or without its byte-order mark, or GB18030 (what spreadsheet
    programs on Chinese Windows save). Refused (:class:`LoadError`, each row and column named,
    in Chinese and English): text in neither encoding, no header, a header naming a column
    twice or a blank name, a row with more or fewer values than the header, a value holding a
    NUL character or longer than ``max_chars``, a blank line between rows (blank lines at the
    end are dropped), more than ``max_rows`` rows."""

    def whole_file(zh: str, en: str) -> LoadError:
        return LoadError(spec.name, [RowError(None, None, en, zh=zh)])

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise whole_file(
                "文件不是 UTF-8 或 GB18030 编码的文本（请从表格软件另存为 CSV UTF-8）",
                "not text in UTF-8 or GB18030",
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[RowError] = []
    rows: list[list[str]] = []
    blank: int | None = None  # the first blank line seen, if rows followed it
    header: list[str] | None = None
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if header is None:
                header = [name.strip() for name in record]
                continue
            if not record or record == [""]:
                blank = blank or number
                continue
            if blank is not None:
                errors.append(RowError(blank, None, "blank line between rows", zh="表格中间有空行"))
                blank = None
            if len(rows) >= max_rows:
                raise whole_file(
                    f"超过 {max_rows:,} 行：请分成几个文件上传", f"more than {max_rows:,} rows"
                )
            if len(record) != len(header):
                errors.append(ragged_row(number, header, len(record), show_value(",".join(record))))
            for name, value in zip(header, record, strict=False):
                if "\x00" in value:
                    errors.append(
                        RowError(number, name, "holds a NUL character", zh="含有空字符（NUL）")
                    )
                elif len(value) > max_chars:
                    errors.append(
                        RowError(
                            number,
                            name,
                            f"longer than {max_chars:,} characters",
                            show_value(value),
                            zh=f"超过 {max_chars:,} 个字",
                        )
                    )
            if len(errors) >= MAX_ERRORS:
                break
            rows.append(record)
    except csv.Error as exc:
        errors.append(
            RowError(
                number + 1,
                None,
                f"not CSV: {exc}",
                zh="不是有效的 CSV：引号不成对，或引号外还有字符",
            )
        )
    if header is None or not any(header):
        raise whole_file("文件是空的：第 1 行应是各列的名称（表头）", "empty: no header row")
    blank_names = [i + 1 for i, name in enumerate(header) if not name]
    if blank_names:
        errors.append(
            RowError(
                1,
                None,
                f"column {blank_names[0]} of the header has no name",
                zh=f"表头第 {blank_names[0]} 列没有名称",
            )
        )
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            errors.append(RowError(1, name, "named twice in the header", zh="表头中出现了两次"))
        seen.add(name)
    if errors:
        raise LoadError(spec.name, errors[:MAX_ERRORS])
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
