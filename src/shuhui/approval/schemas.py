"""What smart approval's API and pages take and give (pydantic v2), with bounds on every field.

Sections by what they serve; each section's classes are used by its service module and by the
routes and pages alike.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# ---------------------------------------------------------------------------------------------
# Cases: submission, acceptance, correction request, decision (cases.py)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Pre-filled forms and drafts (prefill.py)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Uploads and the pre-check of materials (precheck/)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# E-licences, ratings and follow-ups, metrics (licences.py, ratings.py, metrics.py)
# ---------------------------------------------------------------------------------------------


# 好差评: 1 非常不满意 … 5 非常满意; 1–2 stars are a bad rating (差评), which opens a follow-up.
STARS_TITLES: dict[int, tuple[str, str]] = {
    1: ("非常不满意", "Very dissatisfied"),
    2: ("不满意", "Dissatisfied"),
    3: ("基本满意", "Fairly satisfied"),
    4: ("满意", "Satisfied"),
    5: ("非常满意", "Very satisfied"),
}
BAD_STARS = 2
MAX_COMMENT = 500
MAX_REPLY = 1000


class LicenceOut(BaseModel):
    """An issued e-licence: the PDF and its seal envelope are fetched by number."""

    certificate_no: str
    certificate_type: str
    case_code: str
    holder_kind: Literal["person", "enterprise"]
    holder_name: str
    holder_id: str  # masked where it is shown to anyone but the holder
    issuer: str
    issued_on: date
    seal_code: str
    sha256: str
    datacore_version: int | None  # None until written to the data core's e_certificates


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意")
    comment: str = Field(default="", max_length=MAX_COMMENT)


class RatingOut(BaseModel):
    case_code: str
    stars: int
    comment: str
    rated_at: datetime
    followup_id: int | None  # the follow-up a bad rating opened
    followup_state: Literal["open", "closed"] | None


class FollowUpReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str = Field(min_length=1, max_length=MAX_REPLY)


class FollowUpOut(BaseModel):
    id: int
    case_code: str
    item_name: str
    department: str
    stars: int
    comment: str
    rated_at: datetime
    state: Literal["open", "closed"]
    opened_at: datetime
    reply: str | None
    closed_at: datetime | None
    closed_by: str | None


class FollowUpCounts(BaseModel):
    open: int
    closed: int


class MetricRow(BaseModel):
    """One group's figures over a date range (cases submitted in it): an item, a department, a
    domain, or everything (``key`` "all"). A share is None where nothing was counted."""

    by: Literal["item", "department", "domain", "all"]
    key: str
    name: str
    cases: int  # submitted in the range
    # Fields whose offered value the applicant kept, by where it came from; and fields typed.
    fields_identity: int
    fields_history: int
    fields_shared: int
    fields_typed: int
    fields_spared: int  # identity + history + shared
    materials_waived: int  # 免提交: replaced by an e-certificate
    materials_uploaded: int
    items: int  # catalogue items in the group
    zero_submission_items: int  # of them, every required field filled and material waivable
    zero_submission_cases: int  # cases where the applicant typed and uploaded nothing
    first_pass_with_precheck: float | None  # share accepted without correction, pre-checked
    first_pass_without_precheck: float | None
    decided_with_precheck: int  # cases whose first pass is known, pre-checked
    decided_without_precheck: int
    finished: int  # issued or rejected
    working_days_avg: float | None  # acceptance to finish, less the days paused
    on_time_promised: float | None  # share finished by the promised date
    on_time_statutory: float | None  # share finished by the statutory date
    overdue: int  # finished after the statutory date, or still open past it
    ratings: int
    stars_avg: float | None
    bad_ratings: int  # 1–2 stars
