"""The MQTT consumer: readings from ``shuhui/+/telemetry`` into the store, in batches.

Two processes. The receiving one (``receiver``, spawned by :meth:`Consumer.start`) runs paho's
network loop and only hands the raw messages over, a list every few milliseconds, through a
pipe. Here a worker thread takes what has come — at least what is there, up to ``batch_size``
messages, waiting up to ``batch_ms`` for more — parses and validates it (``ingest``), and in one
transaction stores the readings, counts the rejections and calls each evaluator with the
readings newly stored. Only once that transaction has committed does it send the batch's QoS 1
packet ids back for the receiver to acknowledge (paho's manual acks), so a consumer killed at
any moment loses nothing: the broker holds every unacknowledged message for the persistent
session (a fixed client id, ``clean_session=False``) and delivers it again, and the store's
insert-or-ignore keeps it once. A message that cannot be read is counted under its reason and
acknowledged; it never stops the consumer. A failing database is retried, batch held, until it
answers; a batch that fails for another reason (an evaluator's bug) is retried message by
message, so one message cannot hold the rest back. A receiving process that dies is started
again; one whose consumer dies (the pipe ends) disconnects and exits.

Under load the batches grow by themselves (everything waiting is taken), which is what keeps
the store's per-batch costs — the commit, the roll-up and latest-value upserts merged per batch
— spread over more readings.

Evaluators and tickers are parameters (telemetry never imports the alarm rules): ``monitor.cli``
passes them; they run in this process, in the worker thread. Tickers run about every
``tick_seconds`` in their own transaction (silence, escalation). ``group`` subscribes through a
shared subscription, ``$share/<group>/…``, so two consumers (each with its own client id) split
the messages between them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import utcnow
from shuhui.core.db import checkpoint_in_background, transaction
from shuhui.monitor.devices import Directory
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import receiver, store
from shuhui.monitor.telemetry.ingest import TOPIC_FILTER, Rejected, parse_message
from shuhui.monitor.telemetry.receiver import Raw
from shuhui.monitor.telemetry.retention import Retention

log = logging.getLogger(__name__)

Evaluator = Callable[[Session, Directory, Sequence[Reading], datetime], object]
Ticker = Callable[[Session, Directory, datetime], object]


@dataclass
class Config:
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "shuhui-telemetry"
    group: str | None = None
    qos: int = 1
    batch_size: int = 10_000
    batch_ms: int = 100
    tick_seconds: float = 5.0
    directory_refresh: float = 60.0
    keepalive: int = 30

    @property
    def topic(self) -> str:
        return f"$share/{self.group}/{TOPIC_FILTER}" if self.group else TOPIC_FILTER

    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 1883

    def link(self) -> receiver.Link:
        host, port = self.address()
        return receiver.Link(host, port, self.client_id, self.topic, self.qos, self.keepalive)


@dataclass
class Stats:
    received: int = 0
    messages_stored: int = 0
    readings_stored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    retries: int = 0
    connected: bool = False
    # Where the worker's time went, seconds by stage (parse, store, evaluate, commit), and the
    # receiving process's CPU seconds (known once it has closed): the bench's breakdown.
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("parse", "store", "evaluate", "commit", "tick"), 0.0)
    )
    receiver_cpu: float = 0.0
    ticks: list[float] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "messages_stored": self.messages_stored,
            "readings_stored": self.readings_stored,
            "rejected": dict(self.rejected),
            "batches": self.batches,
            "retries": self.retries,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


class Consumer:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        directory: Callable[[], Directory],
        config: Config | None = None,
        *,
        retention: Retention | None = None,
        evaluators: Sequence[Evaluator] = (),
        tickers: Sequence[Ticker] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = session_factory
        self.load_directory = directory
        self.config = config or Config()
        self.retention = retention or Retention()
        self.evaluators = tuple(evaluators)
        self.tickers = tuple(tickers)
        self.clock = clock
        self.stats = Stats()
        self.directory = directory()
        self._loaded = time.monotonic()
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._worker: threading.Thread | None = None
        self._process_handle: Any = None
        self._conn: Connection | None = None
        self._held: list[Raw] = []
        self._closed = False

    # --- the receiving process ----------------------------------------------------------------

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=receiver.run,
            args=(self.config.link(), theirs, os.getpid()),
            name="telemetry-receiver",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._conn, self._process_handle, self._closed = ours, process, False

    def start(self) -> None:
        """Starts the receiving process (it connects, retrying until the broker answers) and
        the worker."""
        bind = self.factory.kw.get("bind")
        if isinstance(bind, Engine):
            # SQLite: the commit that fills the write-ahead log past its limit would copy it into
            # the database and sync it (100 ms to seconds on a busy machine), holding that
            # batch's alarms; a thread checkpoints instead, without blocking the commits.
            checkpoint_in_background(bind)
        self._spawn()
        self._worker = threading.Thread(target=self._work, name="telemetry-worker", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Disconnects, then stores what has arrived (QoS 1 messages among it are not
        acknowledged any more: the broker delivers them again next time and the store keeps
        them once)."""
        self._stopping.set()
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(("stop", None))
        if self._worker is not None:
            self._done.wait(timeout)
        if self._process_handle is not None:
            self._process_handle.join(5)
            if self._process_handle.is_alive():
                self._process_handle.kill()
        if self._conn is not None:
            self._conn.close()

    def run(self, status: Callable[[Stats], None] | None = None, every: float = 1.0) -> Stats:
        """Runs until SIGTERM or SIGINT, then stops gracefully (a final commit)."""
        stop = threading.Event()

        def ask_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = {s: signal.signal(s, ask_stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not stop.wait(every):
                if status is not None:
                    status(self.stats)
        finally:
            self.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return self.stats

    # --- the worker --------------------------------------------------------------------------

    def _receive(self, timeout: float) -> None:
        """Takes one hand-over from the receiving process into ``_held`` (or an event)."""
        conn = self._conn
        if conn is None or self._closed or not conn.poll(timeout):
            return
        try:
            kind, body = conn.recv()
        except (EOFError, OSError):
            kind, body = "closed", None
            if not self._stopping.is_set():
                log.warning("the receiving process ended; starting it again")
                self.stats.connected = False
                conn.close()
                if self._process_handle is not None:
                    self._process_handle.join(5)
                self._spawn()
                return
        if kind == "messages":
            self._held += body
        elif kind == "connected":
            self.stats.connected = bool(body)
        elif kind == "closed":
            self._closed = True
            self.stats.receiver_cpu += float(body or 0.0)

    def _take(self, most: int, wait_ms: int) -> list[Raw]:
        """What has arrived, at least one message (within ``idle`` seconds) and at most
        ``most``, waiting up to ``wait_ms`` after the first for the batch to fill."""
        idle = 0.05 if self._stopping.is_set() else 0.25
        if not self._held:
            self._receive(idle)
        deadline = time.monotonic() + wait_ms / 1000
        while self._held and len(self._held) < most and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0 and not (self._conn is not None and self._conn.poll(0)):
                break
            self._receive(max(left, 0))
        batch, self._held = self._held[:most], self._held[most:]
        return batch

    def _work(self) -> None:
        last_tick = time.monotonic()
        try:
            while True:
                stopping = self._stopping.is_set()
                batch = self._take(self.config.batch_size, 0 if stopping else self.config.batch_ms)
                if batch:
                    self._process(batch, ack=not stopping)
                elif self._closed or (stopping and self._conn is None):
                    return
                now_mono = time.monotonic()
                if now_mono - self._loaded >= self.config.directory_refresh:
                    self._refresh_directory()
                if self.tickers and now_mono - last_tick >= self.config.tick_seconds:
                    last_tick = now_mono
                    self._tick()
        finally:
            self._done.set()

    def _refresh_directory(self) -> None:
        self._loaded = time.monotonic()
        try:
            self.directory = self.load_directory()
        except Exception:
            log.exception("device directory not reloaded; keeping the previous one")

    def _tick(self) -> None:
        began = time.perf_counter()
        try:
            with transaction(self.factory) as db:
                for ticker in self.tickers:
                    ticker(db, self.directory, self.clock())
        except Exception:
            log.exception("ticker failed; next tick in %s s", self.config.tick_seconds)
        spent = time.perf_counter() - began
        self.stats.seconds["tick"] += spent
        self.stats.ticks.append(spent)

    def _commit(self, batch: Sequence[Raw]) -> tuple[int, int, Counter[str]]:
        began = time.perf_counter()
        now = self.clock()
        oldest = self.retention.oldest_raw(now)
        readings: list[Reading] = []
        rejected: Counter[str] = Counter()
        taken = 0
        for topic, payload, _mid, _qos in batch:
            outcome = parse_message(topic, payload, self.directory, now, oldest)
            if isinstance(outcome, Rejected):
                rejected[outcome.reason] += 1
            else:
                taken += 1
                readings += outcome
        parsed = time.perf_counter()
        with transaction(self.factory) as db:
            new = store.write(db, readings, now)
            store.count_rejections(db, rejected, now.date())
            stored = time.perf_counter()
            for evaluate in self.evaluators:
                evaluate(db, self.directory, new, now)
            evaluated = time.perf_counter()
        seconds = self.stats.seconds
        seconds["parse"] += parsed - began
        seconds["store"] += stored - parsed
        seconds["evaluate"] += evaluated - stored
        seconds["commit"] += time.perf_counter() - evaluated
        return taken, len(new), rejected

    def _ack(self, batch: Sequence[Raw]) -> None:
        acks = [(mid, qos) for _topic, _payload, mid, qos in batch if qos > 0]
        if not acks or self._conn is None:
            return
        try:
            self._conn.send(("ack", acks))
        except OSError:
            # The receiving process is gone: the broker delivers these again.
            log.warning("%d acknowledgements not sent (the receiving process ended)", len(acks))

    def _process(self, batch: list[Raw], *, ack: bool) -> None:
        self.stats.received += len(batch)
        delay = 0.5
        while True:
            try:
                taken, stored, rejected = self._commit(batch)
                break
            except DBAPIError:
                # The database is away: hold the batch (unacknowledged) and try again.
                store.forget_partitions()
                self.stats.retries += 1
                log.exception("storing a batch failed; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
            except Exception:
                store.forget_partitions()
                log.exception("a batch failed; retrying its messages one by one")
                taken, stored, rejected = self._one_by_one(batch)
                break
        self.stats.batches += 1
        self.stats.messages_stored += taken
        self.stats.readings_stored += stored
        self.stats.rejected.update(rejected)
        if ack:
            self._ack(batch)

    def _one_by_one(self, batch: Sequence[Raw]) -> tuple[int, int, Counter[str]]:
        taken = stored = 0
        rejected: Counter[str] = Counter()
        for raw in batch:
            try:
                t, s, r = self._commit([raw])
            except Exception:
                store.forget_partitions()
                log.exception("message on %r could not be processed; counted as malformed", raw[0])
                with transaction(self.factory) as db:
                    store.count_rejections(db, {"malformed": 1}, self.clock().date())
                rejected["malformed"] += 1
                continue
            taken, stored = taken + t, stored + s
            rejected.update(r)
        return taken, stored, rejected
