"""The alarms' tables: alarms and their steps, the readings that raised each, the rule
conditions' state the engine shares between consumer processes, when each device was last
heard, and the responder units' inboxes.

One open alarm per (rule, source) is the database's rule, not the engine's: ``open_key``
holds ``rule|source`` while the alarm is not closed and NULL once it is, under a unique index
(NULLs never collide), and the engine inserts with ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.db import Base, UTCDateTime

# raised → acknowledged → dispatched → resolved → closed (closed also straight from raised or
# acknowledged, by an officer or when the condition clears).
STATES: dict[str, tuple[str, str]] = {
    "raised": ("待确认", "Raised"),
    "acknowledged": ("已确认", "Acknowledged"),
    "dispatched": ("已派发", "Dispatched"),
    "resolved": ("已处置", "Resolved"),
    "closed": ("已关闭", "Closed"),
}
OPEN_STATES = ("raised", "acknowledged", "dispatched", "resolved")


class Alarm(Base):
    """One alarm: a rule's condition on a source (a device, or a site for a correlation)."""

    __tablename__ = "monitor_alarms"
    __table_args__ = (
        Index("ix_monitor_alarms_state_level", "state", "level"),
        Index("ix_monitor_alarms_unit_state", "unit", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # "rule|source" while open, NULL once closed: one open alarm per condition and source.
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    scenario: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))  # None for a correlation
    site: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(6))
    level: Mapped[int] = mapped_column(SmallInteger)
    raised_level: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64))  # the responder unit, once dispatched
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an unacknowledged alarm next goes one level up (None: acknowledged, or 一级).
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the condition was last seen clear for long enough (shown; de-escalation steps on it).
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[AlarmEvent]] = relationship(
        back_populates="alarm", order_by="AlarmEvent.id", lazy="selectin"
    )
    readings: Mapped[list[AlarmReading]] = relationship(order_by="AlarmReading.id", lazy="selectin")


class AlarmEvent(Base):
    """One step of an alarm: who (a person, or ``system`` for the engine), when, from what to
    what, at which level, and a note."""

    __tablename__ = "monitor_alarm_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("monitor_alarms.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(SmallInteger)
    unit: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(1024))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    alarm: Mapped[Alarm] = relationship(back_populates="events")


class AlarmReading(Base):
    """A reading that raised an alarm, as it arrived."""

    __tablename__ = "monitor_alarm_readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("monitor_alarms.id"), index=True)
    device: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)


class Condition(Base):
    """Where a rule's condition stands for one source, shared by every consumer process.

    ``key`` is ``rule|source`` (a correlation's member: ``rule|device|condition index``).
    ``since`` is the reading time the condition became true (None while false), ``false_since``
    when it became false, ``value``/``ts`` the reading that last changed it (the rate's
    baseline), ``raised`` whether this run of the condition raised its alarm already."""

    __tablename__ = "monitor_conditions"
    __table_args__ = (Index("ix_monitor_conditions_rule_site", "rule", "site"),)

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64))
    member: Mapped[int | None] = mapped_column(SmallInteger)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    false_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)
    raised: Mapped[bool] = mapped_column(Boolean, default=False)


class DeviceSeen(Base):
    """When each device was last heard (written at most every few minutes per device: what the
    silence rules need, not every reading)."""

    __tablename__ = "monitor_device_seen"

    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UnitMessage(Base):
    """A message to a responder unit's inbox (an alarm dispatched to it)."""

    __tablename__ = "monitor_unit_messages"
    __table_args__ = (Index("ix_monitor_unit_messages_unit_read", "unit", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit: Mapped[str] = mapped_column(String(64))
    alarm_id: Mapped[int] = mapped_column(ForeignKey("monitor_alarms.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_by: Mapped[str | None] = mapped_column(String(128))
