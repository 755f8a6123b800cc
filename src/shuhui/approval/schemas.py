"""What smart approval's API and pages take and give (pydantic v2), with bounds on every field.

Sections by what they serve; each section's classes are used by its service module and by the
routes and pages alike.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from shuhui.approval.items import ServiceItem
from shuhui.approval.models import FILL_KINDS, HOLDER_KINDS
from shuhui.approval.provenance import Prefill, Provenance
from shuhui.core.display import mask_citizen_id
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id
from shuhui.standard import TABLES

# ---------------------------------------------------------------------------------------------
# Cases: submission, acceptance, correction request, decision (cases.py)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# E-licences, ratings and follow-ups, metrics (licences.py, ratings.py, metrics.py)
# ---------------------------------------------------------------------------------------------
