"""``shuhui catalog …``: register the data core, fill the catalog for scale tests, search.

The catalog's service (SQLAlchemy, the data core) is imported when a command runs, not to list
the commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shuhui.core.terminal import escape, name_column, new_console, print_table
from shuhui.trust.ledger.cli import cli_actor

if TYPE_CHECKING:
    from shuhui.catalog.service import SyncResult
    from shuhui.core.settings import Settings
    from shuhui.datacore.store import DataCore

app = typer.Typer(help="The public data catalog (数据资源目录).", no_args_is_help=True)
console = new_console(stderr=True)

# What each stage of ``catalog generate`` is called on its progress bar.
GENERATE_STAGES = {
    "classes": "编制资源类 classes",
    "datasets": "编制数据集 datasets",
    "writing": "写入数据库 writing",
}


def _prepare(settings: Settings) -> None:
    """Readies the operational database (migrate, ledger hash, platform key) before writing."""
    from shuhui.trust.ledger.setup import ready_database

    try:
        ready_database(settings, cli_actor())
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@contextmanager
def _bars(stages: dict[str, str] | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """Progress bars on stderr, one per stage named; yields the (stage, done, total) callback
    the catalog's long functions take. A stage not in ``stages`` (a table's name, as the sync
    reports it) moves one bar described by that name."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=stages is None,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            key = stage if stages is not None else ""
            label = escape(stages.get(stage, stage) if stages is not None else f"登记 {stage}")
            if key not in tasks:
                tasks[key] = bar.add_task(label, total=total)
            bar.update(tasks[key], completed=done, total=total, description=label)

        yield update


def sync_catalog(settings: Settings, core: DataCore) -> SyncResult:
    """Registers the data core's published tables, with a progress bar per table (registering
    a new version assesses its quality, seconds per table); what `demo`, `data load`, `synth`
    and `catalog sync` run."""
    from shuhui.catalog import service
    from shuhui.core.db import make_engine, make_session_factory, transaction

    catalog = service.city_catalog(settings.city_content)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db, _bars() as progress:
            result = service.sync_datacore(db, core, catalog, actor=cli_actor(), progress=progress)
            service.related_by_keywords(db)
    finally:
        engine.dispose()
    return result


@app.command("sync")
def sync(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Register every published data-core table in the catalog, with full metadata."""
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore

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
        skipped = escape(", ".join(result.skipped))
        console.print(f"[yellow]not in the catalog content: {skipped}[/yellow]")


@app.command("generate")
def generate_command(
    classes: Annotated[int, typer.Option(min=1, max=100_000)] = 5_200,
    datasets: Annotated[int, typer.Option(min=1, max=1_000_000)] = 50_000,
    seed: Annotated[int, typer.Option(min=0)] = 2026,
) -> None:
    """Add generated metadata (classes and datasets) to reach a realistic catalog size."""
    from shuhui.catalog import generate, service
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings

    settings = get_settings()
    _prepare(settings)
    catalog = service.city_catalog(settings.city_content)
    engine = make_engine(settings.sqlalchemy_url)
    began = time.perf_counter()
    try:
        with transaction(make_session_factory(engine)) as db, _bars(GENERATE_STAGES) as progress:
            made = generate.generate_catalog(
                db, catalog, classes=classes, datasets=datasets, seed=seed, progress=progress
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
    wide: Annotated[
        bool, typer.Option("--wide", help="lay the table out at full width, wrapping nothing")
    ] = False,
) -> None:
    """Search the catalog as the API does."""
    from shuhui.catalog import search, service
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings

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
                console.print(
                    f"[red]{escape(f'{exc.errors[0].field}: {exc.errors[0].reason}')}[/red]"
                )
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
    name_column(table, "name")
    for column in ("title", "open_level"):
        table.add_column(column)
    for row in rows_out:
        table.add_row(escape(row["name"]), escape(row["title"]), escape(row["open_level"]))
    print_table(new_console(), table, wide=wide)
