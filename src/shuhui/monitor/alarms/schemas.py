"""What the alarms' API and pages take and give."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StepIn(BaseModel):
    """One step of an alarm: a note (required to close an alarm never dispatched), and the
    responder unit for a dispatch."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=1024, description="说明 (why, what was done)")
    unit: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="处置单位 code (units.yaml), for a dispatch only",
    )


class DispatchIn(StepIn):
    unit: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="处置单位 code (units.yaml): a unit taking the alarm's scenario",
    )
