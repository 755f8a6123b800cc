"""Background jobs on the workbench: the jobs one sees (one's own, one's department's) that are
queued or running, and those that failed in the last week, urgent. Shown only when there are
some: most days an officer has none, and an empty card would say nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.workbench import Todo
from shuhui.jobs import service
from shuhui.trust.identity.models import User

RECENT: Final = timedelta(days=7)


def todos(db: Session, user: User) -> list[Todo]:
    out: list[Todo] = []
    active = service.count_active(db, user)
    if active:
        out.append(
            Todo(
                "jobs.active",
                "进行中的后台任务",
                "Background jobs in progress",
                active,
                "/jobs",
                "政策找人运行、资格认证比对等，可随时查看进度",
                "Campaign runs, certification cycles…: follow their progress",
            )
        )
    failed = service.count_failed_since(db, user, utcnow() - RECENT)
    if failed:
        out.append(
            Todo(
                "jobs.failed",
                "近 7 天未完成的后台任务",
                "Background jobs that failed this week",
                failed,
                "/jobs?state=failed",
                "查看失败原因后可重新发起，任务没有留下半截结果",
                "See why and start them again: nothing half-done was left",
                urgent=True,
            )
        )
    return out
