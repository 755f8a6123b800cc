"""``shuhui enterprise …``: the enterprise platform from the command line.

    shuhui enterprise profile CREDIT_CODE [--purpose TEXT] [--json]

prints one enterprise's file (一企一档) as the platform assembles it; the look is a ledger entry
about the enterprise with its purpose, as an officer's is.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shuhui.core.terminal import say

app = typer.Typer(
    help="The enterprise platform: one enterprise, one file (一企一档).", no_args_is_help=True
)


@app.command("profile")
def profile_command(
    credit_code: Annotated[
        str, typer.Argument(help="the enterprise's credit code (18 characters)")
    ],
    purpose: Annotated[
        str, typer.Option(help="why it is read (kept in the ledger; the enterprise sees it)")
    ] = "运营人员在命令行查看企业档案",
    as_json: Annotated[bool, typer.Option("--json", help="print the file as JSON")] = False,
) -> None:
    """Print an enterprise's file: registration, headcount, tax, certificates, cases, alarms."""
    from shuhui.approval.lookups import lookups_for
    from shuhui.core.forms import validate
    from shuhui.datacore.store import DataCore
    from shuhui.enterprise import profile
    from shuhui.enterprise.platforms import load
    from shuhui.enterprise.schemas import ProfileLookIn
    from shuhui.programs.cli import program_job

    with program_job(as_json=as_json) as (settings, _, db, actor):
        asked = validate(ProfileLookIn, {"credit_code": credit_code, "purpose": purpose})
        found = profile.look(
            db,
            lookups_for(DataCore.from_settings(settings)),
            actor=actor,
            credit_code=asked.credit_code,
            purpose=asked.purpose,
            catalogue=load(settings.city_content),
        ).as_dict()
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False))
        return
    reg = found["registration"]
    staff = found["staff"] if found["staff"] is not None else "—"
    insured = found["insured"] if found["insured"] is not None else "—"
    grade = found["credit_grade"] or "—"
    counts = [len(found[k]) for k in ("certificates", "enablements", "cases", "alarms")]
    lines = [
        (f"{found['name']}（{found['credit_code']}）", f"{found['name']} ({found['credit_code']})"),
        (
            f"{reg['industry_name']} · {reg['size_class']} · {reg['status']} · "
            f"成立于 {reg['established_date']}",
            f"{reg['industry_name']} · {reg['size_class']} · {reg['status']} · "
            f"established {reg['established_date']}",
        ),
        (
            f"在职职工 {staff} 人，参保职工 {insured} 人，纳税信用 {grade}",
            f"staff {staff}, insured {insured}, tax credit {grade}",
        ),
        (
            "电子证照 {} 件，平台赋能 {} 项，审批办件 {} 件，告警 {} 条".format(*counts),
            "{} certificates, {} enablements, {} cases, {} alarms".format(*counts),
        ),
    ]
    for zh, en in lines:
        typer.echo(say(zh, en))
