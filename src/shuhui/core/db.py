"""The operational database: SQLAlchemy 2 engine, sessions and the declarative base.

SQLite (WAL) is the embedded default; PostgreSQL is the production and CI server. Models use
portable types only, and a naming convention so Alembic migrations are identical on both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from shuhui.core.clock import as_utc

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while a CLI job writes; SQLite leaves foreign keys off.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # The audit ledger's indexes take random inserts: a 32 MiB page cache (allocated as used)
    # and checkpointing every ~40 MB of WAL instead of every 4 MB took appends from ~15,000 to
    # ~29,000 entries/s (bench/bench_ledger_db.py, docs/benchmarks.md).
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


SQLITE_POOL_SIZE = 48


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        # A pooled connection is kept for every thread of the server's thread pool (40): a new
        # SQLite connection reads the whole schema on its first statement (~0.9 ms here, where
        # a keyed read takes 10 µs), and the default pool (5 kept) opened and closed one for
        # most calls under load. Each connection's page cache grows only as it is used.
        in_memory = url.split("?")[0] in ("sqlite://", "sqlite:///:memory:")
        pool: dict[str, Any] = (
            {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        )
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def checkpoint_in_background(engine: Engine, every: float = 1.0) -> threading.Thread | None:
    """Moves an SQLite database's WAL checkpoints off the commits (a server calls this).

    By default the commit that takes the write-ahead log past ``wal_autocheckpoint`` pages
    copies the whole log into the database file and syncs it: 100-150 ms under the data
    channel's load, paid by that commit's requests (1-2 % of calls at 1 connection, the whole
    p99). Here the process's connections stop checkpointing, and a thread checkpoints every
    ``every`` seconds in PASSIVE mode, which waits for no reader or writer and copies what it
    can. Several worker processes each run one; an attempt that meets another is skipped.
    Returns the thread (None for another database, where this does not apply).
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    event.listen(engine, "connect", _no_autocheckpoint)
    engine.pool.dispose()  # connections opened before keep checkpointing; they go

    def run() -> None:
        while True:
            time.sleep(every)
            try:
                with engine.connect() as con:
                    con.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
            except Exception:  # a checkpoint missed is made by the next
                log.debug("WAL checkpoint skipped", exc_info=True)

    thread = threading.Thread(target=run, name="sqlite-checkpoint", daemon=True)
    thread.start()
    return thread


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back whole when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
