"""Accounts, their roles, and login sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.clock import utcnow
from shuhui.core.db import Base, UTCDateTime


class Role(enum.StrEnum):
    citizen = "citizen"
    enterprise = "enterprise"
    officer = "officer"
    data_operator = "data_operator"
    consumer = "consumer"
    admin = "admin"


ROLE_TITLES: dict[Role, tuple[str, str]] = {
    Role.citizen: ("市民", "Citizen"),
    Role.enterprise: ("企业", "Enterprise"),
    Role.officer: ("部门工作人员", "Department officer"),
    Role.data_operator: ("大数据局运营人员", "Data-bureau operator"),
    Role.consumer: ("数据使用方", "Data consumer"),
    Role.admin: ("系统管理员", "Administrator"),
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    citizen_id: Mapped[str | None] = mapped_column(String(18), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    department: Mapped[str | None] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        SAEnum(Role, name="role", native_enum=False, validate_strings=True, length=32)
    )

    user: Mapped[User] = relationship(back_populates="roles")


class LoginSession(Base):
    """A server-side session: logout and disabling an account end it at once."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Only the hash of the cookie's token is kept, so a read of this table logs nobody in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(256))

    user: Mapped[User] = relationship(lazy="joined")


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
    grant: Mapped[str | None] = mapped_column(String(128))
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
