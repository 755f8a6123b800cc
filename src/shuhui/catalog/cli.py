"""``shuhui catalog …``: register the data core, fill the catalog for scale tests, search."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shuhui.catalog import generate, search, service
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.errors import Problem
from shuhui.core.settings import Settings, get_settings
from shuhui.datacore.store import DataCore
from shuhui.trust.ledger.cli import cli_actor
from shuhui.trust.ledger.setup import ready_database

app = typer.Typer(help="The public data catalog (数据资源目录).", no_args_is_help=True)
console = Console(stderr=True)


def _prepare(settings: Settings) -> None:
    """Readies the operational database (migrate, ledger hash, platform key) before writing."""
    try:
        ready_database(settings, cli_actor())
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def sync_catalog(settings: Settings, core: DataCore) -> service.SyncResult:
    """Registers the data core's published tables; what `demo` and `catalog sync` run."""
    catalog = service.city_catalog(settings.city_content)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            result = service.sync_datacore(db, core, catalog, actor=cli_actor())
            service.related_by_keywords(db)
    finally:
        engine.dispose()
    return result


@app.command("sync")
def sync(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Register every published data-core table in the catalog, with full metadata."""
    settings = get_settings()
    _prepare(settings)
    result = sync_catalog(settings, DataCore.from_settings(settings))
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    console.print(
        f"[green]catalog: {len(result.registered)} registered, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged[/green]"
    )
    if result.skipped:
        console.print(f"[yellow]not in the catalog content: {', '.join(result.skipped)}[/yellow]")


@app.command("generate")
def generate_command(
    classes: Annotated[int, typer.Option(min=1, max=100_000)] = 5_200,
    datasets: Annotated[int, typer.Option(min=1, max=1_000_000)] = 50_000,
    seed: Annotated[int, typer.Option(min=0)] = 2026,
) -> None:
    """Add generated metadata (classes and datasets) to reach a realistic catalog size."""
    settings = get_settings()
    _prepare(settings)
    catalog = service.city_catalog(settings.city_content)
    engine = make_engine(settings.sqlalchemy_url)
    began = time.perf_counter()
    try:
        with transaction(make_session_factory(engine)) as db:
            made = generate.generate_catalog(
                db, catalog, classes=classes, datasets=datasets, seed=seed
            )
    finally:
        engine.dispose()
    console.print(
        f"[green]generated {made.classes:,} classes, {made.datasets:,} datasets, "
        f"{made.distributions:,} distributions in {time.perf_counter() - began:.1f} s[/green]"
    )


@app.command("search")
def search_command(
    q: Annotated[str, typer.Argument(help="words; 社保 also finds 社会保险")] = "",
    fq: Annotated[str, typer.Option(help='filters, e.g. open_level:open groups:"04"')] = "",
    rows: Annotated[int, typer.Option(min=0, max=1000)] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the catalog as the API does."""
    settings = get_settings()
    catalog = service.city_catalog(settings.city_content)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            index = search.SearchIndex.build(db, catalog.synonyms)
            try:
                found = index.search(
                    search.Query(q=q, fq=fq, rows=rows, facet_fields=("groups", "open_level"))
                )
            except Problem as exc:
                console.print(f"[red]{exc.errors[0].field}: {exc.errors[0].reason}[/red]")
                raise typer.Exit(2) from None
            datasets = search.package_ids_in_order(db, found.dataset_ids)
            rows_out = [
                {"name": d.name, "title": d.title, "open_level": d.resource_class.open_level}
                for d in datasets
            ]
    finally:
        engine.dispose()
    if as_json:
        body = {"count": found.count, "results": rows_out, "facets": found.facets}
        typer.echo(json.dumps(body, ensure_ascii=False))
        return
    table = Table(title=f"{found.count:,} datasets")
    for column in ("name", "title", "open_level"):
        table.add_column(column)
    for row in rows_out:
        table.add_row(row["name"], row["title"], row["open_level"])
    Console().print(table)
