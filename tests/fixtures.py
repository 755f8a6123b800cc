"""The fixtures every test directory shares, registered by ``tests/conftest.py``: a database per
test (SQLite, and PostgreSQL too when ``SHUHUI_TEST_POSTGRES_URL`` is set), the settings and
app over it, clients logged in through the login form, and the small synthetic city ``CITY`` in
the app's data core.

What is slow to make is made once per session (per xdist worker) as a template, and each test
gets a copy: the migrated database, without and with the demo accounts (hashing their passwords
is deliberately slow), the city's data core files (``build_city``), and the database with that
city registered in the catalog (``sync_datacore``). A copy holds what the fixture used to make
for each test; only the times recorded in it are those of the template's making.

Which database a test gets is decided by the fixtures it asks for, directly or through others:
``synced_city_app`` wants the catalogued city, ``app`` the demo accounts, ``migrated`` the
schema, and a test asking for ``database_url`` alone an empty database.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Any

import anyio
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session
from xdist.remote import Producer
from xdist.scheduler import LoadGroupScheduling
from xdist.scheduler.protocol import Scheduling

from shuhui.catalog import service as catalog_service
from shuhui.core.content import DEFAULT_DIR as DEFAULT_CONTENT_DIR
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.migrate import upgrade
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city
from shuhui.trust.identity import bindings
from shuhui.trust.identity import service as identity_service
from shuhui.trust.identity.demo import DEMO_PASSWORD, demo_accounts, ensure_demo_accounts
from shuhui.trust.identity.models import User
from shuhui.trust.identity.schemas import UserCreate

# The platform hashes passwords with argon2id at about 0.1 s a hash, on purpose; the suite logs
# in some thousands of times and checks who may log in, not the work factor (which
# tests/trust/test_passwords.py holds to the default). The cheapest argon2id here saves minutes.
identity_service.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _share_route_analysis_between_apps() -> None:
    """Each test makes an app, and FastAPI analyses each route's signature (its dependencies,
    parameters and body) anew per app, on the route's first request: about 2 ms a route, and
    a test's few requests walk past hundreds of routes (tests/approval/test_desk_pages.py:
    18 s, 10.5 s with this; 6 % of the whole suite). The
    analysis depends only on the path, the endpoint and the router's dependencies, so it is
    made once per process here and shared by the apps of the tests (a server makes one app,
    and pays it once). The endpoints' overrides are still the app's own: they are looked up
    at each request."""
    name = "_build_dependant_with_parameterless_dependencies"
    analyse = getattr(fastapi_routing, name)  # AttributeError: FastAPI moved it; drop this
    made: dict[tuple[Any, ...], Any] = {}

    def shared(*, path: str, call: Callable[..., Any], dependencies: Any) -> Any:
        key = (
            path,
            call,
            tuple(
                (type(d), d.dependency, d.use_cache, d.scope, d.max_concurrency)
                for d in dependencies
            ),
        )
        if key not in made:
            made[key] = analyse(path=path, call=call, dependencies=dependencies)
        return made[key]

    setattr(fastapi_routing, name, shared)

    # Likewise each route's response model, made a pydantic field per app.
    field = fastapi_routing.create_model_field
    fields: dict[tuple[Any, ...], Any] = {}

    def shared_field(*, name: str, type_: Any, mode: Any = "validation") -> Any:
        key = (name, type_, mode)
        try:
            hash(key)
        except TypeError:  # a type that cannot be a key: made anew
            return field(name=name, type_=type_, mode=mode)
        if key not in fields:
            fields[key] = field(name=name, type_=type_, mode=mode)
        return fields[key]

    fastapi_routing.create_model_field = shared_field


_share_route_analysis_between_apps()

POSTGRES_URL = os.environ.get("SHUHUI_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]

# The small city of the catalog, channel and programs tests.
CITY = CityConfig(residents=1_500, seed=7, chunk=1_500, infrastructure_scale=0.05)
# The demo accounts of the repository's city, as the test apps create them.
DEMO_ACCOUNTS = demo_accounts(DEFAULT_CONTENT_DIR / "qingdao")
# The ledger entries creating them writes: each account's creation, and for each account the
# content gives an ID, the binding's request (the demo admin) and approval (the identity reviewer).
DEMO_ENTRIES = len(DEMO_ACCOUNTS) + 2 * sum(
    1 for a in DEMO_ACCOUNTS if a.citizen_id or a.credit_code
)
# The folders of a data directory that build_city writes.
CITY_FOLDERS = ("datacore", "truth")


class Stage(StrEnum):
    """What a test's database holds when the test gets it; each stage adds to the one before."""

    EMPTY = "empty"
    MIGRATED = "migrated"
    DEMO = "demo"
    SYNCED = "synced"


