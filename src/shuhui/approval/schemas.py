"""What smart approval's API and pages take and give (pydantic v2), with bounds on every field.

Sections by what they serve; each section's classes are used by its service module and by the
routes and pages alike.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from shuhui.approval.items import ServiceItem
from shuhui.approval.models import FILL_KINDS, HOLDER_KINDS, CaseChannel
from shuhui.approval.provenance import Prefill, Provenance
from shuhui.core.bounds import Id
from shuhui.core.display import mask_citizen_id
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id
from shuhui.standard import TABLES

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
    channel: CaseChannel = Field(
        description="how the case came in: online, agent (under a mandate), link (the "
        "enterprise direct link), counter (a service-hall window)"
    )
    channel_zh: str = Field(description="网上自助办理 / 委托代理人网上代办 / 政企直连 / 窗口办理")
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


# A data-core table as people read its name: the data standard's Chinese title.
TABLE_TITLES: dict[str, str] = {spec.name: spec.title for spec in TABLES}


@lru_cache(maxsize=4096)
def masked_key(value: str | None) -> str | None:
    """A key as a form shows its source: a citizen ID masked (370202********123X), a credit
    code or any other key as it is."""
    if value is None:
        return None
    try:
        parse_citizen_id(value)
    except InvalidIdentifier:
        return value
    return mask_citizen_id(value)


class SourceOut(BaseModel):
    """Where a field's value came from (its provenance)."""

    kind: Literal["identity", "history", "shared", "typed"]
    kind_zh: str = Field(description="身份自动填 / 历史选择填 / 共享系统填")
    table: str | None = Field(default=None, description="the data-core table read")
    table_title: str | None = Field(default=None, description="its Chinese title (data standard)")
    version: int | None = Field(default=None, description="the table version read")
    key: str | None = Field(default=None, description="the key read, masked where personal")
    case_code: str | None = Field(default=None, description="the earlier case (history)")
    at: datetime = Field(description="when it was read (UTC)")

    @classmethod
    def of(cls, p: Provenance) -> SourceOut:
        return cls(
            kind=p.kind,
            kind_zh=FILL_KINDS[p.kind][0],
            table=p.table,
            table_title=None if p.table is None else TABLE_TITLES.get(p.table, p.table),
            version=p.version,
            key=masked_key(p.key),
            case_code=p.case_code,
            at=p.at,
        )


class ChoiceOut(BaseModel):
    """A value the applicant gave in an earlier case (历史选择填)."""

    value: Any
    case_code: str
    submitted_at: datetime


class FieldOut(BaseModel):
    name: str
    title: str
    title_en: str
    required: bool
    group: str = Field(description="the layout group's Chinese title")
    width: Literal["full", "half"]
    help: str
    value: Any = Field(description="the value offered; null when nothing was found")
    fill: Literal["identity", "history", "shared"] | None = Field(
        description="how it was filled; null: the applicant types it"
    )
    fill_zh: str = Field(description="身份自动填 / 历史选择填 / 共享系统填 / 申请人填写")
    source: SourceOut | None
    choices: list[ChoiceOut] = Field(description="earlier values, newest first, at most 5")


class MaterialOut(BaseModel):
    code: str
    name: str
    name_en: str
    kind: str | None = Field(description="the pre-check's material type")
    required: bool
    replaced_by: str | None = Field(description="the e-certificate type that waives it")
    waived: bool = Field(description="免提交: an e-certificate replaces it")


class WaivedOut(BaseModel):
    material: str
    name: str
    certificate_type: str
    certificate_no: str
    holder: str = Field(description="the certificate's holder, masked where a person")
    authorisation: str | None = Field(description="the holder's 用证授权 when not the applicant's")


class RefusalOut(BaseModel):
    material: str
    reason: str
    reason_en: str


class ItemRef(BaseModel):
    code: str
    name: str
    name_en: str
    department: str


