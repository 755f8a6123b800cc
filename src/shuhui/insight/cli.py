"""``shuhui insight …``: the city's indicators from the command line.

- ``shuhui insight indicators [--map M] [--district CODE] [--json] [--wide]`` — every indicator
  with its code, definition, unit, current value and the source versions it was computed from;
- ``shuhui insight report MAP [--month YYYY-MM] [--out DIR]`` — the map's monthly analysis
  report as a PDF (default: last month, into the current folder);
- ``shuhui insight reports`` — makes the monthly reports due and not yet kept (what every served
  process does on its own each hour; for a timer where no server runs), and lists those kept.

Only Typer is imported at import time."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Insight (数据洞察): the indicators of the five maps and the dashboard.")


@app.command("indicators")
def indicators_command(
    map_code: Annotated[
        str | None, typer.Option("--map", help="only this map's (data-assets, services, …)")
    ] = None,
    district: Annotated[
        str | None, typer.Option(help="a district's six-digit code (default: the whole city)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per indicator")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="no column wrapped")] = False,
) -> None:
    """Every indicator with its definition, unit, current value and its sources' versions."""
    from rich.progress import Progress
    from rich.table import Table

    from shuhui.core.clock import local_today
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.core.terminal import escape, name_column, new_console, print_table, say
    from shuhui.insight import service
    from shuhui.insight.schemas import ScopeIn, outcome_json

    console = new_console()
    settings = get_settings()
    try:
        scope = ScopeIn(district=district).scope()
        chosen = list(service.indicators(settings, local_today()).values())
        if map_code is not None:
            service.map_of(settings, map_code)
            chosen = [ind for ind in chosen if ind.map == map_code]
    except (Problem, ValueError) as refused:
        console.print(escape(str(refused)))
        raise typer.Exit(2) from None
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            reader = service.Reader(settings, db, local_today())
            found = []
            with Progress(console=new_console(stderr=True), transient=True) as progress:
                task = progress.add_task(say("计算指标", "computing"), total=len(chosen))
                for ind in chosen:
                    found.append(reader.outcome(ind, scope))
                    progress.advance(task)
    finally:
        engine.dispose()
    if as_json:
        for o in found:
            typer.echo(json.dumps(outcome_json(o, definition=True), ensure_ascii=False))
        return
    table = Table(title=say("指标", "Indicators"))
    name_column(table, say("代码", "code"))
    for header in (say("名称", "name"), say("当前值", "value"), say("单位", "unit")):
        table.add_column(header, overflow="fold")
    table.add_column(say("口径", "definition"), overflow="fold", ratio=3)
    table.add_column(say("数据版本", "sources"), overflow="fold")
    zh = say("zh", "en") == "zh"
    for o in found:
        ind, f = o.indicator, o.figure
        if f is None:
            value = str(o.problem if zh or o.problem is None else o.problem.en)
            sources = ""
        else:
            shown = outcome_json(o)["figure"]["shown"]
            period = "" if f.start is None else f" ({f.start:%Y-%m}–{f.end:%Y-%m})"
            value = f"{shown}{period}"
            parts = [f"{name} v{version}" for name, version in f.sources.tables]
            if f.sources.ledger is not None:
                parts.append(say(f"账本 {f.sources.ledger} 条", f"ledger {f.sources.ledger}"))
            sources = ", ".join(parts)
        table.add_row(
            escape(ind.code),
            escape(str(ind.name) if zh else ind.name.en),
            escape(value),
            escape(str(ind.unit) if zh else ind.unit.en),
            escape(str(ind.definition) if zh else ind.definition.en),
            escape(sources),
        )
    print_table(console, table, wide=wide)


@app.command("report")
def report_command(
    map_code: Annotated[str, typer.Argument(help="the map: data-assets, services, …")],
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: last month)")] = None,
    out: Annotated[Path, typer.Option(help="the folder to write the PDF into")] = Path("."),
) -> None:
    """The map's monthly analysis report (月度分析报告) as a PDF."""
    from shuhui.core.bounds import MONTH_PATTERN
    from shuhui.core.clock import local_today
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.core.terminal import escape, new_console, say
    from shuhui.insight import report, service
    from shuhui.insight.routes import report_month

    console = new_console()
    settings = get_settings()
    if month is not None and not re.fullmatch(MONTH_PATTERN, month):
        console.print(escape(say("月份应写成“年-月”，如 2026-11", "month: YYYY-MM, as 2026-11")))
        raise typer.Exit(2)
    try:
        found = service.map_of(settings, map_code)
    except Problem as refused:
        console.print(escape(str(refused.detail)))
        raise typer.Exit(2) from None
    chosen = report_month(month, local_today())
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            made = report.monthly(service.Reader(settings, db, local_today()), found, chosen)
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    path = out / str(report.report_name(found, chosen))
    path.write_bytes(made.pdf)
    console.print(escape(say(f"已生成 {path}（{made.indicators} 项指标）", f"wrote {path}")))


@app.command("reports")
def reports_command() -> None:
    """Makes last month's reports not yet kept (with a progress bar), then lists those kept."""
    from rich.progress import Progress
    from rich.table import Table

    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import get_settings
    from shuhui.core.terminal import escape, new_console, print_table, say
    from shuhui.insight import tasks

    console = new_console()
    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Progress(console=new_console(stderr=True), transient=True) as progress:
            task = progress.add_task(say("生成月度分析报告", "making reports"), total=None)

            def step(code: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description=code)

            made = tasks.make_due(settings, make_session_factory(engine), progress=step)
    finally:
        engine.dispose()
    console.print(escape(say(f"本次生成 {len(made)} 份", f"{len(made)} made now")))
    table = Table(title=say("已生成的月度分析报告", "Monthly reports kept"))
    for header in (say("月份", "month"), say("图", "map"), say("文件", "file")):
        table.add_column(header, overflow="fold")
    for r in tasks.stored(settings):
        table.add_row(f"{r.month:%Y-%m}", escape(r.map), escape(str(r.path)))
    print_table(console, table)