# The fixture that wants each stage, latest stage first.
STAGE_OF_FIXTURE = (
    ("synced_city_app", Stage.SYNCED),
    ("app", Stage.DEMO),
    ("migrated", Stage.MIGRATED),
)


def stage_for(fixturenames: list[str]) -> Stage:
    for name, stage in STAGE_OF_FIXTURE:
        if name in fixturenames:
            return stage
    return Stage.EMPTY


def make_settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret",
        cookie_secure=False,  # TestClient speaks plain http to "testserver"
        log_level="INFO",
    )


# --- the steps from one stage to the next, on a database URL ---------------------------------


def _add_demo_accounts(url: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            ensure_demo_accounts(db, DEMO_ACCOUNTS)
    finally:
        engine.dispose()


def _register_city(url: str, city: Path) -> None:
    """What the catalog fixtures did on the database after building the city: every table
    registered, without the quality assessment."""
    settings = make_settings(city, url)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as db:
            catalog_service.sync_datacore(
                db,
                DataCore.from_settings(settings),
                catalog_service.city_catalog(settings.city_content),
                actor="test",
                assess_quality=False,
            )
    finally:
        engine.dispose()


def _step(stage: Stage, city: Callable[[], Path]) -> Callable[[str], None]:
    if stage is Stage.MIGRATED:
        return upgrade
    if stage is Stage.DEMO:
        return _add_demo_accounts
    if stage is Stage.SYNCED:
        return lambda url: _register_city(url, city())
    raise ValueError(stage)


STAGES = list(Stage)


# --- templates --------------------------------------------------------------------------------


class SqliteTemplates:
    """One database file per stage, made on first use; a test's database is a copy."""

    def __init__(self, folder: Path, city: Callable[[], Path]) -> None:
        self.folder = folder
        self.city = city
        self.files: dict[Stage, Path] = {}

    def file(self, stage: Stage) -> Path:
        if stage not in self.files:
            path = self.folder / f"{stage}.db"
            previous = STAGES[STAGES.index(stage) - 1]
            if previous is not Stage.EMPTY:
                shutil.copy(self.file(previous), path)
            _step(stage, self.city)(f"sqlite:///{path}")
            # Into the one file, so that copying the file copies everything (the engines are
            # gone, but a WAL left behind would hold what was written last).
            with sqlite3.connect(path) as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.close()
            self.files[stage] = path
        return self.files[stage]

    def copy(self, stage: Stage, path: Path) -> None:
        if stage is not Stage.EMPTY:
            shutil.copy(self.file(stage), path)


# The names PostgresTemplates gives: t_<pid>_<token>_<id> and tpl_<pid>_<token>_<stage>.
LEFTOVER = re.compile(r"^(?:t|tpl)_(?P<pid>\d+)_[0-9a-f]{8}_[0-9a-z]+$")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresTemplates:
    """One template database per stage, made on first use; a test's database is a
    ``CREATE DATABASE … TEMPLATE`` of it, dropped after the test by a background thread (a drop
    waits a second for a checkpoint, which the next test need not wait for)."""

    def __init__(self, server_url: str, city: Callable[[], Path]) -> None:
        self.server_url = server_url
        self.city = city
        # Names of this session's own, so that runs side by side on one server never meet; the
        # process ID in them tells whose run has gone (see _drop_leftovers).
        self.token = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.admin: Engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self._drop_leftovers()
        self.templates: dict[Stage, str] = {}
        self.drops: queue.Queue[str | None] = queue.Queue()
        self.dropper = threading.Thread(target=self._drop_all, name="drop-databases", daemon=True)
        self.dropper.start()

    def url(self, database: str) -> str:
        # A commit does not wait for its WAL to reach the disk (a crash loses the last commits,
        # never consistency): on this VM's disk a flush is ~6 ms, and a test commits many times.
        url = make_url(self.server_url).set(database=database)
        url = url.update_query_dict({"options": "-c synchronous_commit=off"})
        return url.render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None) -> None:
        source = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{source}'))

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _drop_leftovers(self) -> None:
        """Drops the databases that runs killed on this machine left behind (a run ended any
        other way drops its own): those named after a process that is no longer running."""
        if make_url(self.server_url).host not in (None, "", "localhost", "127.0.0.1", "::1"):
            return
        with self.admin.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database")).scalars().all()
        for name in names:
            found = LEFTOVER.match(name)
            if found and not _running(int(found["pid"])):
                self._drop(name)

    def _drop_all(self) -> None:
        while (name := self.drops.get()) is not None:
            self._drop(name)

    def template(self, stage: Stage) -> str | None:
        if stage is Stage.EMPTY:
            return None
        if stage not in self.templates:
            name = f"tpl_{self.token}_{stage}"
            self._create(name, self.template(STAGES[STAGES.index(stage) - 1]))
            self.templates[stage] = name
            _step(stage, self.city)(self.url(name))
        return self.templates[stage]

    def create(self, stage: Stage) -> str:
        name = f"t_{self.token}_{uuid.uuid4().hex[:10]}"
        self._create(name, self.template(stage))
        return name

    def drop_later(self, name: str) -> None:
        self.drops.put(name)

    def close(self) -> None:
        self.drops.put(None)
        self.dropper.join()
        for name in self.templates.values():
            self._drop(name)
        self.admin.dispose()


