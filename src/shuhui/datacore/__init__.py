"""The data core: versioned, validated analytical tables on DuckDB over Parquet.

Layout and loads

```
<data dir>/datacore/catalog.json     {"tables": {"residents": 3, …}, "truth": {…}}  ← the one switch
<data dir>/datacore/tables/residents/v000003.json   manifest: spec, files, rows, source, publish
<data dir>/datacore/tables/residents/v000003/part-00000.parquet …
<data dir>/truth/tables/…            the same layout, for ground-truth tables only
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
  parts into a staging folder. Any failure before the switch discards the staging
  folder; the previous version is still what is served.
- **Publishing, in order** (`DataCore._publish`), each step a named crash point
  (`core.crash.crashpoint`; `SHUHUI_CRASH_AT` kills the process there, for tests):
  1. `datacore.staged` — parts written in `.staging-<token>/`, whose owner holds an
     flock on `.staging-<token>.lock` (its PID inside) for as long as it lives;
  2. under the catalog lock, versions above a table's current one are dropped (a
     publish that died before its switch left them; so every version at or below the
     current one was current once), the next version is named, the staging folder
     renamed to it (`datacore.after_rename`) and its manifest written, naming the
     publish (`generation`) and every table switched with it (`published_with`)
     (`datacore.after_manifest`);
  3. the publish is marked live (`publishing/<token>.json`, flocked), and
     `catalog.json` is replaced and its folder fsynced (`datacore.after_switch`): one
     file for data and truth tables, so a city build's 20 data tables and its
     `truth_*` tables switch together; `DataCore.disagreements` names any table
     served older than a publish that named it gave it (data and truth must agree);
  4. the caller's recorder (the CLI's ledger: one `data.loaded` entry per version)
     runs while the mark is held (`publish.after_ledger`), then the mark goes, and
     the caller's catalog sync follows.
  The ledger and the catalog are in the database and share no transaction with the
  files; `catalog.publishing.recover` (at server start, before every CLI load, and
  `shuhui data recover`) makes up for a process killed between steps: `DataCore.settle`
  removes staging folders whose owner is gone (never a live load's: its flock is
  held), versions never switched to and interrupted writes' temporary files; every
  version `DataCore.published` lists without an entry (matched by its manifest's SM3)
  is recorded by `system`, except those of a publish still marked live; and the
  catalog is synced if it lags the served versions.
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
- **Hosted tables** (数据托管: an organisation's own data, `hosted_<credit code>_<name>`,
  `TableSpec.hosted`) are loaded, checked and published like any table, into a tree of their
  own (`<data dir>/datacore/hosted/tables/…`) and a section of their own in the same
  `catalog.json` ("hosted", written once it holds a table). `tables()`, `table()`, `spec()`
  and `connect()` never see them — no listing, rule, product, catalog sync or query of the
  city's data — except by name: `hosted_table(name)`, and `connect(hosted=[name])`, which
  views each named one as `hosted."<name>"` and allows its folder alone. Recovery tidies
  and records them as it does the others. `sources.csv_upload` reads a small CSV handed over
  in a request (UTF-8 or GB18030, bounded rows and values) with every row numbered as a
  spreadsheet numbers it; each refusal (`RowError`) says why in English and, for people, in
  Chinese (`RowError.said`).
"""
