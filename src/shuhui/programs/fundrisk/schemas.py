"""What the fund-risk API takes (the pages validate through the same models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.bounds import Day

MAX_FEN = 10**13  # a hundred billion yuan: more than any fund's recovery


class DetectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: Day | None = Field(
        default=None, description="detect as on this day (not after today); default: today"
    )


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["check", "confirm", "dismiss", "recover"] = Field(
        description="check (new → checking), confirm (checking → confirmed), dismiss (new or "
        "checking → dismissed, with a reason), recover (confirmed or recovering: record an "
        "amount recovered; the whole amount makes it recovered)"
    )
    reason: str = Field(default="", max_length=1024, description="dismiss: why (required)")
    amount_fen: int | None = Field(
        default=None, ge=1, le=MAX_FEN, strict=True, description="recover: fen recovered"
    )
