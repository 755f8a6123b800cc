"""Fixtures: an app per test on a fresh database — SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from shuhui.catalog import service as catalog_service
from shuhui.core.content import DEFAULT_DIR as DEFAULT_CONTENT_DIR
from shuhui.core.db import transaction
from shuhui.core.migrate import upgrade
from shuhui.core.settings import Settings
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city
from shuhui.trust.identity.demo import DEMO_PASSWORD, demo_accounts

# The demo accounts of the repository's city, as the test apps create them.
DEMO_ACCOUNTS = demo_accounts(DEFAULT_CONTENT_DIR / "qingdao")

POSTGRES_URL = os.environ.get("SHUHUI_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own that is dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shuhui.db'}"
        return
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret",
        cookie_secure=False,  # TestClient speaks plain http to "testserver"
        log_level="INFO",
    )


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    settings.ensure_data_dir()
    upgrade(settings.sqlalchemy_url)
    return settings


@pytest.fixture
def app(migrated: Settings) -> Iterator[FastAPI]:
    from shuhui.core.db import transaction
    from shuhui.trust.identity.demo import ensure_demo_accounts
    from shuhui.web.app import create_app

    application = create_app(migrated)
    with transaction(application.state.session_factory) as db:
        ensure_demo_accounts(db, demo_accounts(migrated.city_content))
    yield application
    application.state.engine.dispose()


CATALOGUED_CITY = CityConfig(residents=1_500, seed=7, chunk=1_500)


@pytest.fixture
def catalogued(app: FastAPI) -> FastAPI:
    """The app, its data core holding a small city, every table registered in the catalog (the
    catalog's tests and the data assets' share it)."""
    core = app.state.datacore
    build_city(core, CATALOGUED_CITY, show_progress=False)
    with transaction(app.state.session_factory) as db:
        catalog_service.sync_datacore(
            db, core, app.state.city_catalog, actor="test", assess_quality=False
        )
        catalog_service.related_by_keywords(db)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = CSRF_INPUT.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Logs in through the login form, as a browser would; returns the CSRF token to post with."""
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    client.headers["x-csrf-token"] = token
    return token
