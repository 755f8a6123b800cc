"""The engines a batch of rule work runs on: DuckDB in this process (the default) or Spark.

A program asks its :class:`Engine` for a rule's run and its candidates and does not care which
answers: the compiled query is the same tree, written in the engine's dialect, over the same
published version of the data core. ``SHUHUI_ENGINE`` chooses for the platform; a job or a
command may choose for itself (``shuhui rules run --engine spark``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import sqlglot

from shuhui.datacore import spark as spark_tables
from shuhui.rules import service
from shuhui.rules.compiler import Compiled
from shuhui.rules.language import Rule

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore

EngineName = Literal["duckdb", "spark"]
ENGINES: Final[tuple[EngineName, ...]] = ("duckdb", "spark")


class Engine(Protocol):
    name: EngineName

    def run(self, rule: Rule, on: date) -> service.RunResult: ...

    def candidates(
        self,
        rule: Rule,
        on: date,
        *,
        outcomes: Sequence[str] = service.CANDIDATE_OUTCOMES,
        limit: int | None = None,
    ) -> list[service.Evaluation]: ...

    def evaluations(self, rule: Rule, on: date) -> list[service.Evaluation]: ...

    def rows(self, query: str, tables: Iterable[str]) -> list[tuple[Any, ...]]: ...


Connect = Callable[[], AbstractContextManager["duckdb.DuckDBPyConnection"]]


class DuckDBEngine:
    """DuckDB over the data core's views, in this process."""

    name: EngineName = "duckdb"

    def __init__(self, connect: Connect, versions: Callable[[], Mapping[str, int]]) -> None:
        self._connect = connect
        self._versions = versions

    def run(self, rule: Rule, on: date) -> service.RunResult:
        with self._connect() as con:
            return service.run(con, rule, on, self._versions())

    def candidates(
        self,
        rule: Rule,
        on: date,
        *,
        outcomes: Sequence[str] = service.CANDIDATE_OUTCOMES,
        limit: int | None = None,
    ) -> list[service.Evaluation]:
        with self._connect() as con:
            return service.candidates(con, rule, on, outcomes=outcomes, limit=limit)

    def evaluations(self, rule: Rule, on: date) -> list[service.Evaluation]:
        with self._connect() as con:
            return service.evaluate(con, rule, on)

    def rows(self, query: str, tables: Iterable[str]) -> list[tuple[Any, ...]]:
        """A program's own query (DuckDB SQL over the data core's tables), its rows."""
        with self._connect() as con:
            return con.execute(query).fetchall()


class SparkEngine:
    """Spark over the files of the same published versions (:mod:`shuhui.datacore.spark`)."""

    name: EngineName = "spark"

    def __init__(self, spark: SparkSession, core: DataCore) -> None:
        self.spark = spark
        self._core = core

    def _compiled(self, rule: Rule, on: date) -> tuple[Compiled, dict[str, int]]:
        read = spark_tables.register(self.spark, self._core, rule.tables)
        present = spark_tables.present(self.spark, rule.tables)
        return service.prepare_among(present, rule, on), read.versions

    def run(self, rule: Rule, on: date) -> service.RunResult:
        compiled, versions = self._compiled(rule, on)
        query = service.summary_query(compiled).sql(dialect="spark")
        started = time.perf_counter()
        rows = [tuple(row) for row in self.spark.sql(query).collect()]
        seconds = time.perf_counter() - started
        return service.run_result(rule, on, rows, seconds, versions, self.name)

    def candidates(
        self,
        rule: Rule,
        on: date,
        *,
        outcomes: Sequence[str] = service.CANDIDATE_OUTCOMES,
        limit: int | None = None,
    ) -> list[service.Evaluation]:
        compiled, _ = self._compiled(rule, on)
        query = service.candidates_query(compiled, outcomes=outcomes, limit=limit)
        return self._rows(rule, query.sql(dialect="spark"))

    def evaluations(self, rule: Rule, on: date) -> list[service.Evaluation]:
        compiled, _ = self._compiled(rule, on)
        return self._rows(rule, compiled.query.sql(dialect="spark"))

    def rows(self, query: str, tables: Iterable[str]) -> list[tuple[Any, ...]]:
        """A program's own query in Spark SQL over ``tables`` (the certification cycle's join
        of a rule's values to the pensions: :func:`spark_sql` translates one written for
        DuckDB); lists come back as lists, as DuckDB gives them."""
        spark_tables.register(self.spark, self._core, tables)
        return [tuple(row) for row in self.spark.sql(query).collect()]

    def _rows(self, rule: Rule, query: str) -> list[service.Evaluation]:
        # Rows for people to work through (a campaign's candidates, a comparison's city), not a
        # province's: collected in one job, in the query's order.
        rows = self.spark.sql(query).collect()
        return [service.evaluation_of(rule, row.asDict()) for row in rows]


def spark_sql(duckdb_sql: str, parts: Mapping[str, str] | None = None) -> str:
    """A query a program wrote for DuckDB, as Spark SQL (sqlglot). ``parts``: placeholder
    subqueries (``SELECT * FROM <name>``) and the Spark SQL to put in their place (a rule's
    values, compiled from its tree in Spark's dialect: translating DuckDB's date arithmetic
    back from text is lossy)."""
    translated = sqlglot.transpile(duckdb_sql, read="duckdb", write="spark")
    if len(translated) != 1:
        raise ValueError("spark_sql: one query")
    out = translated[0]
    for placeholder, sql in (parts or {}).items():
        if placeholder not in out:
            raise ValueError(f"spark_sql: no {placeholder!r} in the translated query")
        out = out.replace(placeholder, sql)
    return out


def chosen(settings: Settings, asked: str | None = None) -> EngineName:
    """The engine a job runs on: the one it asked for, else the platform's setting."""
    name = asked or settings.engine
    for known in ENGINES:
        if name == known:
            return known
    raise ValueError(f"engine: one of {', '.join(ENGINES)}, not {name!r}")


def spark_engine(settings: Settings, core: DataCore) -> SparkEngine:
    return SparkEngine(spark_tables.from_settings(settings), core)
