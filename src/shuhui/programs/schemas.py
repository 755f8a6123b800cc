"""What the campaigns' API takes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.bounds import Day, Id


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str = Field(min_length=1, max_length=64, description="the policy's code")
    evaluated_on: Day | None = Field(
        default=None, description="default: today (Asia/Shanghai); 1900–2100"
    )
    scope: Literal["all", "eligible", "undetermined"] = Field(
        default="all",
        description="whom to take: all (eligible and undetermined), eligible only (免申即享), "
        "or undetermined only (those waiting on missing inputs)",
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        strict=True,
        description="at most this many candidates, the lowest keys, not counting those already "
        "granted; null: every one",
    )


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] | None = Field(
        default=None, max_length=10_000, description="candidates to confirm; null: every pending"
    )


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=10_000)
    reason: str = Field(min_length=1, max_length=1024)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "decline", "apply"]
    answers: dict[str, str] = Field(
        default_factory=dict, description="apply: one answer per missing input"
    )
    reason: str = Field(default="", max_length=1024)


class ApplicationReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1024)
