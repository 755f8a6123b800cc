"""The tables of the enterprise-difficulty program: one run per evaluation date, the struggling
enterprises it found (score, reasons, the figures behind them), and the measures started for
them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime


class DistressRun(Base):
    """The score over every enterprise on one date (one per date: running it again for the
    same date changes nothing)."""

    __tablename__ = "program_distress_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluated_on: Mapped[date] = mapped_column(Date, unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, int]] = mapped_column(JSON)  # the rule's outcomes over the city
    found: Mapped[int] = mapped_column(Integer)  # struggling enterprises kept
    versions: Mapped[dict[str, int]] = mapped_column(JSON)  # data-core table versions read
    ms: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DistressFinding(Base):
    """A struggling enterprise of a run: its score, the signals that counted, and every figure
    the rule compared (so the list needs no data-core query per row)."""

    __tablename__ = "program_distress_findings"
    __table_args__ = (
        UniqueConstraint("run_id", "credit_code"),
        Index("ix_program_distress_findings_code", "credit_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("program_distress_runs.id"))
    credit_code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(256))
    district_code: Mapped[str] = mapped_column(String(6))
    industry: Mapped[str] = mapped_column(String(128))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON)  # the rule's condition ids that held
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rule's variables, by name


class DistressMeasure(Base):
    """A measure started for a struggling enterprise: through a policy's campaign (whose
    candidate carries the state from there), or recorded as offered."""

    __tablename__ = "program_distress_measures"
    __table_args__ = (UniqueConstraint("run_id", "measure", "credit_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("program_distress_runs.id"))
    measure: Mapped[str] = mapped_column(String(64))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    policy: Mapped[str | None] = mapped_column(String(64))
    campaign: Mapped[str | None] = mapped_column(String(32))  # the campaign's code
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
