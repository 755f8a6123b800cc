"""``shuhui programs detect``: one date's fund-risk detection from the command line.

Attached to :data:`shuhui.programs.cli.app`; the work is imported when the command runs.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from shuhui.core.terminal import escape, new_console, print_table, say

console = new_console(stderr=True)
out = new_console()


def detect_command(
    on: Annotated[
        str | None, typer.Option("--date", help="detect as on this day (YYYY-MM-DD)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the counts per detector as JSON")
    ] = False,
) -> None:
    """Run every fund-risk detector and open an alert for each new finding (基金监管)."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.programs.cli import parse_day
    from shuhui.programs.fundrisk import service
    from shuhui.programs.service import Library
    from shuhui.trust.ledger.cli import cli_actor
    from shuhui.trust.ledger.setup import ready_database

    day = parse_day(on)
    settings = get_settings()
    ready_database(settings, cli_actor())
    engine = make_engine(settings.sqlalchemy_url)
    try:
        library = Library(settings, DataCore.from_settings(settings))
        with transaction(make_session_factory(engine)) as db:
            summary = service.detect(db, settings, library, day, actor=cli_actor())
            result = summary.as_json()
    except Problem as problem:
        if as_json:
            typer.echo(json.dumps(problem.body(), ensure_ascii=False))
        else:
            console.print(f"[red]{escape(problem.detail or problem.type.title)}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    if summary.repeated:
        console.print(
            escape(
                say(
                    f"{day} 已检测过（第 {summary.run.runs} 次）：已有疑点不再重复生成",
                    f"{day} was run before (run {summary.run.runs}): no alert is opened twice",
                )
            )
        )
    table = Table(title=say(f"基金风险检测 {day}", f"Fund-risk checks {day}"), title_justify="left")
    for column in (say("检测项", "detector"),):
        table.add_column(column)
    for column in (say("发现", "found"), say("新增疑点", "new"), say("已有疑点", "already open")):
        table.add_column(column, justify="right")
    for code, counts in summary.counts.items():
        table.add_row(
            escape(code), f"{counts['found']:,}", f"{counts['new']:,}", f"{counts['open']:,}"
        )
    print_table(out, table)
