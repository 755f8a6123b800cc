"""The data channel's tables.

Zones and products are content (``content/<city>/channel-zones.yaml``, ``data-products.yaml``)
and are referred to by code; the products organisations host are rows here
(``channel_hosted_products``), referred to by code the same way. Money is integer fen (分).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.db import Base, UTCDateTime

CONSUMER_TYPES: dict[str, tuple[str, str]] = {
    "bank": ("银行", "Bank"),
    "insurer": ("保险机构", "Insurer"),
    "guarantor": ("融资担保机构", "Guarantor"),
    "lessor": ("融资租赁机构", "Lessor"),
    "hospital": ("医疗机构", "Hospital"),
    "research": ("科研机构", "Research institution"),
    "government": ("政府部门", "Government department"),
    "public_institution": ("事业单位", "Public institution"),
}
USAGES: dict[str, tuple[str, str]] = {
    "public_governance": ("公共治理、公益事业（有条件无偿）", "Public governance (free)"),
    "industry": ("产业发展、行业发展（有条件有偿）", "Industry (paid)"),
}
MEMBERSHIP_STATES: dict[str, tuple[str, str]] = {
    "pending": ("待审核", "Pending"),
    "approved": ("已加入", "Approved"),
    "rejected": ("未通过", "Rejected"),
}
# An access application passes the providing department, then the data bureau.
APPLICATION_STATES: dict[str, tuple[str, str]] = {
    "department_review": ("待提供部门审核", "Awaiting the providing department"),
    "bureau_review": ("待大数据局审核", "Awaiting the data bureau"),
    "returned": ("退回补充材料", "Returned for more information"),
    "rejected": ("不予批准", "Rejected"),
    "approved": ("已批准", "Approved"),
}
GRANT_STATES: dict[str, tuple[str, str]] = {
    "active": ("有效", "Active"),
    "revoked": ("已撤销", "Revoked"),
}
HOSTED_STATES: dict[str, tuple[str, str]] = {
    "offered": ("提供中", "Offered"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


class Consumer(Base):
    """An organisation that calls data products: a bank, an insurer, a hospital…"""

    __tablename__ = "channel_consumers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(64))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_email: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class Membership(Base):
    """A consumer's application to join a zone, and the bureau's decision."""

    __tablename__ = "channel_memberships"
    __table_args__ = (UniqueConstraint("consumer_id", "zone"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("channel_consumers.id"), index=True)
    zone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(String(2048))  # why the consumer wants to join
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewer: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(String(1024))

    consumer: Mapped[Consumer] = relationship(lazy="joined")


class AccessApplication(Base):
    """An application to use data products for one purpose, reviewed twice."""

    __tablename__ = "channel_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("channel_consumers.id"), index=True)
    products: Mapped[str] = mapped_column(String(1024))  # JSON list of product codes
    fields: Mapped[str] = mapped_column(String(4096))  # JSON {product: [output fields]}
    purpose: Mapped[str] = mapped_column(String(256))
    legal_basis: Mapped[str] = mapped_column(String(1024))
    usage: Mapped[str] = mapped_column(String(32))
    days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), index=True)
    applicant: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    history: Mapped[str] = mapped_column(String())  # JSON list of review steps
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("channel_grants.id"))

    consumer: Mapped[Consumer] = relationship(lazy="joined")


class Grant(Base):
    """What an approved application allows: these products, this purpose, this window."""

    __tablename__ = "channel_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("channel_consumers.id"), index=True)
    products: Mapped[str] = mapped_column(String(1024))  # JSON list of product codes
    fields: Mapped[str] = mapped_column(String(4096))  # JSON {product: [output fields]}
    purpose: Mapped[str] = mapped_column(String(256))
    usage: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    monthly_quota: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(1024))
    # ε a consumer may spend on each noised product per version of its tables, set by the
    # approving reviewer; None: the product's default (content), as grants made before had.
    privacy_budget: Mapped[float | None] = mapped_column(Float)

    consumer: Mapped[Consumer] = relationship(lazy="joined")


class ApiKey(Base):
    """A consumer's key: shown once, kept as a SHA-256 digest, scoped to some of its grants."""

    __tablename__ = "channel_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    consumer_id: Mapped[int] = mapped_column(ForeignKey("channel_consumers.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    grants: Mapped[str] = mapped_column(String(1024))  # JSON list of grant codes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by: Mapped[str | None] = mapped_column(String(16))  # prefix of its rotation

    consumer: Mapped[Consumer] = relationship(lazy="joined")


class Counter(Base):
    """Calls counted per key and window: every call in a minute (the rate limit), the calls
    answered in a month (the quota) and those refused in it."""

    __tablename__ = "channel_counters"

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window: Mapped[str] = mapped_column(
        String(24), primary_key=True
    )  # "m:202611291605", "M:202611", "R:202611"
    count: Mapped[int] = mapped_column(Integer)


