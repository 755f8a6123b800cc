"""``shuhui programs certify --date D [--json]``: the certification cycle from the command line.

Attached to :data:`shuhui.programs.cli.app`; this module imports only typer at import time (the
command group lists its commands without loading the programs).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

COUNT_ZH: dict[str, str] = {
    "recipients": "领取人（养老金正常发放）",
    "certified": "本次数据比对认证通过",
    "undetermined": "尚未认证",
    "deceased": "本次发现死亡",
    "notified": "已通知本人",
    "visits": "派发上门认证",
    "suspended": "暂停发放",
    "resumed": "恢复发放并补发",
    "stopped": "因死亡终止发放",
    "overpayments": "待追回多发待遇",
}


def certify_command(
    on: Annotated[
        str, typer.Option("--date", help="the cycle's date (YYYY-MM-DD), not after today")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="print the counts per outcome as JSON")
    ] = False,
) -> None:
    """Run the pension certification cycle (无感认证) over every pension in payment on a date."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shuhui.core.terminal import escape, say
    from shuhui.programs.certification import service
    from shuhui.programs.cli import console, out, parse_day, program_job

    day = parse_day(on)
    with (
        program_job(as_json=as_json) as (settings, library, db, actor),
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task(say("资格认证", "certifying"), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = service.run(db, library, settings, day, actor=actor, progress=progress)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "date": result.run_on.isoformat(),
                    "already_run": result.already_run,
                    "counts": result.counts,
                },
                ensure_ascii=False,
            )
        )
        return
    if result.already_run:
        out.print(
            escape(
                say(
                    f"{day.isoformat()} 的认证已经开展过，本次未做任何改动。",
                    f"The cycle of {day} was run already: nothing changed.",
                )
            )
        )
    for name, n in result.counts.items():
        out.print(escape(f"{say(COUNT_ZH.get(name, name), name)}: {n:,}"))
    if not result.already_run:
        out.print(escape(say(f"用时 {result.ms / 1000:.1f} 秒", f"took {result.ms / 1000:.1f} s")))
