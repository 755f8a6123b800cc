"""Running rules: the book of the city's rules, batch runs over every entity, one entity's row.

Functions take a DuckDB connection that sees the rule's tables by name: the data core's
(:meth:`DataCore.connect`) in production, small tables in rule tests. A batch run is one query;
nothing loops over entities in Python.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb
import sqlglot
from sqlglot import exp

from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text, codes
from shuhui.core.settings import Settings
from shuhui.datacore.schema import TableSpec
from shuhui.datacore.store import DataCore
from shuhui.rules.compiler import KEY, OUTCOMES, Compiled, c, compile_rule, m, v
from shuhui.rules.language import Rule
from shuhui.rules.loader import RuleBook, load_book, require_on

POLICIES_DIR: Final = "policies"


def book_dir(settings: Settings) -> Path:
    return settings.city_content / POLICIES_DIR


def data_core_specs(core: DataCore, known: Mapping[str, TableSpec]) -> dict[str, TableSpec]:
    """The schemas rules are checked against: the data core's current tables, and for tables not
    loaded yet, the specs the caller knows (the city's data standard, :mod:`shuhui.standard`)."""
    specs = dict(known)
    for info in core.tables():
        if not info.truth:
            specs[info.name] = core.spec(info.name)
    return specs


def load_city_book(settings: Settings, specs: Mapping[str, TableSpec]) -> RuleBook:
    return load_book(book_dir(settings), specs)


def _present_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
        ).fetchall()
    }


def prepare(
    con: duckdb.DuckDBPyConnection, rule: Rule, on: date, key: str | None = None
) -> Compiled:
    """The rule compiled for ``on``, once it is known it can run there (in force, every
    parameter valued, every table present)."""
    return prepare_among(_present_tables(con), rule, on, key)


def prepare_among(present: set[str], rule: Rule, on: date, key: str | None = None) -> Compiled:
    """:func:`prepare` for an engine that says which tables it has (``present``)."""
    require_on(rule, on)
    absent = [t for t in rule.tables if t not in present]
    if absent:
        raise Problem(
            "not-ready",
            detail=Text(
                f"规则 {rule.code} 所需的数据表尚未载入：{codes(absent)}",
                f"{rule.code}: the data core has no table {', '.join(absent)}",
            ),
            errors=[
                FieldError(
                    "tables", Text(f"尚未载入：{codes(absent)}", f"not loaded: {', '.join(absent)}")
                )
            ],
        )
    return compile_rule(rule, on, key=key)


@dataclass(frozen=True)
class RunResult:
    rule: str
    on: date
    counts: dict[str, int]  # entities per outcome
    amount_total: int | float | None  # the eligible's amounts, summed
    missing: dict[str, int]  # undetermined entities waiting on each input
    seconds: float
    versions: dict[str, int] = field(default_factory=dict)
    engine: str = "duckdb"  # which engine answered: "duckdb" or "spark"

    @property
    def entities(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "date": self.on.isoformat(),
            "entities": self.entities,
            "counts": self.counts,
            "amount_total": self.amount_total,
            "missing": self.missing,
            "seconds": round(self.seconds, 3),
            "versions": self.versions,
            "engine": self.engine,
        }


def summary_query(compiled: Compiled) -> exp.Select:
    """Counts per outcome and per missing input, over the rule's whole result, in SQL."""
    rule = compiled.rule
    inner = compiled.query.subquery("r")
    parts: list[exp.Expr] = [
        exp.column("outcome", "r", quoted=True),
        exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True, copy=False),
        exp.alias_(
            exp.Sum(this=exp.column("amount", "r", quoted=True)), "amount_total", quoted=True
        ),
    ]
    for name in rule.variables:
        flag = exp.column(m(name), "r", quoted=True)
        count = exp.Sum(
            this=exp.Case(
                ifs=[exp.If(this=flag, true=exp.Literal.number(1))], default=exp.Literal.number(0)
            )
        )
        parts.append(exp.alias_(count, m(name), quoted=True))
    return (
        exp.select(*parts)
        .from_(inner, copy=False)
        .group_by(exp.column("outcome", "r", quoted=True), copy=False)
    )


def run(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    on: date,
    versions: Mapping[str, int] | None = None,
) -> RunResult:
    """The rule over every entity on ``on``: how many are eligible, not, or undetermined, and
    which missing inputs the undetermined wait on."""
    compiled = prepare(con, rule, on)
    started = time.perf_counter()
    rows = con.execute(summary_query(compiled).sql(dialect="duckdb")).fetchall()
    seconds = time.perf_counter() - started
    return run_result(rule, on, rows, seconds, versions, "duckdb")


