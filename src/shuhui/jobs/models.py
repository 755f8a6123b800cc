"""The jobs table: one row per background job, the truth about it (the queue carries only its id).

A row moves queued → running → done | failed, and running → queued again when the worker that
held it stopped without a word (see :mod:`shuhui.jobs.service`). ``attempts`` counts the claims:
it fences each attempt, so a worker whose attempt was taken back can neither write its progress
nor finish the job."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime

STATES: Final[dict[str, tuple[str, str]]] = {
    "queued": ("排队中", "Queued"),
    "running": ("运行中", "Running"),
    "done": ("已完成", "Done"),
    "failed": ("失败", "Failed"),
}
ACTIVE: Final = ("queued", "running")

TITLE_MAX: Final = 200
LABEL_MAX: Final = 200
REASON_MAX: Final = 1000
LINK_MAX: Final = 300


class Job(Base):
    """A long piece of work started by someone (a campaign over the city, a certification
    cycle…), its progress, its attempts and how it ended."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_actor_id", "actor", "id"),
        Index("ix_jobs_department_id", "department", "id"),
        Index("ix_jobs_state_heartbeat", "state", "heartbeat_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    title_en: Mapped[str] = mapped_column(String(TITLE_MAX))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The same work asked for twice while the first is queued or running is the first: the
    # kind's key while active, NULL once ended (unique where set, as NULLs never collide).
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    actor: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)  # 0: not known yet
    progress_label: Mapped[str] = mapped_column(String(LABEL_MAX), default="")
    progress_label_en: Mapped[str] = mapped_column(String(LABEL_MAX), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    # Why it failed (or why the last attempt stopped), for people: Chinese, and English.
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    reason_en: Mapped[str | None] = mapped_column(String(REASON_MAX))
    worker: Mapped[str | None] = mapped_column(String(128))  # host:pid of the attempt's worker
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime)  # last handed to the queue
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first claim
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_text: Mapped[str | None] = mapped_column(String(REASON_MAX))
    result_text_en: Mapped[str | None] = mapped_column(String(REASON_MAX))
    link: Mapped[str | None] = mapped_column(String(LINK_MAX))  # the page showing the result

    @property
    def ended(self) -> bool:
        return self.state in ("done", "failed")