class Templates:
    """This session's templates: the city's data core folders, and the databases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._city: Path | None = None
        self.sqlite = SqliteTemplates(folder / "sqlite", self.city)
        self._postgres: PostgresTemplates | None = None

    def city(self) -> Path:
        """A data directory holding ``CITY`` as ``build_city`` left it."""
        if self._city is None:
            path = self.folder / "city"
            build_city(DataCore(path / "datacore", path / "truth"), CITY, show_progress=False)
            self._city = path
        return self._city

    def postgres(self) -> PostgresTemplates:
        if self._postgres is None:
            assert POSTGRES_URL is not None
            self._postgres = PostgresTemplates(POSTGRES_URL, self.city)
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()


def copy_city(template: Path, data_dir: Path) -> None:
    """Copies the city's data core into a data directory. Parquet files are hard-linked: a
    published file is never written again (a new version is new files, storage.py), and
    removing a link leaves the template's. Everything else is copied, since it is replaced or
    locked (catalog.json, catalog.lock)."""

    def link_or_copy(src: str, dst: str) -> None:
        if src.endswith(".parquet"):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    for folder in CITY_FOLDERS:
        shutil.copytree(
            template / folder, data_dir / folder, copy_function=link_or_copy, dirs_exist_ok=True
        )


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    (made.folder / "sqlite").mkdir()
    yield made
    made.close()


# --- database, settings, app ------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, templates: Templates
) -> Iterator[str]:
    """A database of the test's own, at the stage its fixtures want (see the module's
    docstring): a SQLite file, or a PostgreSQL database dropped after the test."""
    stage = stage_for(request.fixturenames)
    if request.param == "sqlite":
        path = tmp_path / "shuhui.db"
        templates.sqlite.copy(stage, path)
        yield f"sqlite:///{path}"
        return
    postgres = templates.postgres()
    name = postgres.create(stage)
    try:
        yield postgres.url(name)
    finally:
        postgres.drop_later(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url)


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    """The settings over a migrated database (migrated when ``database_url`` copied it)."""
    settings.ensure_data_dir()
    return settings


@pytest.fixture
def app(migrated: Settings) -> Iterator[FastAPI]:
    """The app over a migrated database holding the demo accounts."""
    from shuhui.web.app import create_app

    application = create_app(migrated)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# --- the served demo -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prepared_demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo as ``shuhui demo`` leaves it, made once for the whole run — under xdist in the
    folder the workers share, begun as the run starts (:func:`demo_begun`) — and
    copied for each server of the browser tests (the session's, and a module's own where its
    tests must not meet the others') and for tests/test_cli.py's second run; nothing serves
    or changes it."""
    from tests.browser.server import prepare_demo, prepare_shared_demo

    if worker_id == "master":
        made = tmp_path_factory.mktemp("shuhui-demo") / "var"
        prepare_demo(made)
        return made
    return prepare_shared_demo(tmp_path_factory.getbasetemp().parent)


