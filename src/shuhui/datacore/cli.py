"""``shuhui data …``: list, describe, load and query the data core.

The store (DuckDB, Arrow) is imported inside the commands, not here: the top-level command
imports this module to list its subcommands, and ``shuhui --help`` should not wait for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.table import Table

from shuhui.core.terminal import escape, name_column, new_console, print_table, say, unknown_name

if TYPE_CHECKING:
    from shuhui.datacore.schema import TableSpec
    from shuhui.datacore.store import DataCore, LoadResult, TableInfo

app = typer.Typer(help="The data core: versioned analytical tables.", no_args_is_help=True)
out = new_console()
err = new_console(stderr=True)


class LoadLedger(Protocol):
    """Records loads in the audit ledger.

    The data core cannot do it itself — it sits beside the trust layer, not above it (see
    docs/ARCHITECTURE.md) — so the top-level CLI passes one in the :class:`CommandContext`.
    ``shuhui synth`` uses the same one.
    """

    def prepare(self) -> None:
        """Before a load writes anything: the database that will record it is ready, and what
        a killed load left is recovered (its versions recorded, its staging folders gone)."""

    def record(
        self,
        core: DataCore,
        loaded: Sequence[tuple[TableSpec, LoadResult]],
        source: Mapping[str, str | int],
    ) -> None:
        """Once a load is switched in, before its publish ends (the session's recorder): one
        ``data.loaded`` entry per new table version."""

    def follow(self, core: DataCore, loaded: Sequence[tuple[TableSpec, LoadResult]]) -> None:
        """After the publish: the catalog registers the new versions."""


@dataclass(frozen=True)
class CommandContext:
    """What the caller hands these commands as the Typer context object (the top-level
    ``shuhui`` command hands the city's data standard and its ledger): specs of tables that do
    not exist yet, by name, so a first load knows the schema to hold the file to, and the
    ledger loads are recorded in. A command run without one knows only the loaded tables and
    refuses to load."""

    specs: Mapping[str, TableSpec]
    ledger: LoadLedger | None = None

    @classmethod
    def of(cls, specs: Iterable[TableSpec], ledger: LoadLedger | None = None) -> CommandContext:
        return cls({spec.name: spec for spec in specs}, ledger)


def known_specs(ctx: typer.Context) -> Mapping[str, TableSpec]:
    """The specs the caller passed for tables not loaded yet (none if it passed none)."""
    found = ctx.find_object(CommandContext)
    return {} if found is None else found.specs


def attached_ledger(ctx: typer.Context) -> LoadLedger:
    """The ledger loads are recorded in; a load with none attached is refused, not unrecorded."""
    found = ctx.find_object(CommandContext)
    if found is None or found.ledger is None:
        err.print(
            "[red]"
            + say(
                "未连接审计账本：请通过 `shuhui` 命令加载",
                "no audit ledger attached: load through the `shuhui` command",
            )
            + "[/red]"
        )
        raise typer.Exit(2)
    return found.ledger


TruthOption = Annotated[bool, typer.Option("--truth", help="also open the ground-truth tables")]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
WideOption = Annotated[
    bool, typer.Option("--wide", help="lay tables out at full width, wrapping nothing")
]


def _core(truth: bool = False) -> DataCore:
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore

    return DataCore.from_settings(get_settings(), truth=truth)


def no_such_table(core: DataCore, name: str, also: Iterable[str] = ()) -> str:
    """``没有名为 X 的表。您是不是要找：Y？`` over the loaded tables (and ``also``)."""
    return unknown_name("表", "table", name, [*(t.name for t in core.tables()), *also])


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


HISTORY_FIELDS = ("version", "rows", "loaded_at", "source", "operation")


def _summary(info: TableInfo) -> dict[str, Any]:
    """What ``ls --json`` says of a table; ``show --json`` says it and more."""
    return {
        "name": info.name,
        "title": info.title,
        "department": info.department,
        "kind": info.kind,
        "truth": info.truth,
        "rows": info.rows,
        "version": info.version,
        "loaded_at": info.loaded_at,
        "source": info.source,
        "operation": info.operation,
    }


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False))


@app.command("ls")
def ls(as_json: JsonOption = False, truth: TruthOption = False, wide: WideOption = False) -> None:
    """List the tables with their rows and versions."""
    infos = _core(truth).tables()
    if as_json:
        _echo_json([_summary(i) for i in infos])
        return
    table = Table(
        title=f"数据底座 data core · {len(infos)} tables · {sum(i.rows for i in infos):,} rows"
    )
    name_column(table, "table")
    for column in ("title", "department", "rows", "version", "loaded (UTC)"):
        table.add_column(column, justify="right" if column in ("rows", "version") else "left")
    for i in infos:
        table.add_row(
            escape(i.name),
            escape(i.title),
            escape(i.department),
            f"{i.rows:,}",
            str(i.version),
            escape(i.loaded_at),
        )
    print_table(out, table, wide=wide)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="table name")],
    as_json: JsonOption = False,
    truth: TruthOption = False,
    wide: WideOption = False,
) -> None:
    """Describe one table: its columns, and its versions."""
    from shuhui.datacore.errors import TableNotFound

    core = _core(truth)
    try:
        info = core.table(name)
    except TableNotFound:
        err.print(f"[red]{no_such_table(core, name)}[/red]")
        raise typer.Exit(1) from None
    history = core.history(name)
    columns = [
        {
            "name": c.name,
            "type": c.type,
            "title": c.title,
            "required": c.required,
            "personal": c.personal,
            "check": c.check,
            "values": list(c.values) if c.values else None,
        }
        for c in info.columns
    ]
    if as_json:
        _echo_json(
            {
                **_summary(info),
                "description": info.description,
                "primary_key": list(info.primary_key),
                "columns": columns,
                "history": [
                    {k: v for k, v in _summary(h).items() if k in HISTORY_FIELDS} for h in history
                ],
            }
        )
        return
    out.print(
        f"[bold]{escape(info.name)}[/bold] "
        + escape(f"{info.title} · {info.department} · {info.kind}")
    )
    if info.description:
        out.print(escape(info.description))
    out.print(
        escape(
            f"{info.rows:,} rows · version {info.version} · loaded {info.loaded_at} "
            f"from {info.source}"
        )
    )
    cols = Table(title="columns")
    name_column(cols, "name")
    for column in ("type", "title", "required", "personal", "check"):
        cols.add_column(column)
    for c in columns:
        cols.add_row(
            escape(str(c["name"])),
            escape(str(c["type"])),
            escape(str(c["title"])),
            "yes" if c["required"] else "",
            "个人信息" if c["personal"] else "",
            escape(str(c["check"] or "")),
        )
    print_table(out, cols, wide=wide)
    versions = Table(title="versions")
    for column in ("version", "rows", "operation", "loaded (UTC)", "source"):
        versions.add_column(column)
    for h in history:
        versions.add_row(
            str(h.version),
            f"{h.rows:,}",
            escape(h.operation),
            escape(h.loaded_at),
            escape(h.source),
        )
    print_table(out, versions, wide=wide)


@app.command("load")
def load(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="table name")],
    file: Annotated[Path, typer.Argument(help="Parquet, CSV or Arrow file")],
    append: Annotated[
        bool, typer.Option(help="add to an event table instead of replacing")
    ] = False,
    source: Annotated[str | None, typer.Option(help="where the data came from")] = None,
) -> None:
    """Load a file as the table's new version (all rows valid, or nothing changes).

    The operational database is migrated first if need be: the new version is recorded in the
    audit ledger (``data.loaded``). A refused load records nothing.
    """
    from shuhui.datacore.errors import LoadError, TableNotFound
    from shuhui.datacore.sources import FORMATS

    ledger = attached_ledger(ctx)
    core = _core()
    try:
        spec = core.spec(name)
    except TableNotFound:
        known = known_specs(ctx)
        if name not in known:
            err.print(f"[red]{no_such_table(core, name, known)}[/red]")
            raise typer.Exit(1) from None
        spec = known[name]
    ledger.prepare()
    label = source or file.name
    detail = {
        "kind": "file",
        "format": FORMATS.get(file.suffix.lower(), file.suffix),
        "path": str(file.resolve()),
        "label": label,
    }

    def recorder(results: Mapping[str, LoadResult]) -> None:
        ledger.record(core, [(spec, results[spec.name])], detail)

    try:
        with _reading_bar(escape(f"{name} ← {file.name}")) as advance:
            result = core.load(
                spec, file, source=label, append=append, progress=advance, recorder=recorder
            )
    except LoadError as exc:
        err.print(
            "[red]"
            + escape(
                say(
                    f"加载被拒绝：{name} 仍使用原版本",
                    f"load refused; {name} still serves its previous version",
                )
            )
            + "[/red]"
        )
        for e in exc.errors:
            err.print(f"  {escape(str(e))}")
        if exc.message:
            err.print(f"  {escape(exc.message)}")
        raise typer.Exit(1) from None
    ledger.follow(core, [(spec, result)])
    out.print(
        "[green]"
        + escape(
            f"{name}: version {result.version}, {result.rows:,} rows "
            f"({result.written:,} written, {result.operation}) in {result.seconds:.1f}s"
        )
        + "[/green]"
    )


@app.command("recover")
def recover(ctx: typer.Context) -> None:
    """Recover what killed loads left: record every published version missing from the audit
    ledger, bring the catalog to the published versions, remove dead loads' staging folders.

    Every load runs this first, and the server as it starts; it is idempotent.
    """
    attached_ledger(ctx).prepare()
    out.print("[green]" + say("数据底座已核对", "data core checked") + "[/green]")


@contextmanager
def _reading_bar(description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr counting the rows read so far (a file's row count is not known
    before it is read); it yields the callback the load calls after each batch."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda rows: bar.update(task, completed=rows)


@app.command("sql")
def sql(
    query: Annotated[str, typer.Argument(help="one SELECT or WITH … SELECT")],
    as_json: JsonOption = False,
    truth: TruthOption = False,
    limit: Annotated[int, typer.Option(help="rows to show at most")] = 1000,
    wide: WideOption = False,
) -> None:
    """Run a read-only query. Anything but a single SELECT is refused."""
    from shuhui.datacore.errors import QueryRefused

    try:
        result = _core(truth).sql(query, limit=limit)
    except QueryRefused as exc:
        err.print("[red]" + escape(say(f"查询被拒绝：{exc}", f"query refused: {exc}")) + "[/red]")
        raise typer.Exit(2) from None
    rows = result.to_pylist()
    if as_json:
        _echo_json([{k: _jsonable(v) for k, v in r.items()} for r in rows])
        return
    table = Table(*(escape(c) for c in result.column_names))
    for r in rows:
        table.add_row(*("" if v is None else escape(str(v)) for v in r.values()))
    print_table(out, table, wide=wide)
    err.print(f"{len(rows):,} rows")
