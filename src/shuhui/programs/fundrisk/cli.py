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
    from shuhui.programs.cli import parse_day, program_job
    from shuhui.programs.fundrisk import service

    day = parse_day(on)
    with program_job(as_json=as_json) as (settings, library, db, actor):
        summary = service.detect(db, settings, library, day, actor=actor)
        result = summary.as_json()
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
