"""``shuhui monitor alarms [--open] [--json]``: what alarms the platform holds.

``app`` is a Typer app whose callback is the listing, so ``shuhui monitor`` mounts it in one
line: ``monitor_app.add_typer(alarms_cli.app, name="alarms")``. The work is imported when the
command runs.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(help="监测告警 · Monitoring alarms", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def alarms_command(
    open_only: Annotated[bool, typer.Option("--open", help="only alarms not closed")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the alarms as JSON")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 1000,
) -> None:
    """List alarms: most severe first, then the longest waiting (监测告警)."""
    from rich.table import Table
    from sqlalchemy import case, select

    from shuhui.core.clock import format_local
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import get_settings
    from shuhui.core.terminal import escape, new_console, print_table, say
    from shuhui.monitor.alarms.models import OPEN_STATES, STATES, Alarm
    from shuhui.monitor.alarms.rules import LEVEL_NAMES
    from shuhui.trust.ledger.cli import cli_actor
    from shuhui.trust.ledger.setup import ready_database

    settings = get_settings()
    try:
        ready_database(settings, cli_actor())
    except ValueError as exc:
        new_console(stderr=True).print(escape(str(exc)))
        raise typer.Exit(2) from None
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            query = select(Alarm)
            if open_only:
                query = query.where(Alarm.state.in_(OPEN_STATES))
            closed_last = case((Alarm.state == "closed", 1), else_=0)
            rows = list(
                db.scalars(query.order_by(closed_last, Alarm.level, Alarm.raised_at).limit(limit))
            )
    finally:
        engine.dispose()

    from datetime import datetime

    def at(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    if as_json:
        items = [
            {
                "code": a.code,
                "rule": a.rule,
                "level": a.level,
                "state": a.state,
                "scenario": a.scenario,
                "source": a.source,
                "device": a.device,
                "site": a.site,
                "unit": a.unit,
                "raised_at": at(a.raised_at),
                "acknowledged_at": at(a.acknowledged_at),
                "dispatched_at": at(a.dispatched_at),
                "resolved_at": at(a.resolved_at),
                "closed_at": at(a.closed_at),
            }
            for a in rows
        ]
        typer.echo(json.dumps(items, ensure_ascii=False))
        return
    table = Table(title=say("监测告警", "Monitoring alarms"), title_justify="left")
    for column in (
        say("告警", "alarm"),
        say("规则", "rule"),
        say("级别", "level"),
        say("状态", "state"),
        say("来源", "source"),
        say("产生时间", "raised"),
    ):
        table.add_column(column)
    for a in rows:
        table.add_row(
            escape(a.code),
            escape(a.rule),
            say(LEVEL_NAMES[a.level][0], LEVEL_NAMES[a.level][1]),
            say(*STATES[a.state]),
            escape(a.source),
            format_local(a.raised_at),
        )
    print_table(new_console(), table)
