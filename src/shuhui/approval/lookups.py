"""Fast keyed reads of the data core for forms: one person's register row, one enterprise's,
the rows of any table keyed by an applicant's ID, the e-certificates a holder holds. Each read
says where it came from: table, version, key and the time it was read.

Why not a DuckDB query per read. A data-core table is Parquet sorted by its key in row groups of
20,480 rows; a point query (even on a kept connection, footers cached, one row group read)
decompresses a whole group: 3-4 ms for one resident of a 1,000,000-resident city, 25-50 ms for
the certificates of one holder (``e_certificates`` is sorted by type and number, not holder).
A pre-filled form makes three to five such reads, so the data core alone would cost 15-20 ms of
CPU per form. Instead, the first read of a table version builds a *key index* of it: the
table's rows sorted by the key (a column, or the first non-null of several: a certificate's
holder is a citizen ID or a credit code), written once as an uncompressed Arrow IPC file under
``<data dir>/approval/lookups/<table>/v<version>.<key>.arrow`` and memory-mapped. A read is then
a binary search over the mapped key column and a slice of the rows found: ~0.05 ms. The file is
the operating system's page cache, shared by every worker of the server and kept across
restarts; building one costs 1-2 s per 1,000,000 rows, once per table version, made by one
process at a time (``flocked``), the others waiting and then mapping it.

Versions. Each read takes the table's current version from ``catalog.json`` (re-read only when
the file changes: one ``stat`` per read) and reports it; a new version gets a new index, and the
previous index files of that table and key are removed (a process still mapping one keeps it
until it lets go). A big table's new version (``STALE_ROWS``; an issued licence rewrites
``e_certificates``, 1.5 s to index at 1,000,000 residents) is indexed in the background while
the version before keeps answering, so no form waits for it; each read says which version it
read. Everything here is immutable once made, so threads share it freely.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from shuhui.core.clock import local_today, utcnow
from shuhui.core.locks import flocked
from shuhui.core.processes import alive
from shuhui.datacore.storage import Manifest
from shuhui.datacore.store import DataCore

log = logging.getLogger(__name__)

FOLDER: Final = Path("approval") / "lookups"  # under the data directory
KEY: Final = "__lookup_key"  # the index's own column: the key each row is found by
FORMAT: Final = "shuhui-lookup-v1"
# The registers and the certificates, as forms read them.
RESIDENTS: Final = "residents"
ENTERPRISES: Final = "enterprises"
CERTIFICATES: Final = "e_certificates"
HOLDER_KEY: Final = ("holder_citizen_id", "holder_credit_code")
# A table version with at least this many keyed rows is indexed in the background once a newer
# version appears, its predecessor's index answering meanwhile (see Lookups._index).
STALE_ROWS: Final = 100_000

Key = tuple[str, ...]  # the key column, or the columns whose first non-null value is the key
# A derived table's version is its sources' versions, each in six digits (no table of a data
# core reaches a millionth version): one number per combination, larger when any source is newer.
VERSION_DIGITS: Final = 10**6


def key_of(columns: str | Sequence[str]) -> Key:
    return (columns,) if isinstance(columns, str) else tuple(columns)


@dataclass(frozen=True)
class Rows:
    """The rows of ``table`` (at ``version``) whose key is ``key``, read at ``at``; ``rows``
    is empty when there are none."""

    table: str
    version: int
    key: str
    at: datetime
    rows: tuple[dict[str, Any], ...]

    def first(self) -> dict[str, Any] | None:
        return self.rows[0] if self.rows else None

    def latest(self, column: str | None) -> dict[str, Any] | None:
        """The row with the greatest ``column`` (rows without it last); the first row when
        ``column`` is None."""
        if column is None:
            return self.first()
        having = [r for r in self.rows if r.get(column) is not None]
        return max(having, key=lambda r: r[column]) if having else self.first()


class _Keys(Sequence[bytes]):
    """The mapped key column as a sorted sequence ``bisect`` can search: each probe slices the
    UTF-8 bytes of one key out of the column's buffers (UTF-8 byte order is code-point order,
    the order the index was sorted in), with no Arrow scalar made per probe."""

    def __init__(self, array: pa.Array) -> None:
        _, offsets, data = array.buffers()
        self._n = len(array)
        start = array.offset
        # Zero-copy views of the mapped file: 32-bit offsets (Arrow's string type), then bytes.
        whole = memoryview(offsets).cast("B").cast("i") if offsets is not None else memoryview(b"")
        self._offsets = whole[start : start + self._n + 1]
        self._data = memoryview(data).cast("B") if data is not None else memoryview(b"")

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        return self._data[self._offsets[i] : self._offsets[i + 1]].tobytes()


@dataclass(frozen=True)
class _Index:
    table: str
    version: int
    key: Key
    batch: pa.RecordBatch
    keys: _Keys
    columns: tuple[str, ...]  # the table's own columns, in order

    def find(self, value: str) -> tuple[dict[str, Any], ...]:
        wanted = value.encode()
        lo = bisect.bisect_left(self.keys, wanted)
        hi, end = lo, len(self.keys)
        while hi < end and self.keys[hi] == wanted:  # a key has few rows: walk, not search
            hi += 1
        if lo == hi:
            return ()
        found = self.batch.slice(lo, hi - lo).select(list(self.columns)).to_pylist()
        return tuple(found)


@dataclass(frozen=True)
class Derived:
    """A table computed from data-core tables (an aggregate a page reads per enterprise, say),
    found by key like a table of the data core: ``build`` makes its rows from the data core,
    once per versions of ``sources``, and the rows are kept as an index file like a table's."""

    name: str
    sources: tuple[str, ...]
    build: Callable[[DataCore], pa.Table]
    # Made again each day (Qingdao's): rows evaluated "as of today", a rule's, say.
    daily: bool = False

    def version(self, versions: dict[str, int]) -> int | None:
        combined = local_today().toordinal() if self.daily else 0
        for source in self.sources:
            if source not in versions:
                return None
            combined = combined * VERSION_DIGITS + versions[source]
        return combined


