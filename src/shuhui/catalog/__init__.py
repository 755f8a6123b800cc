"""The public data catalog (数据资源目录): ``models``, ``service``, ``search``, ``generate``,
``routes`` (the pages), ``cli``; CKAN's Action API and the DCAT-AP 3 export as adapters over it
(``ckan/``, ``dcat/``). Data quality is :mod:`shuhui.quality`, the data-asset registry
:mod:`shuhui.assets`.

How it works

- `shuhui demo`, `shuhui catalog sync`, a data operator's 登记新版本并评估质量 on `/catalog`
  (``POST /catalog/sync``: a background job, `tasks`, kind ``catalog.sync`` on
  :mod:`shuhui.jobs`, its progress the tables done), and every `shuhui data load` /
  `shuhui synth` (through the CLI's load recorder) register every published table of the data core:
  the class (code `QD-<theme>-<TABLE>`), its data items from the `TableSpec` (types,
  personal flags, vocabularies), the dataset (version, rows, loaded time) and its
  distributions — a CSV download and the CKAN datastore API for open data, the data
  channel for the rest. The governance decisions (theme, share type and condition,
  open level and condition, frequency, keywords) are content:
  `content/<city>/catalog-resources.yaml`. A new table version updates the entry.
- `publishing` records a load's `data.loaded` entries, and recovers what a killed load
  left (entries missing for served versions, a catalog behind them, staging folders)
  where the platform starts: `create_served_app`, every loading command, `shuhui data
  recover`. The steps of a publish and their crash points: `shuhui.datacore`.
- Search needs no search server. Each process keeps a `SearchIndex` built from the
  operational database; every catalog write bumps `catalog_state.revision` in the same
  transaction, and the next search rebuilds the index — on the spot while a build
  takes under a second, in a background thread once the catalog is large (the previous
  index answers meanwhile). `shuhui serve` starts that build in every worker as it
  starts (`create_served_app`). Class-level text (summary, items, department,
  keywords) is indexed once per class and shared by its datasets through a
  class→dataset array.
- Search finds by pinyin and initials too (`shebao`, `sb` → 社保; `gjj` → 公积金): titles and
  keywords are indexed as pinyin (`pinyin`, pypinyin's readings); a Latin query word matches
  its words or its pinyin, word hits ranked first (the rule is in `search`'s docstring). A
  search that finds nothing offers near queries that do (`SearchIndex.suggest`: a synonym,
  the same sound, one edit away, one word fewer); the page shows them as links, the CKAN API
  has no field for them and is unchanged.
- The search box suggests as people type: `GET /api/v1/catalog/suggest?q=` answers up to
  eight dataset titles from the same search (a half-typed pinyin word is completed from the
  vocabulary first, `SearchIndex.completions`); `shuhui.js` fills the box's `<datalist>`.
- The CKAN API (`ckan_routes`) is public and read-only: its routes skip the session
  lookup, and `ckan.PackageCache` keeps encoded package dicts and whole
  `package_search` answers per catalog revision (the revision is confirmed against the
  database at most once a second, by one request while the others are still answered).
- `shuhui serve --workers N` (`SHUHUI_WORKERS`) runs N uvicorn processes (httptools +
  uvloop); all state they share is in the database and the data directory, so any
  worker may answer any request (the browser tests run two).
- Each new version a sync registers is assessed for quality on the data core
  (`quality.checks.assess`, set-based SQL in DuckDB, one scan per column group) and
  the report is kept with the dataset.
- The data-asset registry (`shuhui.assets`) keeps applications in `catalog_assets`.
- Enterprise data (企业数据, data custody): `service.register_hosted` lists a table an
  enterprise hosts in the data core as that enterprise's (the organisation made from its
  credit code), open or open on conditions as it chose, its one distribution the data
  channel's product; the dataset names no data-core table, so samples, downloads and the CKAN
  datastore never read it. `service.close_hosted` closes it when withdrawn (不予开放, kept on
  record). Both bump the revision and record a `catalog.hosted_*` entry.
"""