class ApplicantOut(BaseModel):
    kind: Literal["person", "enterprise"]
    kind_zh: str
    id: str = Field(description="masked where a person")
    name: str


class CountsOut(BaseModel):
    fields: int
    filled: int = Field(description="fields the platform filled (identity, shared or history)")
    materials: int
    waived: int


class PrefilledFormOut(BaseModel):
    """A service item's form pre-filled for one applicant: each field with its value and
    source, the materials and those waived, and what could not be used and why."""

    item: ItemRef
    applicant: ApplicantOut
    agent: str | None = Field(description="the agent's ID (masked) when applying for someone")
    mandate: str | None = Field(description="the mandate (委托授权) the agent acts under")
    form_schema: dict[str, Any] = Field(
        serialization_alias="schema", description="the form's JSON Schema (draft 2020-12)"
    )
    fields: list[FieldOut]
    materials: list[MaterialOut]
    waived: list[WaivedOut]
    refused: list[RefusalOut]
    versions: dict[str, int] = Field(description="data-core table versions read")
    counts: CountsOut

    @classmethod
    def of(cls, item: ServiceItem, p: Prefill) -> PrefilledFormOut:
        names = {m.code: m for m in item.materials}
        fields = []
        for f in item.form.fields:
            got = p.fields.get(f.name)
            source = None if got is None or got.provenance is None else got.provenance
            fill = None if source is None or source.kind == "typed" else source.kind
            fields.append(
                FieldOut(
                    name=f.name,
                    title=f.title_zh,
                    title_en=f.title_en,
                    required=f.required,
                    group=f.group,
                    width=f.width,
                    help=f.help_zh,
                    value=None if got is None else got.value,
                    fill=fill,
                    fill_zh=FILL_KINDS[fill or "typed"][0],
                    source=None if source is None else SourceOut.of(source),
                    choices=[
                        ChoiceOut(value=c.value, case_code=c.case_code, submitted_at=c.submitted_at)
                        for c in (() if got is None else got.choices)
                    ],
                )
            )
        return cls(
            item=ItemRef(
                code=item.code, name=item.name_zh, name_en=item.name_en, department=item.department
            ),
            applicant=ApplicantOut(
                kind=p.applicant_kind,
                kind_zh=HOLDER_KINDS[p.applicant_kind][0],
                id=masked_key(p.applicant_id) or "",
                name=p.applicant_name,
            ),
            agent=masked_key(p.agent_id),
            mandate=p.mandate_code,
            form_schema=item.form.schema,
            fields=fields,
            materials=[
                MaterialOut(
                    code=m.code,
                    name=m.name_zh,
                    name_en=m.name_en,
                    kind=m.kind,
                    required=m.required,
                    replaced_by=m.replaced_by,
                    waived=m.code in p.waived,
                )
                for m in item.materials
            ],
            waived=[
                WaivedOut(
                    material=w.material,
                    name=names[w.material].name_zh if w.material in names else w.material,
                    certificate_type=w.certificate_type,
                    certificate_no=w.certificate_no,
                    holder=masked_key(w.holder_id) or "",
                    authorisation=w.authorisation_code,
                )
                for w in p.waived.values()
            ],
            refused=[
                RefusalOut(material=r.material, reason=r.reason_zh, reason_en=r.reason_en)
                for r in p.refused
            ],
            versions=dict(p.versions),
            counts=CountsOut(
                fields=len(item.form.fields),
                filled=sum(1 for f in fields if f.fill is not None),
                materials=len(item.materials),
                waived=len(p.waived),
            ),
        )


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
    # The cases by the channel they came through (models.CASE_CHANNELS), and the online share
    # (网办率): online, agent and link over all cases; the counter is the offline channel.
    channel_online: int
    channel_agent: int
    channel_link: int
    channel_counter: int
    online_share: float | None


# ---------------------------------------------------------------------------------------------
# A case's form as its applicant and the officers read it, and what the API takes to start one
# (service.py, case_routes.py)
# ---------------------------------------------------------------------------------------------


