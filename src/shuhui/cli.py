"""The ``shuhui`` command: serve, migrate, prepare the demo, check identifiers.

Each command imports what it needs when it runs: the sub-apps' modules import Typer and Rich
only, so ``shuhui --help`` and the light commands start without loading SQLAlchemy, DuckDB,
Arrow or FastAPI (tests/test_cli_start.py holds it; bench/bench_cli_start.py measures it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

import shuhui
from shuhui.approval import cli as approval_cli
from shuhui.catalog import cli as catalog_cli
from shuhui.core import backup_cli
from shuhui.core.terminal import escape, name_column, new_console, say
from shuhui.datacore import cli as data_cli
from shuhui.enterprise import cli as enterprise_cli
from shuhui.hrss import cli as hrss_cli
from shuhui.insight import cli as insight_cli
from shuhui.jobs import cli as jobs_cli
from shuhui.monitor import cli as monitor_cli
from shuhui.programs import cli as programs_cli
from shuhui.rules import cli as rules_cli
from shuhui.synth import cli as synth_cli
from shuhui.trust.identity import cli as users_cli
from shuhui.trust.ledger import cli as audit_cli
from shuhui.trust.seals import cli as seal_cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from shuhui.core.settings import Settings
    from shuhui.datacore.schema import TableSpec
    from shuhui.datacore.store import DataCore, LoadResult
    from shuhui.demo.city import Prepared
    from shuhui.jobs.kinds import JobKind
    from shuhui.trust.identity.demo import DemoAccount

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
app.add_typer(seal_cli.seal_app, name="seal")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(backup_cli.app, name="backup")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(approval_cli.app, name="approval")
app.add_typer(hrss_cli.app, name="hrss")
app.add_typer(enterprise_cli.app, name="enterprise")
app.add_typer(programs_cli.app, name="programs")
app.add_typer(monitor_cli.app, name="monitor")
app.add_typer(insight_cli.app, name="insight")
app.add_typer(users_cli.app, name="users", callback=lambda: _watch_passwords())


def _job_kinds(settings: Settings, factory: sessionmaker[Session]) -> Iterable[JobKind[Any]]:
    """The kinds a worker runs: the domains', gathered where the app factory gathers them."""
    from shuhui.web.jobs import worker_kinds

    return worker_kinds(settings, factory)


app.add_typer(jobs_cli.make_app(_job_kinds), name="jobs")


class CitySpecs(Mapping[str, "TableSpec"]):
    """The city's data standard by table name, read when a command first asks for a spec (the
    standard's specs are Arrow schemas: ``--help`` and ``id check`` never need them)."""

    @cached_property
    def _specs(self) -> dict[str, TableSpec]:
        from shuhui.standard import TABLES

        return {spec.name: spec for spec in TABLES}

    def __getitem__(self, name: str) -> TableSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


@app.callback()
def _standard(ctx: typer.Context) -> None:
    # The subcommands that need a spec for a table not loaded yet (``data load``, ``rules …``)
    # read the city's data standard from the context object, unless the caller passed its own.
    if ctx.obj is None:
        ctx.obj = data_cli.CommandContext(CitySpecs(), LEDGER)
    # A command that recorded into the ledger signs a checkpoint over it as it ends.
    ctx.call_on_close(_checkpoint_ledger)


def _checkpoint_ledger() -> None:
    setup = sys.modules.get("shuhui.trust.ledger.setup")  # not imported: nothing was readied
    if setup is not None:
        setup.checkpoint_readied()


def _watch_passwords() -> None:
    """Before a ``shuhui users`` command: a password the operator sets revokes the person's
    platform-held signing key (``trust.authorisations.keys`` registers that with identity when
    loaded, which nothing else in these commands would do; identity cannot import it)."""
    import shuhui.trust.authorisations.keys  # noqa: F401


console = new_console(stderr=True)
cli_actor = audit_cli.cli_actor  # "cli:<login name>": who acts when a person runs a command


def _ready_database(settings: Settings) -> None:
    """``trust.ledger.setup.ready_database`` for a person at the command line: a ledger already
    using another hash is said in red, not thrown."""
    from shuhui.trust.ledger.setup import ready_database

    try:
        ready_database(settings, cli_actor())
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None


