"""The alarm engine: readings in, alarms out, one alarm per condition and source.

``evaluate(db, directory, readings, now)`` is the consumer's evaluator (called in the
transaction that stored the readings, with only readings newly stored); ``tick(db, directory,
now)`` is called about every 5 s (silence, escalation, clearing, the correlation sweep).

Fast path. Rules are indexed by (sensor type, metric); a reading is checked in memory against
the rules of its device's type and metric only. The state of each rule's condition per source
(``monitor_conditions``: since when it holds, since when it is clear, the reading that last
changed it, whether this run raised its alarm) lives in the database — so two consumer
processes fed parts of one stream, or one restarted, agree — and is cached per process: read
once per key (one batched SELECT per call for the keys not cached or cached more than
``REFRESH`` seconds ago), written only when the condition starts or stops or the alarm is
raised. Changes a transaction makes reach the cache when it commits (a rolled-back batch leaves
the cache as the database is). A burst of a thousand readings over a threshold is one start
write and one alarm insert.

One alarm per (rule, source): the insert is ON CONFLICT DO NOTHING on the unique ``open_key``
(``lifecycle.raise_alarm``), so a second process, a redelivered message or a stale cache can
try and nothing happens.

Per kind:

- threshold: raised at the first reading that satisfies it.
- rate: Δ value / Δ minutes between consecutive readings of the device's metric as this
  process sees them (a baseline older than three reporting intervals is only a new baseline;
  after a restart the baseline is the reading that last changed the condition).
- duration: raised at the first reading at least ``minutes`` after the reading that started
  the run, every reading in between satisfying it (the start is read again from the database
  before raising, so another process's stop is seen).
- silence: ``tick`` raises when a device last heard (``monitor_device_seen``, written at most
  every third of the rule's window per device) is silent for ``intervals`` × its interval; a
  device never heard raises nothing. Its next reading clears it.
- correlation: each condition of the rule on each device is a member condition
  (``rule|device|index``); when a member starts, the members of the same site (or within
  ``within_m`` metres) active now or within ``window`` minutes are counted; ``need`` conditions
  each met by its ``devices`` → an alarm on the site. ``tick`` sweeps the same count, which
  catches two members started at once by two processes that could not see each other.

Clearing (``tick``): an open alarm whose condition has been false for the rule's ``clear.after``
minutes is closed or de-escalated (see ``lifecycle``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import case, event, func, select, update
from sqlalchemy.orm import Session

from shuhui.core.clock import local_today
from shuhui.monitor.alarms import lifecycle
from shuhui.monitor.alarms.models import Alarm, Condition, DeviceSeen
from shuhui.monitor.alarms.rules import Rule, Unit, load_rules, load_units
from shuhui.monitor.devices import Device, Directory, sensor_types
from shuhui.monitor.readings import Reading

REFRESH: Final = 30.0  # seconds a cached condition is trusted before it is read again
PENDING: Final = "monitor.alarms.pending"
HOOKED: Final = "monitor.alarms.hooked"
CHUNK: Final = 500
EARTH_M: Final = 6_371_000.0


@dataclass(frozen=True, slots=True)
class State:
    since: datetime | None = None
    false_since: datetime | None = None
    ts: datetime | None = None
    value: float | None = None
    raised: bool = False
    loaded: float = 0.0  # time.monotonic() when read from the database

    @property
    def active(self) -> bool:
        return self.since is not None


INACTIVE: Final = State()


def _metres(a: Device, b: Device) -> float:
    lat = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lon - a.lon) * math.cos(lat)
    dy = math.radians(b.lat - a.lat)
    return EARTH_M * math.hypot(dx, dy)


class Engine:
    """The rules and units of a city, and one process's cache of the conditions' state."""

    def __init__(self, rules: Mapping[str, Rule], units: Mapping[str, Unit]) -> None:
        self.rules = dict(rules)
        self.units = dict(units)
        self._cache: dict[str, State] = {}
        self._baselines: dict[tuple[str, str], tuple[datetime, float]] = {}
        self._seen_written: dict[str, datetime] = {}
        self._indexes: dict[date, dict[tuple[str, str], list[tuple[Rule, int]]]] = {}
        self._neighbours: dict[tuple[int, str, str], list[str]] = {}
        self._silence: dict[str, Rule] = {}

    # --- rules in force ---------------------------------------------------------------------

    def index(self, on: date) -> dict[tuple[str, str], list[tuple[Rule, int]]]:
        """(sensor type, metric) → the rules (and member index) watching it on ``on``."""
        found = self._indexes.get(on)
        if found is None:
            found = {}
            for rule in self.rules.values():
                if not rule.in_force(on) or rule.kind == "silence":
                    continue
                for i, c in enumerate(rule.conditions):
                    found.setdefault((c.sensor_type, c.metric), []).append((rule, i))
            self._indexes = {on: found}
            # The silence rules by type, on the same day.
            self._silence = {
                r.sensor_type: r
                for r in self.rules.values()
                if r.kind == "silence" and r.in_force(on)
            }
        return found

    def silence_rules(self, on: date) -> dict[str, Rule]:
        self.index(on)
        return self._silence

    def forget(self) -> None:
        """Drops the cache, as a restarted process would have none."""
        self._cache.clear()
        self._baselines.clear()
        self._seen_written.clear()

    # --- the cache and its transaction ------------------------------------------------------

    def _pending(self, db: Session) -> dict[str, State]:
        pending: dict[str, State] | None = db.info.get(PENDING)
        if pending is None:
            pending = {}
            db.info[PENDING] = pending
        if not db.info.get(HOOKED):
            db.info[HOOKED] = True
            event.listen(db, "after_commit", self._committed)
            event.listen(db, "after_rollback", self._rolled_back)
        return pending

    def _committed(self, db: Session) -> None:
        pending = db.info.get(PENDING)
        if pending:
            self._cache.update(pending)
            pending.clear()

    def _rolled_back(self, db: Session) -> None:
        pending = db.info.get(PENDING)
        if pending:
            # What the batch wrote is gone: read those keys again next time.
            for key in pending:
                self._cache.pop(key, None)
            pending.clear()

    def _load(self, db: Session, keys: Iterable[str], pending: Mapping[str, State]) -> None:
        """Reads the state of ``keys`` not cached (or cached too long ago) in batched SELECTs."""
        stale = time.monotonic() - REFRESH
        wanted = [
            k
            for k in set(keys)
            if k not in pending and (k not in self._cache or self._cache[k].loaded < stale)
        ]
        self._cache.update(_read(db, wanted))

    def _state(self, key: str, pending: Mapping[str, State]) -> State:
        return pending.get(key) or self._cache.get(key, INACTIVE)

    # --- writes: a condition starts, stops, raises --------------------------------------------

    def _start(
        self,
        db: Session,
        pending: dict[str, State],
        key: str,
        *,
        rule: Rule,
        source: str,
        site: str,
        member: int | None,
        ts: datetime,
        value: float,
    ) -> State:
        """The condition holds from ``ts`` (a run already going on in the database is kept)."""
        values = {
            "key": key,
            "rule": rule.code,
            "source": source,
            "site": site,
            "member": member,
            "since": ts,
            "false_since": None,
            "ts": ts,
            "value": value,
            "raised": False,
        }
        c = Condition.__table__.c
        stmt = lifecycle.upsert(db, Condition).values(values)
        fresh = c.since.is_(None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "since": func.coalesce(c.since, stmt.excluded.since),
                "false_since": None,
                "ts": _case(fresh, stmt.excluded.ts, c.ts),
                "value": _case(fresh, stmt.excluded.value, c.value),
                "raised": _case(fresh, False, c.raised),
            },
        ).returning(c.since, c.false_since, c.ts, c.value, c.raised)
        row = db.execute(stmt).one()
        state = State(
            row.since, row.false_since, row.ts, row.value, bool(row.raised), time.monotonic()
        )
        pending[key] = state
        return state

    def _stop(
        self, db: Session, pending: dict[str, State], key: str, ts: datetime, value: float
    ) -> None:
        db.execute(
            update(Condition)
            .where(Condition.key == key, Condition.since.is_not(None), Condition.since <= ts)
            .values(since=None, false_since=ts, ts=ts, value=value, raised=False)
        )
        pending[key] = State(None, ts, ts, value, False, time.monotonic())

    def _mark_raised(self, db: Session, pending: dict[str, State], key: str, state: State) -> None:
        db.execute(update(Condition).where(Condition.key == key).values(raised=True))
        pending[key] = replace(state, raised=True)

    def _fresh(self, db: Session, key: str) -> State:
        row = db.execute(
            select(
                Condition.since,
                Condition.false_since,
                Condition.ts,
                Condition.value,
                Condition.raised,
            ).where(Condition.key == key)
        ).one_or_none()
        if row is None:
            return INACTIVE
        return State(
            row.since, row.false_since, row.ts, row.value, bool(row.raised), time.monotonic()
        )

    def _raise(
        self,
        db: Session,
        pending: dict[str, State],
        key: str,
        state: State,
        rule: Rule,
        device: Device,
        readings: Sequence[Reading],
        now: datetime,
        *,
        source: str | None = None,
    ) -> None:
        lifecycle.raise_alarm(
            db,
            rule,
            source=source or device.id,
            device=None if source else device.id,
            site=device.site,
            district=device.district,
            readings=readings,
            units=self.units,
            now=now,
        )
        self._mark_raised(db, pending, key, state)

    # --- evaluate ---------------------------------------------------------------------------

    def evaluate(
        self, db: Session, directory: Directory, readings: Sequence[Reading], now: datetime
    ) -> int:
        """Checks ``readings`` (newly stored ones) against the rules in force; returns how many
        condition changes were written (0 for a quiet batch)."""
        on = local_today(now)
        index = self.index(on)
        silence = self._silence
        pending = self._pending(db)
        work: list[tuple[Reading, Device, list[tuple[Rule, int]]]] = []
        keys: list[str] = []
        seen: dict[str, datetime] = {}
        for r in sorted(readings, key=lambda r: r.ts):
            device = directory.devices.get(r.device)
            if device is None:
                continue
            type_code = device.sensor_type.code
            if type_code in silence:
                last = seen.get(r.device)
                if last is None or r.ts > last:
                    seen[r.device] = r.ts
            matched = index.get((type_code, r.metric))
            if not matched:
                continue
            work.append((r, device, matched))
            for rule, member in matched:
                keys.append(_key(rule, device.id, member))
        for device_id in seen:
            keys.append(
                f"{silence[directory.devices[device_id].sensor_type.code].code}|{device_id}"
            )
        if keys:
            self._load(db, keys, pending)
        changes = 0
        for r, device, matched in work:
            for rule, member in matched:
                changes += self._check(db, pending, directory, rule, member, device, r, now)
        if seen:
            changes += self._heard(db, pending, directory, seen, silence)
        return changes

    def _check(
        self,
        db: Session,
        pending: dict[str, State],
        directory: Directory,
        rule: Rule,
        member: int,
        device: Device,
        r: Reading,
        now: datetime,
    ) -> int:
        key = _key(rule, device.id, member)
        state = self._state(key, pending)
        condition = rule.conditions[member]
        kind = rule.kind
        shown: Sequence[Reading] = (r,)
        if kind == "rate":
            baseline = self._baselines.get((device.id, r.metric))
            if baseline is None and state.ts is not None and state.value is not None:
                baseline = (state.ts, state.value)
            self._baselines[(device.id, r.metric)] = (r.ts, r.value)
            if baseline is None:
                return 0
            gap = (r.ts - baseline[0]).total_seconds()
            if not 0 < gap <= 3 * device.sensor_type.interval:
                return 0
            holds = condition.holds((r.value - baseline[1]) * 60.0 / gap)
            shown = (Reading(device.id, baseline[0], r.metric, baseline[1]), r)
        else:
            holds = condition.holds(r.value)
        if not holds:
            if state.active:
                self._stop(db, pending, key, r.ts, r.value)
                return 1
            return 0
        written = 0
        if not state.active:
            state = self._start(
                db,
                pending,
                key,
                rule=rule,
                source=device.id,
                site=device.site,
                member=member if kind == "correlation" else None,
                ts=r.ts,
                value=r.value,
            )
            written = 1
            if kind == "correlation":
                return written + self._correlate(db, pending, directory, rule, device, r.ts, now)
        if state.raised or kind == "correlation":
            return written
        if kind == "duration":
            assert state.since is not None
            if r.ts - state.since < timedelta(minutes=rule.minutes):
                return written
            state = self._fresh(db, key)
            if state.since is None or r.ts - state.since < timedelta(minutes=rule.minutes):
                pending[key] = state
                return written
            if state.ts is not None and state.value is not None and state.ts != r.ts:
                shown = (Reading(device.id, state.ts, r.metric, state.value), r)
        self._raise(db, pending, key, state, rule, device, shown, now)
        return written + 1

    # --- correlation --------------------------------------------------------------------------

    def _group(self, directory: Directory, rule: Rule, device: Device) -> list[str] | None:
        """The devices within ``within_m`` of ``device`` watched by the rule (None: by site)."""
        if rule.group == "site":
            return None
        cache_key = (id(directory), rule.code, device.id)
        found = self._neighbours.get(cache_key)
        if found is None:
            types = {c.sensor_type for c in rule.conditions}
            found = [
                d.id
                for d in directory.devices.values()
                if d.sensor_type.code in types and _metres(device, d) <= rule.within_m
            ]
            self._neighbours[cache_key] = found
        return found

    def _members(self, db: Session, rule: Rule, site: str, group: list[str] | None) -> list[Any]:
        query = select(
            Condition.source,
            Condition.member,
            Condition.since,
            Condition.false_since,
            Condition.ts,
            Condition.value,
        ).where(Condition.rule == rule.code, Condition.member.is_not(None))
        if group is None:
            query = query.where(Condition.site == site)
        else:
            query = query.where(Condition.source.in_(group[:CHUNK]))
        return list(db.execute(query))

    def _met(self, rule: Rule, members: list[Any], at: datetime) -> list[Any] | None:
        """The members that make the rule hold at ``at``, or None when too few do."""
        horizon = at - timedelta(minutes=rule.window)
        live = [
            m
            for m in members
            if m.since is not None or (m.false_since is not None and m.false_since >= horizon)
        ]
        met = 0
        used: list[Any] = []
        for i, condition in enumerate(rule.conditions):
            these = [m for m in live if m.member == i]
            if len({m.source for m in these}) >= condition.devices:
                met += 1
                used += these
        return used if met >= rule.need else None

    def _correlate(
        self,
        db: Session,
        pending: dict[str, State],
        directory: Directory,
        rule: Rule,
        device: Device,
        at: datetime,
        now: datetime,
    ) -> int:
        used = self._met(
            rule, self._members(db, rule, device.site, self._group(directory, rule, device)), at
        )
        if used is None:
            return 0
        key = f"{rule.code}|{device.site}"
        state = self._state(key, pending)
        if not state.active:
            state = self._start(
                db,
                pending,
                key,
                rule=rule,
                source=device.site,
                site=device.site,
                member=None,
                ts=at,
                value=float(len(used)),
            )
        if state.raised:
            return 0
        readings = [
            Reading(m.source, m.ts, rule.conditions[m.member].metric, m.value)
            for m in used
            if m.ts is not None and m.value is not None
        ]
        self._raise(db, pending, key, state, rule, device, readings, now, source=device.site)
        return 1

    # --- silence: being heard -----------------------------------------------------------------

    def _heard(
        self,
        db: Session,
        pending: dict[str, State],
        directory: Directory,
        seen: Mapping[str, datetime],
        silence: Mapping[str, Rule],
    ) -> int:
        rows = []
        changes = 0
        for device_id, ts in seen.items():
            device = directory.devices[device_id]
            rule = silence[device.sensor_type.code]
            key = f"{rule.code}|{device_id}"
            if self._state(key, pending).active:
                self._stop(db, pending, key, ts, 0.0)
                changes += 1
            window = rule.intervals * device.sensor_type.interval
            written = self._seen_written.get(device_id)
            if written is None or (ts - written).total_seconds() >= max(1.0, window / 3):
                rows.append({"device": device_id, "seen_at": ts})
                self._seen_written[device_id] = ts
        if rows:
            stmt = lifecycle.upsert(db, DeviceSeen)
            latest = func.greatest if db.get_bind().dialect.name == "postgresql" else func.max
            newest = latest(DeviceSeen.seen_at, stmt.excluded.seen_at)
            db.execute(
                stmt.on_conflict_do_update(index_elements=["device"], set_={"seen_at": newest}),
                rows,
            )
        return changes

    # --- tick ---------------------------------------------------------------------------------

    def tick(self, db: Session, directory: Directory, now: datetime) -> int:
        """Silence, escalation, the correlation sweep and clearing as of ``now``; returns how
        many alarms were raised or changed."""
        pending = self._pending(db)
        done = self._silences(db, pending, directory, now)
        done += self._sweep(db, pending, directory, now)
        done += self._escalations(db, now)
        done += self._clearing(db, now)
        return done

    def _silences(
        self, db: Session, pending: dict[str, State], directory: Directory, now: datetime
    ) -> int:
        silence = self.silence_rules(local_today(now))
        if not silence:
            return 0
        shortest = min(
            r.intervals * directory.types[t].interval if t in directory.types else 0
            for t, r in silence.items()
        )
        done = 0
        quiet = db.execute(
            select(DeviceSeen.device, DeviceSeen.seen_at).where(
                DeviceSeen.seen_at <= now - timedelta(seconds=shortest)
            )
        ).all()
        silent: list[tuple[str, datetime, Device, Rule]] = []
        for device_id, seen_at in quiet:
            device = directory.devices.get(device_id)
            rule = silence.get(device.sensor_type.code) if device else None
            if device is None or rule is None:
                continue
            if now - seen_at >= timedelta(seconds=rule.intervals * device.sensor_type.interval):
                silent.append((f"{rule.code}|{device_id}", seen_at, device, rule))
        states = _read(db, [k for k, *_ in silent])
        for key, seen_at, device, rule in silent:
            device_id = device.id
            state = states[key]
            if state.active and state.raised:
                continue
            if not state.active:
                state = self._start(
                    db,
                    pending,
                    key,
                    rule=rule,
                    source=device_id,
                    site=device.site,
                    member=None,
                    ts=seen_at,
                    value=0.0,
                )
            self._raise(db, pending, key, state, rule, device, (), now)
            done += 1
        return done

    def _sweep(
        self, db: Session, pending: dict[str, State], directory: Directory, now: datetime
    ) -> int:
        """Correlations again from the database: raises what two processes starting members at
        once could each miss, and starts or stops each open correlation's site condition."""
        done = 0
        on = local_today(now)
        for rule in self.rules.values():
            if rule.kind != "correlation" or not rule.in_force(on):
                continue
            horizon = now - timedelta(minutes=rule.window)
            active = db.execute(
                select(Condition.source, Condition.site).where(
                    Condition.rule == rule.code,
                    Condition.member.is_not(None),
                    (Condition.since.is_not(None)) | (Condition.false_since >= horizon),
                )
            ).all()
            sites: dict[str, str] = {}
            for device_id, site in active:
                sites.setdefault(site, device_id)
            open_sites = {
                source
                for (source,) in db.execute(
                    select(Alarm.source).where(Alarm.rule == rule.code, Alarm.open_key.is_not(None))
                )
            }
            for site in open_sites | set(sites):
                device = directory.devices.get(sites.get(site, ""))
                members = (
                    self._members(db, rule, site, self._group(directory, rule, device))
                    if device
                    else []
                )
                used = self._met(rule, members, now)
                key = f"{rule.code}|{site}"
                state = self._fresh(db, key)
                if used is None:
                    if state.active:
                        self._stop(db, pending, key, now, 0.0)
                    continue
                if device is None or (state.active and state.raised):
                    continue
                done += self._correlate(db, pending, directory, rule, device, now, now)
        return done

    def _escalations(self, db: Session, now: datetime) -> int:
        due = db.scalars(
            select(Alarm)
            .where(Alarm.state == "raised", Alarm.escalate_at <= now)
            .with_for_update(of=Alarm)
        ).all()
        # An alarm whose condition has cleared waits for clearing, not for someone to hurry.
        states = _read(db, [a.open_key for a in due if a.open_key])
        done = 0
        for alarm in due:
            if alarm.open_key and not states[alarm.open_key].active:
                continue
            lifecycle.escalate(db, alarm, self.rules.get(alarm.rule), self.units, now)
            done += 1
        return done

    def _clearing(self, db: Session, now: datetime) -> int:
        rows = db.execute(
            select(Alarm, Condition.false_since)
            .join(Condition, Condition.key == Alarm.open_key)
            .where(Alarm.open_key.is_not(None), Condition.since.is_(None))
            .with_for_update(of=Alarm)
        ).all()
        done = 0
        for alarm, false_since in rows:
            rule = self.rules.get(alarm.rule)
            if rule is None or false_since is None:
                continue
            after = timedelta(minutes=rule.clear_after)
            last = (
                alarm.cleared_at if alarm.cleared_at and alarm.cleared_at >= false_since else None
            )
            if now < (last or false_since) + after:
                continue
            dispatched = alarm.state in ("dispatched", "resolved")
            if rule.clear_then == "deescalate" and alarm.level < 4:
                lifecycle.deescalate(db, alarm, now)
            elif not dispatched:
                lifecycle.auto_close(db, alarm, now)
            elif last is None:
                # A unit is at work: the officer closes it; the page shows the condition cleared.
                alarm.cleared_at = now
            else:
                continue
            done += 1
        return done


