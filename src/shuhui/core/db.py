"""The operational database: SQLAlchemy 2 engine, sessions and the declarative base.

SQLite (WAL) is the embedded default; PostgreSQL is the production and CI server. Models use
portable types only, and a naming convention so Alembic migrations are identical on both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import URL, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Compiled, CursorResult, Dialect
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import Executable
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
    return _postgres_engine(url, echo=echo, size=POSTGRES_POOL_SIZE)


def _postgres_engine(url: str | URL, *, size: int, **options: Any) -> Engine:
    engine = create_engine(url, pool_size=size, max_overflow=size, **options)
    event.listen(engine.pool, "connect", _idle_since)
    event.listen(engine.pool, "checkin", _idle_since)
    event.listen(engine.pool, "checkout", _ping_if_idle(engine))
    return engine


# A server process runs 40 threads for the routes, the gateway's writer and its 16 deciders
# (these with a pool of their own, reads_factory). The default pool (5 kept, 10 more) ran out
# under the data channel's load at 50 connections (its calls/s fell from 373 at 10 to 245), a
# thread waiting for a connection while others finished whole round trips. Connections are
# opened only as threads need them.
POSTGRES_POOL_SIZE = 20
# A connection used within this long is taken as alive. pool_pre_ping sent a round trip before
# every transaction (two per gateway call); a connection the server dropped (a restart, an idle
# timeout) is found at its next use after a pause, or by the statement that meets it, which
# makes SQLAlchemy discard every connection opened before.
PING_AFTER_IDLE = 5.0
_IDLE_SINCE = "shuhui_idle_since"


def _idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool replaces this connection and every older one, and checks out again.
                raise InvalidatePoolError() from exc
            raise

    return checkout


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


def reads_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for a few reads that write nothing and need no snapshot in common (the data
    channel's decision). On PostgreSQL each statement runs in autocommit: no BEGIN and no
    COMMIT, two round trips fewer a decision; at READ COMMITTED, PostgreSQL's default, a
    transaction's statements each take their own snapshot anyway. Their connections are a
    pool of their own, always in autocommit, disposed of with ``engine``'s: switching a
    pooled connection to autocommit and back (``execution_options``) cost more interpreter
    work than the two round trips saved. On SQLite a transaction as before: there its reads
    share one snapshot and beginning costs nothing."""
    if engine.dialect.name != "postgresql":
        return make_session_factory(engine)
    reads = _postgres_engine(
        engine.url, size=READS_POOL_SIZE, echo=engine.echo, isolation_level="AUTOCOMMIT"
    )
    event.listen(engine, "engine_disposed", lambda _engine: reads.dispose())
    return make_session_factory(reads)


READS_POOL_SIZE = 16  # the gateway's deciders, one connection each (and as many more at most)


@contextmanager
def transaction(factory: sessionmaker[Session], *, defer: bool = False) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back whole when it raises.

    With ``defer``, the statements given to :func:`execute_or_defer` in it wait for the commit
    and go with it: on PostgreSQL in one round trip with the COMMIT, so that a transaction
    holding rows every writer wants (the audit ledger's head, a key's counters) gives them up
    a round trip or two sooner. Nothing in the block may read what they write."""
    session = factory()
    if defer:
        session.info[_DEFERRED] = []
    try:
        yield session
        _commit(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_DEFERRED = "shuhui.deferred"
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def execute_or_defer(db: Session, statement: Executable, params: Params) -> None:
    """Runs a write whose result nobody reads: now, or at the commit of a transaction that
    defers them (:func:`transaction`), in order. An INSERT of one row into a table whose key
    the database makes must be ``inline()``: SQLAlchemy would otherwise ask for the key back,
    which a statement sent with the commit cannot give."""
    queued: list[tuple[Executable, Params]] | None = db.info.get(_DEFERRED)
    if queued is None:
        db.execute(statement, params)
    else:
        queued.append((statement, params))


def _commit(session: Session) -> None:
    queued: list[tuple[Executable, Params]] | None = session.info.pop(_DEFERRED, None)
    if queued and _driver_pipelines(session):
        session.flush()  # the ORM's changes go first, into the transaction being committed
        driver = _driver_connection(session)
        with _as_sqlalchemy_errors(session), driver.pipeline():
            for statement, params in queued:
                session.execute(statement, params)
            # Here, not by the session: the session would give the connection back to the pool
            # while it is still in pipeline mode. Its own commit below then finds no transaction.
            driver.commit()
    else:
        for statement, params in queued or ():
            session.execute(statement, params)
    session.commit()


@contextmanager
def _as_sqlalchemy_errors(db: Session) -> Iterator[None]:
    """The driver's errors met outside SQLAlchemy's own calls (a pipeline's sync, a commit)
    raised as SQLAlchemy raises them (an IntegrityError, a lost connection invalidated)."""
    dialect = db.get_bind().dialect
    base = dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        lost = dialect.is_disconnect(exc, None, None)
        if lost:  # not given back to the pool: the next checkout opens a new one
            db.connection().invalidate(exc)
        raise DBAPIError.instance(
            None, None, exc, base, connection_invalidated=lost, dialect=dialect
        ) from exc


def _driver_pipelines(db: Session) -> bool:
    return db.get_bind().dialect.driver == "psycopg"


def _driver_connection(db: Session) -> Any:
    return db.connection().connection.driver_connection


def pipelined(
    db: Session, statements: Sequence[tuple[Executable, Mapping[str, Any]]]
) -> list[list[tuple[Any, ...]]]:
    """Runs statements in order, in the session's transaction, and returns each one's rows
    (none for a statement that returns none): on PostgreSQL all in one round trip (psycopg's
    pipeline mode), elsewhere one after another. For statements built once (each is compiled
    once and kept) whose values and results need no conversion by SQLAlchemy (integers and
    text), as the driver gives them."""
    if not _driver_pipelines(db):
        results = [
            cast(CursorResult[Any], db.execute(statement, params))
            for statement, params in statements
        ]
        return [[tuple(row) for row in r] if r.returns_rows else [] for r in results]
    db.flush()
    dialect = db.get_bind().dialect
    driver = _driver_connection(db)
    cursors = []
    with _as_sqlalchemy_errors(db), driver.pipeline() as pipeline:
        for statement, params in statements:
            sql, compiled = _for_driver(statement, dialect)
            cursor = driver.cursor()
            cursor.execute(sql, compiled.construct_params(params))
            cursors.append(cursor)
        pipeline.sync()
        rows = [cursor.fetchall() if cursor.description else [] for cursor in cursors]
    for cursor in cursors:
        cursor.close()
    return rows


# Statements compiled for the driver, by identity (each kept, so that its id stays its own).
_COMPILED: dict[tuple[int, str], tuple[Executable, str, Compiled]] = {}


def _for_driver(statement: Executable, dialect: Dialect) -> tuple[str, Compiled]:
    found = _COMPILED.get((id(statement), dialect.name))
    if found is None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if any(compiled._bind_processors.values()):
            raise TypeError("pipelined() takes statements whose values need no conversion")
        found = _COMPILED[id(statement), dialect.name] = (statement, compiled.string, compiled)
    return found[1], found[2]
