"""The quality checks and the assessment: what a table's values are expected to be (references,
ranges, ordered dates, how often it is refreshed) and :func:`assess`, which checks one data-core
table in set-based SQL.

``assess(core, "insurance_contributions")`` reads the table's current version and returns a
:class:`~shuhui.quality.report.QualityReport`: for each dimension a score 0–100 and the checks
behind it, each with how many values failed out of how many were checked and a few failing
values as examples (personal columns masked), plus an overall weighted score.

Every check is set-based SQL over the Parquet files, never Python per row:

* one aggregate scan of the columns that are not text: NULLs, value and date ranges (nothing
  in the future), the order of date pairs (``start_date`` ≤ ``end_date``…), the latest date;
* one grouping scan per text column, which then checks each *distinct* value once, weighted by
  how often it occurs: blanks and placeholders ('N/A', '未知'…), vocabularies, the GB 11643 /
  GB 32100 check characters (in SQL: :mod:`shuhui.quality.sql`), and
  whether the value exists where it refers to (a ``citizen_id`` in ``residents``, a
  ``credit_code`` in ``enterprises``…). Parquet's dictionary encoding makes the grouping
  cheap, and an identifier column of 10M rows has a few hundred thousand distinct values;
* one sort of 64-bit primary-key hashes for uniqueness; exact keys are read only for the few
  hashes seen twice, as the load's own key check does.

Timeliness compares the age of the version (since it was loaded) and, for event tables, of
the latest date in the data with the interval the table is expected to be refreshed at.

What the checks expect comes from the table's :class:`~shuhui.datacore.schema.TableSpec` —
required flags, identifier checks, vocabularies, personal flags, primary key — or from a
contract spec the caller passes (``spec=``), e.g. the spec a dataset was registered with when a
version was loaded with relaxed flags. Reference targets, value ranges, ordered date pairs, the
expected update interval and the dimension weights are parameters with documented defaults.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import duckdb

from shuhui.core.clock import SHANGHAI, utcnow
from shuhui.core.ids import MIN_BIRTH_YEAR
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.store import KEY_CHECK_ROWS_PER_PASS, TRUTH_SCHEMA, DataCore, TableInfo
from shuhui.quality.masking import mask
from shuhui.quality.report import (
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    CheckResult,
    DimensionResult,
    QualityReport,
    bounded_score,
)
from shuhui.quality.sql import citizen_id_digits_sql, identifier_sql, in_list, quote, sql_string

EXAMPLES = 5  # failing values shown per check
EARLIEST_DATE = date(MIN_BIRTH_YEAR, 1, 1)  # no date in a city's records is older
# Values that stand for "missing" when typed into a text column (compared trimmed, lower-cased).
PLACEHOLDERS: Final[tuple[str, ...]] = (
    "null",
    "none",
    "nil",
    "nan",
    "n/a",
    "na",
    "-",
    "--",
    "?",
    "未知",
    "不详",
    "空",
)
# Spaces a blank value may consist of: ASCII whitespace and the full-width space U+3000.
_BLANKS = " \t\n\r\u3000"
# Publishing at most this long after the period the data covers counts as on time.
DEFAULT_UPDATE_EVERY = timedelta(days=31)


# --- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """Values of a column must exist in ``table.column``."""

    table: str
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class References:
    """Where a column's values must resolve: by the column's name first, then by its check."""

    by_column: Mapping[str, Reference] = field(default_factory=dict)
    by_check: Mapping[str, Reference] = field(default_factory=dict)

    def target(self, table: str, column: Column) -> Reference | None:
        ref = self.by_column.get(column.name)
        if ref is None and column.check is not None:
            ref = self.by_check.get(column.check)
        if ref is None or (ref.table == table and ref.column == column.name):
            return None  # a key does not refer to itself
        return ref


# A natural person is known by the population register, an enterprise by the business register;
# household, pension and unemployment numbers by the tables that issue them.
DEFAULT_REFERENCES: Final = References(
    by_column={
        "household_id": Reference("households", "household_id"),
        "pension_id": Reference("pension_recipients", "pension_id"),
        "registration_id": Reference("unemployment_registrations", "registration_id"),
    },
    by_check={
        "citizen_id": Reference("residents", "citizen_id"),
        "credit_code": Reference("enterprises", "credit_code"),
    },
)

# (earlier, later): when both are present, the second may not precede the first.
DEFAULT_ORDERED_DATES: Final[tuple[tuple[str, str], ...]] = (
    ("start_date", "end_date"),
    ("established_date", "deregistered_date"),
    ("death_date", "registered_date"),
    ("birth_date", "death_date"),
    ("month", "pay_date"),
)

Range = tuple[float | None, float | None]
_NON_NEGATIVE: Final[tuple[str, ...]] = ("_fen", "_m3", "_kwh", "_months", "_count")


def default_range(column: Column) -> Range | None:
    """Amounts (``_fen``), quantities (``_m3``, ``_kwh``) and counts cannot be negative."""
    if column.type not in ("int8", "int16", "int32", "int64", "float64"):
        return None
    if column.name.endswith(_NON_NEGATIVE) or column.name == "members":
        return (0, None)
    return None


# --- the assessment -------------------------------------------------------------------------


@dataclass
class _Plan:
    """Aggregates of the main scan, by alias, and how to turn them into checks."""

    aggregates: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    def add(self, expr: str) -> str:
        alias = f"a{len(self.aggregates)}"
        self.aggregates.append(f"{expr} AS {alias}")
        self.aliases.append(alias)
        return alias


def _is_text(column: Column) -> bool:
    return column.type == "string"


def _missing_sql(x: str, column: Column) -> str:
    """A SQL boolean: the value is missing — NULL, blank, or a placeholder such as 'N/A'."""
    if not _is_text(column):
        return f"({x} IS NULL)"
    placeholders = [p for p in PLACEHOLDERS if column.values is None or p not in column.values]
    longest = max(len(p.encode()) for p in placeholders) + 8
    blanks = sql_string(_BLANKS)
    # Cheap tests first: DuckDB evaluates the rest of an AND only where the first part held, so
    # trimming happens only for values that start with a space or are short.
    first = ", ".join(str(ord(c)) for c in _BLANKS)
    return (
        f"({x} IS NULL OR {x} = '' OR (ascii({x}) IN ({first}) AND trim({x}, {blanks}) = '')"
        f" OR (strlen({x}) <= {longest}"
        f" AND lower(trim({x}, {blanks})) IN ({in_list(placeholders)})))"
    )


def _literal(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _validity(
    x: str,
    column: Column,
    today: date,
    now: datetime,
    ranges: Mapping[str, Range | None],
    digits: str | None = None,
) -> list[tuple[str, str, str]]:
    """(check name, SQL boolean that is true for a bad value, what was expected)."""
    out: list[tuple[str, str, str]] = []
    if column.check is not None and _is_text(column):
        out.append(
            (
                column.check,
                f"NOT {identifier_sql(column.check, x, today, digits)}",
                _CHECK_TEXT[column.check],
            )
        )
    if column.values is not None:
        values = ", ".join(sql_string(v) for v in column.values)
        if _is_text(column):
            out.append(
                ("vocabulary", f"{x} NOT IN ({values})", "one of " + "、".join(column.values))
            )
    bounds = ranges[column.name] if column.name in ranges else default_range(column)
    if bounds is not None and bounds != (None, None):
        lo, hi = bounds
        parts, said = [], []
        if lo is not None:
            parts.append(f"{x} < {_literal(lo)}")
            said.append(f"≥ {_literal(lo)}")
        if hi is not None:
            parts.append(f"{x} > {_literal(hi)}")
            said.append(f"≤ {_literal(hi)}")
        out.append(("range", "(" + " OR ".join(parts) + ")", " and ".join(said)))
    if column.type == "date":
        out.append(
            (
                "date_range",
                f"({x} < DATE '{EARLIEST_DATE}' OR {x} > DATE '{today}')",
                f"between {EARLIEST_DATE} and {today} (not in the future)",
            )
        )
    elif column.type == "timestamp":
        stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        out.append(
            (
                "date_range",
                f"({x} < TIMESTAMPTZ '{EARLIEST_DATE} 00:00:00+00'"
                f" OR {x} > TIMESTAMPTZ '{stamp}+00')",
                f"between {EARLIEST_DATE} and now (not in the future)",
            )
        )
    return out


_CHECK_TEXT: Final[Mapping[str, str]] = {
    "citizen_id": "a valid citizen identity number (GB 11643, MOD 11-2)",
    "credit_code": "a valid unified social credit code (GB 32100, MOD 31)",
    "division": "a 6-digit division code under a known province (GB/T 2260)",
}


def _contract(info: TableInfo, spec: TableSpec | None) -> tuple[list[Column], list[str]]:
    """The columns to assess: the contract's flags, the stored version's types."""
    stored = {c.name: c for c in info.columns}
    if spec is None:
        return list(info.columns), []
    columns, missing = [], []
    for c in spec.columns:
        if c.name in stored:
            columns.append(replace(c, type=stored[c.name].type))
        else:
            missing.append(c.name)
    return columns, missing


def _int(value: Any) -> int:
    """A count from an aggregate; DuckDB's count_if over no rows is NULL."""
    return 0 if value is None else int(value)


