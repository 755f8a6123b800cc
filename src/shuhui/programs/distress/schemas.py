"""What the enterprise-difficulty API takes (the console's forms are read through the same)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.bounds import Day


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluated_on: Day | None = Field(
        default=None, description="default: today (Asia/Shanghai); not after today"
    )


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluated_on: Day | None = Field(default=None, description="the run's date; default: latest")
    policy: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="which of the measure's policies runs its campaign; default: the first",
    )
    scope: Literal["all", "eligible", "undetermined"] = Field(default="all")
    limit: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)
