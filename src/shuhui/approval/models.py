"""The tables of smart approval (智审慧办): cases, their fields with provenance, their materials,
the open steps of their process, their events, e-licences, ratings and follow-ups.

A case (办件) is one application for one service item (事项) by one applicant (a person by
citizen ID, an enterprise by credit code), possibly made by an agent under a mandate; its
channel (``CASE_CHANNELS``) says how it came in, for the online share (网办率). Its process
runs in SpiffWorkflow; the workflow's serialised state lives on the case, and the user tasks it
has open are rows of ``approval_case_tasks`` (the officers' queues). Closing a task is one
conditional UPDATE on that row, so of two officers deciding one case at once exactly one wins.
Dates of time limits are local calendar dates; times are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime

# draft → submitted → accepted → review → approved → issued; submitted → correction (一次性告知:
# everything missing at once; the clock pauses) → submitted; review → rejected (with reason);
# a draft or a case waiting for correction may be withdrawn by the applicant.
CASE_STATES: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "Draft"),
    "submitted": ("已提交待受理", "Submitted"),
    "correction": ("待补正", "Awaiting correction"),
    "accepted": ("已受理", "Accepted"),
    "review": ("审查中", "Under review"),
    "approved": ("已准予", "Approved"),
    "rejected": ("不予许可", "Rejected"),
    "issued": ("已办结出证", "Result issued"),
    "withdrawn": ("已撤回", "Withdrawn"),
}
# Where a field's value came from (身份自动填 / 历史选择填 / 共享系统填), or the applicant typed it.
FILL_KINDS: dict[str, tuple[str, str]] = {
    "identity": ("身份自动填", "Filled from identity"),
    "history": ("历史选择填", "Chosen from history"),
    "shared": ("共享系统填", "Filled from shared data"),
    "typed": ("申请人填写", "Typed by the applicant"),
}
# How a case came in (办理渠道): the applicant on the web or the API, an agent under a signed
# mandate, an enterprise's HR system over the direct link (人社政企直连), or a service-hall window
# where an officer files for the applicant present. The first three are online (网上办理).
CaseChannel = Literal["online", "agent", "link", "counter"]
CASE_CHANNELS: dict[str, tuple[str, str]] = {
    "online": ("网上自助办理", "Online, by the applicant"),
    "agent": ("委托代理人网上代办", "Online, by an agent under a mandate"),
    "link": ("政企直连", "Enterprise direct link"),
    "counter": ("窗口办理", "At a service-hall window"),
}
ONLINE_CHANNELS: Final = ("online", "agent", "link")
HOLDER_KINDS: dict[str, tuple[str, str]] = {
    "person": ("个人", "Person"),
    "enterprise": ("企业", "Enterprise"),
}


class Case(Base):
    """One application for one service item (办件)."""

    __tablename__ = "approval_cases"
    __table_args__ = (
        Index("ix_approval_cases_applicant", "applicant_id", "item_code"),
        Index("ix_approval_cases_department_state", "department", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # 办件编号, shown to people
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(128))  # the item's Chinese name when applied
    department: Mapped[str] = mapped_column(String(128))  # the department that decides
    domain: Mapped[str] = mapped_column(String(32), index=True)
    scenario: Mapped[str | None] = mapped_column(String(64))
    applicant_kind: Mapped[str] = mapped_column(String(16))  # HOLDER_KINDS
    applicant_id: Mapped[str] = mapped_column(String(32))  # citizen ID or credit code
    applicant_name: Mapped[str] = mapped_column(String(128))
    # Who made the application: the applicant's own account, or an agent under a mandate.
    created_by: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(32))  # the agent's citizen ID
    mandate_code: Mapped[str | None] = mapped_column(String(32))
    # CASE_CHANNELS; set when the case is made (``drafts.create_draft``), never changed.
    channel: Mapped[CaseChannel] = mapped_column(
        String(16), default="online", server_default="online"
    )
    state: Mapped[str] = mapped_column(String(16), index=True)  # CASE_STATES
    # Bumped by every change of state: a writer that read version n updates WHERE version = n.
    version: Mapped[int] = mapped_column(Integer, default=1)
    process: Mapped[str] = mapped_column(String(64))  # the BPMN process id
    process_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # SpiffWorkflow's
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field → value
    # The one correction request (一次性告知): [{"field" | "material", "reason"}].
    correction: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    correction_count: Mapped[int] = mapped_column(Integer, default=0)
    precheck_used: Mapped[bool] = mapped_column(Boolean, default=False)
    # Accepted without a correction request; None until the case is accepted or corrected.
    first_pass: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Time limits in working days from acceptance: promised (承诺时限) and statutory (法定时限);
    # moved on by the working days the case waited for the applicant.
    promised_due: Mapped[date | None] = mapped_column(Date)
    statutory_due: Mapped[date | None] = mapped_column(Date)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str | None] = mapped_column(String(16))  # approved | rejected
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    licence_no: Mapped[str | None] = mapped_column(String(64))


class CaseField(Base):
    """One field of a case's form, with where its value came from and whether the applicant
    kept what was filled."""

    __tablename__ = "approval_case_fields"
    __table_args__ = (UniqueConstraint("case_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("approval_cases.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)  # as submitted
    fill: Mapped[str] = mapped_column(String(16))  # FILL_KINDS
    filled_value: Mapped[Any] = mapped_column(JSON)  # what the platform offered, if anything
    kept: Mapped[bool | None] = mapped_column(Boolean)  # None when nothing was offered
    # Provenance: the data-core table and version and the key read, or the earlier case.
    source_table: Mapped[str | None] = mapped_column(String(64))
    source_version: Mapped[int | None] = mapped_column(Integer)
    source_key: Mapped[str | None] = mapped_column(String(64))
    source_case: Mapped[str | None] = mapped_column(String(32))
    source_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseMaterial(Base):
    """One required material of a case: uploaded (with its pre-check), or waived because an
    e-certificate replaces it (免提交)."""

    __tablename__ = "approval_case_materials"
    __table_args__ = (UniqueConstraint("case_id", "material"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("approval_cases.id", ondelete="CASCADE"))
    material: Mapped[str] = mapped_column(String(64))  # the item's material code
    waived: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_type: Mapped[str | None] = mapped_column(String(64))
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    certificate_holder: Mapped[str | None] = mapped_column(String(32))
    # The certificate-use authorisation (用证授权) when the certificate is another holder's.
    authorisation_code: Mapped[str | None] = mapped_column(String(32))
    file_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_as: Mapped[str | None] = mapped_column(String(255))  # under <data dir>/approval/
    # {"material", "fields": {name: value}, "issues": [{"field", "reason"}]} (the CLI's output).
    precheck: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    precheck_ok: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseTask(Base):
    """An open (or closed) user task of a case's process: what sits in an officer's queue."""

    __tablename__ = "approval_case_tasks"
    __table_args__ = (Index("ix_approval_case_tasks_queue", "department", "role", "closed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("approval_cases.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(64))  # SpiffWorkflow's task UUID
    step: Mapped[str] = mapped_column(String(64))  # the BPMN element id
    name: Mapped[str] = mapped_column(String(128))  # its Chinese name
    department: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))  # accept | review | countersign | decide | issue
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))


class CaseEvent(Base):
    """What happened to a case, in order: the case's own history (each also a ledger entry)."""

    __tablename__ = "approval_case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("approval_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Licence(Base):
    """An e-licence (电子证照) an approval issued: the sealed PDF and its envelope."""

    __tablename__ = "approval_licences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_type: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("approval_cases.id"), unique=True)
    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(32), index=True)
    holder_name: Mapped[str] = mapped_column(String(128))
    issuer: Mapped[str] = mapped_column(String(128))
    issued_on: Mapped[date] = mapped_column(Date)
    seal_code: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)  # the seal's signed envelope
    stored_as: Mapped[str] = mapped_column(String(255))  # the PDF under <data dir>/approval/
    sha256: Mapped[str] = mapped_column(String(64))
    # The data-core e_certificates version that first holds it (None until written there).
    datacore_version: Mapped[int | None] = mapped_column(Integer)


class Rating(Base):
    """The applicant's rating of a finished case (好差评)."""

    __tablename__ = "approval_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("approval_cases.id"), unique=True)
    department: Mapped[str] = mapped_column(String(128), index=True)
    stars: Mapped[int] = mapped_column(Integer)  # 1 非常不满意 … 5 非常满意
    comment: Mapped[str] = mapped_column(String(500), default="")
    rated_by: Mapped[str] = mapped_column(String(64))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUp(Base):
    """A bad rating's follow-up (差评整改): the department answers and closes it."""

    __tablename__ = "approval_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("approval_ratings.id"), unique=True)
    department: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reply: Mapped[str | None] = mapped_column(String(1000))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
