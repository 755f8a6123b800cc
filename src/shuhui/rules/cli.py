"""``shuhui rules …``: list, check, run, explain and test the city's rules.

Rules are read from ``<content dir>/<city>/policies`` and checked against the data core's table
schemas (and, for tables not loaded yet, the specs the caller passes as the Typer context object:
the city's data standard, from the top-level ``shuhui`` command); runs read the data core of
``SHUHUI_DATA_DIR`` like ``shuhui data``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from shuhui.core.terminal import escape, name_column, new_console, print_table, unknown_name
from shuhui.datacore import cli as data_cli

if TYPE_CHECKING:
    import duckdb

    from shuhui.core.errors import Problem
    from shuhui.datacore.schema import TableSpec
    from shuhui.datacore.store import DataCore
    from shuhui.rules import service
    from shuhui.rules.language import Rule
    from shuhui.rules.loader import RuleBook

app = typer.Typer(help="规则即代码 Rules as code: policies, compiled to SQL.", no_args_is_help=True)
out = new_console()
err = new_console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
WideOption = Annotated[
    bool, typer.Option("--wide", help="lay the table out at full width, wrapping nothing")
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="evaluation date, YYYY-MM-DD (default: today)")
]


def _date(value: str | None) -> date:
    from shuhui.core.clock import SHANGHAI

    if value is None:
        return datetime.now(SHANGHAI).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]--date must be a date like 2026-10-31, not {escape(repr(value))}[/red]")
        raise typer.Exit(2) from None


def _fail(problem: Problem) -> typer.Exit:
    err.print(f"[red]{escape(problem.detail or problem.type.title)}[/red]")
    for e in problem.errors:
        err.print(f"  {e.field}: {e.reason}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _core() -> DataCore:
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore

    return DataCore.from_settings(get_settings())


def _book(ctx: typer.Context, core: DataCore) -> tuple[RuleBook, dict[str, TableSpec]]:
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.rules import service

    specs = service.data_core_specs(core, data_cli.known_specs(ctx))
    try:
        return service.load_city_book(get_settings(), specs), specs
    except Problem as problem:
        raise _fail(problem) from None


@contextmanager
def _connection(
    core: DataCore, writable: Path | None = None, *, tables: Iterable[str] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = core.connect(writable, tables=tables)
    try:
        yield con
    finally:
        con.close()


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, default=str))


def _rule(book: RuleBook, code: str) -> Rule:
    """The rule of that code, or the command ends saying which codes are near it."""
    found = book.rules.get(code)
    if found is None:
        err.print(f"[red]{unknown_name('规则', 'rule', code, book.rules)}[/red]")
        raise typer.Exit(1)
    return found


@app.command("ls")
def ls(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List the rules: code, name, entity, validity and reference."""
    book, _ = _book(ctx, _core())
    rules = list(book.rules.values())
    if as_json:
        _echo_json(
            [
                {
                    "code": r.code,
                    "name": {"zh": r.name_zh, "en": r.name_en},
                    "entity": r.entity.code,
                    "valid_from": r.valid_from.isoformat(),
                    "valid_to": r.valid_to.isoformat() if r.valid_to else None,
                    "reference": r.reference,
                    "department": r.department,
                    "file": r.path.name,
                    "tables": list(r.tables),
                    "parameters": list(r.parameters),
                }
                for r in rules
            ]
        )
        return
    table = Table(title=f"政策规则 rules · {len(rules)}")
    name_column(table, "code")
    for column in ("name", "entity", "department", "in force", "file"):
        table.add_column(column)
    for r in rules:
        until = r.valid_to.isoformat() if r.valid_to else "…"
        table.add_row(
            escape(r.code),
            escape(r.name_zh),
            escape(r.entity.name_zh),
            escape(r.department),
            f"{r.valid_from} – {until}",
            escape(r.path.name),
        )
    print_table(out, table, wide=wide)


@app.command("check")
def check(ctx: typer.Context, date_: DateOption = None) -> None:
    """Check every rule: names, columns and types against the data core, cycles, and that each
    rule is in force with every parameter valued on the date."""
    from shuhui.rules.loader import check_on, refused

    on = _date(date_)
    book, _ = _book(ctx, _core())
    problems = [p for rule in book.rules.values() for p in check_on(rule, on)]
    if problems:
        raise _fail(refused(problems))
    out.print(f"[green]{len(book.rules)} rules checked for {on}: no problems[/green]")


