"""``shuhui approval …``: the pre-check of a material from the command line, and sample documents
to try it on.

    shuhui approval precheck FILE --material id-card [--json] [--form 姓名=张三 …] [--datacore]
    shuhui approval samples OUTDIR [--seed 18]

The pre-check's OCR engine and the renderer are imported when a command runs, not to list the
commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shuhui.core.terminal import escape, new_console, print_table, say, unknown_name
from shuhui.trust.ledger.cli import cli_actor

if TYPE_CHECKING:
    from shuhui.approval.precheck import PrecheckResult
    from shuhui.datacore.store import DataCore

app = typer.Typer(
    help="Smart approval (智审慧办): pre-check materials, write sample documents.",
    no_args_is_help=True,
)
console = new_console(stderr=True)
out = new_console()

# The material kinds (precheck.kinds.KINDS), repeated here so --help names them without
# importing the pre-check.
MATERIALS = (
    "id-card",
    "business-licence",
    "diploma",
    "labour-contract",
    "medical-certificate",
    "site-plan",
)


def _form(pairs: list[str]) -> dict[str, str]:
    form: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            console.print(
                escape(say(f"--form 应写作 名称=值：{pair}", f"--form takes NAME=VALUE: {pair}"))
            )
            raise typer.Exit(2)
        form[name.strip()] = value.strip()
    return form


@app.command("precheck")
def precheck_command(
    file: Annotated[Path, typer.Argument(help="the material: a PNG, JPEG or PDF file")],
    material: Annotated[
        str, typer.Option("--material", "-m", help=f"material type: {', '.join(MATERIALS)}")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='print {"material", "fields", "issues"} as JSON')
    ] = False,
    form: Annotated[
        list[str] | None,
        typer.Option("--form", help="a value the document must agree with, NAME=VALUE (姓名=张三)"),
    ] = None,
    datacore: Annotated[
        bool,
        typer.Option(
            "--datacore",
            help="also check against the data core's registers (recorded in the audit ledger)",
        ),
    ] = False,
) -> None:
    """Read a material with OCR and check it (exit 0: no issue, 1: issues, 2: refused)."""
    if material not in MATERIALS:
        console.print(unknown_name("材料类型", "material type", material, MATERIALS))
        raise typer.Exit(2)
    try:
        content = file.read_bytes()
    except OSError as exc:
        console.print(escape(say(f"无法读取 {file}：{exc.strerror}", f"cannot read {file}: {exc}")))
        raise typer.Exit(2) from None
    from shuhui.approval.precheck import precheck
    from shuhui.core.errors import Problem

    core = _datacore() if datacore else None
    try:
        result = precheck(
            content, material, form=_form(form or []), datacore=core, file_name=file.name
        )
    except Problem as problem:
        if as_json:
            typer.echo(json.dumps(problem.body(), ensure_ascii=False))
        else:
            console.print(f"[red]{escape(problem.detail or problem.type.title)}[/red]")
        raise typer.Exit(2) from None
    if result.lookups:
        _record(result, file.name)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        _show(result)
    raise typer.Exit(0 if result.ok else 1)


def _datacore() -> DataCore:
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore

    return DataCore.from_settings(get_settings())


def _record(result: PrecheckResult, file_name: str) -> None:
    """The registers' rows read for the check, in the ledger (谁用了我的数据)."""
    from shuhui.approval.precheck import record_lookups
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings
    from shuhui.trust.ledger.setup import ready_database

    settings = get_settings()
    ready_database(settings, cli_actor())
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            record_lookups(db, result, actor=cli_actor(), file_name=file_name)
    finally:
        engine.dispose()


def _show(result: PrecheckResult) -> None:
    from shuhui.approval.precheck import KIND_NAMES

    name = KIND_NAMES[result.material]
    table = Table(title=f"{name}（{result.material}）", title_justify="left")
    table.add_column(say("字段", "field"), no_wrap=True)
    table.add_column(say("读到的值", "value read"))
    for field, value in result.fields.items():
        table.add_row(escape(field), escape(value))
    if not result.fields:
        table.add_row("—", say("没有读到任何字段", "no field was read"))
    print_table(out, table)
    if result.ok:
        out.print(
            f"[green]{say('预审通过：没有发现问题。', 'Pre-check passed: no issue found.')}[/green]"
        )
        return
    count = len(result.issues)
    out.print(f"[red]{say(f'发现 {count} 个问题：', f'{count} issue(s):')}[/red]")
    for issue in result.issues:
        out.print(f"  [bold]{escape(issue.field)}[/bold]  {escape(str(issue.reason))}")


@app.command("samples")
def samples_command(
    folder: Annotated[Path, typer.Argument(help="where to write the documents (made if missing)")],
    seed: Annotated[int, typer.Option(help="random seed of the sample values")] = 18,
) -> None:
    """Write sample documents of every material kind, clean, photographed and wrong."""
    from shuhui.approval.samples import FontMissing, write_samples

    try:
        written = write_samples(folder, seed=seed)
    except FontMissing as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    except OSError as exc:
        console.print(escape(say(f"无法写入 {folder}：{exc}", f"cannot write to {folder}: {exc}")))
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(str(path))
    console.print(
        escape(
            say(
                f"已写入 {len(written)} 份样例材料和 samples.json 到 {folder}",
                f"wrote {len(written)} sample documents and samples.json to {folder}",
            )
        )
    )
