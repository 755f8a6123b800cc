"""``shuhui seal …``: e-seals (mounted by src/shuhui/cli.py as the ``seal`` sub-app).

The seal service (SQLAlchemy, SM2) is imported when a command runs, not to list them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shuhui.core.terminal import escape, new_console, unknown_name
from shuhui.trust.ledger.cli import cli_actor

if TYPE_CHECKING:
    from shuhui.core.errors import Problem

console = new_console(stderr=True)

seal_app = typer.Typer(
    help="E-seals (电子印章): create, seal a document, verify.", no_args_is_help=True
)


@seal_app.command("create")
def seal_create(
    code: Annotated[str, typer.Argument(help="e.g. QDXZSP-2026-0001")],
    name: Annotated[str, typer.Argument(help="e.g. 青岛市行政审批服务局行政审批专用章")],
    department: Annotated[str, typer.Argument(help="e.g. 青岛市行政审批服务局")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="validity from now, in days")] = 365,
) -> None:
    """Register a seal and issue its SM2 key (kept in the data directory)."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.trust.seals import service as seals

    settings = get_settings()
    start, end = seals.valid_window(days)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            seal = seals.create_seal(
                db,
                settings.data_dir,
                code=code,
                name=name,
                department=department,
                valid_from=start,
                valid_to=end,
                actor=cli_actor(),
            )
            key_id, valid_to = seal.key_id, seals.iso(seal.valid_to)
    except Problem as exc:
        console.print(f"[red]{_problem_text(exc)}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(
        f"[green]{escape(f'seal {code} created, key {key_id[:16]}, valid to {valid_to}')}[/green]"
    )


def _problem_text(exc: Problem) -> str:
    """The refusal in one line, escaped for Rich (a code typed as ``[/red]`` is only shown)."""
    reason = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors) or "-"
    return escape(f"{exc.detail or exc.type.title_en}: {reason}")


@seal_app.command("sign")
def seal_sign(
    code: Annotated[str, typer.Argument(help="the seal's code")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="document to seal")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="envelope file (default FILE.seal.json)")
    ] = None,
    signer: Annotated[str | None, typer.Option(help="who seals (default cli:<user>)")] = None,
) -> None:
    """Seal FILE with seal CODE; write the signature envelope as JSON."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.trust.seals import service as seals

    settings = get_settings()
    target = output or file.with_name(file.name + ".seal.json")
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            if seals.get_seal(db, code) is None:
                known = [seal.code for seal in seals.list_seals(db)]
                console.print(f"[red]{unknown_name('印章', 'seal', code, known)}[/red]")
                raise typer.Exit(1)
            envelope = seals.sign_document(
                db, settings.data_dir, code, file.read_bytes(), signer=signer or cli_actor()
            )
    except Problem as exc:
        console.print(f"[red]{_problem_text(exc)}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    target.write_text(json.dumps(envelope, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"[green]{escape(f'sealed {file} → {target}')}[/green]")


@seal_app.command("verify")
def seal_verify(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the document")],
    sig: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="its envelope")],
) -> None:
    """Verify offline from the two files alone (no database). Exit 0 if valid, 1 if not."""
    from shuhui.trust.seals import service as seals

    verdict = seals.verify_envelope(sig.read_bytes(), file.read_bytes())
    if verdict.valid and verdict.seal is not None:
        seal = verdict.seal
        typer.echo(
            f"valid: {seal['name']} ({seal['code']}, {seal['department']}), "
            f"signed by {verdict.signer} at {verdict.signed_at}"
        )
        return
    typer.echo(f"invalid: {verdict.reason}")
    raise typer.Exit(1)
