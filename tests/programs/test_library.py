"""The served process's rule book and data-core connection: shared by cursors, replaced when a
table gets a new version, and never closed under a cursor still in use."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from shuhui.datacore.store import DataCore
from shuhui.programs.service import Library
from shuhui.standard.tables import DEATHS
from tests.programs.conftest import City


def _deaths(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM death_registrations").fetchone()
    assert row is not None
    return int(row[0])


def test_cursors_share_one_connection_until_a_table_changes(city: City) -> None:
    library: Library = city.app.state.policy_library
    core: DataCore = city.app.state.datacore
    with library.connection() as first, library.connection() as second:
        assert first is not second  # each caller its own cursor …
        before = _deaths(first)
        assert _deaths(second) == before
        shared = library._con
        assert shared is not None and shared.users == 2  # … of one connection
        # Footers are kept for every cursor (a GLOBAL setting), not only the connection.
        assert second.execute("SELECT current_setting('parquet_metadata_cache')").fetchall() == [
            (True,)
        ]
        # A cursor reads only the data core's files and cannot change that.
        with pytest.raises(duckdb.PermissionException):
            second.execute("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(duckdb.InvalidInputException):
            second.execute("SET enable_external_access = true")

        # A new version of a table: the next caller gets a new connection that sees it …
        (death,) = core.sql("SELECT * FROM death_registrations LIMIT 1").to_pylist()
        (alive,) = core.sql(
            "SELECT citizen_id, name FROM residents WHERE citizen_id NOT IN "
            "(SELECT citizen_id FROM death_registrations) LIMIT 1"
        ).to_pylist()
        added = pa.Table.from_pylist([{**death, **alive}], schema=DEATHS.arrow_schema)
        core.load(DEATHS, added, source="test", append=True)
        with library.connection() as third:
            assert _deaths(third) == before + 1
            assert library._con is not shared
        # … while the cursors opened before still work on the version they started with.
        assert _deaths(first) == before
        assert shared.retired and shared.users == 2 and _deaths(second) == before
    # The last of them done, the replaced connection is closed.
    assert shared.retired and shared.users == 0
    with pytest.raises(duckdb.ConnectionException):
        shared.con.execute("SELECT 1")