def _file_name(version: int, key: Key) -> str:
    return f"v{version:06d}.{'+'.join(key)}.arrow"


class Lookups:
    """Keyed reads of one data core; one per data core per process (:func:`lookups_for`)."""

    def __init__(self, core: DataCore, folder: Path, *, stale_rows: int = STALE_ROWS) -> None:
        self.core = core
        self.folder = folder
        self.stale_rows = stale_rows
        self._lock = threading.Lock()
        self._building: dict[tuple[str, Key], threading.Lock] = {}
        self._indexes: dict[tuple[str, Key], _Index] = {}
        self._catalog: tuple[tuple[int, int], dict[str, int]] | None = None
        self._later: dict[tuple[str, Key], threading.Thread] = {}
        self._derived: dict[str, Derived] = {}

    # --- versions ---------------------------------------------------------------------------

    def versions(self) -> dict[str, int]:
        """The current version of every data table (not the ground truth)."""
        stamp = self.core.main.catalog_stamp()
        cached = self._catalog
        if cached is not None and cached[0] == stamp:
            return cached[1]
        found = self.core.main.read_catalog()
        self._catalog = (stamp, found)
        return found

    # --- reads ------------------------------------------------------------------------------

    def derive(self, derived: Derived) -> None:
        """Makes a derived table readable with :meth:`rows` under its name."""
        with self._lock:
            self._derived[derived.name] = derived

    def _version(self, table: str) -> int | None:
        derived = self._derived.get(table)
        if derived is not None:
            return derived.version(self.versions())
        return self.versions().get(table)

    def rows(self, table: str, key: str | Sequence[str], value: str) -> Rows | None:
        """The rows of ``table`` whose ``key`` column (or first non-null of several) equals
        ``value``; None when the data core has no such table or the table no such column."""
        version = self._version(table)
        if version is None:
            return None
        index = self._index(table, key_of(key), version)
        if index is None:
            return None
        return Rows(table, index.version, value, utcnow(), index.find(value))

    def resident(self, citizen_id: str) -> Rows | None:
        return self.rows(RESIDENTS, "citizen_id", citizen_id)

    def enterprise(self, credit_code: str) -> Rows | None:
        return self.rows(ENTERPRISES, "credit_code", credit_code)

    def certificates(self, holder_id: str) -> Rows | None:
        """Every e-certificate of the holder (a citizen ID or a credit code), any status."""
        return self.rows(CERTIFICATES, HOLDER_KEY, holder_id)

    # --- indexes ----------------------------------------------------------------------------

    def prepare(self, wanted: Iterable[tuple[str, Key]]) -> None:
        """Builds (or maps) the indexes of the current versions now, so the first form does
        not wait for them."""
        for table, key in wanted:
            version = self._version(table)
            if version is not None:
                self._index(table, key, version)

    def prepare_later(self, wanted: Iterable[tuple[str, Key]]) -> threading.Thread:
        wanted = list(wanted)

        def run() -> None:
            began = time.perf_counter()
            try:
                self.prepare(wanted)
            except Exception:  # a form still gets its index when first read
                log.exception("preparing the approval lookups failed")
                return
            seconds = round(time.perf_counter() - began, 3)
            log.info(
                "approval lookups prepared", extra={"indexes": len(wanted), "seconds": seconds}
            )

        thread = threading.Thread(target=run, name="approval-lookups", daemon=True)
        thread.start()
        return thread

    def _index(self, table: str, key: Key, version: int) -> _Index | None:
        slot = (table, key)
        found = self._indexes.get(slot)
        if found is not None and found.version == version:
            return found
        if (
            found is not None
            and found.version < version
            and len(found.keys) >= self.stale_rows
            and not (self.folder / table / _file_name(version, key)).exists()
        ):
            # A big table's new version (an issued licence rewrites e_certificates: 1.5 s to
            # index at 1,000,000 residents) is indexed in the background; the version before
            # answers meanwhile, and each read says which version it read.
            self._index_later(slot, version)
            return found
        return self._index_now(slot, version)

    def _index_now(self, slot: tuple[str, Key], version: int) -> _Index | None:
        with self._lock:
            building = self._building.setdefault(slot, threading.Lock())
        with building:  # one thread of this process builds or maps it; the others wait for it
            found = self._indexes.get(slot)
            if found is not None and found.version == version:
                return found
            made = self._open_or_build(*slot, version)
            if made is not None and (found is None or found.version < made.version):
                self._indexes[slot] = made
            return made

    def _index_later(self, slot: tuple[str, Key], version: int) -> None:
        with self._lock:
            running = self._later.get(slot)
            if running is not None and running.is_alive():
                return

            def run() -> None:
                try:
                    self._index_now(slot, version)
                except Exception:  # the next read tries again
                    log.exception("building an approval lookup index failed")

            thread = threading.Thread(target=run, name="approval-lookup-index", daemon=True)
            self._later[slot] = thread
            thread.start()

    def settle(self) -> None:
        """Waits for the indexes being built in the background (tests, a clean shutdown)."""
        with self._lock:
            running = list(self._later.values())
        for thread in running:
            thread.join()

    def _open_or_build(self, table: str, key: Key, version: int) -> _Index | None:
        folder = self.folder / table
        path = folder / _file_name(version, key)
        opened = _open(path, table, version, key)
        if opened is not None:
            return opened
        derived = self._derived.get(table)
        make: Callable[[], pa.Table]
        if derived is None:
            manifest = self.core.main.read_manifest(table, version)
            if any(k not in {c.name for c in manifest.spec.columns} for k in key):
                return None  # no such column: nothing to find
            make = partial(self._sorted, manifest, key)
        else:
            make = partial(self._derive, derived, version, key)
        try:
            # One process builds; another one waiting here then finds the file made.
            with flocked(folder / f".{'+'.join(key)}.lock"):
                opened = _open(path, table, version, key)
                if opened is not None:
                    return opened
                _write(make(), path)
                self._drop_older(folder, key, version)
        except OSError:
            # A data directory this process cannot write in (read-only, full): the index is
            # kept in this process's memory instead, each worker building its own.
            log.warning(
                "approval lookup index kept in memory: its file cannot be written",
                extra={"table": table, "version": version, "path": str(path)},
                exc_info=True,
            )
            return _index_of(make(), table, version, key)
        return _open(path, table, version, key)

    def _derive(self, derived: Derived, version: int, key: Key) -> pa.Table:
        began = time.perf_counter()
        data = derived.build(self.core)
        columns = tuple(data.column_names)
        keyed = _keyed(data, derived.name, version, key, columns)
        seconds = round(time.perf_counter() - began, 3)
        log.info(
            "derived lookup table built",
            extra={
                "table": derived.name,
                "version": version,
                "rows": keyed.num_rows,
                "seconds": seconds,
            },
        )
        return keyed

    def _sorted(self, manifest: Manifest, key: Key) -> pa.Table:
        """The version's rows, keyed and sorted (:func:`_keyed`)."""
        import pyarrow.parquet as pq

        table, version = manifest.spec.name, manifest.version
        began = time.perf_counter()
        files = [str(self.core.main.table_dir(table) / f) for f in manifest.files]
        schema = manifest.spec.arrow_schema
        data = pq.read_table(files, schema=schema) if files else schema.empty_table()
        data = _keyed(data, table, version, key, tuple(c.name for c in manifest.spec.columns))
        seconds = round(time.perf_counter() - began, 3)
        log.info(
            "approval lookup index built",
            extra={"table": table, "version": version, "rows": data.num_rows, "seconds": seconds},
        )
        return data

    @staticmethod
    def _drop_older(folder: Path, key: Key, version: int) -> None:
        suffix = "." + "+".join(key) + ".arrow"
        for old in folder.glob(f"v*{suffix}"):
            number = old.name[1 : -len(suffix)]
            if number.isdigit() and int(number) < version:
                old.unlink(missing_ok=True)
        for stale in folder.glob(".v*.tmp"):  # a build killed before its rename
            pid = stale.name.rsplit(".", 2)[-2]
            if pid.isdigit() and not alive(int(pid)):
                stale.unlink(missing_ok=True)


