"""Background jobs over HTTP (``/api/v1/jobs``): the jobs one sees, and one job with its
progress — what the job page polls while it runs. Jobs are started by the pages of the domain
whose work they are (a campaign from the campaign console…), through :func:`queue_of`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from shuhui.core.bounds import Id, Offset
from shuhui.jobs import service
from shuhui.jobs.queue import Jobs
from shuhui.jobs.schemas import JobOut, JobPage, State
from shuhui.trust.identity.deps import DB, CurrentUser

api = APIRouter(prefix="/api/v1/jobs", tags=["background jobs (后台任务)"])


def queue_of(request: Request) -> Jobs:
    """The platform's job queue in this process (the app factory puts it on the app)."""
    found: Jobs = request.app.state.jobs
    return found


@api.get("", summary="The background jobs I started, or my department's; newest first")
def jobs(
    db: DB,
    user: CurrentUser,
    state: State | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = 50,
) -> JobPage:
    rows, total = service.listing(db, user, state=state, offset=offset, limit=limit)
    return JobPage(total=total, items=[JobOut.of(j) for j in rows])


@api.get("/{job_id}", summary="A background job: its state, progress, result or failure")
def job(job_id: Id, db: DB, user: CurrentUser) -> JobOut:
    return JobOut.of(service.visible(db, user, job_id))
