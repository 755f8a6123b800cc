"""What smart approval's API and pages take and give (pydantic v2), with bounds on every field.

Sections by what they serve; each section's classes are used by its service module and by the
routes and pages alike.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# ---------------------------------------------------------------------------------------------
# Cases: submission, acceptance, correction request, decision (cases.py)
# ---------------------------------------------------------------------------------------------


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