@app.command("run")
def run(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="rule code")],
    date_: DateOption = None,
    as_json: JsonOption = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="写出每个对象的结果 write every entity's result (key, outcome, amount, "
            "missing) to this Parquet file",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="计算引擎 the batch engine: duckdb (in this process) or spark "
            "(default: SHUHUI_ENGINE, else duckdb)",
        ),
    ] = None,
) -> None:
    """Evaluate a rule for every entity: counts per outcome, and the missing inputs."""
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.rules import engines, service
    from shuhui.rules.compiler import OUTCOMES
    from shuhui.rules.explain import OUTCOME_TEXT

    on = _date(date_)
    try:
        engine_name = engines.chosen(get_settings(), engine)
    except ValueError:
        err.print(f"[red]--engine must be duckdb or spark, not {escape(repr(engine))}[/red]")
        raise typer.Exit(2) from None
    if engine_name == "spark" and store is not None:
        err.print("[red]--store writes with DuckDB: run it without --engine spark[/red]")
        raise typer.Exit(2)
    core = _core()
    book, _ = _book(ctx, core)
    target = _rule(book, rule)
    folder = None if store is None else store.absolute().parent
    # One set-based query: no count of rows done to show, so a spinner says it is working.
    waiting = escape(f"计算 evaluating {target.code} · {on} · {engine_name}…")
    try:
        if engine_name == "spark":
            with err.status(waiting):
                result = engines.spark_engine(get_settings(), core).run(target, on)
        else:
            with _connection(core, folder, tables=target.tables) as con, err.status(waiting):
                if store is not None:
                    stored = service.store(con, target, on, store)
                else:
                    result = service.run(con, target, on, service.versions_of(core))
    except Problem as problem:
        raise _fail(problem) from None
    if store is not None:
        _stored(target, stored, as_json)
        return
    if as_json:
        _echo_json(result.as_dict())
        return
    table = Table(title=escape(f"{target.name_zh} {target.code} · {on}"))
    table.add_column("outcome")
    table.add_column("entities", justify="right")
    for outcome in OUTCOMES:
        table.add_row(OUTCOME_TEXT[outcome][0] + f" {outcome}", f"{result.counts[outcome]:,}")
    out.print(table)
    if target.amount is not None and result.amount_total is not None:
        from shuhui.core.display import with_unit

        total = with_unit(result.amount_total, target.amount.unit)
        out.print(escape(f"符合者{target.amount.zh}合计 total amount of the eligible: {total}"))
    for name, n in result.missing.items():
        out.print(escape(f"  缺少 {target.variables[name].zh} ({name}): {n:,}"))
    out.print(f"{result.entities:,} entities in {result.seconds:.2f} s on {result.engine}")


def _stored(target: Rule, stored: service.StoredRun, as_json: bool) -> None:
    from shuhui.rules.compiler import OUTCOMES
    from shuhui.rules.explain import OUTCOME_TEXT

    if as_json:
        _echo_json(stored.as_dict())
        return
    table = Table(title=escape(f"{target.name_zh} {target.code} · {stored.on}"))
    table.add_column("outcome")
    table.add_column("entities", justify="right")
    for outcome in OUTCOMES:
        table.add_row(OUTCOME_TEXT[outcome][0] + f" {outcome}", f"{stored.counts[outcome]:,}")
    out.print(table)
    out.print(
        escape(f"已写出 written {stored.rows:,} rows to {stored.path} in {stored.seconds:.2f} s")
    )


@app.command("explain")
def explain(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="rule code")],
    entity_id: Annotated[str, typer.Argument(metavar="ID", help="citizen ID or credit code")],
    date_: DateOption = None,
    as_json: JsonOption = False,
    lang: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
) -> None:
    """Why one person or enterprise is eligible, not eligible or undetermined."""
    from shuhui.core.errors import Problem
    from shuhui.rules import explain as explaining
    from shuhui.rules import service

    on = _date(date_)
    core = _core()
    book, specs = _book(ctx, core)
    target = _rule(book, rule)
    try:
        with _connection(core, tables=target.tables) as con:
            found = explaining.explain(con, target, on, entity_id, specs, service.versions_of(core))
    except Problem as problem:
        raise _fail(problem) from None
    if as_json:
        _echo_json(found.as_dict())
    else:
        typer.echo(found.text(lang))


@app.command("test")
def test(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="a test file or folder (default: the book's tests/)")
    ] = None,
) -> None:
    """Run the rule tests (YAML cases). Exit 1 if any fails."""
    from shuhui.rules import testing
    from shuhui.rules.loader import TESTS_DIR as TESTS

    book, specs = _book(ctx, _core())
    where = path or book.directory / TESTS
    try:
        results = testing.run_tests(book, specs, where)
    except testing.RuleTestError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    failed = [r for r in results if not r.passed]
    for result in results:
        mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
        out.print(f"{mark} {escape(result.case.id)}", highlight=False, soft_wrap=True)
        for failure in result.failures:
            out.print(f"     {failure}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed or not results:
        raise typer.Exit(1)
