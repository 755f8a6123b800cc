"""Rules as code (规则即代码): policies as dated, referenced data, compiled to set-based SQL.

``loader`` reads and checks rule files, ``expressions`` the small expression language,
``compiler`` builds one query per rule and date, ``service`` runs it, ``explain`` says why for
one entity, ``testing`` runs rule tests written as data, ``cli`` is ``shuhui rules``.

How it works

`shuhui.rules` (domain layer; uses `core` and `datacore` only) holds the engine:
`language` (the typed rule objects), `expressions` (a closed SQL expression language
parsed by sqlglot, its type checker and compiler), `loader` (rule books:
`entities.yaml` and one file per policy under `content/<city>/policies/`, read through
`core.content` and checked against the data core's `TableSpec`s), `compiler` (a rule
on a date → one sqlglot query), `service` (batch runs and result rows on a DuckDB
connection), `explain`, `testing` (YAML rule tests) and `cli` (`shuhui rules
ls/check/run/explain/test`). No routes or pages yet.

- **The language.** An entity is a table with one row per person or enterprise, plus
  the *sources* joined to it by a key, each declared complete or not. A rule has
  variables (a column; `count`, `count_distinct`, `sum`, `latest`, `exists` over a
  source with an optional row filter and a window anchored on the evaluation date or
  on a date variable; an `expr` over other variables; a `supplied` input the data core
  does not hold), parameters with dated values, a condition tree (`all`/`any`/`not`
  over tests, each with Chinese text and an optional reference), and an optional
  amount. Every rule and parameter carries its reference, and every rule its
  implementing `department` (required). An aggregate may look each source row up in a
  complete register declared under the entity's `lookups` (`lookup: {table, match,
  as}`): a LEFT JOIN adds the register's columns and a match flag to the row, so
  "hired within two years of graduating" is a row filter; a register keyed by other
  than its primary key (several matches) serves only `exists` and `count_distinct`,
  which a repeated row cannot change. The format is described in
  `content/qingdao/policies/README.md`.
- **Load-time checks.** Unknown tables, columns and names; type mismatches (a date
  compared with a number, a string amount); cycles among variables (named with their
  path); aggregates other than `exists` over an incomplete source; constructs that
  would turn unknown into a value (`IS NULL`, `COALESCE`, `IF`, `CASE` without
  `ELSE`); parameters out of order or of the wrong type. All problems are reported at
  once as `core.errors.Problem` with one `FieldError` (`<file>: <rule>.<path>`,
  reason) each. `check_on(rule, date)` adds: the rule not in force, a parameter with
  no value on the date.
- **Three-valued logic.** Unknown is SQL NULL. SQL's AND/OR/NOT are Kleene's; the
  compiler keeps the rest from deciding unknowns: `CASE` is compiled so an unknown
  `WHEN` makes the result unknown; division by zero is unknown on every engine; an
  aggregate is unknown when its anchor date is, or when any of the entity's rows
  cannot be placed in or out (a NULL in the filter, the window's date or the summed
  value); "no rows" is 0/false only for complete sources. The outcome is `eligible` /
  `not_eligible` / `undetermined`; each variable gets a flag `m_<name>` that is true
  when it is a missing input the undetermined outcome waits on (the unknown leaves
  under unknown ancestors, followed down unknown variables to the first whose own
  inputs are known). A hypothesis test checks outcome and flags against a pure-Python
  evaluator.
- **The query.** `s0` reads the entity table; one CTE per dependency depth adds
  computed variables and LEFT JOINs each aggregate's grouped source (latest values by
  `ROW_NUMBER`, which Spark has too); one CTE per condition height; then outcome,
  amount and flags. Parameters are inlined with their value on the date, so a query is
  a rule on a date, and a value dated in the future changes results only from that
  date. The same tree is emitted as Spark SQL (tested by parsing it back). A batch run
  wraps it in one `GROUP BY outcome` query that also counts the undetermined per
  missing input; nothing loops over entities in Python. `candidates` returns the
  eligible and undetermined rows only, or the outcomes asked for, at most `limit` of
  them (filtered, ordered by key and limited in SQL). `store` writes every entity's
  key, outcome, amount and missing inputs (a list built in SQL) to Parquet with one
  `COPY … TO … (FORMAT parquet)`: directly where the connection may write files; from
  the data core's locked connection the rows stream as Arrow batches into a second
  DuckDB allowed only the target folder (`shuhui rules run RULE --store PATH`). The
  file is written with `PRESERVE_ORDER false` (both threads write; a result file is
  read by key) and no dictionary for the keys, the outcome as a DuckDB `ENUM`. An
  aggregate whose window is anchored on the evaluation date groups its source on its
  own; only a window anchored on each entity's own date joins the layer below (which
  would otherwise make DuckDB materialise that layer for two readers) — unless the
  rule also has a window anchored per entity: then that layer is materialised anyway,
  and an aggregate grouped on its own there skews DuckDB's estimates into building its
  hash joins on the big source, so every aggregate joins its entities. The sqlglot
  tree is built without copies (`copy=False` on fresh nodes).
- **Supplied values.** `compile_rule(…, supplied={variable: value})`, `evaluate(…,
  supplied)` and `explain(…, supplied)` put values from outside the data core (an
  applicant's answers) in place of variables' own; what depends on them follows, and
  the explanation marks them as the applicant's. `language.parse_value(type, text)`
  reads what a person typed as a value of the variable's type (是/否, a whole number
  with or without thousands separators, a finite number, an ISO date, text), or says
  what was expected.
- **Explanations** run the same query filtered to one key (compiled once per rule and
  date, the key a bound parameter `$1`, compared in `s0` and in every aggregate's
  source so sorted sources skip their row groups: compiling cost more than answering),
  then list, per aggregate, the source rows that counted or were in doubt (no query
  when the value itself says none did: a count of 0, exists false) (primary key and
  the columns the rule reads), with the table's data-core version; parameters in force
  with their start date and reference; a text in plain Chinese or English.
- **Evidence, and values for programs.** ``known(b)`` is true where ``b`` is known true and
  false where it is false *or unknown* (SQL ``b IS TRUE``): the one way a rule may read an
  unknown as something, for counting evidence — a sample that shows nothing proves nothing and
  adds nothing (the pension certification's score, ``policies/pension-certification.yaml``).
  It is never unknown, so it never names a missing input; the hypothesis test's evaluator has
  it. Use it to count what was found, never in a condition of a right. A variable's ``expr``
  may read the rule's parameters (inlined with their value on the date; they are no
  variable's inputs). ``service.values_sql`` returns every entity's key, outcome and named
  variables' values as SQL, for a program that joins them to its own tables in DuckDB (the
  certification cycle: pensions, payments after death) instead of fetching entities one by one;
  with ``among`` (a query of keys: the pensioners) only those entities enter the first layer
  (``compile_rule(…, among=…)``), so every layer carries only them.
- **Not yet:** reads for `rules explain` on the command line are not written to the
  audit ledger (campaigns record theirs); `supplied` inputs are unknown in batch runs
  (an application supplies them for one entity); `--store` writes with DuckDB only.
- **Engines** (`engines`): a batch run, candidates and whole-city evaluations run on
  DuckDB in this process (`DuckDBEngine`, the default) or on Spark (`SparkEngine`,
  `SHUHUI_ENGINE=spark` or `shuhui rules run --engine spark`): the same compiled tree
  emitted as Spark SQL, over temporary views of the very Parquet files the current
  versions' manifests list (`datacore.spark`), on `local[N]` or a standalone cluster
  (`scripts/spark-cluster.sh`). A run says which engine answered (`RunResult.engine`,
  `"engine"` in `--json`). `tests/rules/test_spark.py` proves every rule of the book gives
  every entity the same outcome, amount (to the cent), conditions, variables and missing
  inputs on both.
"""
