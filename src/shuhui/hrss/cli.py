"""``shuhui hrss …``: the HR & social-security services from the command line.

    shuhui hrss certificate CITIZEN_ID --out DIR [--from YYYY-MM] [--to YYYY-MM]

writes the person's 参保证明 (``<number>.pdf``) and its seal envelope (``<number>.pdf.seal.json``)
into DIR; ``shuhui seal verify DIR/<number>.pdf DIR/<number>.pdf.seal.json`` accepts them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shuhui.core.terminal import say

app = typer.Typer(
    help="HR & social-security services: certificates of insured status.", no_args_is_help=True
)


@app.command("certificate")
def certificate_command(
    citizen_id: Annotated[str, typer.Argument(help="the person's citizen ID (18 characters)")],
    out: Annotated[
        Path, typer.Option("--out", file_okay=False, help="the folder to write the two files to")
    ],
    months_from: Annotated[
        str | None, typer.Option("--from", help="first month stated, YYYY-MM")
    ] = None,
    months_to: Annotated[
        str | None, typer.Option("--to", help="last month stated, YYYY-MM")
    ] = None,
    purpose: Annotated[
        str, typer.Option(help="why it is issued (kept in the ledger; the person sees it)")
    ] = "按本人申请开具参保证明（命令行）",
    as_json: Annotated[bool, typer.Option("--json", help="print the certificate as JSON")] = False,
) -> None:
    """Issue a person's certificate of insured status, sealed, into a folder."""
    from shuhui.approval.lookups import lookups_for
    from shuhui.core.forms import validate
    from shuhui.datacore.store import DataCore
    from shuhui.hrss import certificates
    from shuhui.hrss.schemas import OfficerCertificateIn
    from shuhui.hrss.service import period_of
    from shuhui.hrss.views import certificate_out
    from shuhui.programs.cli import program_job

    given = {"citizen_id": citizen_id, "purpose": purpose}
    given |= {k: v for k, v in (("months_from", months_from), ("months_to", months_to)) if v}
    with program_job(as_json=as_json) as (settings, _, db, actor):
        asked = validate(OfficerCertificateIn, given)
        start, end = period_of(asked.months_from, asked.months_to)
        made = certificates.issue(
            db,
            settings.data_dir,
            lookups_for(DataCore.from_settings(settings)),
            citizen_id=asked.citizen_id,
            months_from=start,
            months_to=end,
            requested_by=actor,
            purpose=asked.purpose,
            city_content=settings.city_content,
        )
        pdf = certificates.certificate_pdf(settings.data_dir, made)
        shown = certificate_out(made)
        envelope = made.envelope
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{shown['number']}.pdf"
    target.write_bytes(pdf)
    seal_file = target.with_name(target.name + ".seal.json")
    seal_file.write_text(
        json.dumps(envelope, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    if as_json:
        typer.echo(
            json.dumps(
                {**shown, "file": str(target), "seal_file": str(seal_file)}, ensure_ascii=False
            )
        )
        return
    typer.echo(
        say(
            f"已开具参保证明 {shown['number']}：{target}（签章文件 {seal_file}）",
            f"issued {shown['number']}: {target} (seal envelope {seal_file})",
        )
    )


@app.command("remind")
def remind_command(
    reminder: Annotated[str, typer.Argument(help="the reminder's code (hrss/reminders.yaml)")] = (
        "retirement"
    ),
    on: Annotated[str | None, typer.Option("--date", help="as on this day (YYYY-MM-DD)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the run as JSON")] = False,
) -> None:
    """Send a proactive reminder to everyone its rule finds today (once per person and due
    date, however often it runs)."""
    from dataclasses import asdict

    from shuhui.hrss import reminders
    from shuhui.programs.cli import parse_day, program_job

    day = parse_day(on)
    with program_job(as_json=as_json) as (settings, library, db, actor):
        kind = reminders.kind_of(reminder, settings.city_content)
        outcome = reminders.run(db, library, kind, day, actor=actor)
    if as_json:
        typer.echo(json.dumps({**asdict(outcome), "evaluated_on": day.isoformat()}))
        return
    typer.echo(
        say(
            f"{kind.name}（{day}）：规则找到 {outcome.found} 人，本次提醒 {outcome.sent} 人，"
            f"此前已提醒 {outcome.already} 人",
            f"{kind.name} ({day}): {outcome.found} found, {outcome.sent} reminded now, "
            f"{outcome.already} before",
        )
    )
