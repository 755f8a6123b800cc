"""The tables of pension certification (养老保险待遇资格认证, 无感认证).

One :class:`Certification` per recipient (citizen ID) per certification year; one
:class:`CycleRun` per run date. A pension's payment status is normal unless a
:class:`PaymentHold` row says suspended or stopped (most of 2.2 million pensions never get one).
Money is integer fen (分); months are the first day of the month.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime

# A certification's outcome, and how a certified one was certified.
OUTCOMES: dict[str, tuple[str, str]] = {
    "certified": ("已认证", "Certified"),
    "undetermined": ("待认证", "Not yet certified"),
    "deceased": ("已死亡", "Deceased"),
}
METHODS: dict[str, tuple[str, str]] = {
    "data": ("数据比对认证（无感认证）", "By data (passive)"),
    "self": ("本人自助认证", "By the recipient online"),
    "visit": ("上门认证", "By a home visit"),
}
# A pension's payment status: normal (no hold row), suspended (暂停发放: resumed with back pay
# once certified), stopped (终止发放: from the month after death, never for lack of evidence).
PAYMENT_STATES: dict[str, tuple[str, str]] = {
    "normal": ("正常发放", "Paid"),
    "suspended": ("暂停发放", "Suspended"),
    "stopped": ("终止发放", "Stopped"),
}
VISIT_STATES: dict[str, tuple[str, str]] = {
    "open": ("待上门", "To visit"),
    "done": ("已上门", "Visited"),
}
VISIT_OUTCOMES: dict[str, tuple[str, str]] = {
    "certified": ("本人在世，上门认证通过", "Alive: certified by the visit"),
    "deceased": ("经核实已死亡", "Found deceased"),
    "not_found": ("未见到本人", "Not found"),
}
OVERPAYMENT_STATES: dict[str, tuple[str, str]] = {
    "open": ("待追回", "To recover"),
    "recovered": ("已追回", "Recovered"),
}


class CycleRun(Base):
    """One run of the certification cycle over the city on a date (unique: a second run of the
    same date finds it done and changes nothing)."""

    __tablename__ = "cert_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_on: Mapped[date] = mapped_column(Date, unique=True)
    rule: Mapped[str] = mapped_column(String(64))  # the evidence rule's code
    versions: Mapped[dict[str, int]] = mapped_column(JSON)  # data-core table versions read
    # What the run found: "recipients" (pensioners with a pension in payment), "certified" and
    # "deceased" (newly so in this run), "undetermined" (still without enough evidence after
    # it), and what it did: "notified", "visits", "suspended", "resumed", "stopped",
    # "overpayments" (pensions, or notices sent).
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    ms: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Certification(Base):
    """A recipient's certification for one certification year, and what it rests on."""

    __tablename__ = "cert_certifications"
    __table_args__ = (
        UniqueConstraint("citizen_id", "year"),
        Index("ix_cert_certifications_year_outcome", "year", "outcome", "method"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(18))
    year: Mapped[int] = mapped_column(Integer)  # the year the window opens in
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)  # the last day of the window
    outcome: Mapped[str] = mapped_column(String(16))  # certified | undetermined | deceased
    method: Mapped[str | None] = mapped_column(String(8))  # data | self | visit (certified)
    # The evidence: the sources that fired (codes of certification.yaml), their score, and the
    # rule and date they were evaluated on (the run holds the table versions), so the rows can
    # be explained again exactly (``service.explain``).
    evidence: Mapped[list[str]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64))
    evaluated_on: Mapped[date] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("cert_runs.id"))
    certified_on: Mapped[date | None] = mapped_column(Date)
    died_on: Mapped[date | None] = mapped_column(Date)
    district_code: Mapped[str | None] = mapped_column(String(6))
    # A self-certification: the signed declaration (canonical JSON), its SM2 signature and key.
    declaration: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_id: Mapped[str | None] = mapped_column(String(64))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentHold(Base):
    """A pension not paid as normal: suspended from a month (the window lapsed uncertified) or
    stopped from a month (the month after death). No row: paid as normal."""

    __tablename__ = "cert_payment_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pension_id: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    monthly_amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # suspended | stopped
    since: Mapped[date] = mapped_column(Date)  # the first month not paid
    certification_id: Mapped[int] = mapped_column(ForeignKey("cert_certifications.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Resumption(Base):
    """A suspended pension resumed once its recipient was certified, with the back pay: the
    months suspended (from ``suspended_from`` to the month of resumption, inclusive) times the
    monthly amount."""

    __tablename__ = "cert_resumptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pension_id: Mapped[str] = mapped_column(String(32), index=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    suspended_from: Mapped[date] = mapped_column(Date)
    resumed_on: Mapped[date] = mapped_column(Date)
    months: Mapped[int] = mapped_column(Integer)
    monthly_amount_fen: Mapped[int] = mapped_column(Integer)
    back_pay_fen: Mapped[int] = mapped_column(Integer)
    certification_id: Mapped[int] = mapped_column(ForeignKey("cert_certifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Overpayment(Base):
    """What was paid for months after a recipient's death (the data core's pension payments),
    to recover; tracked until the recoveries add up to it."""

    __tablename__ = "cert_overpayments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pension_id: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    died_on: Mapped[date] = mapped_column(Date)
    stopped_from: Mapped[date] = mapped_column(Date)  # the month after death
    months: Mapped[int] = mapped_column(Integer)  # payments found for months from stopped_from
    amount_fen: Mapped[int] = mapped_column(Integer)
    recovered_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | recovered
    certification_id: Mapped[int] = mapped_column(ForeignKey("cert_certifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recovery(Base):
    """One amount recovered of an overpayment (a bank's return, an heir's repayment)."""

    __tablename__ = "cert_recoveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    overpayment_id: Mapped[int] = mapped_column(ForeignKey("cert_overpayments.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    recovered_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HomeVisit(Base):
    """A home-visit task for the street office (街道办事处) of the recipient's district: the
    recipient is still undetermined as the window's end approaches."""

    __tablename__ = "cert_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("cert_certifications.id"), unique=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    department: Mapped[str] = mapped_column(String(128), index=True)  # the street office
    due_on: Mapped[date] = mapped_column(Date)  # the window's last day
    status: Mapped[str] = mapped_column(String(8))  # open | done
    outcome: Mapped[str | None] = mapped_column(String(16))  # certified | deceased | not_found
    died_on: Mapped[date | None] = mapped_column(Date)  # when found deceased
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(128))
