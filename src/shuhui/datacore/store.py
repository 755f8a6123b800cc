"""The data core: publish validated, versioned tables; query them read-only with DuckDB.

Storage is Parquet (see :mod:`shuhui.datacore.storage`); DuckDB is the engine that reads it.
Every process gets its own in-memory DuckDB with one view per current table, so the web server
reads while a CLI load writes, and no process holds a lock another one waits on.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from shuhui.core.crash import crashpoint
from shuhui.datacore.errors import LoadError, QueryRefused, RowError, TableNotFound
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.spill import spill_folder
from shuhui.datacore.storage import Catalog, Manifest, Storage, release, write_json_atomically

# DuckDB, Parquet writing and the checks of incoming rows are imported where they are used:
# listing and describing tables (``shuhui data ls``, the home page's counts) reads manifests
# only, and a command should not wait for them.
if TYPE_CHECKING:
    import duckdb
    import pyarrow.parquet as pq

    from shuhui.core.settings import Settings

PART_ROWS = 4_000_000  # rows per Parquet file: several files let DuckDB scan in parallel
TRUTH_SCHEMA = "truth"
HOSTED_SCHEMA = "hosted"  # where a connection asked for hosted tables sees them
KEY_CHECK_MEMORY = "2GB"
# An entity table is written sorted by its primary key in row groups this small: Parquet keeps
# each group's min and max, so finding one person or enterprise reads one group, not the table
# (a rule's explanation, a department looking one case up).
CLUSTER_ROW_GROUP = 20_480  # ten of DuckDB's 2,048-row vectors: it rounds up to those
# An event table with a primary key is sorted the same way at a full load up to this size (a
# death register, benefit payments: looked up per person too). Bigger ones (a city's monthly
# contributions, 150M rows at 10M residents) keep their arrival order: sorting them would cost
# minutes at every load, and they are read in bulk, by batch runs.
CLUSTER_EVENT_MAX_ROWS = 10_000_000
KEY_CHECK_ROWS_PER_PASS = 30_000_000


@dataclass(frozen=True)
class TableInfo:
    name: str
    title: str
    department: str
    kind: str
    truth: bool
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    rows: int
    version: int
    loaded_at: str
    source: str
    operation: str

    @classmethod
    def of(cls, m: Manifest) -> TableInfo:
        s = m.spec
        return cls(
            s.name,
            s.title,
            s.department,
            s.kind,
            s.truth,
            s.description,
            s.columns,
            s.primary_key,
            m.rows,
            m.version,
            m.loaded_at,
            m.source,
            m.operation,
        )


@dataclass(frozen=True)
class LoadResult:
    table: str
    version: int
    rows: int  # rows in the table after the load
    written: int  # rows this load wrote
    operation: str
    seconds: float


@dataclass(frozen=True)
class PublishedVersion:
    """A table version that is (``current``) or was served: what a recovery checks the
    ledger for."""

    table: str
    version: int
    truth: bool
    manifest: Path
    current: bool


@dataclass(frozen=True)
class PublishedFiles:
    """A table's current version and its files, absolute, in the manifest's order."""

    table: str
    version: int
    truth: bool
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Settled:
    """What :meth:`DataCore.settle` removed, and the versions it found served (or once served)
    and not being recorded by a live publish."""

    removed: list[Path]
    published: list[PublishedVersion]


# Told a session's results once they are published (the CLI records them in the ledger).
Recorder = Callable[[dict[str, "LoadResult"]], None]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _TableWriter:
    """Validated batches of one table going into a staging folder of Parquet parts."""

    def __init__(self, storage: Storage, spec: TableSpec, mode: Literal["load", "append"]) -> None:
        self.storage = storage
        self.spec = spec
        self.mode = mode
        self.staging, self._owner = storage.new_staging(spec.name, uuid.uuid4().hex[:12])
        self.parts: list[str] = []
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._part_rows = 0

    def _open_part(self) -> pq.ParquetWriter:
        import pyarrow.parquet as pq

        name = f"part-{len(self.parts):05d}.parquet"
        self.parts.append(name)
        self._part_rows = 0
        return pq.ParquetWriter(
            self.staging / name, self.spec.arrow_schema, compression="zstd", write_statistics=True
        )

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None or self._part_rows >= PART_ROWS:
            self.close()
            self._writer = self._open_part()
        self._writer.write_batch(batch)
        self._part_rows += batch.num_rows
        self.rows += batch.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def finish(self) -> None:
        # A load of nothing still publishes an empty version, so the table exists with its schema.
        if self.mode == "load" and not self.parts:
            self._writer = self._open_part()
        self.close()
        if self.mode == "load" and self.spec.primary_key and self._clustered():
            self._cluster()

    def _clustered(self) -> bool:
        return self.spec.kind == "entity" or self.rows <= CLUSTER_EVENT_MAX_ROWS

    def _cluster(self) -> None:
        """Rewrites the staged parts as one file sorted by the primary key, in small row groups
        (CLUSTER_ROW_GROUP). Appends add parts in arrival order; the sorted part stays sorted."""
        if self.rows <= CLUSTER_ROW_GROUP:
            return  # one row group either way
        files = ", ".join(_sql_string(str(self.staging / p)) for p in self.parts)
        name = f"part-{len(self.parts):05d}.parquet"
        keys = ", ".join(_quote(k) for k in self.spec.primary_key)
        spill = self.staging.parent / f"{self.staging.name}.sort"
        import duckdb
        import pyarrow.parquet as pq

        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = '{KEY_CHECK_MEMORY}'")
            con.execute(f"SET temp_directory = {_sql_string(str(spill))}")
            # DuckDB sorts (spilling to disk past its memory limit); Arrow writes, so the file
            # keeps the table's exact schema (nullability included) like every other part.
            reader = con.sql(
                f"SELECT * FROM read_parquet([{files}]) ORDER BY {keys}"
            ).to_arrow_reader(CLUSTER_ROW_GROUP)
            schema = self.spec.arrow_schema
            with pq.ParquetWriter(
                self.staging / name, schema, compression="zstd", write_statistics=True
            ) as out:
                for batch in reader:
                    out.write_table(
                        pa.Table.from_batches([batch]).cast(schema),
                        row_group_size=CLUSTER_ROW_GROUP,
                    )
        finally:
            con.close()
            shutil.rmtree(spill, ignore_errors=True)
        for old in self.parts:
            (self.staging / old).unlink()
        self.parts = [name]

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.staging, ignore_errors=True)
        self.release()

    def release(self) -> None:
        """Gives up the staging folder's owner lock (once its folder is published or gone)."""
        if self._owner >= 0:
            release(self.staging.with_name(self.staging.name + ".lock"), self._owner)
            self._owner = -1


