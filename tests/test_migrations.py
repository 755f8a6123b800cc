"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from shuhui.core.db import make_engine
from shuhui.core.migrate import current_revision, head_revision, upgrade
from shuhui.core.settings import Settings
from shuhui.models import metadata
from shuhui.web.app import create_app

pytestmark = pytest.mark.both_backends


def test_models_and_migrations_agree(migrated: Settings) -> None:
    engine = make_engine(migrated.sqlalchemy_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_upgrade_is_idempotent_and_reaches_head(migrated: Settings) -> None:
    upgrade(migrated.sqlalchemy_url)  # a second run changes nothing
    engine = make_engine(migrated.sqlalchemy_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "user_roles", "login_sessions", "alembic_version"} <= tables


def test_downgrade_to_base_and_back(migrated: Settings) -> None:
    upgrade(migrated.sqlalchemy_url, "head")
    from alembic import command

    from shuhui.core.migrate import alembic_config

    command.downgrade(alembic_config(migrated.sqlalchemy_url), "base")
    engine = make_engine(migrated.sqlalchemy_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(migrated.sqlalchemy_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_readyz_reports_an_unmigrated_database(settings: Settings) -> None:
    settings.ensure_data_dir()
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/readyz")
    app.state.engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["type"] == "/problems/not-ready"
    assert body["checks"]["migrations"].startswith("at None")
