"""Reading the files a department hands over: Parquet, CSV, Arrow IPC — as batches."""

from __future__ import annotations

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


def _open_csv(
    path: Path, header: list[str], ragged: list[RowError], *, threads: bool
) -> pacsv.CSVStreamingReader:
    """A reader of the file as text that skips a row with more or fewer fields than the header
    and adds it to ``ragged``, numbered as a spreadsheet shows it (the header is row 1) when
    reading serially; a threaded reader leaves the number unknown."""

    def on_ragged(row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        if len(ragged) < MAX_ERRORS:
            missing = row.actual_columns < row.expected_columns
            ragged.append(
                RowError(
                    row.number,
                    header[row.actual_columns] if missing else None,
                    f"{row.actual_columns} fields where the header has {row.expected_columns}"
                    + (
                        f": {', '.join(header[row.actual_columns :])} missing"
                        if missing
                        else " (a stray comma, or a value with a comma not in quotes)"
                    ),
                    show_value(row.text),
                )
            )
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
