"""What the data channel's API takes and returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ConsumerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=32, description="bank, insurer, hospital, …")
    contact_name: str = Field(min_length=1, max_length=64)
    contact_phone: str = Field(min_length=1, max_length=32)
    contact_email: str = Field(min_length=3, max_length=128)


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone: str = Field(min_length=1, max_length=32)
    statement: str = Field(min_length=1, max_length=2048, description="why the consumer joins")


class MembershipReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1024)


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[str] = Field(min_length=1, max_length=20)
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="output fields wanted per product (default: all)"
    )
    purpose: str = Field(min_length=1, max_length=256)
    legal_basis: str = Field(min_length=1, max_length=1024)
    usage: Literal["public_governance", "industry"]
    days: int = Field(ge=1, le=1098)


class ApplicationReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "return"]
    reason: str = Field(default="", max_length=1024)
    rate_per_minute: int = Field(default=600, ge=1, le=100_000)
    monthly_quota: int = Field(default=1_000_000, ge=1, le=100_000_000)


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_basis: str = Field(min_length=1, max_length=1024)
    note: str = Field(default="", max_length=1024)


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1024)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grants: list[str] = Field(min_length=1, max_length=50)
    label: str = Field(min_length=1, max_length=64)
    days: int = Field(default=366, ge=1, le=366)


class KeyOut(BaseModel):
    prefix: str
    label: str
    grants: list[str]
    created_at: str
    expires_at: str
    revoked_at: str | None
    replaced_by: str | None
    secret: str | None = Field(
        default=None, description="the whole key: shown once, at issue or rotation"
    )


class ProductCall(BaseModel):
    """The body of a gateway call (documented per product in the OpenAPI spec)."""

    purpose: str = Field(description="the purpose of this call; must be the grant's purpose")
    params: dict[str, object] = Field(default_factory=dict)
