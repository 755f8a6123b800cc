"""``shuhui audit …``: check the audit ledger from its stored bytes; and who a person running a
command acts as."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console

from shuhui.core.terminal import escape

app = typer.Typer(help="The audit ledger.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("verify")
def verify() -> None:
    """Recompute every leaf and the tree, check every checkpoint; name the first altered entry."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import get_settings
    from shuhui.trust.ledger import service as ledger
    from shuhui.trust.ledger.keys import ensure_platform_key

    settings = get_settings()
    public = ensure_platform_key(settings, cli_actor(), adopt=False).public_key
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with (
            make_session_factory(engine)() as db,
            Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar,
        ):
            size = ledger.committed_size(db)
            task = bar.add_task("核验账本 verifying the ledger", total=size)
            findings = list(
                ledger.verify_ledger(
                    db, public, progress=lambda done, total: bar.update(task, completed=done)
                )
            )
    finally:
        engine.dispose()
    if not findings:
        console.print(f"[green]ledger intact: {size:,} entries, every checkpoint verified[/green]")
        return
    first = next((f for f in findings if f.seq is not None), findings[0])
    where = f"entry {first.seq}" if first.seq is not None else "checkpoints"
    console.print(f"[red]ledger altered: first at {where}: {escape(first.problem)}[/red]")
    for finding in findings[:20]:
        at = f"entry {finding.seq}" if finding.seq is not None else "checkpoint"
        console.print(f"  {at}: {escape(finding.problem)}")
    raise typer.Exit(1)


def cli_actor() -> str:
    """``cli:<login name>``: the ledger's actor when a person runs a command."""
    return f"cli:{getpass.getuser()}"
