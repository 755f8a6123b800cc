"""What the certification API and pages take, and what they give (one set for both)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shuhui.core.bounds import Day
from shuhui.core.money import Yuan
from shuhui.programs.certification.cycle import CycleResult
from shuhui.programs.certification.models import Certification


class CycleIn(BaseModel):
    """Run the cycle on a date (default today, Asia/Shanghai; never after today)."""

    model_config = ConfigDict(extra="forbid")

    date: Day | None = Field(default=None, description="the cycle's date; default today")


class CycleOut(BaseModel):
    run_on: date
    already_run: bool = Field(description="the date had been run: nothing was changed")
    counts: dict[str, int]
    ms: int

    @classmethod
    def of(cls, result: CycleResult) -> CycleOut:
        return cls(
            run_on=result.run_on,
            already_run=result.already_run,
            counts=result.counts,
            ms=result.ms,
        )


class SelfCertifyIn(BaseModel):
    """The recipient's declaration, signed after re-authenticating with their password (or with
    their own key: a base64 SM2 signature over the declaration)."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=1, max_length=256)
    signature_base64: str | None = Field(default=None, min_length=1, max_length=512)


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["certified", "deceased", "not_found"]
    died_on: Day | None = Field(default=None, description="deceased: the date of death")
    note: str | None = Field(default=None, max_length=500)


class RecoveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Yuan = Field(description='元, as typed ("1,234.50"); stored in fen')
    recovered_on: Day | None = None
    note: str | None = Field(default=None, max_length=500)


class CertificationOut(BaseModel):
    id: int
    citizen_id: str
    year: int
    window_start: date
    window_end: date
    outcome: str
    method: str | None
    evidence: list[str]
    score: int
    rule: str
    evaluated_on: date
    certified_on: date | None
    died_on: date | None

    @classmethod
    def of(cls, c: Certification) -> CertificationOut:
        return cls(
            id=c.id,
            citizen_id=c.citizen_id,
            year=c.year,
            window_start=c.window_start,
            window_end=c.window_end,
            outcome=c.outcome,
            method=c.method,
            evidence=list(c.evidence),
            score=c.score,
            rule=c.rule,
            evaluated_on=c.evaluated_on,
            certified_on=c.certified_on,
            died_on=c.died_on,
        )
