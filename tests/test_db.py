"""The operational database's engine: WAL checkpoints off the commits in a served process."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from shuhui.core.db import checkpoint_in_background, make_engine


def test_a_served_sqlite_database_is_checkpointed_by_a_thread_not_by_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "op.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as con:
        con.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    thread = checkpoint_in_background(engine, every=0.2)
    assert thread is not None and thread.is_alive()
    with engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        # Well past SQLite's own threshold (1,000 pages): a commit would have checkpointed.
        for _ in range(30):
            con.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 2000}] * 100)
            con.commit()
    # The rows reach the database file only through a checkpoint: the commits made none.
    deadline = time.monotonic() + 15
    while path.stat().st_size < 5_000_000 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.stat().st_size >= 5_000_000
    with engine.connect() as con:
        assert con.execute(text("SELECT count(*) FROM t")).scalar() == 3000
    engine.dispose()


def test_another_database_is_left_alone() -> None:
    engine = make_engine("sqlite://")  # in memory: no log to checkpoint
    assert checkpoint_in_background(engine) is None