def _read(db: Session, keys: Sequence[str]) -> dict[str, State]:
    """The database's state of ``keys`` (absent keys inactive), in batched SELECTs."""
    loaded = time.monotonic()
    out: dict[str, State] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found = {
            row.key: State(row.since, row.false_since, row.ts, row.value, bool(row.raised), loaded)
            for row in db.execute(
                select(
                    Condition.key,
                    Condition.since,
                    Condition.false_since,
                    Condition.ts,
                    Condition.value,
                    Condition.raised,
                ).where(Condition.key.in_(chunk))
            )
        }
        for k in chunk:
            out[k] = found.get(k, replace(INACTIVE, loaded=loaded))
    return out


def _key(rule: Rule, device: str, member: int) -> str:
    if rule.kind == "correlation":
        return f"{rule.code}|{device}|{member}"
    return f"{rule.code}|{device}"


def _case(when: Any, then: Any, otherwise: Any) -> Any:
    return case((when, then), else_=otherwise)


# --- the module's functions: the evaluator and ticker the consumer is given --------------------

_engines: dict[tuple[str, Path, str], Engine] = {}


def engine_for(db: Session, content_dir: Path | None = None, city: str | None = None) -> Engine:
    """The engine of this database and city in this process (made once, cached)."""
    from shuhui.core.settings import get_settings

    settings = get_settings()
    content = content_dir or settings.content_dir
    name = city or settings.city
    key = (db.get_bind().engine.url.render_as_string(hide_password=True), content, name)
    found = _engines.get(key)
    if found is None:
        types = sensor_types(content, name)
        found = Engine(load_rules(content, name, types), load_units(content, name))
        _engines[key] = found
    return found


def forget_all() -> None:
    """Every engine's cache dropped (a restarted process's view)."""
    for engine in _engines.values():
        engine.forget()


def evaluate(db: Session, directory: Directory, readings: Sequence[Reading], now: datetime) -> int:
    """The evaluator (``telemetry``'s ``Evaluator``): checks the newly stored readings."""
    return engine_for(db).evaluate(db, directory, readings, now)


def tick(db: Session, directory: Directory, now: datetime) -> int:
    """The ticker, about every 5 s: silence, escalation, correlation sweep, clearing."""
    return engine_for(db).tick(db, directory, now)
