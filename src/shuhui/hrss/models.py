"""The HR & social-security services' own tables: the certificates of insured status
(参保证明) issued, each with the seal's envelope and the hash of its stored PDF."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime


class InsuredCertificate(Base):
    """A 参保证明 as issued: who it is about, the months it states, what it states (the summary
    printed, so a later look needs no data-core read), the seal's envelope and the PDF's hash."""

    __tablename__ = "hrss_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    holder_name: Mapped[str] = mapped_column(String(64))
    months_from: Mapped[date] = mapped_column(Date)
    months_to: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(128))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(128))
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, int]] = mapped_column(JSON)  # data-core tables read
    seal_code: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    stored_as: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
