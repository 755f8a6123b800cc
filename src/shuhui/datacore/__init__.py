"""The data core: versioned, validated analytical tables on DuckDB over Parquet.

Layout and loads

```
<data dir>/datacore/catalog.json              {"tables": {"residents": 3, …}}  ← the one switch
<data dir>/datacore/tables/residents/v000003.json   manifest: spec, files, rows, source, time
<data dir>/datacore/tables/residents/v000003/part-00000.parquet …
<data dir>/truth/…                            the same layout, for ground-truth tables only
```

- **Why Parquet versions under a catalog file, not one DuckDB database file.** A
  DuckDB file admits one writing process and blocks readers in other processes while
  it is open for writing; the web server must keep answering while `shuhui data load`
  or `shuhui synth` writes for minutes. Immutable Parquet versions plus an atomically
  replaced `catalog.json` give every process its own in-memory DuckDB over the current
  files: readers never wait, never see a half-written table, and the same files are
  what Spark would read later. DuckDB remains the engine for every query.
- **A load** (`DataCore.load`, or a `LoadSession` for several tables published
  together) checks each incoming batch against the table's `TableSpec` — exact
  columns, types (bad values found by bisection, so the row is named), required
  values, vocabularies, identifier checks (`core.ids_arrays` masks, `core.ids` for the
  reason), then primary-key uniqueness over the staged files — and writes Parquet
  parts into a staging folder. Publishing takes the catalog lock, renames the staging
  folder to the next version, writes its manifest, and replaces `catalog.json`. Any
  failure before that discards the staging folder; the previous version is still what
  is served.
- **Entity tables** (`kind="entity"`, with a primary key) are rewritten at load,
  before the key check, as one file sorted by the primary key in row groups of 20,480
  rows (`CLUSTER_ROW_GROUP`; DuckDB sorts, spilling to disk; Arrow writes with the
  table's exact schema): Parquet keeps each group's min and max, so looking one person
  or enterprise up reads one group instead of the table (a rule's explanation, a case
  lookup).
- **Event tables** (`kind="event"`) also take appends: the new version lists the
  previous version's files plus the new parts, in arrival order. A full load of an
  event table with a primary key is sorted like an entity table when it has at most
  10,000,000 rows (`CLUSTER_EVENT_MAX_ROWS`: a death register, benefit payments,
  looked up per person too); bigger ones (a city's monthly contributions) keep arrival
  order, as sorting them would cost minutes at every load. The last three versions are
  kept; older files are removed.
- **Queries** (`DataCore.sql`) accept exactly one statement of type SELECT (DuckDB's
  own parser decides), and run in a DuckDB whose `allowed_directories` hold only the
  published tables, with external access then switched off and the configuration
  locked: no other file, no extension, no `ATTACH`, no `COPY`. DuckDB also allows its
  temp directory, by default `.tmp` under the working directory: each connection's is
  set to a folder of its own under `<data dir>/datacore/spill/` (`datacore.spill`),
  made only when a sort or join spills, removed when the connection closes (or, after a
  crash, by the next connection on the host), so big queries still spill and no query
  reaches a file outside the data core.
  `DataCore.connect(writable=folder)` adds one folder it may write in (a batch run's
  results). Connections keep the Parquet footers they read (`parquet_metadata_cache`):
  published files never change. Ground-truth tables are in a separate folder that is
  neither viewed nor allowed unless the core is opened with `truth=True` (`--truth` on
  the CLI).
"""