def _one(con: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    """The one row of an aggregate query (fetched whole: DuckDB wants results finished)."""
    rows = con.execute(query).fetchall()
    assert len(rows) == 1
    return tuple(rows[0])


def _open(core: DataCore, table: str) -> tuple[TableInfo, duckdb.DuckDBPyConnection]:
    """The table's current version and a connection whose view is that very version."""
    for _attempt in range(5):
        info = core.table(table)
        con = core.connect()
        # Versions only grow: the same version before and after means the view is that version.
        if core.table(table).version == info.version:
            return info, con
        con.close()
    raise RuntimeError(f"{table} kept changing while being opened for assessment")


def assess(
    core: DataCore,
    table: str,
    *,
    references: References | None = DEFAULT_REFERENCES,
    spec: TableSpec | None = None,
    ranges: Mapping[str, Range | None] | None = None,
    ordered_dates: Sequence[tuple[str, str]] = DEFAULT_ORDERED_DATES,
    update_every: timedelta | None = None,
    as_of_column: str | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    now: datetime | None = None,
    examples: int = EXAMPLES,
) -> QualityReport:
    """Assesses the current version of ``table``.

    ``references``: where identifier and code columns must resolve (None: no reference checks);
    a target table that is not in the data core is noted and skipped. ``spec``: the contract to
    hold the data to, if not the spec it was loaded with (matched by column name). ``ranges``:
    ``{column: (min, max)}`` over :func:`default_range` (None drops a column's range check).
    ``update_every``: how often the table is expected to be refreshed (default 31 days).
    ``as_of_column``: the date column whose latest value says how recent the data is; by
    default, for event tables, the latest of all their date columns, and for entity tables
    (a register's latest birth date says nothing of its age) none: only the load's age. ``now``:
    the time of the assessment (default: the clock); dates are compared with its date in
    Asia/Shanghai, where the city's dates are kept.
    """
    started = time.perf_counter()
    now = (now or utcnow()).astimezone(UTC)
    today = now.astimezone(SHANGHAI).date()
    ranges = ranges or {}
    every = update_every or DEFAULT_UPDATE_EVERY
    info, con = _open(core, table)
    try:
        view = f"{TRUTH_SCHEMA}.{quote(table)}" if info.truth else quote(table)
        columns, absent = _contract(info, spec)
        by_name = {c.name: c for c in columns}
        notes: list[str] = []
        targets = _targets(core, table, columns, references, notes)

        # One aggregate scan: the row count, and everything about columns that are not text.
        plan = _Plan()
        total_alias = plan.add("count(*)")
        flat: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {}
        latest: list[tuple[Column, str]] = []
        for column in columns:
            x = quote(column.name)
            if not _grouped(column, targets):
                found = []
                for name, bad, expected in _validity(x, column, today, now, ranges):
                    condition = f"{x} IS NOT NULL AND {bad}"
                    found.append(
                        (
                            name,
                            expected,
                            plan.add(f"count_if({condition})"),
                            plan.add(f"approx_top_k({x}, {examples}) FILTER (WHERE {condition})"),
                        )
                    )
                flat[column.name] = (plan.add(f"count({x})"), found)
            dated = column.type in ("date", "timestamp")
            if dated and (column.name == as_of_column if as_of_column else info.kind == "event"):
                bound = (
                    f"DATE '{today}'"
                    if column.type == "date"
                    else f"TIMESTAMPTZ '{now.strftime('%Y-%m-%d %H:%M:%S')}+00'"
                )
                # Timestamps come back as epoch seconds: no time-zone handling in the driver.
                latest_value = f"max({x}) FILTER (WHERE {x} <= {bound})"
                if column.type == "timestamp":
                    latest_value = f"epoch({latest_value})"
                latest.append((column, plan.add(latest_value)))

        orders: list[tuple[Column, Column, str, str, str]] = []
        for first, second in ordered_dates:
            a, b = by_name.get(first), by_name.get(second)
            if a is None or b is None or a.type != "date" or b.type != "date":
                continue
            xa, xb = quote(a.name), quote(b.name)
            bad = f"{xa} IS NOT NULL AND {xb} IS NOT NULL AND {xb} < {xa}"
            orders.append(
                (
                    a,
                    b,
                    plan.add(f"count_if({xa} IS NOT NULL AND {xb} IS NOT NULL)"),
                    plan.add(f"count_if({bad})"),
                    plan.add(
                        f"approx_top_k({xa}::VARCHAR || '|' || {xb}::VARCHAR, {examples})"
                        f" FILTER (WHERE {bad})"
                    ),
                )
            )

        query = f"SELECT {', '.join(plan.aggregates)} FROM {view}"  # noqa: S608
        row = _one(con, query)
        got = dict(zip(plan.aliases, row, strict=True))
        rows = _int(got[total_alias])

        complete: list[CheckResult] = []
        valid: list[CheckResult] = []
        linked: list[CheckResult] = []
        for column in columns:
            if _grouped(column, targets):
                # Text is checked on its distinct values, each weighted by how often it occurs.
                stats = _column_stats(
                    con,
                    view,
                    column,
                    _validity("v", column, today, now, ranges, digits="v17"),
                    targets.get(column.name),
                    examples,
                )
                missing, nulls, present = stats.missing, stats.nulls, rows - stats.missing
                failures = stats.failures
                if stats.reference is not None:
                    linked.append(stats.reference)
            else:
                present_alias, found = flat[column.name]
                present = _int(got[present_alias])
                missing = nulls = rows - present
                failures = [
                    (
                        name,
                        expected,
                        _int(got[failed]),
                        [mask(v, column) for v in got[ex] or [] if v is not None],
                    )
                    for name, expected, failed, ex in found
                ]
            if column.required:
                complete.append(
                    CheckResult.counted(
                        "missing",
                        column.name,
                        missing,
                        rows,
                        detail="required: no NULL, blank or placeholder values",
                    )
                )
            else:
                # An optional column may be empty (NULL); blanks and placeholders are still gaps.
                complete.append(
                    CheckResult.counted(
                        "missing",
                        column.name,
                        missing - nulls,
                        rows,
                        detail=f"optional ({nulls} NULL); no blank or placeholder values",
                    )
                )
            valid += [
                CheckResult.counted(
                    name, column.name, failed, present, shown[:examples] if failed else (), expected
                )
                for name, expected, failed, shown in failures
            ]
        complete += [
            CheckResult.counted("missing", name, rows, rows, detail="column not in the table")
            for name in absent
        ]

        # -- uniqueness
        unique = _uniqueness(con, view, info, columns, rows, examples)

        # -- consistency
        consistent = [
            CheckResult.counted(
                "date_order",
                f"{a.name},{b.name}",
                _int(got[failed]),
                _int(got[both]),
                [_pair(v, a, b) for v in (got[ex] or [])][:examples] if got[failed] else [],
                f"{b.name} not before {a.name}",
            )
            for a, b, both, failed, ex in orders
        ]
        consistent += linked

        # -- timeliness
        timely = _timeliness(info, latest, got, now, today, every)

        dimensions = tuple(
            DimensionResult(
                name,
                bounded_score(sum(c.score for c in checks) / len(checks)) if checks else None,
                tuple(checks),
            )
            for name, checks in zip(
                DIMENSIONS, (complete, valid, unique, consistent, timely), strict=True
            )
        )
        return QualityReport(
            table=table,
            version=info.version,
            computed_at=now,
            rows=rows,
            score=_overall(dimensions, weights),
            dimensions=dimensions,
            loaded_at=info.loaded_at,
            seconds=time.perf_counter() - started,
            notes=tuple(notes),
        )
    finally:
        con.close()


def _pair(value: str, a: Column, b: Column) -> str:
    first, _, second = value.partition("|")
    shown_a = mask(date.fromisoformat(first), a)
    shown_b = mask(date.fromisoformat(second), b)
    return f"{a.name}={shown_a} > {b.name}={shown_b}"


def _overall(dimensions: Sequence[DimensionResult], weights: Mapping[str, float]) -> float:
    scored = [(weights.get(d.name, 0.0), d.score) for d in dimensions if d.score is not None]
    total = sum(w for w, _ in scored)
    if total <= 0:
        return 100.0
    return bounded_score(sum(w * s for w, s in scored) / total)


def _key_text(values: Sequence[object], columns: Sequence[Column]) -> str:
    shown = ", ".join(mask(v, c) for v, c in zip(values, columns, strict=True))
    return f"({shown})" if len(columns) > 1 else shown


def _uniqueness(
    con: duckdb.DuckDBPyConnection,
    view: str,
    info: TableInfo,
    columns: Sequence[Column],
    rows: int,
    examples: int,
) -> list[CheckResult]:
    """Primary-key duplicates, and keys that differ only in case or surrounding spaces.

    Without a primary key, the check is for rows that are exact copies of another row. One
    grouping scan over 64-bit hashes of the (normalised) key; exact keys are read only for the
    hashes seen more than once.
    """
    by_name = {c.name: c for c in columns}
    key = [by_name[k] for k in info.primary_key if k in by_name]
    whole_row = not key
    if whole_row:
        key = list(columns)
    if not key or rows == 0:
        return [
            CheckResult.counted(
                "duplicate_rows" if whole_row else "primary_key",
                None if whole_row else ",".join(c.name for c in key),
                0,
                rows,
            )
        ]
    exact = [quote(c.name) for c in key]
    # Free-text key parts (no identifier check, no vocabulary: those would fail validity if
    # varied) are compared trimmed and upper-cased too, to catch 'H001' next to 'h001 '.
    loose = [] if whole_row else [c for c in key if _is_text(c) and not (c.check or c.values)]
    norm = [
        f"upper(trim({quote(c.name)}, {sql_string(_BLANKS)}))" if c in loose else quote(c.name)
        for c in key
    ]
    h = f"hash({', '.join(norm)})"
    # Hashes seen twice are found by sorting them and comparing neighbours: on 10M keys that
    # takes half the time of a hash aggregate (GROUP BY h HAVING count(*) > 1), in a fraction
    # of its memory. Big tables are sorted a slice of the hash space per pass, in the same
    # slices as the load's own key check.
    passes = max(1, -(-rows // KEY_CHECK_ROWS_PER_PASS))
    con.execute("CREATE OR REPLACE TEMP TABLE quality_candidates (h UBIGINT)")
    for i in range(passes):
        where = f"WHERE h % {passes} = {i}" if passes > 1 else ""
        con.execute(
            "INSERT INTO quality_candidates SELECT DISTINCT h FROM "  # noqa: S608
            f"(SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM "
            f"(SELECT {h} AS h FROM {view}) {where}) WHERE h = previous"
        )
    label = ",".join(c.name for c in key) if not whole_row else None
    name = "duplicate_rows" if whole_row else "primary_key"
    exact_failed = loose_failed = 0
    exact_examples: list[str] = []
    loose_examples: list[str] = []
    (candidates,) = _one(con, "SELECT count(*) FROM quality_candidates")
    if candidates:
        norm_cols = ", ".join(f"{e} AS n{i}" for i, e in enumerate(norm))
        exact_cols = ", ".join(f"{e} AS e{i}" for i, e in enumerate(exact))
        ns = ", ".join(f"n{i}" for i in range(len(key)))
        es = ", ".join(f"e{i}" for i in range(len(key)))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE quality_groups AS "  # noqa: S608
            f"SELECT {norm_cols}, {exact_cols}, count(*) AS n FROM {view} "
            f"WHERE {h} IN (SELECT h FROM quality_candidates) GROUP BY ALL"
        )
        exact_failed, loose_failed = _one(
            con,
            "SELECT (SELECT coalesce(sum(n - 1), 0) FROM quality_groups), "  # noqa: S608
            f"(SELECT coalesce(sum(k - 1), 0) FROM (SELECT count(*) AS k FROM quality_groups "
            f"GROUP BY {ns} HAVING count(*) > 1))",
        )
        if exact_failed and not whole_row:
            exact_examples = [
                f"{_key_text(r[:-1], key)} ×{r[-1]}"
                for r in con.execute(
                    f"SELECT {es}, n FROM quality_groups WHERE n > 1 "  # noqa: S608
                    f"ORDER BY n DESC, {es} LIMIT {examples}"
                ).fetchall()
            ]
        if loose_failed:
            found = con.execute(
                f"SELECT list({es} ORDER BY {es}) FROM quality_groups "  # noqa: S608
                f"GROUP BY {ns} HAVING count(*) > 1 ORDER BY {ns} LIMIT {examples}"
            ).fetchall()
            loose_examples = [
                " ≈ ".join(_key_text(_values(v, len(key)), key) for v in variants)
                for (variants,) in found
            ]
    checks = [
        CheckResult.counted(
            name,
            label,
            int(exact_failed),
            rows,
            exact_examples,
            "rows that repeat an earlier row exactly" if whole_row else "each key at most once",
        )
    ]
    if loose and not whole_row:
        checks.append(
            CheckResult.counted(
                "key_lookalike",
                label,
                int(loose_failed),
                rows,
                loose_examples,
                "keys differing only in case or surrounding spaces: "
                + ",".join(c.name for c in loose),
            )
        )
    return checks


def _values(value: object, n: int) -> tuple[object, ...]:
    if n == 1:
        return (value,)
    if isinstance(value, dict):
        return tuple(value.values())
    assert isinstance(value, tuple)
    return value


def _targets(
    core: DataCore,
    table: str,
    columns: Sequence[Column],
    references: References | None,
    notes: list[str],
) -> dict[str, tuple[Reference, str]]:
    """Column → (reference, the target column's values as a SQL subquery)."""
    if references is None:
        return {}
    known = {t.name: t for t in core.tables()}
    targets: dict[str, tuple[Reference, str]] = {}
    for c in columns:
        ref = references.target(table, c)
        if ref is None:
            continue
        info = known.get(ref.table)
        if info is None:
            notes.append(f"{c.name}: reference target {ref} is not in the data core")
            continue
        if ref.column not in {tc.name for tc in info.columns}:
            notes.append(f"{c.name}: reference target {ref} has no such column")
            continue
        view = f"{TRUTH_SCHEMA}.{quote(ref.table)}" if info.truth else quote(ref.table)
        y = quote(ref.column)
        targets[c.name] = (ref, f"SELECT {y} FROM {view} WHERE {y} IS NOT NULL")  # noqa: S608
    return targets


def _grouped(column: Column, targets: Mapping[str, object]) -> bool:
    """Text, and any column with a reference, is checked on its distinct values."""
    return _is_text(column) or column.name in targets


@dataclass(frozen=True)
class _ColumnStats:
    missing: int  # NULL, blank or placeholder
    nulls: int
    failures: list[tuple[str, str, int, list[str]]]  # name, expected, failed, examples
    reference: CheckResult | None


def _column_stats(
    con: duckdb.DuckDBPyConnection,
    view: str,
    column: Column,
    validity: Sequence[tuple[str, str, str]],
    target: tuple[Reference, str] | None,
    examples: int,
) -> _ColumnStats:
    """One grouping scan of a column: its distinct values and how often each occurs.

    Identifier checks, vocabularies and references then run once per distinct value, not once
    per row; Parquet's dictionary encoding makes the grouping itself cheap.
    """
    # Layer by layer, so that each flag is computed once per distinct value: DuckDB does not
    # share subexpressions between FILTER clauses.
    grouped = f"SELECT {quote(column.name)} AS v, count(*) AS n FROM {view} GROUP BY ALL"  # noqa: S608
    digits = citizen_id_digits_sql("v") if column.check == "citizen_id" else "NULL::BIGINT"
    found = f"v IN ({target[1]})" if target is not None else "true"
    flags = [f"NOT m AND {bad} AS b{i}" for i, (_name, bad, _expected) in enumerate(validity)]
    aggregates = [
        "coalesce(sum(n) FILTER (WHERE m), 0)",
        "coalesce(sum(n) FILTER (WHERE v IS NULL), 0)",
    ]
    for i in range(len(validity)):
        aggregates += [
            f"coalesce(sum(n) FILTER (WHERE b{i}), 0)",
            f"max_by(v, n, {examples}) FILTER (WHERE b{i})",
        ]
    if target is not None:
        aggregates += [
            "coalesce(sum(n) FILTER (WHERE NOT m), 0)",
            "coalesce(sum(n) FILTER (WHERE NOT m AND NOT found), 0)",
            f"max_by(v, n, {examples}) FILTER (WHERE NOT m AND NOT found)",
        ]
    row = _one(
        con,
        f"SELECT {', '.join(aggregates)} FROM ("  # noqa: S608
        f"SELECT v, n, m, found{''.join(', ' + f for f in flags)} FROM ("
        f"SELECT v, n, v17, {_missing_sql('v', column)} AS m, {found} AS found FROM ("
        f"SELECT v, n, {digits} AS v17 FROM ({grouped}))))",
    )
    values = list(row)
    missing_rows, nulls = int(values[0]), int(values[1])
    failures = []
    for i, (name, _bad, expected) in enumerate(validity):
        failed, top = int(values[2 + 2 * i]), values[3 + 2 * i] or []
        failures.append((name, expected, failed, [mask(v, column) for v in top]))
    reference = None
    if target is not None:
        total, failed, top = values[-3:]
        reference = CheckResult.counted(
            "reference",
            column.name,
            int(failed),
            int(total),
            [mask(v, column) for v in top or []] if failed else [],
            f"exists in {target[0]}",
        )
    return _ColumnStats(missing_rows, nulls, failures, reference)


def _timeliness(
    info: TableInfo,
    latest: Sequence[tuple[Column, str]],
    got: Mapping[str, Any],
    now: datetime,
    today: date,
    every: timedelta,
) -> list[CheckResult]:
    """Is the table refreshed as often as expected, and does its data reach recent enough?

    A check's score is 100 within the interval, falls linearly to 0 at three intervals.
    """
    checks: list[CheckResult] = []
    loaded = datetime.fromisoformat(info.loaded_at)
    if loaded.tzinfo is None:
        loaded = loaded.replace(tzinfo=UTC)
    checks.append(
        _age_check(
            "load_age", None, max(now - loaded, timedelta(0)), every, f"loaded {info.loaded_at}"
        )
    )
    ends: list[tuple[date, Column]] = []
    for column, alias in latest:
        value = got[alias]
        if value is None:
            continue
        if column.type == "timestamp":
            end = datetime.fromtimestamp(float(value), UTC).astimezone(SHANGHAI).date()
        else:
            end = value
        if column.name == "month":  # a month column holds the month's first day: it covers it all
            end = min(_month_end(end), today)
        ends.append((end, column))
    if ends:
        end, column = max(ends, key=lambda e: e[0])
        age = timedelta(days=(today - end).days)
        checks.append(
            _age_check("data_age", column.name, age, every, f"latest {column.name} {end}")
        )
    return checks


def _age_check(
    name: str, column: str | None, age: timedelta, every: timedelta, what: str
) -> CheckResult:
    days = age.total_seconds() / 86400
    allowed = every.total_seconds() / 86400
    over = max(0.0, days - allowed)
    score = bounded_score(100.0 * (1 - over / (2 * allowed)))
    text = f"{what}: {days:.1f} days old, expected at most {allowed:g}"
    return CheckResult(
        name,
        column,
        1 if over else 0,
        1,
        score,
        (text,) if over else (),
        f"at most {allowed:g} days old",
    )


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)
