"""The tables of the fund-risk checks (基金监管): detection runs, alerts and their history.

A run is one date's pass of every detector; an alert is one finding (a rule and the key it
found: a pension, a claim, a person), opened once and never deleted; an event is one step of
its lifecycle. Money is integer fen (分).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.db import Base, UTCDateTime

# new → checking → confirmed | dismissed (with a reason); confirmed → recovering → recovered.
ALERT_STATES: dict[str, tuple[str, str]] = {
    "new": ("待核查", "New"),
    "checking": ("核查中", "Checking"),
    "confirmed": ("已确认违规", "Confirmed"),
    "dismissed": ("已排除", "Dismissed"),
    "recovering": ("追回中", "Recovering"),
    "recovered": ("已追回", "Recovered"),
}
# The four chains the fund is watched along (四链合一).
CHAINS: dict[str, tuple[str, str]] = {
    "policy": ("政策链", "Policy chain"),
    "funds": ("资金链", "Funds chain"),
    "business": ("业务链", "Business chain"),
    "information": ("信息链", "Information chain"),
}
SEVERITIES: dict[str, tuple[str, str]] = {
    "high": ("高", "High"),
    "medium": ("中", "Medium"),
    "low": ("低", "Low"),
}


class DetectionRun(Base):
    """One date's detection: what each detector found, and how many of those were new."""

    __tablename__ = "fundrisk_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluated_on: Mapped[date] = mapped_column(Date, unique=True)
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)  # detector → found/new/open
    versions: Mapped[dict[str, int]] = mapped_column(JSON)
    runs: Mapped[int] = mapped_column(Integer)  # how many times this date was run
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """A finding of a detector, and where its check and recovery stand."""

    __tablename__ = "fundrisk_alerts"
    __table_args__ = (
        UniqueConstraint("rule", "subject"),
        Index("ix_fundrisk_alerts_chain_state", "chain", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    chain: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    department: Mapped[str] = mapped_column(String(128))
    entity: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(32))  # the key found: pension ID, claim, person
    citizen_id: Mapped[str | None] = mapped_column(String(18), index=True)  # whose data it is
    # Enough to explain it again exactly: the rule, the date, the tables' versions.
    evaluated_on: Mapped[date] = mapped_column(Date)
    versions: Mapped[dict[str, int]] = mapped_column(JSON)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # to recover
    recovered_fen: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(1024))  # why dismissed
    run_id: Mapped[int] = mapped_column(ForeignKey("fundrisk_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id", lazy="selectin"
    )


class AlertEvent(Base):
    """One step of an alert's lifecycle: who moved it from what to what, and why."""

    __tablename__ = "fundrisk_alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("fundrisk_alerts.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # a recovery's amount
    note: Mapped[str | None] = mapped_column(String(1024))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    alert: Mapped[Alert] = relationship(back_populates="events")
