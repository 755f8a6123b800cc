"""The registry of electronic seals (电子印章)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.clock import utcnow
from shuhui.core.db import Base, UTCDateTime


class Seal(Base):
    """An electronic seal (电子印章) of a department, after GB/T 38540: an SM2 key pair with a
    validity window and an image. The private key lives in the data directory, never here."""

    __tablename__ = "seals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))  # SM3 fingerprint of the public key
    # Unbounded strings (TEXT-like on both databases): a PEM block and a small SVG.
    public_key_pem: Mapped[str] = mapped_column(String())
    image_svg: Mapped[str] = mapped_column(String())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
