"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

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


def test_day_rollups_become_qingdaos_days(settings: Settings) -> None:
    """0027: the days the hour roll-ups cover are made again from them, by local day; an older
    day keeps its figures under its local date."""
    url = settings.sqlalchemy_url
    upgrade(url, "0026")
    hour, day = 3_600_000_000, 86_400_000_000
    midnight_utc = day * 20_000  # 2024-10-04 00:00 UTC, 08:00 in Qingdao
    old = midnight_utc - 30 * day
    hours = [  # 15:00 and 16:00 UTC: 23:00 on the 4th and 00:00 on the 5th in Qingdao
        (midnight_utc + 15 * hour, 2, 3.0, 1.0, 2.0, midnight_utc + 15 * hour + 5, 2.0),
        (midnight_utc + 16 * hour, 1, 5.0, 5.0, 5.0, midnight_utc + 16 * hour + 9, 5.0),
        (midnight_utc + 17 * hour, 1, 7.0, 7.0, 7.0, midnight_utc + 17 * hour + 1, 7.0),
    ]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            row = "(:d, :m, :b, :n, :t, :lo, :hi, :la, :lv)"
            names = ("b", "n", "t", "lo", "hi", "la", "lv")
            for table, rows in (
                ("monitor_rollup_hour", hours),
                (
                    "monitor_rollup_day",
                    [
                        (old, 4, 8.0, 1.0, 3.0, old + 7, 3.0),
                        (midnight_utc, 3, 10.0, 1.0, 7.0, 0, 7.0),
                    ],
                ),
            ):
                for values in rows:
                    conn.execute(
                        text(f"INSERT INTO {table} VALUES {row}"),
                        {"d": "D1", "m": "smoke", **dict(zip(names, values, strict=True))},
                    )
        upgrade(url)
        with engine.connect() as conn:
            days = conn.execute(
                text(
                    "SELECT bucket, n, total, low, high, last_at, last_value"
                    " FROM monitor_rollup_day ORDER BY bucket"
                )
            ).all()
    finally:
        engine.dispose()
    eight = 8 * hour
    assert [tuple(d) for d in days] == [
        (old - eight, 4, 8.0, 1.0, 3.0, old + 7, 3.0),  # beyond the hours: relabelled
        # The 4th (local) from its 16:00 UTC start: only its 23:00 hour is left to count
        # from, so it is not made again; the 5th is, from its two hours.
        (midnight_utc - eight, 3, 10.0, 1.0, 7.0, 0, 7.0),
        (midnight_utc + 16 * hour, 2, 12.0, 5.0, 7.0, midnight_utc + 17 * hour + 1, 7.0),
    ]