def _keyed(data: pa.Table, table: str, version: int, key: Key, columns: Sequence[str]) -> pa.Table:
    """The rows with their key (rows without one left out), sorted by it, in one chunk, the
    index's identity in the schema's metadata."""
    import pyarrow.compute as pc

    keys = data.column(key[0])
    for other in key[1:]:
        keys = pc.coalesce(keys, data.column(other))
    data = data.append_column(KEY, keys.cast(pa.string()))
    data = data.filter(pc.is_valid(data.column(KEY))).sort_by(KEY).combine_chunks()
    meta = {
        b"format": FORMAT.encode(),
        b"table": table.encode(),
        b"version": str(version).encode(),
        b"key": "+".join(key).encode(),
        b"columns": ",".join(columns).encode(),
    }
    return data.replace_schema_metadata(meta)


def _write(data: pa.Table, path: Path) -> None:
    """Writes an index file whole, or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with (
            pa.OSFile(str(temporary), "wb") as sink,
            pa.ipc.new_file(sink, data.schema) as writer,
        ):
            # One batch: a read searches one contiguous key column.
            writer.write_table(data, max_chunksize=max(1, data.num_rows))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _open(path: Path, table: str, version: int, key: Key) -> _Index | None:
    """Maps an index file; None if it is missing or not the index it should be (a file cut
    short by a crash is rebuilt)."""
    if not path.exists():
        return None
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(path), "r"))
        batch = (
            reader.get_batch(0)
            if reader.num_record_batches
            else pa.RecordBatch.from_pylist([], schema=reader.schema)  # an empty table
        )
    except (OSError, pa.ArrowException):
        return None
    return _index_of(batch, table, version, key)


def _index_of(data: pa.RecordBatch | pa.Table, table: str, version: int, key: Key) -> _Index | None:
    meta = data.schema.metadata or {}
    expected = (FORMAT, table, str(version), "+".join(key))
    got = tuple(meta.get(k, b"").decode() for k in (b"format", b"table", b"version", b"key"))
    if got != expected or b"columns" not in meta:
        return None
    if isinstance(data, pa.Table):
        batches = data.to_batches()
        data = batches[0] if batches else pa.RecordBatch.from_pylist([], schema=data.schema)
    columns = tuple(meta[b"columns"].decode().split(","))
    return _Index(table, version, key, data, _Keys(data.column(KEY)), columns)


_LOOKUPS: weakref.WeakKeyDictionary[DataCore, Lookups] = weakref.WeakKeyDictionary()
_LOOKUPS_LOCK = threading.Lock()


def lookups_for(core: DataCore) -> Lookups:
    """The process's lookups of this data core (its index files under the data directory the
    core is in: ``<data dir>/datacore`` → ``<data dir>/approval/lookups``)."""
    with _LOOKUPS_LOCK:
        found = _LOOKUPS.get(core)
        if found is None:
            found = Lookups(core, core.main.root.parent / FOLDER)
            _LOOKUPS[core] = found
        return found
