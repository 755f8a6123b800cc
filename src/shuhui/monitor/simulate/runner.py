"""Publishing a planned run over MQTT, in time order, at ``speed`` × real time and at most
``rate`` messages a second, with the truth written to a file of its own first."""

from __future__ import annotations

import heapq
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shuhui.monitor.simulate.incidents import Incident, Plan
from shuhui.monitor.simulate.streams import Baseline, clip

SIMULATIONS = Path("monitor") / "simulations"


def new_run_id(now: datetime) -> str:
    return f"SIM-{now.astimezone(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"


def truth_path(data_dir: Path, run_id: str) -> Path:
    return data_dir / SIMULATIONS / f"{run_id}.jsonl"


class SimClock:
    """The simulation's time: ``speed`` × the real time since the start, held back by what the
    publisher has not managed to send yet (so a slow publisher slows the clock, and a device
    never looks silent because the publisher fell behind)."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed = start, speed
        self._real0 = time.monotonic()
        self._lag = 0.0  # simulated seconds lost to a publisher behind its schedule
        self._frozen: float | None = None

    def seconds(self) -> float:
        if self._frozen is not None:
            return self._frozen
        return (time.monotonic() - self._real0) * self.speed - self._lag

    def freeze(self) -> None:
        """The run is over: the clock stays where it is (a consumer draining its queue does
        not see the devices fall silent)."""
        self._frozen = self.seconds()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds())

    def wait_until(self, at: float, stop: threading.Event) -> None:
        """Until simulated second ``at``; if it is past already by more than a second, the
        clock is held back to it."""
        ahead = at - self.seconds()
        if ahead > 0:
            stop.wait(ahead / self.speed)
        elif ahead < -1.0:
            self._lag += -ahead


@dataclass
class Published:
    messages: int = 0
    silenced: int = 0
    ended: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "silenced": self.silenced,
            "ended": self.ended.isoformat() if self.ended else None,
        }


def write_truth(path: Path, run_id: str, made: Plan, settings: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        head = {
            "type": "run",
            "run": run_id,
            "start": made.start.isoformat(),
            "end": made.end.isoformat(),
            **settings,
            "skipped": made.skipped,
            "devices": [d.id for d in made.devices],
            "sites": sorted({d.site for d in made.devices}),
        }
        out.write(json.dumps(head, ensure_ascii=False) + "\n")
        for incident in made.incidents:
            out.write(json.dumps(incident.as_json(), ensure_ascii=False) + "\n")


def finish_truth(path: Path, published: Published) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"type": "end", **published.as_json()}) + "\n")


class Sender:
    """A paho client publishing ``shuhui/<device>/telemetry``."""

    def __init__(self, url: str, qos: int, client_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urlsplit(url)
        self.qos = qos
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(1_000)
        self.client.max_queued_messages_set(0)
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
        self.client.loop_start()
        self._last: Any = None

    def send(self, device: str, ts: datetime, values: dict[str, float]) -> None:
        payload = json.dumps({"ts": ts.isoformat(timespec="milliseconds"), "values": values})
        self._last = self.client.publish(f"shuhui/{device}/telemetry", payload, qos=self.qos)

    def close(self) -> None:
        if self._last is not None and self.qos > 0:
            self._last.wait_for_publish(30)
        else:
            time.sleep(0.2)
        self.client.disconnect()
        self.client.loop_stop()


def publish(
    made: Plan,
    send: Callable[[str, datetime, dict[str, float]], None],
    clock: SimClock,
    *,
    seed: int,
    rate: float,
    stop: threading.Event | None = None,
) -> Published:
    """Every device at its interval from the plan's start to its end, in time order, each
    value its quiet stream's unless an incident holds the device."""
    stop = stop or threading.Event()
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    baselines = {d.id: Baseline(d, seed) for d in made.devices}
    held = made.by_device()
    due = [(rng.uniform(0, d.sensor_type.interval), i) for i, d in enumerate(made.devices)]
    heapq.heapify(due)
    length = (made.end - made.start).total_seconds()
    done = Published()
    window, sent_in_window = time.monotonic(), 0
    while due and not stop.is_set():
        at, i = heapq.heappop(due)
        if at > length:
            break
        device = made.devices[i]
        heapq.heappush(due, (at + device.sensor_type.interval, i))
        clock.wait_until(at, stop)
        ts = made.start + timedelta(seconds=at)
        values: dict[str, float] | None = baselines[device.id].values(ts)
        for incident, role in held.get(device.id, ()):
            if incident.start <= ts < incident.end and values is not None:
                values = _held(incident, role, ts, values)
        if values is None:
            done.silenced += 1
            continue
        send(device.id, ts, clip(device, values))
        done.messages += 1
        sent_in_window += 1
        if rate > 0 and sent_in_window >= rate:
            left = 1.0 - (time.monotonic() - window)
            if left > 0:
                stop.wait(left)
            window, sent_in_window = time.monotonic(), 0
    done.ended = made.start + timedelta(seconds=min(max(clock.seconds(), 0.0), length))
    return done


def _held(
    incident: Incident, role: int, ts: datetime, values: dict[str, float]
) -> dict[str, float] | None:
    since = (ts - incident.start).total_seconds()
    return incident.spec.profile(role, since, values)


@dataclass
class Run:
    run_id: str
    truth: Path
    plan: Plan
    published: Published
    consumed: dict[str, Any] | None = None


def run(
    made: Plan,
    *,
    run_id: str,
    truth: Path,
    mqtt_url: str,
    speed: float = 1.0,
    rate: float = 0.0,
    qos: int = 1,
    seed: int = 2026,
    consumer: Any = None,
    clock: SimClock | None = None,
    stop: threading.Event | None = None,
    drain_seconds: float = 60.0,
    alarms_before: int = 0,
) -> Run:
    """Writes the truth, publishes the plan, and with a ``consumer`` (a telemetry ``Consumer``
    whose clock is ``clock.now``) waits until it has taken every message and ticked once more
    before stopping it."""
    clock = clock or SimClock(made.start, speed)
    write_truth(
        truth,
        run_id,
        made,
        {
            "speed": speed,
            "rate": rate,
            "qos": qos,
            "seed": seed,
            "mqtt": mqtt_url,
            "alarms_before": alarms_before,
        },
    )
    sender = Sender(mqtt_url, qos, f"shuhui-simulator-{run_id}")
    if consumer is not None:
        consumer.start()
        deadline = time.monotonic() + 10
        while not consumer.stats.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # its subscription made before the first message
    try:
        published = publish(made, sender.send, clock, seed=seed, rate=rate, stop=stop)
    finally:
        sender.close()
        clock.freeze()
    consumed = None
    if consumer is not None:
        deadline = time.monotonic() + drain_seconds
        while consumer.stats.received < published.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        # One more tick (silences, sweeps) as of the run's end, the clock stopped there.
        time.sleep(consumer.config.tick_seconds * 1.5)
        consumer.stop()
        consumed = consumer.stats.as_json()
    finish_truth(truth, published)
    return Run(run_id, truth, made, published, consumed)
