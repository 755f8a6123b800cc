"""``shuhui backup …``: back up the PostgreSQL database with the data core and the ledger folder,
check a backup, restore one into an empty database (``shuhui.core.backup``).

Typer and Rich only at the top; the work is imported inside the commands. Each step is said on
stderr as it starts, with the seconds since the command began; ``--json`` prints the result on
stdout. Exit 0 when done, 1 when a backup does not verify, 2 when refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from shuhui.core.terminal import escape, new_console

if TYPE_CHECKING:
    from shuhui.core.errors import Problem
    from shuhui.core.i18n import Text

app = typer.Typer(
    help="备份与恢复 Backups: the PostgreSQL database, the data core and the ledger folder.",
    no_args_is_help=True,
)
console = new_console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="print the result as JSON on stdout")]


def _shown(message: str) -> str:
    from shuhui.core.i18n import said
    from shuhui.core.terminal import locale

    return said(locale(), message)


def _progress() -> Callable[[Text], None]:
    started = time.perf_counter()

    def step(message: Text) -> None:
        console.print(
            f"[dim]{time.perf_counter() - started:7.1f} s[/dim]  {escape(_shown(message))}"
        )

    return step


def _refused(problem: Problem) -> NoReturn:
    console.print(f"[red]{escape(_shown(problem.detail or problem.type.title))}[/red]")
    for error in problem.errors[1:] if len(problem.errors) > 1 else ():
        console.print(f"  [red]{escape(_shown(error.reason))}[/red]")
    raise typer.Exit(2)


def _texts(texts: list[Text]) -> list[dict[str, str]]:
    from shuhui.core.i18n import english

    return [{"zh": str(t), "en": english(t)} for t in texts]


def _echo_json(value: dict[str, Any]) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


@app.command("create")
def create(
    to: Annotated[
        Path, typer.Option("--to", help="a new (or empty) folder to write the backup into")
    ],
    as_json: JsonOption = False,
) -> None:
    """Back up SHUHUI_DATABASE_URL (pg_dump -Fc) and SHUHUI_DATA_DIR's datacore/, truth/ and
    ledger/ into a new folder, with a manifest of sizes and SHA-256s."""
    from shuhui.core import backup
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings

    settings = get_settings()
    try:
        made = backup.create(
            settings.sqlalchemy_url, settings.data_dir, to.resolve(), progress=_progress()
        )
    except Problem as problem:
        _refused(problem)
    manifest = made.manifest
    if as_json:
        _echo_json(
            {"folder": str(made.folder), "seconds": round(made.seconds, 3), "manifest": manifest}
        )
    sizes = sum(int(f["bytes"]) for f in manifest["files"].values())
    revision = manifest["database"]["alembic_revision"]
    console.print(
        escape(
            _shown_pair(
                f"备份完成：{made.folder}（{sizes:,} 字节，数据库版本 {revision}，"
                f"用时 {made.seconds:.1f} 秒）",
                f"backup made: {made.folder} ({sizes:,} bytes, database revision {revision}, "
                f"{made.seconds:.1f} s)",
            )
        ),
        style="green",
    )


def _shown_pair(zh: str, en: str) -> str:
    from shuhui.core.i18n import Text

    return _shown(Text(zh, en))


@app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="the backup's folder")],
    as_json: JsonOption = False,
) -> None:
    """Check every file of a backup against its manifest's size and SHA-256."""
    from shuhui.core import backup

    checked = backup.verify(folder.resolve(), progress=_progress())
    if as_json:
        _echo_json(
            {
                "folder": str(checked.folder),
                "ok": checked.ok,
                "problems": _texts(checked.problems),
                "manifest": checked.manifest,
            }
        )
    if not checked.ok:
        for problem in checked.problems:
            console.print(f"[red]{escape(_shown(problem))}[/red]")
        raise typer.Exit(1)
    files = len((checked.manifest or {}).get("files", {}))
    console.print(
        escape(
            _shown_pair(
                f"备份完好：{files} 个文件的大小和 SHA-256 均与清单一致",
                f"the backup is intact: {files} files match their sizes and SHA-256s",
            )
        ),
        style="green",
    )


@app.command("restore")
def restore(
    folder: Annotated[Path, typer.Argument(help="the backup's folder")],
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="an EMPTY PostgreSQL database to restore into (SQLAlchemy URL)",
        ),
    ],
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="also unpack datacore/, truth/ and ledger/ here (those folders must be empty)",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a backup, then restore its database into an empty one (pg_restore, one
    transaction) and, with --data-dir, its data core and ledger folder."""
    from shuhui.core import backup
    from shuhui.core.errors import Problem

    try:
        done = backup.restore(
            folder.resolve(),
            database_url,
            data_dir=data_dir.resolve() if data_dir else None,
            progress=_progress(),
        )
    except Problem as problem:
        _refused(problem)
    if as_json:
        _echo_json(
            {
                "folder": str(done.folder),
                "database": done.database,
                "alembic_revision": done.revision,
                "data_dir": str(done.data_dir) if done.data_dir else None,
                "seconds": {step.name: step.seconds for step in done.steps},
            }
        )
    console.print(
        escape(
            _shown_pair(
                f"已恢复到数据库 {done.database}（版本 {done.revision}，"
                f"用时 {done.seconds:.1f} 秒）"
                + (f"，文件已解到 {done.data_dir}" if done.data_dir else "，未恢复文件"),
                f"restored into {done.database} (revision {done.revision}, "
                f"{done.seconds:.1f} s)"
                + (
                    f", files unpacked into {done.data_dir}"
                    if done.data_dir
                    else "; files not restored (no --data-dir)"
                ),
            )
        ),
        style="green",
    )
