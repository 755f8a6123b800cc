"""``shuhui audit …``: check the audit ledger from its stored bytes; and who a person running a
command acts as."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shuhui.core.terminal import escape

app = typer.Typer(help="The audit ledger.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("verify")
def verify(
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="a witness's state (its --data folder or witness.json) or URL; repeatable",
        ),
    ] = None,
) -> None:
    """Recompute every entry and the tree; check them against the checkpoints in the database,
    in the published file and at the witnesses; name the first altered entry."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import get_settings
    from shuhui.trust.ledger.audit import audit
    from shuhui.trust.ledger.keys import ensure_platform_key
    from shuhui.trust.ledger.service import committed_size

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
            task = bar.add_task("核验账本", total=committed_size(db))
            report = audit(
                db,
                public,
                settings.data_dir,
                settings.ledger_origin,
                witness or (),
                progress=lambda done, total: bar.update(task, completed=done),
            )
    finally:
        engine.dispose()
    for notice in report.notices:
        console.print(f"[yellow]{escape(notice)}[/yellow]")
    counts = "，".join(f"{source} {n} 个" for source, n in report.checkpoints.items())
    uncovered = f"{report.uncovered:,} 条记录尚无检查点覆盖"
    first = report.first
    if first is None:
        console.print(
            f"[green]账本完好：共 {report.size:,} 条记录，逐条核验无误；"
            f"检查点（{escape(counts)}）均与记录一致；{uncovered}[/green]"
        )
        return
    console.print(f"[red]账本被改动过。最早的一处：{escape(first.text)}[/red]")
    for issue in report.issues[:20]:
        console.print(f"  {escape(issue.text)}")
    console.print(f"检查点：{escape(counts)}；{uncovered}")
    raise typer.Exit(1)


@app.command("log-key")
def log_key() -> None:
    """Print the ledger's verifier key, which a witness is started with (``--log``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import get_settings
    from shuhui.trust.crypto import keystore
    from shuhui.trust.crypto.note import SM2Verifier
    from shuhui.trust.ledger.keys import KEY_FILE
    from shuhui.trust.ledger.service import algorithm_of, origin

    settings = get_settings()
    key = keystore.read(settings.data_dir / KEY_FILE)
    if key is None:
        console.print("[red]尚无平台密钥：请先运行 `shuhui db upgrade`[/red]")
        raise typer.Exit(2)
    algorithm: str = settings.ledger_hash
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            algorithm = algorithm_of(db) or algorithm
    except SQLAlchemyError:
        pass  # not migrated yet: the hash it will settle on is the configured one
    finally:
        engine.dispose()
    typer.echo(SM2Verifier(origin(settings.ledger_origin, algorithm), key.public_key).vkey())


witness_app = typer.Typer(help="An independent witness that cosigns the ledger's checkpoints.")
app.add_typer(witness_app, name="witness")
DataOption = Annotated[Path, typer.Option("--data", help="the witness's own folder (key, state)")]
NameOption = Annotated[
    str, typer.Option("--name", help="the witness's key name, e.g. witness.example.org/w1")
]


@witness_app.command("key")
def witness_key(data: DataOption, name: NameOption = "shuhui-witness.local/w1") -> None:
    """Print the witness's verifier key (made on first use), for SHUHUI_LEDGER_WITNESSES."""
    from shuhui.trust.ledger.witness import Witness

    typer.echo(Witness(data, name, []).vkey)


@witness_app.command("serve")
def witness_serve(
    data: DataOption,
    log: Annotated[list[str], typer.Option("--log", help="a ledger's verifier key; repeatable")],
    name: NameOption = "shuhui-witness.local/w1",
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port")] = 7380,
) -> None:
    """Run the witness: POST /add-checkpoint (C2SP tlog-witness), GET /<origin hash>/checkpoint."""
    import uvicorn

    from shuhui.trust.crypto.note import NoteError, parse_vkey
    from shuhui.trust.ledger.witness import Witness
    from shuhui.trust.ledger.witness import app as witness_http

    try:
        logs = [parse_vkey(vkey) for vkey in log]
    except NoteError as exc:
        console.print(f"[red]{escape(f'--log 不是有效的验证密钥：{exc}')}[/red]")
        raise typer.Exit(2) from None
    witness = Witness(data.resolve(), name, logs)
    console.print("见证方的验证密钥（填入平台的 SHUHUI_LEDGER_WITNESSES）：")
    typer.echo(witness.vkey)
    uvicorn.run(witness_http(witness), host=host, port=port, log_config=None)


def cli_actor() -> str:
    """``cli:<login name>``: the ledger's actor when a person runs a command."""
    return f"cli:{getpass.getuser()}"
