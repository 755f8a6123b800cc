"""The enterprise platform's own tables: enterprises' needs (诉求) and their steps, and their
digital-level assessments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime


class Need(Base):
    """One need an enterprise posted (financing, talent, digital transformation, land, market):
    the department it was routed to, its time limit, where it stands (受理 → 办理 → 办结) and the
    enterprise's rating once it is closed."""

    __tablename__ = "enterprise_needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # SQ-YYYYMMDD-NNNNNN
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(String(2000))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # financing: the sum asked for
    department: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # received, handling, closed
    posted_by: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handler: Mapped[str | None] = mapped_column(String(64))
    handling_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(2000))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the enterprise was shown when it posted: solution, platform and policy codes, ranked.
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class NeedStep(Base):
    """One step of a need: posted, taken, a note, closed, rated."""

    __tablename__ = "enterprise_need_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("enterprise_needs.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(2000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Assessment(Base):
    """One completed digital-level assessment (数字化水平评测) of an enterprise: the edition of
    the questionnaire, the answers, which of them were pre-filled from the data core and kept,
    the score, the level 1-4 and the gaps to the next level."""

    __tablename__ = "enterprise_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # PC-YYYYMMDD-NNNNNN
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    edition: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    prefilled: Mapped[dict[str, Any]] = mapped_column(JSON)  # question -> the source it came from
    score: Mapped[int] = mapped_column(Integer)  # in tenths of a point (0-1000)
    level: Mapped[int] = mapped_column(Integer)
    gaps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HostedData(Base):
    """A file of an enterprise's own data held in custody (数据托管): the hosted table of the
    data core it went into (named from the credit code, never among the city's tables), how
    the enterprise described and priced it, its catalog entry and channel product (both named
    as the table), and its withdrawal."""

    __tablename__ = "enterprise_hosted_data"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # TG-YYYYMMDD-XXXXXX
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(128))
    slug: Mapped[str] = mapped_column(String(32))  # the enterprise's name for it, a-z0-9_
    # hosted_<credit code>_<slug>: the data-core table, the catalog dataset, the product.
    table_name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(2000))
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # name, title, type, personal
    keys: Mapped[list[str]] = mapped_column(JSON)  # the columns a consumer may filter by
    category: Mapped[str] = mapped_column(String(8))  # the catalog's category
    zone: Mapped[str] = mapped_column(String(32))  # the data channel's zone
    terms: Mapped[str] = mapped_column(String(16))  # open | conditional
    condition: Mapped[str | None] = mapped_column(String(512))  # conditional terms: on what
    price_fen: Mapped[int] = mapped_column(Integer)
    public_governance_fen: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)  # the data-core table's version
    file_sha256: Mapped[str] = mapped_column(String(64))  # the file as uploaded
    file_bytes: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)  # hosted | withdrawn
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(1024))
