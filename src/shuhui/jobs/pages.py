"""The jobs' pages: 我的任务 (``/jobs``: the jobs one started, and one's department's) and a job's
page (``/jobs/{id}``), whose progress bar follows the job live by polling ``/api/v1/jobs/{id}``
and which opens the result's page when a job it watched is done. Without scripts the page says
where it is and a link reloads it."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.bounds import Id, Page
from shuhui.core.clock import format_local
from shuhui.core.http import render
from shuhui.jobs import service
from shuhui.jobs.models import STATES, Job
from shuhui.jobs.schemas import percent
from shuhui.trust.identity.deps import DB, CurrentUser

pages = APIRouter(include_in_schema=False)

PAGE_SIZE: Final = 30


def job_view(job: Job) -> dict[str, Any]:
    return {
        "job": job,
        "state": STATES[job.state],
        "percent": percent(job),
        "created_at": format_local(job.created_at),
        "started_at": format_local(job.started_at) if job.started_at else "",
        "finished_at": format_local(job.finished_at) if job.finished_at else "",
    }


@pages.get("/jobs", response_class=HTMLResponse)
def listing(
    request: Request, db: DB, user: CurrentUser, state: str = "", page: Page = 1
) -> Response:
    chosen = state if state in STATES else None
    rows, total = service.listing(
        db, user, state=chosen, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render(
        request,
        "jobs_list.html",
        {
            "rows": [job_view(j) for j in rows],
            "total": total,
            "states": STATES,
            "chosen": chosen or "",
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
    )


@pages.get("/jobs/{job_id}", response_class=HTMLResponse)
def job(request: Request, job_id: Id, db: DB, user: CurrentUser) -> Response:
    return render(request, "jobs_job.html", job_view(service.visible(db, user, job_id)))
