"""``shuhui synth``: build the synthetic city into the data core, with a progress bar.

The generator, the standard and the store are imported when the command runs (``shuhui
--help`` lists it without loading them).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shuhui.core.terminal import escape, new_console
from shuhui.datacore import cli as data_cli

if TYPE_CHECKING:
    from shuhui.datacore.schema import TableSpec
    from shuhui.datacore.store import DataCore, LoadResult
    from shuhui.synth.generate import CityConfig

console = new_console(stderr=True)

STAGES = {
    "residents": "居民 residents",
    "enterprises": "企业 enterprises",
    "industry": "数字经济 digital economy",
    "infrastructure": "基础设施 infrastructure",
}


def _specs() -> dict[str, TableSpec]:
    from shuhui.standard import TABLES
    from shuhui.synth.truth import TRUTH_TABLES

    return {spec.name: spec for spec in (*TABLES, *TRUTH_TABLES)}


def source_label(config: CityConfig) -> str:
    return f"synth residents={config.residents} seed={config.seed} as_of={config.as_of}"


def source_detail(config: CityConfig) -> dict[str, str | int]:
    """What the ledger says a city was built from: enough to build the same one again."""
    from shuhui.synth.generate import NO_RECORD_PENSIONER_SHARE

    detail: dict[str, str | int] = {
        "kind": "synth",
        "label": source_label(config),
        "residents": config.residents,
        "seed": config.seed,
        "as_of": config.as_of.isoformat(),
        "months": config.months,
        "chunk": config.chunk,
    }
    # Named only when set, so a default city's record reads as it always has.
    if config.no_record_pensioner_share != NO_RECORD_PENSIONER_SHARE:
        detail["no_record_pensioner_share"] = str(config.no_record_pensioner_share)
    return detail


def build_city(
    core: DataCore,
    config: CityConfig,
    *,
    show_progress: bool = True,
    ledger: data_cli.LoadLedger | None = None,
) -> dict[str, LoadResult]:
    """Generates the city and publishes all its tables together, replacing the previous city.

    The data and the ``truth_*`` tables switch in one step (one catalog.json), and their
    manifests name the same publish (``generation``, with the seed). With a ``ledger`` (the
    CLI's), every table version published is recorded in it while the publish is still marked
    live, then the catalog follows; the caller has readied it (``ledger.prepare()``) before.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from shuhui.synth.generate import generate_city

    source = source_label(config)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        session = core.session(source, generation=f"seed{config.seed}-{uuid.uuid4().hex[:12]}")
        try:
            generate_city(session, config, progress)
        except BaseException:
            session.abort()
            raise
        publish = bar.add_task("发布 publishing", total=None)
        specs = _specs()

        def loaded(results: Mapping[str, LoadResult]) -> list[tuple[TableSpec, LoadResult]]:
            return [(specs[name], result) for name, result in sorted(results.items())]

        def recorder(results: Mapping[str, LoadResult]) -> None:
            if ledger is not None:
                ledger.record(core, loaded(results), source_detail(config))

        results = session.commit(recorder)
        bar.update(publish, total=1, completed=1)
    if ledger is not None:
        ledger.follow(core, loaded(results))
    return results


def synth(
    ctx: typer.Context,
    residents: Annotated[int, typer.Option(min=1, help="number of residents")] = 20_000,
    seed: Annotated[int, typer.Option(min=0, help="same seed, same city")] = 2026,
    as_of: Annotated[
        str, typer.Option(help="the city's reference date, YYYY-MM-DD")
    ] = "2026-10-31",
    months: Annotated[int, typer.Option(min=1, max=120, help="months of monthly records")] = 12,
    chunk: Annotated[
        int, typer.Option(min=1000, help="residents per batch (part of the city's identity)")
    ] = 100_000,
    no_record_pensioner_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="share of living pensioners who leave no record at all in the year",
        ),
    ] = 0.01,
) -> None:
    """Build a synthetic Qingdao into the data core (replaces the tables it generates).

    Each table's new version is recorded in the audit ledger (``data.loaded``); the operational
    database is migrated first if need be.
    """
    from shuhui.core.settings import get_settings
    from shuhui.datacore.errors import LoadError
    from shuhui.datacore.store import DataCore
    from shuhui.synth.generate import CityConfig

    try:
        reference = date.fromisoformat(as_of)
    except ValueError:
        console.print(
            f"[red]--as-of must be a date like 2026-10-31, not {escape(repr(as_of))}[/red]"
        )
        raise typer.Exit(2) from None
    config = CityConfig(
        residents=residents,
        seed=seed,
        as_of=reference,
        months=months,
        chunk=chunk,
        no_record_pensioner_share=no_record_pensioner_share,
    )
    ledger = data_cli.attached_ledger(ctx)
    ledger.prepare()
    core = DataCore.from_settings(get_settings())
    try:
        results = build_city(core, config, ledger=ledger)
    except LoadError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    table = Table(title=f"示范城市 synthetic city · seed {seed}")
    table.add_column("table", no_wrap=True)
    for column in ("rows", "version"):
        table.add_column(column, justify="right")
    for name, result in sorted(results.items()):
        table.add_row(escape(name), f"{result.rows:,}", str(result.version))
    console.print(table)
    seconds = max(r.seconds for r in results.values())
    total = sum(r.rows for r in results.values())
    console.print(f"[green]{len(results)} tables, {total:,} rows in {seconds:.1f} s[/green]")