class CliLedger:
    """Records the data loads of ``data load``, ``synth`` and ``demo`` in the audit ledger, and
    registers the new versions in the catalog; before a load, recovers what a killed one left
    (``catalog.publishing``)."""

    def prepare(self) -> None:
        from shuhui.core.settings import get_settings

        settings = get_settings()
        _ready_database(settings)
        _recover(settings)

    def record(
        self,
        core: DataCore,
        loaded: Sequence[tuple[TableSpec, LoadResult]],
        source: Mapping[str, str | int],
    ) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from shuhui.catalog.publishing import record_loaded
        from shuhui.core.crash import crashpoint
        from shuhui.core.db import make_engine, make_session_factory, transaction
        from shuhui.core.settings import get_settings

        engine = make_engine(get_settings().sqlalchemy_url)
        try:
            with transaction(make_session_factory(engine)) as db:
                record_loaded(db, cli_actor(), core, loaded, source)
        except SQLAlchemyError as exc:
            names = ", ".join(f"{spec.name} v{result.version}" for spec, result in loaded)
            console.print(
                "[red]"
                + escape(
                    f"published {names}, but recording it in the audit ledger failed: "
                    f"{exc.__class__.__name__}: {exc}"
                )
                + "[/red]"
            )
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        crashpoint("publish.after_ledger")

    def follow(self, core: DataCore, loaded: Sequence[tuple[TableSpec, LoadResult]]) -> None:
        from shuhui.core.settings import get_settings

        # The catalog follows the data core: each new version is registered there and its
        # quality assessed, so the catalog's figures never describe a version that is gone.
        if any(not spec.truth for spec, _ in loaded):
            synced = catalog_cli.sync_catalog(get_settings(), core)
            changed = synced.registered + synced.updated
            if changed:
                console.print(f"[green]catalog: {escape(', '.join(changed))} registered[/green]")


def _recover(settings: Settings) -> None:
    """What a killed load left is recovered before anything new is loaded: its versions
    recorded in the ledger, the catalog brought to them, its staging folders removed."""
    from shuhui.catalog import service
    from shuhui.catalog.publishing import recover
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.datacore.store import DataCore

    engine = make_engine(settings.sqlalchemy_url)
    try:
        done = recover(
            make_session_factory(engine),
            DataCore.from_settings(settings),
            service.city_catalog(settings.city_content),
        )
    finally:
        engine.dispose()
    if done.recorded:
        console.print(
            "[yellow]"
            + escape(f"recovered into the audit ledger: {', '.join(done.recorded)}")
            + "[/yellow]"
        )
    if done.synced:
        console.print(
            f"[yellow]catalog brought up to date: {escape(', '.join(done.synced))}[/yellow]"
        )
    for problem in done.disagreements:
        console.print(f"[red]{escape(problem)}[/red]")


LEDGER = CliLedger()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(shuhui.__version__)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the schema migrations (default: to the newest), and issue the platform key."""
    from shuhui.core.db import make_engine
    from shuhui.core.migrate import current_revision, upgrade
    from shuhui.core.settings import get_settings

    settings = get_settings()
    if revision == "head":
        _ready_database(settings)
    else:
        settings.ensure_data_dir()
        upgrade(settings.sqlalchemy_url, revision)
    engine = make_engine(settings.sqlalchemy_url)
    console.print(f"[green]database at revision {current_revision(engine)}[/green]")
    engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the newest one available."""
    from shuhui.core.db import make_engine
    from shuhui.core.migrate import current_revision, head_revision
    from shuhui.core.settings import get_settings

    engine = make_engine(get_settings().sqlalchemy_url)
    typer.echo(json.dumps({"current": current_revision(engine), "head": head_revision()}))
    engine.dispose()


@id_app.command("check")
def id_check(
    values: Annotated[list[str], typer.Argument(help="values to check, or - to read stdin")],
) -> None:
    """Check identifiers; one JSON object per value. Exit 0 when all are valid, 1 otherwise."""
    from shuhui.core import ids

    if values == ["-"]:
        values = [line.strip() for line in sys.stdin if line.strip()]
    all_valid = True
    for value in values:
        result = ids.check(value)
        all_valid = all_valid and result.valid
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    raise typer.Exit(0 if all_valid and values else 1)