class ApplicationIn(BaseModel):
    """Start an application: the item, and for an agent the principal's citizen ID or credit
    code (the agent's mandate must cover the item)."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    applicant: str | None = Field(default=None, min_length=18, max_length=18)


class SubmissionIn(ApplicationIn):
    """An application in one request: the item, the principal for an agent, and the values of
    the fields the platform does not fill (or the applicant changes), by field name."""

    values: dict[Annotated[str, Field(pattern=FIELD_NAME)], JsonValue] = Field(
        default_factory=dict, max_length=MAX_FORM_FIELDS
    )


PURPOSE_MIN, PURPOSE_MAX = 2, 200
PURPOSE_PATTERN = r"\S[\s\S]*\S"  # two characters at least that are not blanks
NEEDS_PURPOSE = Text("请写明在窗口代为申请的事由", "say why the application is filed here")
NEEDS_IDENTITY_CHECK = Text(
    "须当面核验申请人的身份证件后才能代为申请", "check the applicant's identity document first"
)


class CounterFilingIn(BaseModel):
    """An officer at a service-hall window files an application for the applicant present (窗口
    办理): the item, the applicant's citizen ID or credit code as their document shows it, that
    the document was checked in person, why the officer files it, and the values of the fields
    the platform does not fill, by field name."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    applicant: str = Field(
        min_length=18,
        max_length=18,
        description="the applicant's citizen ID (a person's item) or credit code (an "
        "enterprise's), read from the document shown at the window",
    )
    identity_checked: bool = Field(
        description="the applicant's identity document was checked in person (must be true)",
        json_schema_extra={"const": True},
    )
    purpose: str = Field(
        min_length=PURPOSE_MIN,
        max_length=PURPOSE_MAX,
        description="why the officer files it, two characters or more besides blanks (kept in "
        "the ledger; the applicant sees it under 谁用了我的数据)",
        # What the validator below holds it to, for clients; the validator says why in Chinese.
        json_schema_extra={"pattern": PURPOSE_PATTERN},
    )
    values: dict[Annotated[str, Field(pattern=FIELD_NAME)], JsonValue] = Field(
        default_factory=dict, max_length=MAX_FORM_FIELDS
    )

    @field_validator("identity_checked")
    @classmethod
    def _checked(cls, value: bool) -> bool:
        if not value:
            raise ValueError(NEEDS_IDENTITY_CHECK)
        return value

    @field_validator("purpose")
    @classmethod
    def _purpose_said(cls, value: str) -> str:
        text = " ".join(value.split())
        if len(text) < PURPOSE_MIN:
            raise ValueError(NEEDS_PURPOSE)
        return text


class CaseFieldOut(BaseModel):
    name: str
    title: str
    value: JsonValue
    required: bool
    fill: str = Field(description="identity | history | shared | typed")
    fill_zh: str
    source: str = Field(description="where the offered value came from, in words")
    offered: JsonValue = None
    kept: bool | None = Field(description="the offered value kept (None: nothing offered)")
    correction: str | None = None


class CaseMaterialOut(BaseModel):
    code: str
    name: str
    required: bool
    kind: str | None
    replaced_by: str | None = Field(description="the e-certificate type that waives it")
    waived: bool
    certificate_no: str | None
    uploaded: bool
    file_name: str | None
    size: int | None
    precheck_ok: bool | None
    issues: list[dict[str, str]] = Field(description="the pre-check's issues: field, reason")
    fields: dict[str, str] = Field(description="what the pre-check read, by printed label")
    correction: str | None = None


class CaseFormOut(BaseModel):
    case: CaseOut
    fields: list[CaseFieldOut]
    materials: list[CaseMaterialOut]
    filled: int = Field(description="fields the platform filled")
    total: int
    waived: int = Field(description="materials waived by e-certificates (免提交)")
    materials_total: int