def run_result(
    rule: Rule,
    on: date,
    rows: Sequence[Sequence[Any]],
    seconds: float,
    versions: Mapping[str, int] | None,
    engine: str,
) -> RunResult:
    """A run's result from the rows of :func:`summary_query`, whichever engine answered."""
    counts = dict.fromkeys(OUTCOMES, 0)
    missing = dict.fromkeys(rule.variables, 0)
    total: int | float | None = None
    for row in rows:
        outcome, n, amount = row[0], row[1], row[2]
        counts[outcome] = int(n)
        if outcome == "eligible" and amount is not None:
            total = int(amount) if float(amount).is_integer() else float(amount)
        for name, flagged in zip(rule.variables, row[3:], strict=True):
            missing[name] += int(flagged or 0)
    return RunResult(
        rule=rule.code,
        on=on,
        counts=counts,
        amount_total=total,
        missing={k: n for k, n in missing.items() if n},
        seconds=seconds,
        versions={t: versions[t] for t in rule.tables if versions and t in versions},
        engine=engine,
    )


@dataclass(frozen=True)
class Evaluation:
    """One entity's result row: every variable, condition and missing flag."""

    key: str
    outcome: str
    amount: int | float | None
    variables: dict[str, Any]
    conditions: dict[str, bool | None]
    missing: tuple[str, ...]  # variables the undetermined outcome waits on, in rule order


def _evaluation(rule: Rule, row: dict[str, Any]) -> Evaluation:
    return Evaluation(
        key=str(row[KEY]),
        outcome=str(row["outcome"]),
        amount=row["amount"],
        variables={name: row[v(name)] for name in rule.variables},
        conditions={node.id: row[c(node.id)] for node in rule.condition.walk()},
        missing=tuple(name for name in rule.variables if row[m(name)]),
    )


def evaluation_of(rule: Rule, row: Mapping[str, Any]) -> Evaluation:
    """One entity's row of the rule's whole query (:func:`whole_query`), as an evaluation."""
    return _evaluation(rule, dict(row))


def whole_query(con: duckdb.DuckDBPyConnection, rule: Rule, on: date) -> str:
    """The rule on ``on`` for every entity, each row with its outcome, amount, variables,
    conditions and missing inputs (what :func:`evaluation_of` reads): for a service that keeps
    the whole city's evaluation and reads it back one entity at a time."""
    return prepare(con, rule, on).query.sql(dialect="duckdb")


def evaluate(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    on: date,
    key: str | None = None,
    supplied: Mapping[str, Any] | None = None,
) -> list[Evaluation]:
    """Result rows, for every entity or for one: for rule tests and explanations, not batches.
    ``supplied``: values for variables from outside the data core (an application's answers)."""
    if supplied:
        prepare(con, rule, on)
        sql = compile_rule(rule, on, key=key, supplied=supplied).sql(dialect="duckdb")
        return _rows(con, rule, sql)
    if key is None:
        return _rows(con, rule, prepare(con, rule, on).query.sql(dialect="duckdb"))
    return _rows(con, rule, _one_query(con, rule, on), [key])


# Compiling a rule costs more than running it for one entity (~25 ms against ~8 at 1M
# residents), so the query for one entity is compiled once per rule and date, the key a
# parameter. Keyed by the rule object's identity (kept alongside, so a reused id never matches).
_ONE_QUERIES: dict[tuple[int, date], tuple[Rule, str]] = {}
_ONE_QUERIES_MAX: Final = 256
_one_lock = threading.Lock()


def _one_query(con: duckdb.DuckDBPyConnection, rule: Rule, on: date) -> str:
    found = _ONE_QUERIES.get((id(rule), on))
    if found is not None and found[0] is rule:
        return found[1]
    prepare(con, rule, on)  # in force, valued, its tables present: the checks, once
    sql = compile_rule(rule, on, by_key=True).sql(dialect="duckdb")
    with _one_lock:
        if len(_ONE_QUERIES) >= _ONE_QUERIES_MAX:
            _ONE_QUERIES.clear()
        _ONE_QUERIES[(id(rule), on)] = (rule, sql)
    return sql


