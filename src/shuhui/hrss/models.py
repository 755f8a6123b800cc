"""The HR & social-security services' own tables: the certificates of insured status
(参保证明) issued, each with the seal's envelope and the hash of its stored PDF."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
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


class BundleCase(Base):
    """One filing of a one-thing bundle (一件事): the person (or enterprise) who filed, the union
    form as filed, and when the one result notice went out."""

    __tablename__ = "hrss_bundle_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # YJS-YYYYMMDD-NNNNNN
    bundle: Mapped[str] = mapped_column(String(64))
    bundle_name: Mapped[str] = mapped_column(String(128))
    applicant_id: Mapped[str] = mapped_column(String(32), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BundlePart(Base):
    """One item of a bundle filing: the approval case it became, or why it was refused."""

    __tablename__ = "hrss_bundle_parts"
    __table_args__ = (UniqueConstraint("bundle_case_id", "item_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_case_id: Mapped[int] = mapped_column(ForeignKey("hrss_bundle_cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(128))
    case_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # detail and field errors
    # The sub-case's end state once it ended (rejected, issued, withdrawn), so the combined
    # status needs no approval read per part.
    ended: Mapped[str | None] = mapped_column(String(16))


class Reminder(Base):
    """A proactive reminder sent (事前主动提醒): to whom, of what, for which due month; one per
    person, reminder and due month, however often the reminders run."""

    __tablename__ = "hrss_reminders"
    __table_args__ = (UniqueConstraint("reminder", "recipient", "due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(32), index=True)
    due: Mapped[date] = mapped_column(Date)  # what the reminder is about falls due then
    rule: Mapped[str] = mapped_column(String(64))
    evaluated_on: Mapped[date] = mapped_column(Date)
    message_id: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkClient(Base):
    """An enterprise's HR system connected over the direct link (人社政企直连): its API key
    (only its hash kept) bound to the enterprise's credit code, and the SM2 public key its
    batches are signed with."""

    __tablename__ = "hrss_link_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))  # shown to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SM3 of the key
    public_key_pem: Mapped[str] = mapped_column(String(1024))
    key_id: Mapped[str] = mapped_column(String(64))  # the SM2 key's fingerprint
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkBatch(Base):
    """One batch an enterprise's system sent: its own id (idempotent on it), what it held and
    the SM3 of its body, and how many records were accepted and refused."""

    __tablename__ = "hrss_link_batches"
    __table_args__ = (UniqueConstraint("credit_code", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    batch_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # hire | departure | base
    body_sm3: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkRecord(Base):
    """One record of a batch and its result. An accepted record's ``fact`` (kind, person, date)
    is unique: the same hire sent again, in this batch or a later one, is refused, so a good
    record is kept exactly once."""

    __tablename__ = "hrss_link_records"
    __table_args__ = (UniqueConstraint("batch_pk", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_pk: Mapped[int] = mapped_column(ForeignKey("hrss_link_batches.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the record's place in the batch, from 1
    citizen_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))  # accepted | refused
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(256))
    # credit code|kind|citizen id|date for an accepted record; NULL for a refused one.
    fact: Mapped[str | None] = mapped_column(String(96), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class InjuryCase(Base):
    """What an officer decided about a work-injury application's clock: that its facts are
    clear and the rights and duties plain (事实清楚、权利义务明确), so it is decided within the
    shorter time. The clocks themselves are computed from the approval case."""

    __tablename__ = "hrss_injury_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_code: Mapped[str] = mapped_column(String(32), unique=True)
    facts_clear: Mapped[bool] = mapped_column(Boolean)
    marked_by: Mapped[str] = mapped_column(String(128))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HelpRequest(Base):
    """A request for video help (社保视联办: 问 + 帮 + 办): who asked from which page, the agent
    who took it, when it was asked, taken and closed, and how it ended."""

    __tablename__ = "hrss_help_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    username: Mapped[str] = mapped_column(String(64))
    page: Mapped[str] = mapped_column(String(256))
    topic: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), index=True)  # waiting | active | closed
    agent: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(500))
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    # Set for a session the bureau arranged (an assessment's video examination): it is not in
    # the help queue, and the citizen joins it from the assessment's page.
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HelpSignal(Base):
    """One message between the two sides of a help session (WebRTC offer, answer and ICE
    candidates; the form as filled; a proposed value and its acceptance), kept until the
    session closes: each side's socket, in whichever server process it landed, reads the
    other's messages after the last it saw."""

    __tablename__ = "hrss_help_signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hrss_help_requests.id"), index=True)
    sender: Mapped[str] = mapped_column(String(8))  # citizen | agent
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Assessment(Base):
    """A labour-capacity assessment (劳动能力鉴定) of an accepted application (an approval case):
    the expert panel drawn at random from the pool (both kept, so the draw can be checked), the
    video examination and its findings, and the conclusion — the grade (0: no grade reached),
    the self-care level, the benefits the rule computed, the sealed PDF's envelope and hash."""

    __tablename__ = "hrss_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_code: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[str] = mapped_column(String(18), index=True)
    worker_name: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # panel | scheduled | examined | concluded
    pool: Mapped[list[str]] = mapped_column(JSON)
    panel: Mapped[list[str]] = mapped_column(JSON)  # the first is the examining expert (组长)
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exam_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exam_session: Mapped[str | None] = mapped_column(String(32))  # the video session's code
    findings: Mapped[str | None] = mapped_column(String(2000))
    examined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The examination as the examining expert's browser recorded the worker (WebM), for the
    # panel's review: where it is stored, its SHA-256 and size.
    recording_as: Mapped[str | None] = mapped_column(String(255))
    recording_sha256: Mapped[str | None] = mapped_column(String(64))
    recording_bytes: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[int | None] = mapped_column(Integer)
    self_care: Mapped[str | None] = mapped_column(String(16))
    concluded_by: Mapped[str | None] = mapped_column(String(64))
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conclusion_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    benefits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stored_as: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))


class AssessmentOpinion(Base):
    """One panel expert's signed opinion (鉴定意见): the grade, the self-care level and the
    clauses of GB/T 16180 it rests on. An expert may revise it until the conclusion."""

    __tablename__ = "hrss_assessment_opinions"
    __table_args__ = (UniqueConstraint("assessment_id", "expert"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("hrss_assessments.id"))
    expert: Mapped[str] = mapped_column(String(64))
    grade: Mapped[int] = mapped_column(Integer)
    self_care: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(1000))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
