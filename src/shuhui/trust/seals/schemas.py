"""What the e-seal API takes and gives, and the bounds of what it reads (the API and the
verification page both hold uploads to them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.bounds import Moment
from shuhui.trust.seals import service as seals

MAX_DOCUMENT = 20 * 1024 * 1024
MAX_ENVELOPE = 64 * 1024
# The request that brings them, the body bound the upload routes declare (web.limits): the
# document in Base64 (a third larger) beside the envelope in JSON, or both as multipart parts,
# with room for the form's headers and JSON's escapes.
MAX_UPLOAD_BODY = (MAX_DOCUMENT + 2) // 3 * 4 + 2 * MAX_ENVELOPE + 64 * 1024


class SealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=seals.CODE_PATTERN.pattern, examples=["QDXZSP-2026-0001"])
    name: str = Field(min_length=2, max_length=128, examples=["青岛市行政审批服务局行政审批专用章"])
    department: str = Field(min_length=2, max_length=128, examples=["青岛市行政审批服务局"])
    valid_from: Moment | None = None  # default: now
    valid_to: Moment | None = None  # default: valid_from + days
    days: int = Field(default=365, ge=1, le=3650)


class SealOut(BaseModel):
    code: str
    name: str
    department: str
    key_id: str
    public_key_pem: str
    valid_from: str
    valid_to: str
    created_at: str
    revoked_at: str | None
    image_url: str


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_base64: str
    envelope: dict[str, Any]


class VerdictOut(BaseModel):
    valid: bool
    reason: str | None
    seal: dict[str, str] | None
    signer: str | None
    signed_at: str | None
