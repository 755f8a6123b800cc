"""The MQTT consumer: readings from ``shuhui/+/telemetry`` into the store, in batches.

Paho's network thread only queues each message's topic, payload and packet id. A worker thread
takes up to ``batch_size`` messages or what came in ``batch_ms``, parses and validates them
(``ingest``), and in one transaction stores the readings, counts the rejections and calls each
evaluator with the readings newly stored. Only once that transaction has committed does it
acknowledge the batch's QoS 1 messages (paho's manual acks), so a consumer killed at any moment
loses nothing: the broker holds every unacknowledged message for the persistent session (a
fixed client id, ``clean_session=False``) and delivers it again, and the store's
insert-or-ignore keeps it once. A message that cannot be read is counted under its reason and
acknowledged; it never stops the consumer. A failing database is retried, batch held, until it
answers; a batch that fails for another reason (an evaluator's bug) is retried message by
message, so one message cannot hold the rest back.

Evaluators and tickers are parameters (telemetry never imports the alarm rules): ``monitor.cli``
passes them. Tickers run about every ``tick_seconds`` in their own transaction (silence,
escalation). ``group`` subscribes through a shared subscription, ``$share/<group>/…``, so two
consumers (each with its own client id) split the messages between them.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.monitor.devices import Directory
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.ingest import TOPIC_FILTER, Rejected, parse_message
from shuhui.monitor.telemetry.retention import Retention

log = logging.getLogger(__name__)

Evaluator = Callable[[Session, Directory, Sequence[Reading], datetime], object]
Ticker = Callable[[Session, Directory, datetime], object]
# topic, payload, packet id, QoS
Raw = tuple[str, bytes, int, int]


@dataclass
class Config:
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "shuhui-telemetry"
    group: str | None = None
    qos: int = 1
    batch_size: int = 2_000
    batch_ms: int = 200
    tick_seconds: float = 5.0
    directory_refresh: float = 60.0
    keepalive: int = 30

    @property
    def topic(self) -> str:
        return f"$share/{self.group}/{TOPIC_FILTER}" if self.group else TOPIC_FILTER

    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 1883


@dataclass
class Stats:
    received: int = 0
    messages_stored: int = 0
    readings_stored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    retries: int = 0
    connected: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "messages_stored": self.messages_stored,
            "readings_stored": self.readings_stored,
            "rejected": dict(self.rejected),
            "batches": self.batches,
            "retries": self.retries,
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
        self._inbox: queue.SimpleQueue[Raw] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._worker: threading.Thread | None = None
        self._client: Any = None

    # --- the network side: paho's thread only queues ----------------------------------------

    def _on_connect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connection refused: %s", reason)
            return
        self.stats.connected = True
        client.subscribe(self.config.topic, qos=self.config.qos)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.stats.connected = False
        if not self._stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""
        self._inbox.put((topic, message.payload, message.mid, message.qos))

    def start(self) -> None:
        """Connects (retrying until the broker answers) and starts the worker."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.manual_ack_set(True)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        host, port = self.config.address()
        client.connect_async(host, port, keepalive=self.config.keepalive)
        self._client = client
        client.loop_start()
        self._worker = threading.Thread(target=self._work, name="telemetry-worker", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stores and acknowledges what has arrived, then disconnects (what arrives after the
        last batch is stored too, and delivered again next time if it was QoS 1)."""
        self._stopping.set()
        if self._worker is not None:
            self._done.wait(timeout)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        leftover = self._take(self.config.batch_size * 100, 0)
        if leftover:
            self._process(leftover, ack=False)

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

    def _take(self, most: int, wait_ms: int) -> list[Raw]:
        batch: list[Raw] = []
        deadline = time.monotonic() + wait_ms / 1000
        while len(batch) < most:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=min(left, 0.05)))
            except queue.Empty:
                continue
        return batch

    def _work(self) -> None:
        last_tick = time.monotonic()
        try:
            while True:
                stopping = self._stopping.is_set()
                batch = self._take(self.config.batch_size, 0 if stopping else self.config.batch_ms)
                if batch:
                    self._process(batch, ack=True)
                elif stopping:
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
        try:
            with transaction(self.factory) as db:
                for ticker in self.tickers:
                    ticker(db, self.directory, self.clock())
        except Exception:
            log.exception("ticker failed; next tick in %s s", self.config.tick_seconds)

    def _commit(self, batch: Sequence[Raw]) -> tuple[int, int, Counter[str]]:
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
        with transaction(self.factory) as db:
            new = store.write(db, readings, now)
            store.count_rejections(db, rejected, now.date())
            for evaluate in self.evaluators:
                evaluate(db, self.directory, new, now)
        return taken, len(new), rejected

    def _ack(self, batch: Sequence[Raw]) -> None:
        if self._client is None:
            return
        for _topic, _payload, mid, qos in batch:
            if qos > 0:
                self._client.ack(mid, qos)

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
