"""``shuhui programs …``: the HR & social-security programs from the command line.

    shuhui programs evaluate [--date D] [--json]
    shuhui programs certify --date D [--json]

Each program adds its own commands to :data:`app` (certification, fund-risk checks, struggling
enterprises); their modules are imported when a command runs, not to list the commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shuhui.core.terminal import escape, new_console, print_table, say

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shuhui.core.settings import Settings
    from shuhui.programs.service import Library

app = typer.Typer(
    help="HR & social-security programs: pension certification, fund-risk checks, enterprises.",
    no_args_is_help=True,
)
console = new_console(stderr=True)
out = new_console()


def parse_day(value: str | None, *, option: str = "--date") -> date:
    """A date given on the command line (YYYY-MM-DD), or today in Beijing when none is."""
    from shuhui.core.clock import local_today

    if value is None:
        return local_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        console.print(
            escape(say(f"{option} 应为 YYYY-MM-DD：{value}", f"{option} takes YYYY-MM-DD: {value}"))
        )
        raise typer.Exit(2) from None


@contextmanager
def program_job(*, as_json: bool = False) -> Iterator[tuple[Settings, Library, Session, str]]:
    """What a program's run from the command line works in: the database ready (migrated, the
    ledger's keys), the policy library on the data core, one transaction, and the command line's
    actor for the ledger. A refusal (a future date, a broken rule book) prints its detail and
    the fields' reasons — as problem+json with ``--json`` — and exits 2, nothing written."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.programs.service import Library
    from shuhui.trust.ledger.cli import cli_actor
    from shuhui.trust.ledger.setup import ready_database

    settings = get_settings()
    actor = cli_actor()
    try:
        ready_database(settings, actor)
    except ValueError as exc:
        console.print(escape(str(exc)))
        raise typer.Exit(2) from None
    engine = make_engine(settings.sqlalchemy_url)
    try:
        library = Library(settings, DataCore.from_settings(settings))
        with transaction(make_session_factory(engine)) as db:
            yield settings, library, db, actor
    except Problem as problem:
        if as_json:
            typer.echo(json.dumps(problem.body(), ensure_ascii=False))
        else:
            reasons = "; ".join(f"{e.field}: {e.reason}" for e in problem.errors)
            detail = problem.detail or problem.type.title
            console.print(escape(detail + (f"（{reasons}）" if reasons else "")))
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@app.command("evaluate")
def evaluate_command(
    on: Annotated[
        str | None, typer.Option("--date", help="evaluate as on this day (YYYY-MM-DD)")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='print {detector: {"precision", "recall", "found", "true"}} as JSON'
        ),
    ] = False,
) -> None:
    """Score every detector and the certification against the synthetic city's ground truth
    (read-only: the data core alone, nothing written)."""
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.programs.evaluation import EvaluationContext, evaluate

    day = parse_day(on)
    scores = evaluate(EvaluationContext(DataCore.from_settings(get_settings()), day))
    if as_json:
        typer.echo(json.dumps({k: v.as_json() for k, v in scores.items()}, ensure_ascii=False))
        return
    table = Table(title=say("对照评测真值", "Against the ground truth"), title_justify="left")
    for column in (say("检测项", "detector"), say("查出", "found"), say("真值", "true")):
        table.add_column(column)
    table.add_column(say("查准率", "precision"), justify="right")
    table.add_column(say("查全率", "recall"), justify="right")
    for name, result in scores.items():
        table.add_row(
            escape(name),
            f"{result.found:,}",
            f"{result.true:,}",
            f"{result.precision:.3f}",
            f"{result.recall:.3f}",
        )
    print_table(out, table)


# Each program's commands, attached here (their modules import only typer until they run).
from shuhui.programs.certification.cli import certify_command  # noqa: E402
from shuhui.programs.distress.cli import distress_command  # noqa: E402
from shuhui.programs.fundrisk.cli import detect_command  # noqa: E402

app.command("certify")(certify_command)
app.command("detect")(detect_command)
app.command("distress")(distress_command)
