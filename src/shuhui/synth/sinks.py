"""Two simple sinks: Parquet files in a directory, and a row counter."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from shuhui.datacore.schema import Column, TableSpec

__all__ = ["CountingSink", "ParquetSink"]


class ParquetSink:
    """One Parquet file per table, ``<directory>/<table>.parquet``; call :meth:`close` at the end.

    Every batch becomes one row group. Identical batches give identical files: the writer adds
    no timestamps, only the pyarrow version in ``created_by``. High-cardinality columns skip
    dictionary encoding, which would only be tried and abandoned on every page.
    """

    def __init__(self, directory: Path | str, *, compression: str = "snappy") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.compression = compression
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.paths: dict[str, Path] = {}

    def write(self, spec: TableSpec, batch: pa.RecordBatch) -> None:
        if not batch.schema.equals(spec.arrow_schema):
            raise ValueError(f"batch for {spec.name} does not match the table's schema")
        writer = self._writers.get(spec.name)
        if writer is None:
            path = self.directory / f"{spec.name}.parquet"
            writer = pq.ParquetWriter(
                path,
                spec.arrow_schema,
                compression=self.compression,
                use_dictionary=_dictionary_columns(spec),
            )
            self._writers[spec.name] = writer
            self.paths[spec.name] = path
        if batch.num_rows:
            writer.write_batch(batch, row_group_size=batch.num_rows)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _dictionary_columns(spec: TableSpec) -> list[str]:
    return [c.name for c in spec.columns if c.type in ("string", "date") and not _unique_ish(c)]


def _unique_ish(column: Column) -> bool:
    # Identifiers, names, addresses and certificate numbers are (nearly) unique per row.
    if column.check is not None or (column.personal and column.values is None):
        return True
    return column.name in ("name", "address", "certificate_no") or column.name.endswith("_id")


class CountingSink:
    """Counts rows per table and checks every batch's schema; keeps nothing else."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.batches: dict[str, int] = {}

    def write(self, spec: TableSpec, batch: pa.RecordBatch) -> None:
        if not batch.schema.equals(spec.arrow_schema):
            raise ValueError(f"batch for {spec.name} does not match the table's schema")
        self.rows[spec.name] = self.rows.get(spec.name, 0) + batch.num_rows
        self.batches[spec.name] = self.batches.get(spec.name, 0) + 1
