"""The tables of policy campaigns (政策找人).

A campaign runs one policy (a rule of ``content/<city>/policies/``) over the city on a date;
its candidates are the entities the rule found eligible or undetermined, less those already
receiving the benefit. Each candidate then moves through the department's confirmation, the
offer, the recipient's answer and the grant. Money is integer fen (分).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.db import Base, UTCDateTime

# pending → rejected | offered; offered → granted (accepted) | declined | applied (the data
# was incomplete: the recipient completed a short application); applied → granted | rejected.
CANDIDATE_STATES: dict[str, tuple[str, str]] = {
    "pending": ("待部门确认", "Awaiting confirmation"),
    "rejected": ("不予确认", "Not confirmed"),
    "offered": ("已推送待回应", "Offered"),
    "applied": ("已补充申请待审核", "Application to review"),
    "declined": ("本人谢绝", "Declined"),
    "granted": ("已享受", "Granted"),
}
ENTITY_KINDS: dict[str, tuple[str, str]] = {
    "person": ("个人", "Person"),
    "enterprise": ("企业", "Enterprise"),
}
# Whom a campaign takes of what the rule found: both (the default), only the eligible (免申即享:
# offered without an application), or only the undetermined (asked for the missing inputs).
CAMPAIGN_SCOPES: dict[str, tuple[str, str]] = {
    "all": ("全部：符合条件与待补充信息", "All: eligible and awaiting information"),
    "eligible": ("仅符合条件（免申即享）", "Eligible only (no application needed)"),
    "undetermined": ("仅待补充信息", "Awaiting information only"),
}


class Campaign(Base):
    """One run of a policy over the city, and what came of it."""

    __tablename__ = "program_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))  # the policy's Chinese name when run
    entity: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(128))
    evaluated_on: Mapped[date] = mapped_column(Date)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)  # per outcome, over every entity
    missing: Mapped[dict[str, int]] = mapped_column(JSON)  # undetermined per missing input
    excluded: Mapped[int] = mapped_column(Integer)  # already receiving it (left out)
    scope: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    candidate_limit: Mapped[int | None] = mapped_column(Integer)  # at most this many, or all
    versions: Mapped[dict[str, int]] = mapped_column(JSON)  # data-core table versions read
    ms: Mapped[int] = mapped_column(Integer)  # how long the rule took over the city
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Candidate(Base):
    """An entity a campaign found, and where it stands."""

    __tablename__ = "program_candidates"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subject"),
        Index("ix_program_candidates_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("program_campaigns.id"))
    subject: Mapped[str] = mapped_column(String(18), index=True)  # citizen ID or credit code
    outcome: Mapped[str] = mapped_column(String(16))  # eligible | undetermined
    amount: Mapped[int | None] = mapped_column(Integer)
    missing: Mapped[list[str]] = mapped_column(JSON)  # the inputs an undetermined one waits on
    status: Mapped[str] = mapped_column(String(16))
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(1024))  # why not confirmed / declined
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    application: Mapped[dict[str, str] | None] = mapped_column(JSON)  # the completed inputs
    # The policy evaluated again for this one with the application's answers in place of the
    # missing inputs: what the department reviews, and the amount a grant then carries.
    applied_outcome: Mapped[str | None] = mapped_column(String(16))
    applied_amount: Mapped[int | None] = mapped_column(Integer)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship(lazy="joined")


class BenefitGrant(Base):
    """A benefit granted: who receives what under which policy (and so is not a candidate of
    the policy's next campaign)."""

    __tablename__ = "program_grants"
    __table_args__ = (UniqueConstraint("rule", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(18), index=True)
    amount: Mapped[int | None] = mapped_column(Integer)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("program_candidates.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[str] = mapped_column(String(128))


class OutboxMessage(Base):
    """A message to a recipient, waiting for the messaging gateway (SMS, the portal's inbox)
    to take it; kept so nothing is lost if the gateway is down. The portal's messages are the
    recipient's 站内消息 (``programs.messages``): ``read_at`` is set when they open one."""

    __tablename__ = "program_outbox"
    # The header counts a person's unread portal messages on every page: one index answers it.
    __table_args__ = (Index("ix_program_outbox_inbox", "recipient", "channel", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(18), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # portal | sms
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(String(2048))
    # The campaign's candidate the message offers to; None for a message of another program
    # (a certification notice, ``programs.certification``).
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("program_candidates.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where one click takes the reader to act on it (a reminder's item or bundle): a path of
    # this site, and the button's words.
    link: Mapped[str | None] = mapped_column(String(256))
    link_label: Mapped[str | None] = mapped_column(String(64))