class LoadSession:
    """Loads into one or more tables, published together when the session commits.

    It is also what :mod:`shuhui.synth` writes a whole city into (its ``Sink``).
    """

    def __init__(
        self,
        core: DataCore,
        source: str,
        today: date | None = None,
        *,
        generation: str | None = None,
    ) -> None:
        self.core = core
        self.source = source
        self.today = today
        self.generation = generation or uuid.uuid4().hex[:16]
        self._writers: dict[str, _TableWriter] = {}
        self._modes: dict[str, Literal["load", "append"]] = {}
        self._started = time.perf_counter()
        self._closed = False

    def append_to(self, spec: TableSpec) -> None:
        """Declares that batches for ``spec`` add to the current version instead of replacing it."""
        if spec.kind != "event":
            raise LoadError(
                spec.name, [], f"{spec.name} is not an event table; only event tables take appends"
            )
        self._modes[spec.name] = "append"

    def write(
        self, spec: TableSpec, batch: pa.RecordBatch | pa.Table, *, header_rows: int = 0
    ) -> None:
        """Checks and stages one batch. ``header_rows``: rows above the data in the file as a
        spreadsheet shows it (1 for a CSV's header), so an error names the row people see."""
        writer = self._writers.get(spec.name)
        if writer is None:
            writer = _TableWriter(
                self.core.storage_for(spec), spec, self._modes.get(spec.name, "load")
            )
            self._writers[spec.name] = writer
        elif writer.spec != spec:
            raise LoadError(spec.name, [], "two different schemas written to one table")
        from shuhui.datacore.validate import conform

        conformed, errors = conform(
            spec, batch, first_row=writer.rows + 1 + header_rows, today=self.today
        )
        if errors:
            raise LoadError(spec.name, errors)
        assert conformed is not None
        if conformed.num_rows:
            writer.write(conformed)

    def commit(self, recorder: Recorder | None = None) -> dict[str, LoadResult]:
        """Publishes every table written, in one switch. ``recorder`` (the CLI's ledger) is
        called with the results after the switch, while the publish is still marked live: a
        recovery starting meanwhile leaves these versions to it instead of recording them too."""
        if self._closed:
            raise RuntimeError("session already closed")
        try:
            for writer in self._writers.values():
                writer.finish()
                self._check_keys(writer)
            crashpoint("datacore.staged")
            mark, results = self.core._publish(
                list(self._writers.values()), self.source, self.generation
            )
        except BaseException:
            self.abort()
            raise
        self._closed = True
        elapsed = time.perf_counter() - self._started
        loaded = {
            name: LoadResult(name, version, rows, written, op, elapsed)
            for name, (version, rows, written, op) in results.items()
        }
        try:
            if recorder is not None:
                recorder(loaded)
        finally:
            release(*mark)
        return loaded

    def _check_keys(self, writer: _TableWriter) -> None:
        key = writer.spec.primary_key
        if not key or not writer.parts:
            return
        files = [str(writer.staging / p) for p in writer.parts]
        current = self.core._current_manifest(writer.spec) if writer.mode == "append" else None
        if current is not None:
            folder = writer.storage.table_dir(writer.spec.name)
            files += [str(folder / f) for f in current.files]
        cols = ", ".join(_quote(k) for k in key)
        source = f"read_parquet([{', '.join(_sql_string(f) for f in files)}])"
        rows = writer.rows + (current.rows if current is not None else 0)
        # Grouping 150M composite keys at once does not fit in memory. Group 64-bit hashes of the
        # keys instead, a slice of the hash space per pass, then look at the exact keys of the
        # few hashes seen twice (a hash collision is not a duplicate).
        passes = max(1, -(-rows // KEY_CHECK_ROWS_PER_PASS))
        spill = writer.staging.parent / f"{writer.staging.name}.spill"
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{KEY_CHECK_MEMORY}'")
        con.execute(f"SET temp_directory = {_sql_string(str(spill))}")
        con.execute("SET preserve_insertion_order = false")
        try:
            candidates: list[int] = []
            for i in range(passes):
                candidates += [
                    row[0]
                    for row in con.execute(
                        f"SELECT h FROM (SELECT hash({cols}) AS h FROM {source}) "
                        f"WHERE h % {passes} = {i} GROUP BY h HAVING count(*) > 1 LIMIT 100"
                    ).fetchall()
                ]
                if candidates:
                    break
            dupes = []
            if candidates:
                hashes = ", ".join(f"{h}::UBIGINT" for h in candidates)
                dupes = con.execute(
                    f"SELECT {cols}, count(*) AS n FROM {source} WHERE hash({cols}) IN ({hashes}) "
                    f"GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC LIMIT 5"
                ).fetchall()
        finally:
            con.close()
            shutil.rmtree(spill, ignore_errors=True)
        if dupes:
            raise LoadError(
                writer.spec.name,
                [
                    RowError(
                        None, ",".join(key), f"duplicate key {tuple(d[:-1])!r} in {d[-1]} rows"
                    )
                    for d in dupes
                ],
            )

    def abort(self) -> None:
        for writer in self._writers.values():
            writer.discard()
        self._closed = True

    def __enter__(self) -> LoadSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        elif not self._closed:
            self.abort()


class DataCore:
    """One data directory's analytical tables. ``truth=True`` also opens the ground truth."""

    def __init__(self, root: Path, truth_root: Path, *, truth: bool = False) -> None:
        # One catalog.json for both trees: a city build switches its data and truth together.
        self.catalog = Catalog(root / "catalog.json", legacy_truth=truth_root / "catalog.json")
        self.main = Storage(root, self.catalog, "tables")
        self.truth_store = Storage(truth_root, self.catalog, "truth")
        # Organisations' own tables (数据托管), in a tree and a section of their own: never
        # listed, viewed or allowed with the city's tables (see :meth:`connect`).
        self.hosted_store = Storage(root / "hosted", self.catalog, "hosted")
        self.truth = truth
        self._manifests: dict[tuple[str, str, int], Manifest] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, truth: bool = False) -> DataCore:
        return cls(settings.data_dir / "datacore", settings.data_dir / "truth", truth=truth)

    def storage_for(self, spec: TableSpec) -> Storage:
        if spec.hosted:
            return self.hosted_store
        return self.truth_store if spec.truth else self.main

    def _all_stores(self) -> tuple[Storage, ...]:
        """Every tree, for what keeps the files in order (recovery), whoever they belong to."""
        return (self.main, self.truth_store, self.hosted_store)

    def _stores(self) -> list[tuple[Storage, bool]]:
        return [(self.main, False)] + ([(self.truth_store, True)] if self.truth else [])

    def _manifest(self, storage: Storage, name: str, version: int) -> Manifest:
        key = (str(storage.root), name, version)
        if key not in self._manifests:
            self._manifests[key] = storage.read_manifest(name, version)
        return self._manifests[key]

    def _current_manifest(self, spec: TableSpec) -> Manifest | None:
        storage = self.storage_for(spec)
        version = storage.read_catalog().get(spec.name)
        return None if version is None else self._manifest(storage, spec.name, version)

    # --- registry ---------------------------------------------------------------------

    def tables(self) -> list[TableInfo]:
        infos = []
        for storage, _truth in self._stores():
            for name, version in sorted(storage.read_catalog().items()):
                infos.append(TableInfo.of(self._manifest(storage, name, version)))
        return infos

    def table(self, name: str) -> TableInfo:
        for info in self.tables():
            if info.name == name:
                return info
        raise TableNotFound(name)

    def history(self, name: str) -> list[TableInfo]:
        info = self.table(name)
        storage = self.truth_store if info.truth else self.main
        return [TableInfo.of(self._manifest(storage, name, v)) for v in storage.versions(name)]

    def spec(self, name: str) -> TableSpec:
        info = self.table(name)
        storage = self.truth_store if info.truth else self.main
        return self._manifest(storage, name, info.version).spec

    def hosted_table(self, name: str) -> TableInfo:
        """A hosted table as currently published (:meth:`table` never finds one)."""
        version = self.hosted_store.read_catalog().get(name)
        if version is None:
            raise TableNotFound(name)
        return TableInfo.of(self._manifest(self.hosted_store, name, version))

    # --- loading ------------------------------------------------------------------------

    def session(
        self, source: str, *, today: date | None = None, generation: str | None = None
    ) -> LoadSession:
        return LoadSession(self, source, today, generation=generation)

    def load(
        self,
        spec: TableSpec,
        data: Path | pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch],
        *,
        source: str | None = None,
        append: bool = False,
        today: date | None = None,
        progress: Callable[[int], None] | None = None,
        recorder: Recorder | None = None,
        header_rows: int | None = None,
    ) -> LoadResult:
        """Replaces (or, for event tables, appends to) one table, all or nothing.

        ``progress`` is told the rows read so far after each batch (a command's progress bar);
        ``recorder`` is told the result once published (see :meth:`LoadSession.commit`);
        ``header_rows``: rows above the data in the file it came from (1 for a CSV read by
        :func:`~shuhui.datacore.sources.csv_upload`), so that errors name the rows people see.
        """
        from shuhui.datacore.sources import FORMATS

        label = source or (str(data) if isinstance(data, Path) else "arrow")
        session = self.session(label, today=today)
        # A CSV file's first row is its header: row numbers in errors count it, as a
        # spreadsheet opening the file does (``header_rows`` says so for data read already).
        header = 1 if isinstance(data, Path) and FORMATS.get(data.suffix.lower()) == "csv" else 0
        if header_rows is not None:
            header = header_rows
        read = 0
        try:
            if append:
                session.append_to(spec)
            wrote = False
            for batch in _batches(data, spec):
                session.write(spec, batch, header_rows=header)
                wrote = True
                read += batch.num_rows
                if progress is not None:
                    progress(read)
            if not wrote:
                session.write(spec, spec.arrow_schema.empty_table())
        except BaseException:
            session.abort()
            raise
        return session.commit(recorder)[spec.name]

    def _publish(
        self, writers: list[_TableWriter], source: str, generation: str
    ) -> tuple[tuple[Path, int], dict[str, tuple[int, int, int, str]]]:
        """Names the new versions, renames their parts in, writes their manifests, marks the
        publish live, and switches catalog.json: one switch for every table, data and truth.

        Every step before the switch can die without changing what is served; a version left
        above its table's current one is dropped by the next publish or recovery. Returns the
        live mark (the caller releases it once the versions are recorded) and the results."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        results: dict[str, tuple[int, int, int, str]] = {}
        with self.catalog.locked():
            sections = self.catalog.read()
            planned: list[tuple[_TableWriter, int, tuple[str, ...], int]] = []
            for w in writers:
                storage, name = w.storage, w.spec.name
                catalog = sections[storage.section]
                storage.drop_unpublished(name, catalog.get(name))
                base_files: tuple[str, ...] = ()
                base_rows = 0
                if w.mode == "append" and name in catalog:
                    base = storage.read_manifest(name, catalog[name])
                    if base.spec != w.spec:
                        raise LoadError(
                            name, [], "append with a schema different from the table's current one"
                        )
                    base_files, base_rows = base.files, base.rows
                version = max(storage.versions(name), default=catalog.get(name, 0)) + 1
                planned.append((w, version, base_files, base_rows))
            together = {w.spec.name: version for w, version, _, _ in planned}
            for w, version, base_files, base_rows in planned:
                storage, name = w.storage, w.spec.name
                folder = f"v{version:06d}"
                files = base_files
                if w.parts:
                    w.staging.rename(storage.table_dir(name) / folder)
                    files = base_files + tuple(f"{folder}/{p}" for p in w.parts)
                    w.release()
                else:
                    w.discard()
                crashpoint("datacore.after_rename")
                manifest = Manifest(
                    spec=w.spec,
                    version=version,
                    rows=base_rows + w.rows,
                    files=files,
                    loaded_at=now,
                    source=source,
                    operation=w.mode,
                    appended_rows=w.rows,
                    generation=generation,
                    published_with=together,
                )
                write_json_atomically(storage.manifest_path(name, version), manifest.to_json())
                sections[storage.section][name] = version
                results[name] = (version, manifest.rows, w.rows, w.mode)
            crashpoint("datacore.after_manifest")
            mark = self.catalog.claim_publish(uuid.uuid4().hex[:12], together)
            try:
                self.catalog.publish(sections)
            except BaseException:
                release(*mark)
                raise
            crashpoint("datacore.after_switch")
        for w in writers:
            w.storage.collect_garbage(w.spec.name)
        return mark, results

    # --- recovery -----------------------------------------------------------------------

    def published(self) -> list[PublishedVersion]:
        """Every version on disk that is or was current (data and truth, whether or not this
        core opened the truth), oldest first per table."""
        found: list[PublishedVersion] = []
        sections = self.catalog.read()
        for storage in self._all_stores():
            for name, current in sorted(sections[storage.section].items()):
                for version in storage.versions(name):
                    if version <= current:
                        found.append(
                            PublishedVersion(
                                name,
                                version,
                                storage.section == "truth",
                                storage.manifest_path(name, version),
                                version == current,
                            )
                        )
        return found

    def settle(self) -> Settled:
        """Removes what dead loads left — staging folders whose owner is gone, versions named
        but never switched to, temporary files of an interrupted write, marks of publishes that
        died — and lists the versions a recovery must find in the ledger: all that are or were
        served, but those of a publish still live (it records them itself). One look under
        the catalog lock, so no publish switches between the listing and the marks."""
        removed: list[Path] = []
        with self.catalog.locked():
            sections = self.catalog.read()
            for storage in self._all_stores():
                current = sections[storage.section]
                for name in storage.table_names():
                    removed += storage.clean_staging(name)
                    removed += storage.drop_unpublished(name, current.get(name))
            for tmp in self.catalog.path.parent.glob(".catalog.json.*.tmp"):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
            live, dead = self.catalog.live_publishes()
            for mark in dead:
                mark.unlink(missing_ok=True)
                removed.append(mark)
            published = [v for v in self.published() if (v.table, v.version) not in live]
        return Settled(removed, published)

    def disagreements(self) -> list[str]:
        """Tables served from different publishes that were switched together: a table one
        publish named (a city build names its data and truth tables) served at an older
        version than that publish gave it. Empty when data and truth agree."""
        sections = self.catalog.read()
        current = {name: v for section in sections.values() for name, v in section.items()}
        found: list[str] = []
        for storage in self._all_stores():
            for name, version in sorted(sections[storage.section].items()):
                manifest = self._manifest(storage, name, version)
                for other, expected in sorted(manifest.published_with.items()):
                    served = current.get(other)
                    if served is None or served < expected:
                        found.append(
                            f"{name} v{version} (publish {manifest.generation}) was switched "
                            f"with {other} v{expected}, but {other} serves "
                            f"{'nothing' if served is None else f'v{served}'}"
                        )
        return found

    # --- querying -----------------------------------------------------------------------

    def published_files(self, tables: Iterable[str] | None = None) -> dict[str, PublishedFiles]:
        """The current version of each of the city's tables (truth tables only when opened for
        truth) and the Parquet files its manifest lists: what another engine reads (Spark)."""
        wanted = None if tables is None else set(tables)
        found: dict[str, PublishedFiles] = {}
        for storage, is_truth in self._stores():
            for name, version in sorted(storage.read_catalog().items()):
                if wanted is not None and name not in wanted:
                    continue
                manifest = self._manifest(storage, name, version)
                folder = storage.table_dir(name)
                found[name] = PublishedFiles(
                    name, version, is_truth, tuple(folder / f for f in manifest.files)
                )
        return found

    def connect(
        self,
        writable: Path | None = None,
        *,
        tables: Iterable[str] | None = None,
        hosted: Iterable[str] = (),
    ) -> duckdb.DuckDBPyConnection:
        """A fresh DuckDB that sees the current tables as views, and no other file; with
        ``writable``, it may also write in that folder (a batch run's results, written by
        DuckDB straight from the query); with ``tables``, it sees only those (a rule's run: it
        needs no other, and each view costs its files' footers read when it is made). Hosted
        tables are seen only when named in ``hosted`` (as ``hosted."<name>"``), each allowed
        alone: a query of the city's data cannot reach an organisation's, even by its path."""
        import duckdb

        con = duckdb.connect(":memory:")
        allowed: list[str] = [] if writable is None else [str(writable.absolute()) + "/"]
        wanted = None if tables is None else set(tables)
        for storage, is_truth in self._stores():
            if is_truth:
                con.execute(f"CREATE SCHEMA {TRUTH_SCHEMA}")
            for name, version in sorted(storage.read_catalog().items()):
                if wanted is not None and name not in wanted:
                    continue
                manifest = self._manifest(storage, name, version)
                folder = storage.table_dir(name)
                listing = ", ".join(_sql_string(str(folder / f)) for f in manifest.files)
                target = f"{TRUTH_SCHEMA}.{_quote(name)}" if is_truth else _quote(name)
                con.execute(f"CREATE VIEW {target} AS SELECT * FROM read_parquet([{listing}])")
            allowed.append(str(storage.tables_dir) + "/")
        served = self.hosted_store.read_catalog()
        for i, name in enumerate(dict.fromkeys(hosted)):
            if name not in served:
                con.close()
                raise TableNotFound(name)
            if i == 0:
                con.execute(f"CREATE SCHEMA {HOSTED_SCHEMA}")
            manifest = self._manifest(self.hosted_store, name, served[name])
            folder = self.hosted_store.table_dir(name)
            listing = ", ".join(_sql_string(str(folder / f)) for f in manifest.files)
            con.execute(
                f"CREATE VIEW {HOSTED_SCHEMA}.{_quote(name)} AS "
                f"SELECT * FROM read_parquet([{listing}])"
            )
            allowed.append(str(folder) + "/")
        # Only the published tables are readable: no other file, no truth unless opened, no
        # extensions, and the settings cannot be changed back by a query. DuckDB allows its
        # temp directory too (by default ``.tmp`` under the working directory): it is set to
        # a spill folder of this connection's own (``datacore.spill``).
        con.execute(f"SET temp_directory = {_sql_string(str(spill_folder(self.main.root)))}")
        con.execute(f"SET allowed_directories = [{', '.join(_sql_string(a) for a in allowed)}]")
        con.execute("SET enable_external_access = false")
        # Published files never change (a new version is new files), so their footers can be
        # kept: a point lookup otherwise re-reads the footer of every row group each time.
        # GLOBAL, so the connection's cursors (one per thread of a served process) keep them too.
        con.execute("SET GLOBAL parquet_metadata_cache = true")
        con.execute("SET lock_configuration = true")
        return con

    def sql(self, query: str, *, limit: int | None = None) -> pa.Table:
        """Runs one read-only query (SELECT, or WITH … SELECT) and returns its rows."""
        import duckdb

        check_read_only(query)
        con = self.connect()
        try:
            result = con.sql(query)
            if limit is not None:
                result = result.limit(limit)
            return result.to_arrow_table()
        except duckdb.Error as exc:
            raise QueryRefused(str(exc).split("\n")[0]) from exc
        finally:
            con.close()


def check_read_only(query: str) -> None:
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryRefused(f"not valid SQL: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is allowed, got {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused(
            f"only a SELECT (or WITH … SELECT) query is allowed, not {statements[0].type.name}"
        )


def _batches(
    data: Path | pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch], spec: TableSpec
) -> Iterator[pa.RecordBatch]:
    from shuhui.datacore.sources import read_batches

    if isinstance(data, Path):
        yield from read_batches(data, spec)
    elif isinstance(data, pa.Table):
        yield from data.to_batches(max_chunksize=262_144)
    elif isinstance(data, pa.RecordBatch):
        yield data
    else:
        yield from data