def _rows(
    con: duckdb.DuckDBPyConnection, rule: Rule, sql: str, params: list[Any] | None = None
) -> list[Evaluation]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or ()]
    return [_evaluation(rule, dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


# Who a campaign works on: the eligible, and the undetermined it can ask for the missing input.
CANDIDATE_OUTCOMES: Final[tuple[str, ...]] = ("eligible", "undetermined")


def candidates(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    on: date,
    *,
    outcomes: Sequence[str] = CANDIDATE_OUTCOMES,
    limit: int | None = None,
) -> list[Evaluation]:
    """The entities whose outcome on ``on`` is one of ``outcomes`` (by default eligible or
    undetermined), ordered by key; with ``limit``, only that many, the lowest keys.

    The filter and the limit are in the query, so the rows left out (usually most of a city)
    never leave DuckDB.
    """
    query = candidates_query(prepare(con, rule, on), outcomes=outcomes, limit=limit)
    return _rows(con, rule, query.sql(dialect="duckdb"))


def candidates_query(
    compiled: Compiled, *, outcomes: Sequence[str] = CANDIDATE_OUTCOMES, limit: int | None = None
) -> exp.Select:
    """The query :func:`candidates` runs, for any engine's dialect."""
    chosen = tuple(dict.fromkeys(outcomes))  # in order, once each
    if not chosen or not set(chosen) <= set(OUTCOMES):
        raise ValueError(f"outcomes: one or more of {', '.join(OUTCOMES)}, not {outcomes!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit: a whole number, 0 or more, not {limit!r}")
    outcome = exp.column("outcome", "r", quoted=True)
    query = (
        exp.select(exp.Star())
        .from_(compiled.query.subquery("r"), copy=False)  # subquery() copies the rule's query
        .where(outcome.isin(*(exp.Literal.string(o) for o in chosen)), copy=False)
        .order_by(exp.column(KEY, "r", quoted=True), copy=False)
    )
    if limit is not None:
        query = query.limit(exp.Literal.number(limit), copy=False)
    return query


def values_query(compiled: Compiled, names: Sequence[str]) -> exp.Select:
    """Every entity's ``key``, ``outcome`` and the values of the variables ``names`` (columns
    named after them): a batch run a program joins to its own tables in SQL (the certification
    cycle joins the pensions to its rule's evidence), so the rows never pass through Python
    one entity at a time."""
    rule = compiled.rule
    unknown = [n for n in names if n not in rule.variables]
    if unknown:
        raise ValueError(f"{rule.code} has no variable {', '.join(unknown)}")
    r = "r"
    return exp.select(
        exp.alias_(exp.column(KEY, r, quoted=True), "key", quoted=True),
        exp.column("outcome", r, quoted=True),
        *(exp.alias_(exp.column(v(n), r, quoted=True), n, quoted=True) for n in names),
    ).from_(compiled.query.subquery(r), copy=False)  # subquery() copies the rule's query


def values_sql(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    on: date,
    names: Sequence[str],
    *,
    among: str | None = None,
    dialect: str = "duckdb",
) -> str:
    """:func:`values_query` as DuckDB SQL (or ``dialect``'s: "spark"), once the rule can run
    on ``on`` (:func:`prepare`); ``among``: a DuckDB query of the keys to evaluate (the others
    are left out from the entity's first layer on, so every layer carries only them)."""
    prepare(con, rule, on)
    subset = None if among is None else sqlglot.parse_one(among, dialect="duckdb")
    if subset is not None and not isinstance(subset, exp.Query):
        raise ValueError(f"among: a query of keys, not {among!r}")
    return values_query(compile_rule(rule, on, among=subset), names).sql(dialect=dialect)


@dataclass(frozen=True)
class StoredRun:
    """A batch run written to Parquet: one row per entity (key, outcome, amount, missing)."""

    rule: str
    on: date
    path: Path
    rows: int
    counts: dict[str, int]  # entities per outcome
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "date": self.on.isoformat(),
            "path": str(self.path),
            "rows": self.rows,
            "counts": self.counts,
            "seconds": round(self.seconds, 3),
        }


def _missing_list(rule: Rule) -> exp.Expr:
    """The names of the missing inputs, as a list built in SQL from the ``m_`` flags."""
    empty = exp.cast(exp.Array(expressions=[]), exp.DataType.build("varchar[]"))
    parts: list[exp.Expr] = [
        exp.Case(
            ifs=[
                exp.If(
                    this=exp.column(m(name), "r", quoted=True),
                    true=exp.Array(expressions=[exp.Literal.string(name)]),
                )
            ],
            default=empty.copy(),
        )
        for name in rule.variables
    ]
    if not parts:
        return empty
    # Flattened with list_concat pairwise: DuckDB's list_concat takes two lists.
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.Anonymous(this="list_concat", expressions=[joined, part])
    return joined


# The outcome stored as an enum: DuckDB writes it as a dictionary of three strings without
# hashing a million of them (a third of the cost of writing the column as plain text).
OUTCOME_TYPE: Final = exp.DataType.build(
    f"ENUM({', '.join(repr(o) for o in OUTCOMES)})", dialect="duckdb"
)


def store_query(compiled: Compiled) -> exp.Select:
    """One row per entity: ``key``, ``outcome``, ``amount``, ``missing`` (variable names)."""
    r = "r"
    outcome = exp.cast(exp.column("outcome", r, quoted=True), OUTCOME_TYPE.copy())
    return exp.select(
        exp.alias_(exp.column(KEY, r, quoted=True, copy=False), "key", quoted=True),
        exp.alias_(outcome, "outcome", quoted=True, copy=False),
        exp.alias_(exp.column("amount", r, quoted=True, copy=False), "amount", quoted=True),
        exp.alias_(_missing_list(compiled.rule), "missing", quoted=True, copy=False),
    ).from_(compiled.query.subquery(r), copy=False)  # subquery() copies the rule's query


# A result file is read by key, never in row order, so DuckDB may write it from both threads as
# rows come (PRESERVE_ORDER false); its keys are all different, so no dictionary is tried.
COPY_OPTIONS: Final = "FORMAT parquet, PRESERVE_ORDER false, DICTIONARY_SIZE_LIMIT 1"
COUNT_STORED: Final = "SELECT outcome, count(*) FROM read_parquet(?) GROUP BY outcome"


def _writes_files(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute("SELECT current_setting('enable_external_access')").fetchall()
    return bool(rows and rows[0][0])


def _may_write_in(con: duckdb.DuckDBPyConnection, folder: Path) -> bool:
    """Whether the connection's allowed directories include ``folder`` (DataCore.connect with
    ``writable``)."""
    rows = con.execute("SELECT current_setting('allowed_directories')").fetchall()
    allowed = rows[0][0] if rows else None
    mine = str(folder.absolute()) + "/"
    return isinstance(allowed, list) and any(mine.startswith(str(a)) for a in allowed)


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> list[tuple[Any, ...]]:
    """``COPY (query) TO path (FORMAT parquet)``, then the counts per outcome read from the file
    (one column read back, which also proves the file is whole)."""
    target = exp.Literal.string(str(path)).sql(dialect="duckdb")  # quotes escaped
    if _writes_files(con) or _may_write_in(con, path.parent):
        # One pipeline, query to file (about twice as fast as handing Arrow batches over).
        con.execute(f"COPY ({query}) TO {target} ({COPY_OPTIONS})")
        return con.execute(COUNT_STORED, [str(path)]).fetchall()
    # A data-core connection opened without a writable folder (DataCore.connect) can write no
    # file. The rows then stream as Arrow batches into a DuckDB that may write in this file's
    # folder and nowhere else; they never become Python objects.
    writer = duckdb.connect(":memory:")
    try:
        # The file's folder, not the file alone: DuckDB replaces a file through a temporary one.
        folder = exp.Literal.string(f"{path.parent}/").sql(dialect="duckdb")
        writer.execute(f"SET allowed_directories = [{folder}]")
        writer.execute("SET enable_external_access = false")
        writer.execute("SET lock_configuration = true")
        writer.register("results", con.sql(query).to_arrow_reader())
        writer.execute(f"COPY results TO {target} ({COPY_OPTIONS})")
        return writer.execute(COUNT_STORED, [str(path)]).fetchall()
    finally:
        writer.close()


def store(con: duckdb.DuckDBPyConnection, rule: Rule, on: date, path: Path) -> StoredRun:
    """Every entity's result on ``on`` written to ``path`` as Parquet by one DuckDB ``COPY``
    (an existing file is replaced): the whole batch stays in DuckDB (and Arrow), never rows in
    Python."""
    compiled = prepare(con, rule, on)
    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    counted = _copy(con, store_query(compiled).sql(dialect="duckdb"), path)
    seconds = time.perf_counter() - started
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome, n in counted:
        counts[str(outcome)] = int(n)
    return StoredRun(
        rule=rule.code,
        on=on,
        path=path,
        rows=sum(counts.values()),
        counts=counts,
        seconds=seconds,
    )


def evaluate_one(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    on: date,
    key: str,
    supplied: Mapping[str, Any] | None = None,
) -> Evaluation:
    found = evaluate(con, rule, on, key, supplied)
    if not found:
        raise Problem(
            "not-found",
            detail=Text(
                f"没有找到{rule.entity.name_zh} {key}",
                f"no {rule.entity.name_zh} {key} in {rule.entity.table}",
            ),
            errors=[
                FieldError(
                    "id", Text(f"没有找到这个{rule.entity.name_zh}", f"not in {rule.entity.table}")
                )
            ],
        )
    return found[0]


def versions_of(core: DataCore) -> dict[str, int]:
    return {info.name: info.version for info in core.tables() if not info.truth}
