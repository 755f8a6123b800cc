"""What smart approval's API and pages take and give (pydantic v2), with bounds on every field.

Sections by what they serve; each section's classes are used by its service module and by the
routes and pages alike.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from shuhui.core.bounds import Id
from shuhui.core.i18n import Text

# ---------------------------------------------------------------------------------------------
# Cases: submission, acceptance, correction request, decision (cases.py)
# ---------------------------------------------------------------------------------------------

# What an officer (or the applicant, for ``resubmit``) may choose at a step; each process step
# names the outcomes it offers (process.Step.outcomes), the service holds a choice to them.
CaseOutcome = Literal[
    "accept", "correct", "pass", "agree", "disagree", "approve", "reject", "issue"
]
# Outcomes that must say why: a refusal (不予许可) and a countersigning department's dissent.
OUTCOMES_WITH_REASON: frozenset[str] = frozenset({"reject", "disagree"})
# The most a correction request (一次性告知) may list: every field and material of a form, with
# room to spare, and still one page to read.
MAX_CORRECTIONS = 60
REASON_MAX = 500
CORRECTION_REASON_MAX = 200
# A form field's name, or ``materials.<code>`` for a material.
CORRECTION_TARGET = r"^(materials\.)?[A-Za-z0-9_-]{1,64}$"
FIELD_NAME = r"^[A-Za-z0-9_-]{1,64}$"
MAX_FORM_FIELDS = 200

NEEDS_REASON = Text("请说明理由", "give the reason")
NEEDS_CORRECTIONS = Text(
    "一次性告知须列出需要补正的每一项", "a correction request lists every item to correct"
)
NO_CORRECTIONS_HERE = Text(
    "只有要求补正时才列出补正事项", "items to correct go with a correction only"
)


class CorrectionIn(BaseModel):
    """One item of a correction request: a form field (its name) or a material
    (``materials.<code>``) and what is wrong with it."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(pattern=CORRECTION_TARGET, max_length=80, examples=["shop_name"])
    reason: str = Field(min_length=1, max_length=CORRECTION_REASON_MAX)


class TaskDecisionIn(BaseModel):
    """An officer's decision at a step: the outcome, the reason (required to refuse or
    dissent) and, to ask for a correction, every item to correct at once."""

    model_config = ConfigDict(extra="forbid")

    outcome: CaseOutcome
    reason: str | None = Field(default=None, max_length=REASON_MAX, validate_default=True)
    corrections: list[CorrectionIn] = Field(
        default_factory=list, max_length=MAX_CORRECTIONS, validate_default=True
    )

    @field_validator("reason")
    @classmethod
    def _reason_given(cls, value: str | None, info: ValidationInfo) -> str | None:
        text = (value or "").strip()
        if info.data.get("outcome") in OUTCOMES_WITH_REASON and not text:
            raise ValueError(NEEDS_REASON)
        return text or None

    @field_validator("corrections")
    @classmethod
    def _corrections_with_correct(
        cls, value: list[CorrectionIn], info: ValidationInfo
    ) -> list[CorrectionIn]:
        outcome = info.data.get("outcome")
        if outcome == "correct" and not value:
            raise ValueError(NEEDS_CORRECTIONS)
        if outcome != "correct" and value:
            raise ValueError(NO_CORRECTIONS_HERE)
        return value


class FormValuesIn(BaseModel):
    """The applicant's values for a draft's form (or a case being corrected), by field name; an
    empty value clears the field. Each value is checked against the item's JSON Schema when
    the application is submitted, all faults at once."""

    model_config = ConfigDict(extra="forbid")

    values: dict[Annotated[str, Field(pattern=FIELD_NAME)], JsonValue] = Field(
        max_length=MAX_FORM_FIELDS
    )


class CorrectionOut(BaseModel):
    field: str | None = None
    material: str | None = None
    reason: str


class CaseTaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: Id
    step: str
    name: str
    department: str
    role: str
    opened_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: str | None = None


class CaseOut(BaseModel):
    """A case as its applicant and the officers see it (the form's values are on the form's
    own page, with their provenance)."""

    code: str
    item_code: str
    item_name: str
    department: str
    state: str
    state_zh: str
    applicant_kind: str
    applicant_name: str
    created_at: datetime
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None
    decided_at: datetime | None = None
    issued_at: datetime | None = None
    promised_due: date | None = None
    statutory_due: date | None = None
    paused: bool = False
    paused_days: int = 0
    correction: list[CorrectionOut] | None = None
    decision: str | None = None
    decision_reason: str | None = None
    licence_no: str | None = None
    first_pass: bool | None = None


# ---------------------------------------------------------------------------------------------
# Pre-filled forms and drafts (prefill.py)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Uploads and the pre-check of materials (precheck/)
# ---------------------------------------------------------------------------------------------

MaterialKind = Literal[
    "id-card", "business-licence", "diploma", "labour-contract", "medical-certificate", "site-plan"
]
UploadType = Literal["image/png", "image/jpeg", "application/pdf"]


class PrecheckIssueOut(BaseModel):
    """One thing the applicant should see before submitting: the field it is about (a document
    field, ``material`` for the document as a whole, ``file`` for the upload) and why."""

    field: str = Field(max_length=64, examples=["公民身份号码"])
    reason: str = Field(max_length=500, examples=["公民身份号码无效：校验位是“7”，应为“4”。"])


class PrecheckOut(BaseModel):
    """A pre-check's result, as ``shuhui approval precheck --json`` prints it."""

    material: MaterialKind
    fields: dict[str, str] = Field(
        description="each field read, by its printed label; dates as ISO 8601",
        examples=[{"姓名": "张伟", "公民身份号码": "370202199001011234"}],
    )
    issues: list[PrecheckIssueOut]


class UploadOut(BaseModel):
    """An upload kept for a case's material, with its pre-check (None where the material is
    not of a kind the pre-check reads)."""

    material: str = Field(max_length=64, description="the material's code in the service item")
    file_name: str = Field(max_length=100)
    content_type: UploadType
    size: int = Field(ge=1)
    sha256: str = Field(min_length=64, max_length=64)
    precheck: PrecheckOut | None = None
    precheck_ok: bool | None = None


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
