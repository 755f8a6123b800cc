"""The ``shuhui`` command: serve, migrate, prepare the demo, check identifiers."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

import shuhui
from shuhui.core import ids
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.migrate import current_revision, head_revision, upgrade
from shuhui.core.settings import get_settings
from shuhui.datacore import cli as data_cli
from shuhui.datacore.store import DataCore
from shuhui.synth import cli as synth_cli
from shuhui.synth.generate import CityConfig
from shuhui.synth.tables import TABLES
from shuhui.trust import cli as audit_cli
from shuhui.trust.ledger import ensure_algorithm
from shuhui.trust.merkle import HashAlgorithm

app = typer.Typer(
    help="数慧 Shuhui: the city data core and its public services.", no_args_is_help=True
)
db_app = typer.Typer(help="The operational database.", no_args_is_help=True)
id_app = typer.Typer(
    help="Identifiers: citizen ID (GB 11643), credit code (GB 32100).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(id_app, name="id")
app.add_typer(data_cli.app, name="data")
app.command("synth")(synth_cli.synth)
app.add_typer(audit_cli.app, name="audit")
app.add_typer(audit_cli.seal_app, name="seal")
data_cli.KNOWN_SPECS.update({spec.name: spec for spec in TABLES})

console = Console(stderr=True)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(shuhui.__version__)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the schema migrations (default: to the newest)."""
    settings = get_settings()
    settings.ensure_data_dir()
    upgrade(settings.sqlalchemy_url, revision)
    engine = make_engine(settings.sqlalchemy_url)
    if revision == "head":
        _settle_ledger_hash(engine, settings.ledger_hash)
    console.print(f"[green]database at revision {current_revision(engine)}[/green]")
    engine.dispose()


def _settle_ledger_hash(engine: Engine, algorithm: HashAlgorithm) -> None:
    try:
        with transaction(make_session_factory(engine)) as session:
            ensure_algorithm(session, algorithm)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the newest one available."""
    engine = make_engine(get_settings().sqlalchemy_url)
    typer.echo(json.dumps({"current": current_revision(engine), "head": head_revision()}))
    engine.dispose()


@id_app.command("check")
def id_check(
    values: Annotated[list[str], typer.Argument(help="values to check, or - to read stdin")],
) -> None:
    """Check identifiers; one JSON object per value. Exit 0 when all are valid, 1 otherwise."""
    if values == ["-"]:
        values = [line.strip() for line in sys.stdin if line.strip()]
    all_valid = True
    for value in values:
        result = ids.check(value)
        all_valid = all_valid and result.valid
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    raise typer.Exit(0 if all_valid and values else 1)


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve", help="start the web server when ready")
    ] = False,
    residents: Annotated[int, typer.Option(min=1, help="size of the demo city")] = 20_000,
    seed: Annotated[int, typer.Option(min=0, help="seed of the demo city")] = 2026,
    rebuild: Annotated[bool, typer.Option(help="rebuild the city even if one exists")] = False,
) -> None:
    """Prepare the demo: migrate, create the demo accounts, build the demo city."""
    from shuhui.trust.service import DEMO_ACCOUNTS, ensure_demo_accounts

    settings = get_settings()
    settings.ensure_data_dir()
    with console.status("迁移数据库 migrating the database…"):
        upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    _settle_ledger_hash(engine, settings.ledger_hash)
    with transaction(make_session_factory(engine)) as session:
        created = ensure_demo_accounts(session)
    engine.dispose()
    console.print(
        f"[green]demo accounts: {len(created)} created, "
        f"{len(DEMO_ACCOUNTS) - len(created)} already there[/green]"
    )

    core = DataCore.from_settings(settings)
    if rebuild or not core.tables():
        results = synth_cli.build_city(core, CityConfig(residents=residents, seed=seed))
        data = {n: r for n, r in results.items() if not n.startswith("truth_")}
        rows = sum(r.rows for r in data.values())
        console.print(
            f"[green]demo city: {len(data)} tables, {rows:,} rows "
            f"(+{len(results) - len(data)} ground-truth tables kept apart)[/green]"
        )
    else:
        console.print(f"[green]demo city already built: {len(core.tables())} tables[/green]")

    base = f"http://{settings.host}:{settings.port}"
    table = Table(title="演示账户 Demo accounts")
    for column in ("username", "password", "name", "roles"):
        table.add_column(column)
    for account in DEMO_ACCOUNTS:
        table.add_row(
            account.username, account.password, account.display_name, ", ".join(account.roles)
        )
    console.print(table)
    console.print(
        f"首页 Home: {base}/\n登录 Login: {base}/login\n接口文档 API docs: {base}/docs\n"
        f"数据目录 Data directory: {settings.data_dir}"
    )
    if serve_after:
        serve()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the web server."""
    import uvicorn

    settings = get_settings()
    settings.ensure_data_dir()
    engine = make_engine(settings.sqlalchemy_url)
    current, head = current_revision(engine), head_revision()
    engine.dispose()
    if current != head:
        console.print(
            f"[red]database is at revision {current}, the code needs {head}: "
            "run `shuhui db upgrade` first[/red]"
        )
        raise typer.Exit(2)
    uvicorn.run(
        "shuhui.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        proxy_headers=False,
    )


if __name__ == "__main__":
    app()
