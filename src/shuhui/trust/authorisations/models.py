"""Signed authorisations (mandates and certificate-use authorisations) and the personal signing
keys their signatories sign with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.clock import utcnow
from shuhui.core.db import Base, UTCDateTime


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
    time, so readers use :func:`shuhui.trust.authorisations.service.effective_status`.
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
