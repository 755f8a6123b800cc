"""Safety monitoring in the demo (``shuhui.monitor``): a few alarms in different states, so the
monitoring accounts' pages have something from the first login, and with ``shuhui demo
--serve`` a live wall.

:func:`prepare` (in the caller's transaction; once — a database holding any alarm is left
alone) stores readings of three registry sensors through telemetry's store and lets the alarm
engine raise on them, as the consumer would; then the centre's ``duty`` officer and the units
take the steps through the alarms' service, each in the ledger:

- a combustible-gas alarm at a chemical plant, raised, waiting for ``duty`` to acknowledge;
- a smoke alarm in a high-rise building, acknowledged and dispatched to 消防救援支队, waiting in
  ``fire``'s inbox;
- a smoke alarm in a forest area, dispatched to 园林和林业局, resolved by ``forestry`` and
  closed by ``duty`` — its timeline shows every step with its time.

:func:`live` (``shuhui demo --serve``): the MQTT broker (``telemetry.broker.ensure``), a
consumer process (``shuhui monitor consume``) and a gentle simulator process (a few hundred
devices at real time, an incident every few minutes, the sites in alarm left out so the
prepared alarms stay as they are), all stopped when the block ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.city import Prepared
from shuhui.monitor.alarms import engine as alarms_engine
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.alarms.models import Alarm
from shuhui.monitor.devices import Device, Directory
from shuhui.monitor.readings import Reading
from shuhui.monitor.registry import service as registry
from shuhui.monitor.telemetry import broker, store
from shuhui.trust.identity.demo import DemoAccount
from shuhui.trust.identity.service import get_user_by_username

CENTRE, FIRE, FORESTRY = "duty", "fire", "forestry"
# The gentle simulator of the served demo.
SIMULATED_DEVICES = 300
INCIDENT_EVERY_MINUTES = 4


def _first(directory: Directory, sensor_type: str) -> Device | None:
    found = sorted(
        (d for d in directory.devices.values() if d.sensor_type.code == sensor_type),
        key=lambda d: d.id,
    )
    return found[0] if found else None


def _raise(
    db: Session, directory: Directory, device: Device, values: dict[str, float], at: datetime
) -> Alarm | None:
    """A reading above a rule's threshold, stored and evaluated as the consumer would."""
    readings = [Reading(device.id, at, metric, value) for metric, value in values.items()]
    new = store.write(db, readings, at)
    alarms_engine.evaluate(db, directory, new, at)
    db.flush()
    return db.scalar(
        select(Alarm).where(Alarm.device == device.id).order_by(Alarm.id.desc()).limit(1)
    )


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    now: datetime | None = None,
) -> list[Prepared]:
    names = {a.username for a in accounts}
    if not {CENTRE, FIRE, FORESTRY} <= names:
        return []
    if db.scalar(select(func.count()).select_from(Alarm)):
        return []
    directory = registry.directory(core, settings.content_dir, settings.city)
    gas = _first(directory, "gas-detector")
    smoke = _first(directory, "smoke-detector")
    station = _first(directory, "forest-station")
    users = {n: get_user_by_username(db, n) for n in (CENTRE, FIRE, FORESTRY)}
    if gas is None or smoke is None or station is None or None in users.values():
        return []
    now = as_utc(now or utcnow())
    cat = alarms.catalogue(settings)
    duty = alarms.scope_of(users[CENTRE], cat)  # type: ignore[arg-type]
    fire = alarms.scope_of(users[FIRE], cat)  # type: ignore[arg-type]
    forestry = alarms.scope_of(users[FORESTRY], cat)  # type: ignore[arg-type]

    def minutes_ago(n: float) -> datetime:
        return now - timedelta(minutes=n)

    closed = _raise(db, directory, station, {"smoke": 9.5, "temperature": 24.0}, minutes_ago(95))
    if closed is not None:
        code = closed.code
        alarms.take_step(
            db, cat, duty, code, "acknowledge", note="视频核实林区有烟", now=minutes_ago(92)
        )
        alarms.take_step(
            db,
            cat,
            duty,
            code,
            "dispatch",
            unit="forestry",
            note="请护林员到场",
            now=minutes_ago(90),
        )
        alarms.take_step(
            db, cat, forestry, code, "resolve", note="村民烧荒，已扑灭并劝离", now=minutes_ago(40)
        )
        alarms.take_step(db, cat, duty, code, "close", note="处置完毕", now=minutes_ago(35))
    sent = _raise(db, directory, smoke, {"smoke": 7.2, "temperature": 31.0}, minutes_ago(12))
    if sent is not None:
        alarms.take_step(db, cat, duty, sent.code, "acknowledge", now=minutes_ago(10))
        alarms.take_step(
            db,
            cat,
            duty,
            sent.code,
            "dispatch",
            unit="fire-rescue",
            note="请就近中队出动核查",
            now=minutes_ago(9),
        )
    _raise(db, directory, gas, {"gas_lel": 31.0}, minutes_ago(2))
    _ = fire  # the fire brigade's officer finds the dispatched alarm in the inbox
    return [
        Prepared(
            username=CENTRE,
            member="应急指挥中心值班员",
            waiting="1 条可燃气体告警待确认（/monitor）",
            changed=True,
        ),
        Prepared(
            username=FIRE,
            member="消防救援支队值班员",
            waiting="1 条高层建筑烟感告警已派发，待处置（/monitor/inbox）",
            changed=True,
        ),
    ]


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["SHUHUI_DATA_DIR"] = str(settings.data_dir)
    return env


def _shuhui() -> list[str]:
    script = Path(sys.executable).with_name("shuhui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shuhui.cli"]


@contextmanager
def live(settings: Settings) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The broker, a consumer and a gentle simulator for the served demo, until the block ends
    (their output in ``<data dir>/monitor/*.log``)."""
    started = broker.ensure(settings.mqtt_url, settings.data_dir)
    logs = settings.data_dir / "monitor"
    logs.mkdir(parents=True, exist_ok=True)
    commands = {
        "consumer": ["monitor", "consume", "--quiet"],
        "simulator": [
            "monitor",
            "simulate",
            "--devices",
            str(SIMULATED_DEVICES),
            "--minutes",
            str(24 * 60),
            "--incident-every",
            str(INCIDENT_EVERY_MINUTES),
            "--rate",
            "500",
            "--skip-alarmed",
        ],
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in commands.items():
            with (logs / f"{name}.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(  # noqa: S603 - our own command
                        [*_shuhui(), *args],
                        env=_env(settings),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield processes
    finally:
        for p in reversed(processes):
            if p.poll() is None:
                p.terminate()
        for p in reversed(processes):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if started is not None:
            started.stop()
