"""Reading the files a department hands over: Parquet, CSV, Arrow IPC — as batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from shuhui.datacore.errors import LoadError, RowError
from shuhui.datacore.schema import TableSpec

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
        header = handle.readline().decode("utf-8-sig").strip().split(",")
    column_types = {name.strip('"'): pa.string() for name in header}
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24, encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            column_types=column_types, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    yield from reader
