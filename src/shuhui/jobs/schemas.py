"""What the jobs API gives: a job with its state and progress, in Chinese first."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shuhui.jobs.models import STATES, Job

State = Literal["queued", "running", "done", "failed"]


class Bilingual(BaseModel):
    """A message in Chinese and in English."""

    zh: str
    en: str


class ProgressOut(BaseModel):
    done: int = Field(ge=0)
    total: int = Field(ge=0, description="0 while not known yet")
    percent: int | None = Field(ge=0, le=100, description="null while the total is not known")
    label: Bilingual


class JobOut(BaseModel):
    id: int
    kind: str
    title: Bilingual
    state: State
    state_name: Bilingual
    progress: ProgressOut
    attempts: int = Field(description="how many times a worker took it")
    max_attempts: int
    reason: Bilingual | None = Field(description="why it failed, or why its last attempt stopped")
    result: dict[str, Any] | None
    result_text: Bilingual | None
    link: str | None = Field(description="the page that shows the result (a path of this site)")
    actor: str
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            title=Bilingual(zh=job.title, en=job.title_en),
            state=job.state,
            state_name=Bilingual(zh=STATES[job.state][0], en=STATES[job.state][1]),
            progress=ProgressOut(
                done=job.progress_done,
                total=job.progress_total,
                percent=percent(job),
                label=Bilingual(zh=job.progress_label, en=job.progress_label_en),
            ),
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            reason=Bilingual(zh=job.reason, en=job.reason_en or job.reason) if job.reason else None,
            result=job.result,
            result_text=(
                Bilingual(zh=job.result_text, en=job.result_text_en or job.result_text)
                if job.result_text
                else None
            ),
            link=job.link,
            actor=job.actor,
            created_at=job.created_at,
            started_at=job.started_at,
            heartbeat_at=job.heartbeat_at,
            finished_at=job.finished_at,
        )


class JobPage(BaseModel):
    total: int
    items: list[JobOut]


def percent(job: Job) -> int | None:
    """How far, 0–100; None while the work has not said how much there is."""
    if job.state == "done":
        return 100
    if job.progress_total <= 0:
        return None
    return max(0, min(100, job.progress_done * 100 // job.progress_total))
