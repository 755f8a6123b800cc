"""The audit ledger's tables: its head (the size), its entries, its signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime


class LedgerHead(Base):
    """One row: the ledger's size. Appends bump it first, which serialises concurrent writers."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    algorithm: Mapped[str] = mapped_column(String(16), default="sm3")


class LedgerEntry(Base):
    """One audit record. ``leaf`` is the exact RFC 8785 bytes that were hashed into the tree;
    the other columns repeat its fields so they can be queried, and verification checks both."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(128), index=True)
    purpose: Mapped[str | None] = mapped_column(String(256))
    grant: Mapped[str | None] = mapped_column(String(128), index=True)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A signed tree head: the root of the first ``tree_size`` entries, signed with SM2."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    algorithm: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(512))  # the signed text
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(64))


class LedgerCosignature(Base):
    """A witness's cosignature of a checkpoint: its signed-note line, as the witness returned it.

    One per witness and size; the largest size a witness has cosigned is where the next push's
    consistency proof starts."""

    __tablename__ = "ledger_cosignatures"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(256), primary_key=True)  # the key's name
    key_id: Mapped[str] = mapped_column(String(8))  # hex
    line: Mapped[str] = mapped_column(String(1024))  # "— <name> <base64>"
    cosigned_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the cosignature's timestamp
