"""Computing a data product's answer: prepared tables, answers, and the privacy controls.

A product's ``prepare`` SQL runs in DuckDB on the data core, once per version of its tables
(and per day). Its result is copied into an in-memory SQLite database of its own that holds
nothing else and takes no writes; the ``answer`` SQL (SQLite's dialect) runs there, per call,
so it cannot read a data-core table even by mistake. A subject product's prepared rows are
indexed by the subject. The split is for speed: DuckDB scans the data core's hundreds of
millions of rows; SQLite answers a keyed query over a few rows in about 15 µs, where a DuckDB
query costs 0.4–3 ms of setup whatever its size.

A hosted product (:mod:`shuhui.channel.hosted`) is prepared the same way from its one hosted
table, by a DuckDB that sees that table alone; each of its key columns is indexed, and a call
reads the rows whose keys equal the ones it gives, a page at a time, in the table's order.

Nothing here decides who may call; :mod:`shuhui.channel.gateway` does, before asking.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
from sqlalchemy.orm import Session

from shuhui.catalog import service as catalog_service
from shuhui.channel import privacy as dp_privacy
from shuhui.channel.products import OutputField, Privacy, Product, sql_params
from shuhui.core.suppression import withheld as below_k
from shuhui.datacore.store import DataCore

log = logging.getLogger(__name__)
SUBJECT = "subject__"  # the answer SQL's parameter holding the subject (not a product param)
# The statements the engine wraps around a product's SQL; identifiers pass through ident().
SUBJECT_ANSWER = (
    "WITH subject_rows AS (SELECT * FROM prepared WHERE {column} = :subject__)"
    " SELECT * FROM ({answer})"
)
INSERT_PREPARED = "INSERT INTO prepared VALUES ({marks})"
OPEN_ROWS = (
    "SELECT {columns} FROM {table} WHERE {where} ORDER BY {order} LIMIT $limit OFFSET $offset"
)
HOSTED_ROWS = "SELECT {columns} FROM prepared WHERE {where} ORDER BY rowid LIMIT ? OFFSET ?"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class ProductUnavailable(RuntimeError):
    """The product cannot answer now: a table it needs is not in the data core."""


@dataclass
class Prepared:
    key: tuple[Any, ...]  # the table versions and the day it was prepared for
    con: sqlite3.Connection  # in memory, query-only, holding the table `prepared`
    sql: str  # the answer statement as run
    names: frozenset[str]  # the named parameters it takes
    daily: bool  # the prepare or answer SQL reads today's date: its answers change by the day
    rows: int
    seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Answer:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    suppressed_groups: int = 0  # aggregates: groups below k_min, left out
    suppressed_cells: int = 0  # aggregates: counts that would single out fewer than k_min
    noise_scale: float | None = None  # aggregates: the discrete Laplace scale added to counts
    versions: tuple[int, ...] = ()  # the versions of the product's tables it was computed on
    day: date | None = None  # the day, for a product whose answers change by the day


def _sqlite_column(column: Any) -> list[Any]:
    values: list[Any] = column.to_pylist()
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, date | datetime):
        return [None if v is None else v.isoformat() for v in values]
    if isinstance(sample, Decimal):
        return [None if v is None else _jsonable(v) for v in values]
    return values


def _sqlite_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _output(value: Any, field: OutputField) -> Any:
    """An SQLite value as the product's output says: its type (SQLite has no booleans or
    lists), and masked if it is personal."""
    if value is None:
        return None
    if field.mask == "text":
        return catalog_service.mask_personal(value)
    if field.mask is not None:
        return catalog_service.mask_personal(value, check=field.mask)
    kind = field.type
    if kind == "boolean":
        return bool(value)
    if kind == "list":
        return json.loads(value) if isinstance(value, str) else value
    if kind == "integer":
        return int(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class Engine:
    """Prepared tables per product, kept while the data core's tables stay at their versions."""

    def __init__(self, core: DataCore, check_every: float = 1.0, sync_limit: float = 1.0) -> None:
        self.core = core
        self.check_every = check_every
        self.sync_limit = sync_limit
        self._pending: set[str] = set()
        self._prepared: dict[str, Prepared] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _key(self, product: Product, today: date) -> tuple[Any, ...]:
        table = self.core.hosted_table if product.kind == "hosted" else self.core.table
        try:
            return (*(table(t).version for t in product.tables), today)
        except Exception as exc:  # the data core says which table, in its own words
            raise ProductUnavailable(f"{product.code}: {exc}") from exc

    def versions(self, product: Product) -> tuple[int, ...]:
        """The current versions of the product's tables (what a privacy budget is kept per)."""
        return tuple(self._key(product, date.min)[:-1])

    def prepared(self, product: Product, today: date) -> Prepared:
        """The product's prepared table for today's data. A product whose preparation is slow
        (a whole city: seconds) keeps answering from its previous table while the next one is
        prepared in the background after a new table version or a new day; a quick one is
        prepared on the spot, so a change shows at once."""
        held = self._prepared.get(product.code)
        now = time.monotonic()
        if held is not None and held.key[-1] == today and now - held.checked < self.check_every:
            return held
        key = self._key(product, today)
        if held is not None and held.key == key:
            held.checked = now
            return held
        if held is not None and held.seconds >= self.sync_limit:
            held.checked = now
            self.prepare_later([product], today)
            return held
        return self._prepare(product, today, key)

    def ready(self, product: Product, today: date) -> bool:
        """Whether a call can be answered from the held table at once: prepared for today and
        checked against the table versions less than ``check_every`` seconds ago (so
        :meth:`prepared` will neither read the data core's manifests nor prepare anything)."""
        held = self._prepared.get(product.code)
        return (
            held is not None
            and held.key[-1] == today
            and time.monotonic() - held.checked < self.check_every
        )

    def _prepare(self, product: Product, today: date, key: tuple[Any, ...]) -> Prepared:
        with self._guard:
            lock = self._locks.setdefault(product.code, threading.Lock())
        with lock:
            held = self._prepared.get(product.code)
            if held is None or held.key != key:
                held = self._build(product, today, key)
                self._prepared[product.code] = held
            return held

    def prepare_later(self, products: Iterable[Product], today: date) -> None:
        """Prepares products in a background thread (the server calls this at start, so the
        first call does not wait for it); a product already being prepared is skipped."""
        wanted = [p for p in products if p.kind != "open" and p.code not in self._pending]
        if not wanted:
            return
        self._pending.update(p.code for p in wanted)

        def run() -> None:
            for product in wanted:
                try:
                    self._prepare(product, today, self._key(product, today))
                except Exception:  # the next call tries again, and says why if it fails
                    log.exception("preparing data product %s failed", product.code)
                finally:
                    self._pending.discard(product.code)

        threading.Thread(target=run, name="channel-prepare", daemon=True).start()

    def _build(self, product: Product, today: date, key: tuple[Any, ...]) -> Prepared:
        began = time.perf_counter()
        if product.kind == "hosted":
            # Its own table and nothing else: not the city's tables, not another's.
            source = self.core.connect(tables=(), hosted=product.tables)
        else:
            source = self.core.connect()
        try:
            wanted = duckdb.extract_statements(product.prepare)[0].named_parameters
            params = {"today": today} if "today" in wanted else {}
            data = source.sql(product.prepare, params=params).to_arrow_table()
        finally:
            source.close()
        con = sqlite3.connect(":memory:", check_same_thread=False)
        columns = [ident(name) for name in data.column_names]
        con.execute(f"CREATE TABLE prepared ({', '.join(columns)})")
        insert = INSERT_PREPARED.format(marks=", ".join("?" * len(columns)))
        for batch in data.to_batches(max_chunksize=65_536):
            values = [_sqlite_column(batch.column(i)) for i in range(batch.num_columns)]
            con.executemany(insert, zip(*values, strict=True))
        rows = data.num_rows
        del data
        if product.kind == "subject":
            assert product.subject_column is not None
            column = ident(product.subject_column)
            con.execute(f"CREATE INDEX prepared_subject ON prepared ({column})")
            sql = SUBJECT_ANSWER.format(column=column, answer=product.answer)
        else:
            sql = product.answer
        for i, filtered in enumerate(product.keys):  # hosted products: what a call filters by
            con.execute(f"CREATE INDEX prepared_key_{i} ON prepared ({ident(filtered)})")
        con.commit()
        con.execute("PRAGMA query_only = ON")  # the answer SQL reads; it cannot change the table
        seconds = time.perf_counter() - began
        log.info(
            "data product prepared",
            extra={"product": product.code, "rows": rows, "seconds": round(seconds, 3)},
        )
        names = frozenset(sql_params(sql))
        daily = "today" in wanted or "today" in names
        return Prepared(key, con, sql, names, daily, rows, seconds)

    def answer(
        self, product: Product, params: dict[str, Any], today: date, *, noised: bool = True
    ) -> Answer:
        """Runs a subject or aggregate product with checked ``params``. An aggregate's answer is
        suppressed, and noised unless ``noised`` is False: the gateway then adds the noise
        itself only for a query not yet released (:func:`shuhui.channel.privacy.release`),
        since OpenDP's exact sampler takes milliseconds for an answer's counts."""
        prepared = self.prepared(product, today)
        if product.kind == "hosted":
            return self._hosted_rows(product, prepared, params)
        values = {**params, "today": today.isoformat()}
        if product.kind == "subject":
            assert product.subject_param is not None
            values[SUBJECT] = params[product.subject_param]
        bound = {k: _sqlite_value(values.get(k)) for k in prepared.names}
        with prepared.lock:  # one connection per product; a query takes microseconds
            result = prepared.con.execute(prepared.sql, bound)
            columns = tuple(d[0] for d in result.description or ())
            fetched = result.fetchall()
        if columns != product.output_names:
            raise RuntimeError(
                f"{product.code}: the answer SQL gives {columns}, the product declares "
                f"{product.output_names}"
            )
        rows = [
            {f.name: _output(v, f) for f, v in zip(product.output, r, strict=True)} for r in fetched
        ]
        if product.kind == "subject":
            if len(rows) != 1:
                raise RuntimeError(f"{product.code}: a subject answer is one row, got {len(rows)}")
            return Answer(columns, rows)
        kept = protect(columns, rows, product.privacy)
        if noised:
            dp_privacy.add_noise(kept.rows, product.privacy)
        used = dp_privacy.mechanism_of(product.privacy)
        return replace(
            kept,
            noise_scale=None if used is None else used.scale,
            versions=tuple(prepared.key[:-1]),
            day=today if prepared.daily else None,
        )

    def _hosted_rows(self, product: Product, prepared: Prepared, params: dict[str, Any]) -> Answer:
        """A page of a hosted product's rows, those whose keys equal the ones given: the
        statement names only the keys given, so SQLite uses their indexes."""
        given = [k for k in product.keys if params.get(k) is not None]
        sql = HOSTED_ROWS.format(
            columns=", ".join(ident(f.name) for f in product.output),
            where=" AND ".join(f"{ident(k)} = ?" for k in given) or "1",
        )
        values = [_sqlite_value(params[k]) for k in given]
        with prepared.lock:
            fetched = prepared.con.execute(sql, [*values, params["limit"], params["offset"]])
            rows = [
                {f.name: _output(v, f) for f, v in zip(product.output, r, strict=True)}
                for r in fetched.fetchall()
            ]
        return Answer(product.output_names, rows, versions=tuple(prepared.key[:-1]))

    def open_rows(
        self, db: Session, product: Product, filters: dict[str, Any], limit: int, offset: int
    ) -> Answer:
        """Rows of an open product's dataset, only its public columns, in key order."""
        assert product.dataset is not None
        spec = self.core.spec(product.dataset)
        columns = tuple(c.name for c in catalog_service.public_columns(db, spec))
        where = [f"{ident(name)} = ${name}" for name, v in filters.items() if v is not None]
        order = spec.primary_key or columns
        sql = OPEN_ROWS.format(
            columns=", ".join(map(ident, columns)),
            table=ident(product.dataset),
            where=" AND ".join(where) or "true",
            order=", ".join(map(ident, order)),
        )
        values = {k: v for k, v in filters.items() if v is not None}
        con = self.core.connect()
        try:
            result = con.execute(sql, {**values, "limit": limit, "offset": offset})
            rows = [dict(zip(columns, map(_jsonable, r), strict=True)) for r in result.fetchall()]
        except duckdb.CatalogException as exc:
            raise ProductUnavailable(f"{product.code}: {exc}") from exc
        finally:
            con.close()
        return Answer(columns, rows)


def protect(columns: tuple[str, ...], rows: list[dict[str, Any]], privacy: Privacy) -> Answer:
    """Small-group suppression (the noise comes after, :func:`privacy.add_noise`).

    A group with fewer than ``k_min`` people is left out. In the groups that stay, a count
    below ``k_min`` (but not 0), or one whose complement in the group is, is withheld (None):
    otherwise "12 people, 11 insured" would single out the one who is not. The decisions are
    taken on the true counts (docs/privacy-budget.md says what that means for the guarantee).
    """
    k, size_column = privacy.k_min, privacy.group_size
    assert size_column is not None
    kept: list[dict[str, Any]] = []
    dropped = withheld = 0
    for row in rows:
        size = int(row[size_column] or 0)
        if size < k:
            dropped += 1
            continue
        out = dict(row)
        for name in privacy.counts:
            value = int(out[name] or 0)
            if name != size_column and below_k(value, k, of=size):
                out[name] = None
                withheld += 1
        kept.append(out)
    return Answer(columns, kept, dropped, withheld)