# --- the small city -----------------------------------------------------------------------------


@pytest.fixture
def city_app(app: FastAPI, templates: Templates) -> FastAPI:
    """The app, its data core holding ``CITY`` as ``build_city`` left it. The data core reads
    its folders afresh on each call (it keeps only manifests, by version), so files put in
    place after the app was made are seen."""
    copy_city(templates.city(), app.state.settings.data_dir)
    return app


@pytest.fixture
def synced_city_app(city_app: FastAPI) -> FastAPI:
    """``city_app`` with every table of the city registered in the catalog (``sync_datacore``
    without the quality assessment): its database was copied so from the template."""
    return city_app


@pytest.fixture
def catalogued(synced_city_app: FastAPI) -> FastAPI:
    """The app, its data core holding a small city, every table registered in the catalog and
    related by keywords (the catalog's tests and the data assets' share it)."""
    app = synced_city_app
    with transaction(app.state.session_factory) as db:
        catalog_service.related_by_keywords(db)
    return app


# --- logging in ---------------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = CSRF_INPUT.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Logs in through the login form, as a browser would; returns the CSRF token to post with
    (the login session's: the login page's own token is dead once logged in)."""
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    token = response.headers["x-csrf-token"]
    client.headers["x-csrf-token"] = token
    return token


def add_account(db: Session, data: UserCreate) -> User:
    """An account as its holder would have it: created by the demo admin, any citizen ID or
    credit code bound the only way there is (the demo admin requests, the demo identity
    reviewer approves), and its password counted as the holder's own, so it may sign."""
    user = identity_service.create_user(db, data, actor="admin", password_by_holder=True)
    pending = bindings.pending_of(db, user)
    if pending is not None:
        reviewer = identity_service.get_user_by_username(db, "registrar")
        assert reviewer is not None, "the demo identity reviewer is missing"
        bindings.approve(db, pending, approver=reviewer)
    return user


def as_user(app: FastAPI, username: str) -> TestClient:
    """A client of its own, logged in as ``username``."""
    client = TestClient(app, raise_server_exceptions=False)
    login(client, username)
    return client


# --- which backends -----------------------------------------------------------------------------


