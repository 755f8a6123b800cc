"""Where generated batches go: the data core, Parquet files, or a counter in tests."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from shuhui.datacore.schema import TableSpec


class Sink(Protocol):
    def write(self, spec: TableSpec, batch: pa.RecordBatch) -> None:
        """Take one batch of ``spec``'s rows; its schema is exactly ``spec.arrow_schema``.

        A table's batches arrive in order and may be interleaved with other tables' batches.
        Every table gets at least one batch; a table without rows gets exactly one, empty.
        """
        ...
