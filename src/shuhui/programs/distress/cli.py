"""``shuhui programs distress --date D [--json]``: score every enterprise on a date and keep the
struggling ones (idempotent: a date already run is reported, not run again)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shuhui.core.terminal import escape, new_console, say

console = new_console(stderr=True)


def distress_command(
    on: Annotated[
        str | None, typer.Option("--date", help="score as on this day (YYYY-MM-DD)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the run's counts and the list's size as JSON")
    ] = False,
) -> None:
    """Identify the enterprises in difficulty (困难企业) on a date."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.programs.cli import parse_day
    from shuhui.programs.distress import service
    from shuhui.programs.service import Library
    from shuhui.trust.ledger.setup import ready_database

    day = parse_day(on)
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        ready_database(settings, "system")
        library = Library(settings, DataCore.from_settings(settings))
        try:
            with transaction(make_session_factory(engine)) as db:
                outcome = service.run(db, library, day, actor="system")
                r = outcome.run
                result = {
                    "evaluated_on": r.evaluated_on.isoformat(),
                    "already_run": not outcome.created,
                    "counts": r.counts,
                    "found": r.found,
                    "ms": r.ms,
                }
        except Problem as exc:
            console.print(escape(str(exc.detail or exc.slug)))
            raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    if result["already_run"]:
        typer.echo(
            say(
                f"{day.isoformat()} 已识别过，未重复运行：困难企业 {r.found} 家",
                f"{day.isoformat()} was run already (not run again): {r.found} enterprises",
            )
        )
        return
    typer.echo(
        say(
            f"{day.isoformat()} 识别出困难企业 {result['found']} 家（用时 {result['ms']} 毫秒）",
            f"{day.isoformat()}: {result['found']} enterprises in difficulty ({result['ms']} ms)",
        )
    )