# Every database test runs on SQLite; those marked ``both_backends`` run on PostgreSQL too (all
# of them when SHUHUI_TEST_POSTGRES=all, as before a release).
POSTGRES_FOR_ALL = os.environ.get("SHUHUI_TEST_POSTGRES", "") == "all"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leaves out the PostgreSQL half of the tests not marked ``both_backends``. The marked
    ones are where the two databases differ: locking and concurrent writers, upserts and
    counters, the ledger's chain, migrations, the services' own reads and writes. Pages, the
    API's HTTP, what a command prints and the domain rules above the services run on SQLite
    only: run on PostgreSQL too, they doubled the suite's time (CI's limit) and met nothing
    the marked tests do not. Then puts the tests in the run's order (:func:`_run_order`)."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        spec = getattr(item, "callspec", None)
        on_postgres = spec is not None and spec.params.get("database_url") == "postgres"
        marked = POSTGRES_FOR_ALL or item.get_closest_marker("both_backends")
        (dropped if on_postgres and not marked else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # The run's order (xdist hands out groups in it, see FolderGroupScheduling): the two
    # grouped modules first (their JVM and servers start while the demo is made), then the
    # browser groups, then every other test, one at a time, which evens out the workers' ends.
    items[:] = sorted(kept, key=_run_order)


def _run_order(item: pytest.Item) -> int:
    nodeid = item.nodeid
    if nodeid.split("::", 1)[0] in GROUPED_MODULES:
        return 0
    return 1 if nodeid.startswith(BROWSER) else 2


def pytest_configure(config: pytest.Config) -> None:
    # xdist would put the groups with the most tests first; the order above is kept instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.fixture(scope="session", autouse=True)
def demo_begun(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> None:
    """On each xdist worker whose run holds browser tests: the served demo begins to be made
    with the worker's first test, beside the first tests, rather than when the first browser
    test asks for it (a minute of one worker waiting, on this two-core machine). One of the
    workers makes it."""
    if worker_id == "master":
        return
    if not any(item.nodeid.startswith(BROWSER) for item in request.session.items):
        return
    from tests.browser.server import start_preparing_shared_demo

    start_preparing_shared_demo(tmp_path_factory.getbasetemp().parent)


# --- xdist ------------------------------------------------------------------------------------

# The browser tests share session fixtures that cost far more than a test (a served demo and a
# Chromium): with ``--dist loadgroup`` each group goes whole to one worker, which makes them
# once; every other test goes wherever a worker is free. Two groups of about equal time, so
# that the two workers of a 2-core machine share the browser tests instead of one taking all
# (the second served demo is a copy, not a second ``shuhui demo``).
BROWSER = "tests/browser/"
BROWSER_SECOND_GROUP = (
    "test_layout.py",
    "test_asset_pages.py",
    "test_certification_flow.py",
    "test_channel_pages.py",
)


# Other modules whose tests share something far dearer than a test, kept on one worker the same
# way: two served nodes over one PostgreSQL (its ``xdist_group`` mark says so too); Spark's
# session; the pages the OCR engine reads, once per process (``ocr.read`` remembers what it
# read: spread over both workers, the same documents were read twice, 28 of 110 CPU-seconds).
GROUPED_MODULES = {
    "tests/test_two_nodes.py": "two_nodes",
    "tests/rules/test_spark.py": "spark",  # one JVM: Spark's local[2] session
    "tests/approval/test_precheck.py": "ocr",
    "tests/approval/test_precheck_rotation.py": "ocr",
}


def browser_group(nodeid: str) -> str | None:
    grouped = GROUPED_MODULES.get(nodeid.split("::", 1)[0])
    if grouped is not None:
        return grouped
    if not nodeid.startswith(BROWSER):
        return None
    module = nodeid[len(BROWSER) :].split("::", 1)[0]
    return "browser-2" if module in BROWSER_SECOND_GROUP else "browser-1"


class FolderGroupScheduling(LoadGroupScheduling):
    """xdist's loadgroup, grouping the browser tests here: the ``xdist_group`` mark it reads is
    lost on pytest 9.2, whose node IDs xdist 3.8 can no longer suffix (pytest-xdist issue
    1386)."""

    def _split_scope(self, nodeid: str) -> str:
        return browser_group(nodeid) or super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> Scheduling | None:
    if config.getvalue("dist") == "loadgroup":
        return FolderGroupScheduling(config, log)
    return None


def run_apart(func: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Runs an async function to its end on an event loop of its own thread: the browser tests'
    Playwright keeps a loop running in the test thread of their worker, so ``anyio.run`` there
    would refuse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, func, *args).result()


# --- the machine's speed, beside the suite's time ---------------------------------------------


def _speed_index() -> float:
    """Seconds for 10 million Python additions: docs/benchmarks.md's speed index, so that the
    suite's time can be read against how fast the (shared) machine was at the moment."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    terminalreporter.write_line(
        f"machine speed index after the run: {_speed_index():.2f} s "
        "(10M Python additions; about 0.3 s when this VM is quiet)"
    )
