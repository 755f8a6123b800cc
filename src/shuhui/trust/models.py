"""Accounts, their roles, and login sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
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


class PersonalKey(Base):
    """A person's SM2 signing key. ``custody`` says who holds the private key: ``platform``
    (云签名: kept owner-only in the data directory like seal keys, used only after the person
    re-enters their password) or ``holder`` (the person's own key, e.g. made with OpenSSL; the
    platform knows only the public half and the person uploads signatures)."""

    __tablename__ = "personal_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    public_key_pem: Mapped[str] = mapped_column(String())
    custody: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Authorisation(Base):
    """A signed grant from one party to another: a mandate (委托授权: the agent may handle the
    listed service items for the principal) or a certificate-use authorisation (用证授权: the
    relying party may use the holder's certificates for a purpose).

    ``document`` holds the exact RFC 8785 bytes the signatory signed; the columns repeat them for
    queries, and verification checks both. ``status`` is what was last recorded; expiry is a fact of
    time, so readers use :func:`shuhui.trust.authorisations.effective_status`.
    """

    __tablename__ = "authorisations"
    # A decision looks up one principal's authorisations to one grantee. An institution may
    # hold thousands (an insurer, one per applicant): the index on grantee alone, which SQLite
    # chose, scanned them all on every check.
    __table_args__ = (Index("ix_authorisations_principal_grantee", "principal_id", "grantee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # mandate | cert_use
    # On whose behalf: the person or enterprise whose matters or certificates these are.
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[str] = mapped_column(String(18), index=True)
    principal_name: Mapped[str] = mapped_column(String(128))
    # Who grants it: the principal, or for a sub-delegation the agent of the parent mandate.
    grantor_kind: Mapped[str] = mapped_column(String(16))
    grantor_id: Mapped[str] = mapped_column(String(18), index=True)
    # The natural person who signs for the grantor (the person, or the legal representative).
    signatory_id: Mapped[str] = mapped_column(String(18))
    grantee_kind: Mapped[str] = mapped_column(String(16))
    grantee_id: Mapped[str] = mapped_column(String(18), index=True)
    grantee_name: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String())  # JSON list: service items or certificate types
    actions: Mapped[str] = mapped_column(String())  # JSON list
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(256))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    subdelegation: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(256))