class Call(Base):
    """One call through the gateway, answered or refused: what metering and billing read."""

    __tablename__ = "channel_calls"
    __table_args__ = (
        Index("ix_channel_calls_consumer_at", "consumer_id", "at"),
        Index("ix_channel_calls_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    month: Mapped[date] = mapped_column(Date)  # the billing month (Asia/Shanghai), its 1st day
    consumer_id: Mapped[int | None] = mapped_column(Integer)
    key_prefix: Mapped[str | None] = mapped_column(String(16))
    grant_code: Mapped[str | None] = mapped_column(String(32))
    product: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str | None] = mapped_column(String(32))
    usage: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(64))  # a refusal's reason code
    micros: Mapped[int] = mapped_column(Integer)  # time to answer or refuse, microseconds
    answer_sha256: Mapped[str | None] = mapped_column(String(64))
    ledger_seq: Mapped[int | None] = mapped_column(Integer)


class IssuedStatement(Base):
    """A month's statement once issued: the document as sealed, never recomputed. Prices and
    products are content that changes; a bill for a month that is over must not."""

    __tablename__ = "channel_statements"
    __table_args__ = (UniqueConstraint("consumer_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("channel_consumers.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # its 1st day
    total_fen: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # RFC 8785 JSON, the bytes the seal covers
    seal: Mapped[str] = mapped_column(Text)  # the e-seal envelope (JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(128))

    consumer: Mapped[Consumer] = relationship(lazy="joined")


class ChannelState(Base):
    """One row: a counter bumped by every change to keys, grants and zone memberships, so each
    server process knows when what it remembers about a key is stale."""

    __tablename__ = "channel_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class PrivacyBudget(Base):
    """ε spent by a consumer on one noised product over one version of its tables, or over
    a calendar month across versions, in millionths (integers add exactly; each query's ε is
    rounded up). A new version of the tables starts a new row (see
    :mod:`shuhui.channel.privacy`)."""

    __tablename__ = "channel_privacy_budgets"

    consumer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The versions ("residents@3,insured@2,…"), or the month ("month:2026-12").
    scope: Mapped[str] = mapped_column(String(256), primary_key=True)
    total_micro: Mapped[int] = mapped_column(BigInteger)  # what it allowed when last spent
    spent_micro: Mapped[int] = mapped_column(BigInteger)
    queries: Mapped[int] = mapped_column(Integer)  # distinct queries released
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PrivacyRelease(Base):
    """A noised answer as released: the same query on the same table versions is answered
    with it again, so there is no fresh draw to average. ``release_key`` is the SHA-256 of
    the product, the normalised query and the versions (and the day, for a product reading
    ``today``); one row per consumer it was released to (each paid for it once), all with the
    same answer."""

    __tablename__ = "channel_privacy_releases"

    release_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    consumer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(64))
    versions: Mapped[str] = mapped_column(String(256))
    epsilon_micro: Mapped[int] = mapped_column(BigInteger)
    answer: Mapped[str] = mapped_column(Text)  # JSON: rows and suppression counts
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HostedProduct(Base):
    """A data product made of an organisation's own table in the data core (数据托管): the
    table's rows, optionally filtered by the key columns it declared, personal columns masked,
    priced per call by the provider, who reviews each application unless its terms are open.
    Withdrawn, it stays (its calls are billed and named) but answers no call."""

    __tablename__ = "channel_hosted_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # the hosted table's name
    provider_code: Mapped[str] = mapped_column(String(18), index=True)  # credit code
    provider_name: Mapped[str] = mapped_column(String(256))
    name_zh: Mapped[str] = mapped_column(String(256))
    name_en: Mapped[str] = mapped_column(String(256))
    summary: Mapped[str] = mapped_column(String(2048))
    zone: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(64))  # the data-core table (hosted_…)
    # JSON [{name, title, type, personal}]: the table's columns, the product's output.
    columns: Mapped[str] = mapped_column(Text)
    keys: Mapped[str] = mapped_column(String(1024))  # JSON list: the columns a call may filter by
    review: Mapped[bool] = mapped_column(Boolean)  # the provider approves each application
    price_fen: Mapped[int] = mapped_column(Integer)  # per answered call, industry use
    public_governance_fen: Mapped[int] = mapped_column(Integer)  # per call, public governance
    status: Mapped[str] = mapped_column(String(16))  # offered | withdrawn
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_by: Mapped[str] = mapped_column(String(128))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(128))
    withdrawn_reason: Mapped[str | None] = mapped_column(String(1024))
