"""``shuhui programs distress --date D [--json]``: score every enterprise on a date and keep the
struggling ones (idempotent: a date already run is reported, not run again)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shuhui.core.terminal import say


def distress_command(
    on: Annotated[
        str | None, typer.Option("--date", help="score as on this day (YYYY-MM-DD)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the run's counts and the list's size as JSON")
    ] = False,
) -> None:
    """Identify the enterprises in difficulty (困难企业) on a date."""
    from shuhui.programs.cli import parse_day, program_job
    from shuhui.programs.distress import service

    day = parse_day(on)
    with program_job(as_json=as_json) as (_, library, db, actor):
        outcome = service.run(db, library, day, actor=actor)
        r = outcome.run
        result = {
            "evaluated_on": r.evaluated_on.isoformat(),
            "already_run": not outcome.created,
            "counts": r.counts,
            "found": r.found,
            "ms": r.ms,
        }
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