HostOption = Annotated[
    str | None, typer.Option(help="bind address (default SHUHUI_HOST or 127.0.0.1)")
]
PortOption = Annotated[
    int | None, typer.Option(min=1, max=65535, help="port (default SHUHUI_PORT or 8000)")
]


def _check_port(host: str, port: int) -> None:
    """Refuses to start on an address that cannot be listened on, with what to change.

    Binding as the server would (SO_REUSEADDR, as uvicorn does) before the app is made: the
    server found the port taken only after its workers' background threads were inside DuckDB,
    and the exit then aborted (``terminate called …``, status 134)."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            message = say(
                f"端口 {port} 已被占用。请用 --port 或环境变量 SHUHUI_PORT 换一个端口。",
                f"Port {port} is already in use. Choose another with --port or SHUHUI_PORT.",
            )
        elif exc.errno == errno.EACCES:
            message = say(
                f"没有权限监听端口 {port}（1024 以下的端口需要管理员权限）。"
                "请用 --port 或环境变量 SHUHUI_PORT 换一个端口。",
                f"No permission to listen on port {port} (ports below 1024 need root). "
                "Choose another with --port or SHUHUI_PORT.",
            )
        else:
            message = say(
                f"无法监听 {host}:{port}（{exc.strerror or exc}）。"
                "请检查 --host 或环境变量 SHUHUI_HOST。",
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}). "
                "Check --host or SHUHUI_HOST.",
            )
        console.print(f"[red]{escape(message)}[/red]")
        raise typer.Exit(1) from None


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve", help="start the web server when ready")
    ] = False,
    residents: Annotated[int, typer.Option(min=1, help="size of the demo city")] = 20_000,
    seed: Annotated[int, typer.Option(min=0, help="seed of the demo city")] = 2026,
    rebuild: Annotated[bool, typer.Option(help="rebuild the city even if one exists")] = False,
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Prepare the demo: migrate, create the demo accounts, build the demo city."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.demo import assets as demo_assets
    from shuhui.demo import channel as demo_channel
    from shuhui.demo import fundrisk as demo_fundrisk
    from shuhui.demo import monitor as demo_monitor
    from shuhui.synth.generate import CityConfig
    from shuhui.trust.identity.demo import DEMO_PASSWORD, demo_accounts, ensure_demo_accounts

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if serve_after:  # said now, not after the minutes the city takes to build
        _check_port(host, port)
    accounts = demo_accounts(settings.city_content)
    with console.status("迁移数据库 migrating the database…"):
        _ready_database(settings)
    _recover(settings)
    engine = make_engine(settings.sqlalchemy_url)
    with transaction(make_session_factory(engine)) as session:
        created = ensure_demo_accounts(session, accounts)
    engine.dispose()
    console.print(
        f"[green]demo accounts: {len(created)} created, "
        f"{len(accounts) - len(created)} already there[/green]"
    )

    core = DataCore.from_settings(settings)
    if rebuild or not core.tables():
        results = synth_cli.build_city(
            core, CityConfig(residents=residents, seed=seed), ledger=LEDGER
        )
        data = {n: r for n, r in results.items() if not n.startswith("truth_")}
        rows = sum(r.rows for r in data.values())
        console.print(
            f"[green]demo city: {len(data)} tables, {rows:,} rows "
            f"(+{len(results) - len(data)} ground-truth tables kept apart)[/green]"
        )
    else:
        console.print(f"[green]demo city already built: {len(core.tables())} tables[/green]")

    prepared = _prepare_demo_city(settings, core, accounts, rebind=rebuild)
    prepared |= _prepare_demo_certification(settings, core, accounts, rebind=rebuild)
    prepared |= _prepare_demo_approval(settings, core, accounts)
    # Today's detection run and a supervisor's first steps; alarms in different states.
    prepared |= _prepare_demo_part(
        settings, lambda db: demo_fundrisk.prepare(db, settings, core, accounts)
    )
    prepared |= _prepare_demo_part(
        settings, lambda db: demo_monitor.prepare(db, settings, core, accounts)
    )
    synced = catalog_cli.sync_catalog(settings, core)
    console.print(
        f"[green]catalog: {len(synced.registered) + len(synced.updated)} tables registered, "
        f"{len(synced.unchanged)} already there[/green]"
    )
    # After the catalog: the enterprise's hosted data joins it as the enterprise's own; the
    # registry's assets are catalogued datasets.
    prepared |= _prepare_demo_enterprise(settings, core, accounts)
    prepared |= _prepare_demo_part(settings, lambda db: demo_assets.prepare(db, settings, accounts))
    prepared |= _prepare_demo_part(
        settings, lambda db: demo_channel.prepare(db, settings, core, accounts)
    )

    base = f"http://{host}:{port}"
    names = _account_names(settings)
    table = Table(title="演示账户 Demo accounts")
    name_column(table, "username")
    for column in ("password", "name", "roles", "in the demo city"):
        # Folded, never cut: the name is whom the account logs in as.
        table.add_column(column, overflow="fold")
    for account in accounts:
        waiting = prepared.get(account.username)
        table.add_row(
            escape(account.username),
            DEMO_PASSWORD,
            escape(names.get(account.username, account.display_name)),
            escape(", ".join(account.roles)),
            escape(f"{waiting.member}：{waiting.waiting}" if waiting else ""),
        )
    console.print(table)
    console.print(
        escape(
            f"首页 Home: {base}/\n登录 Login: {base}/login\n接口文档 API docs: {base}/docs\n"
            f"数据目录 Data directory: {settings.data_dir}"
        )
    )
    if serve_after:
        # The monitoring wall live: a broker, a consumer and a gentle simulator beside the
        # server, stopped with it.
        with demo_monitor.live(settings):
            serve(host=host, port=port)


def _prepare_demo_enterprise(
    settings: Settings, core: DataCore, accounts: Sequence[DemoAccount]
) -> dict[str, Prepared]:
    """The enterprise platform in the demo (``shuhui.demo.enterprise``): the enterprise's needs,
    one closed to rate and one waiting at the commerce bureau; its orders hosted, the bank's
    application to use them waiting for its review."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.demo import enterprise

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            done = enterprise.prepare(session, settings, core, accounts)
        with transaction(make_session_factory(engine)) as session:
            hosted = enterprise.host_orders(session, settings, core, accounts)
    finally:
        engine.dispose()
    for p in (*done, *hosted):
        if p.changed:
            console.print(
                f"[green]demo {escape(p.username)}: {escape(p.member)}, {escape(p.waiting)}[/green]"
            )
    return {p.username: p for p in done}


def _prepare_demo_city(
    settings: Settings, core: DataCore, accounts: Sequence[DemoAccount], *, rebind: bool
) -> dict[str, Prepared]:
    """The demo accounts become members of the demo city with their flows started
    (``shuhui.demo``): the citizen and the enterprise with an offer waiting, the bank with a
    grant. Said in red, not thrown, when the city cannot give them that."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.demo import distress
    from shuhui.demo.city import prepare

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            done = prepare(session, settings, core, accounts, actor=cli_actor(), rebind=rebind)
            distress_done = distress.prepare(session, settings, core, accounts)
    except LookupError as exc:
        console.print(f"[red]demo city: {escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for p in done:
        if p.changed:
            console.print(
                f"[green]demo {escape(p.username)}: {escape(p.member)}, {escape(p.waiting)}[/green]"
            )
    if distress_done:
        console.print(f"[green]demo: {escape(distress_done)}[/green]")
    return {p.username: p for p in done}


def _prepare_demo_certification(
    settings: Settings, core: DataCore, accounts: Sequence[DemoAccount], *, rebind: bool
) -> dict[str, Prepared]:
    """Pension certification in the demo (``shuhui.demo.certification``): a cycle run weeks
    back by the 人社局 officer, the pensioner bound to a recipient waiting to certify
    themself, the street office's home visits."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.demo import certification

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with (
            console.status("养老金资格认证 running the demo's certification cycle…"),
            transaction(make_session_factory(engine)) as session,
        ):
            done = certification.prepare(
                session, settings, core, accounts, actor=cli_actor(), rebind=rebind
            )
    except LookupError as exc:
        console.print(f"[red]demo certification: {escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for p in done:
        if p.changed:
            console.print(
                f"[green]demo {escape(p.username)}: {escape(p.member)}, {escape(p.waiting)}[/green]"
            )
    return {p.username: p for p in done}


def _prepare_demo_approval(
    settings: Settings, core: DataCore, accounts: Sequence[DemoAccount]
) -> dict[str, Prepared]:
    """Smart approval in the demo (``shuhui.demo.approval``): a case history for the officers'
    workbenches and the metrics, the agent's mandate from the demo enterprise; then the
    history's e-licences written to the data core in one version, in a transaction of their
    own once the history's has committed. Says what waits for whom."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.demo import approval

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with (
            console.status("办件历史 making the approval case history…"),
            transaction(make_session_factory(engine)) as session,
        ):
            summary = approval.prepare(session, settings, core, accounts, actor=cli_actor())
        with transaction(make_session_factory(engine)) as session:
            published = approval.publish_licences(session, core, actor=cli_actor())
    except LookupError as exc:
        console.print(f"[red]demo approval: {escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if summary.made:
        states = "、".join(
            f"{approval.state_name(state)} {n}" for state, n in summary.states.most_common()
        )
        console.print(
            f"[green]demo approval: {summary.cases} cases over the past "
            f"{approval.WORKING_DAYS} working days ({escape(states)}); "
            f"{published} e-licences written to the data core[/green]"
        )
    if summary.counter:
        console.print(
            f"[green]demo approval: {summary.counter} applications filed at a window[/green]"
        )
    for p in summary.prepared:
        if p.changed:
            console.print(
                f"[green]demo {escape(p.username)}: {escape(p.member)}, {escape(p.waiting)}[/green]"
            )
    return {p.username: p for p in summary.prepared}


def _prepare_demo_part(
    settings: Settings, prepare: Callable[[Session], Sequence[Prepared]]
) -> dict[str, Prepared]:
    """One part of the demo that gives accounts work through a domain's services
    (``shuhui.demo.fundrisk``, ``.monitor``, ``.assets``, ``.channel``), in one transaction:
    what it prepared, each said as it is done."""
    from shuhui.core.db import make_engine, make_session_factory, transaction

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            done = list(prepare(session))
    finally:
        engine.dispose()
    for p in done:
        console.print(
            f"[green]demo {escape(p.username)}: {escape(p.member)}, {escape(p.waiting)}[/green]"
        )
    return {p.username: p for p in done}


def _account_names(settings: Settings) -> dict[str, str]:
    """The names the accounts bear now (a bound account bears its member's)."""
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.trust.identity.service import list_users

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            return {u.username: u.display_name for u in list_users(session)}
    finally:
        engine.dispose()


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="processes (default SHUHUI_WORKERS or 1)")
    ] = None,
) -> None:
    """Run the web server."""
    import uvicorn

    from shuhui.core.db import make_engine
    from shuhui.core.migrate import current_revision, head_revision
    from shuhui.core.settings import get_settings
    from shuhui.trust.ledger.keys import ensure_platform_key

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
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
    _check_port(host, port)
    # Normally `db upgrade` issued it already; a key file put in place by hand is recorded here.
    ensure_platform_key(settings, cli_actor())
    settings.signing_key()  # made here once, not raced for by the workers
    try:
        uvicorn.run(
            "shuhui.web.app:create_served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers or settings.workers,
            log_config=None,
            # Behind a reverse proxy (several nodes), the client's address is what the proxy
            # says in X-Forwarded-For, believed only from the proxies named: else every login
            # from everyone would count against one address (the throttle).
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips or None,
        )
    except SystemExit as exc:
        if not exc.code:
            raise
        # A start that failed anyway (the port taken between the check and the bind): the
        # app's background threads may be inside DuckDB, and finalising the interpreter under
        # them aborts. Leave at once, with uvicorn's error already logged.
        import logging
        import os

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 1)


if __name__ == "__main__":
    app()
