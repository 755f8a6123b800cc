"""Background jobs' service API (no HTTP, no queue library): starting a job, who sees it, and
each move of its row, every one fenced so that two workers can never both finish one job.

- :func:`start` — in the request's transaction: the kind's ``prepare`` (who may, what exactly),
  the row, a ``jobs.queued`` entry, and the job handed to the queue once the request commits.
- :func:`claim` — a worker takes a queued job: ``attempts`` + 1, a ``jobs.started`` entry.
- :func:`beat` — the attempt's heartbeat and progress, only while it still holds the job.
- :func:`finish` — in the job's own transaction, after its work: done, a ``jobs.done`` entry.
- :func:`fail`, :func:`retry_later` — after the work raised (its transaction rolled back).
- :func:`interrupted`, :func:`take_back` — a running job whose worker is gone is queued again,
  or failed once it has used its attempts; :func:`unclaimed` — queued jobs the queue lost.

Each move that writes a ledger entry appends it before it updates the job's row: every writer
takes the ledger's head before a job row, so on PostgreSQL a job's work (which appends as it
goes and marks its row last) never deadlocks with a worker or a sweep touching the same row.
A move that finds the row moved on (the fence fails) raises, and its caller rolls it back, the
entry included.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text, english
from shuhui.jobs.kinds import JobKind, Kinds, Outcome, Prepared, Superseded
from shuhui.jobs.models import ACTIVE, LABEL_MAX, LINK_MAX, REASON_MAX, STATES, TITLE_MAX, Job
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

__all__ = [
    "Queue",
    "Shown",
    "Taken",
    "beat",
    "can_see",
    "claim",
    "count_active",
    "count_failed_since",
    "fail",
    "finish",
    "get",
    "interrupted",
    "invalid_params",
    "listing",
    "refusal_reason",
    "retry_later",
    "start",
    "take_back",
    "unclaimed",
    "visible",
    "worker_name",
]

SYSTEM: Final = "system"
PAGE_MAX: Final = 200


class Queue(Protocol):
    """What starting a job needs of the queue (``queue.Jobs``): the kinds, and a hand-over to
    the queue once the starting transaction has committed."""

    @property
    def kinds(self) -> Kinds: ...

    def enqueue_after_commit(self, db: Session, job_id: int) -> None: ...


def worker_name() -> str:
    """Who runs an attempt: the machine and the process, so that a process found gone on this
    machine gives its jobs back at once."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- starting ---------------------------------------------------------------------------------


def start(
    db: Session,
    queue: Queue,
    code: str,
    params: BaseModel | dict[str, Any],
    user: User,
    *,
    now: datetime | None = None,
) -> tuple[Job, bool]:
    """Starts a job of kind ``code`` for ``user``: the job, and whether it is new (False: the
    same work was queued or running already, and that job is returned)."""
    kind = queue.kinds.kind(code)
    parsed = _params(kind, params)
    prepared: Prepared[Any] = kind.prepare(db, user, parsed)
    now = now or utcnow()
    if prepared.key is not None:
        running = _active(db, prepared.key)
        if running is not None:
            return running, False
    job = Job(
        kind=kind.code,
        title=_cut(str(prepared.title), TITLE_MAX),
        title_en=_cut(english(prepared.title), TITLE_MAX),
        params=prepared.params.model_dump(mode="json"),
        active_key=prepared.key,
        actor=user.username,
        department=user.department,
        state="queued",
        progress_done=0,
        progress_total=0,
        progress_label="等待运行",
        progress_label_en="Waiting to run",
        attempts=0,
        max_attempts=kind.max_attempts,
        created_at=now,
        enqueued_at=now,
    )
    try:
        # Two starts of the same work at once: the second insert meets the key (on PostgreSQL
        # once the first has committed) and returns the first's job.
        with db.begin_nested():
            db.add(job)
            db.flush()
    except IntegrityError:
        running = _active(db, prepared.key) if prepared.key else None
        if running is None:
            raise
        return running, False
    ledger.record(
        db,
        user.username,
        "jobs.queued",
        detail={"job": job.id, "kind": kind.code, "title": job.title, "params": job.params},
    )
    queue.enqueue_after_commit(db, job.id)
    return job, True


def _params(kind: JobKind[Any], given: BaseModel | dict[str, Any]) -> BaseModel:
    if isinstance(given, kind.params):
        same: BaseModel = given
        return same
    raw = given.model_dump(mode="json") if isinstance(given, BaseModel) else given
    parsed: BaseModel = kind.params.model_validate(raw)
    return parsed


def _active(db: Session, key: str) -> Job | None:
    return db.scalar(select(Job).where(Job.active_key == key))


# --- who sees what ----------------------------------------------------------------------------


def can_see(user: User, job: Job) -> bool:
    """The one who started it, the officers of their department, and administrators."""
    if job.actor == user.username or Role.admin in user.role_set:
        return True
    return (
        Role.officer in user.role_set
        and job.department is not None
        and job.department == user.department
    )


def _seen_by(user: User) -> ColumnElement[bool] | None:
    if Role.admin in user.role_set:
        return None
    mine = Job.actor == user.username
    if Role.officer in user.role_set and user.department:
        return or_(mine, Job.department == user.department)
    return mine


def get(db: Session, job_id: int) -> Job | None:
    return db.get(Job, job_id)


def visible(db: Session, user: User, job_id: int) -> Job:
    """The job, or a 404 (also for one the user may not see: its existence is not told)."""
    job = db.get(Job, job_id)
    if job is None or not can_see(user, job):
        raise Problem("not-found", detail=Text("没有这个后台任务", "no such background job"))
    return job


def listing(
    db: Session,
    user: User | None,
    *,
    state: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Job], int]:
    """The jobs ``user`` sees (every job for ``None``: the command line), newest first."""
    where: list[ColumnElement[bool]] = []
    if user is not None:
        seen = _seen_by(user)
        if seen is not None:
            where.append(seen)
    if state in STATES:
        where.append(Job.state == state)
    total = db.scalar(select(func.count()).select_from(Job).where(*where)) or 0
    rows = db.scalars(
        select(Job).where(*where).order_by(Job.id.desc()).offset(offset).limit(min(limit, PAGE_MAX))
    )
    return list(rows), total


def count_active(db: Session, user: User) -> int:
    where: list[ColumnElement[bool]] = [Job.state.in_(ACTIVE)]
    seen = _seen_by(user)
    if seen is not None:
        where.append(seen)
    return db.scalar(select(func.count()).select_from(Job).where(*where)) or 0


def count_failed_since(db: Session, user: User, since: datetime) -> int:
    where: list[ColumnElement[bool]] = [Job.state == "failed", Job.finished_at >= since]
    seen = _seen_by(user)
    if seen is not None:
        where.append(seen)
    return db.scalar(select(func.count()).select_from(Job).where(*where)) or 0


# --- a worker's moves -------------------------------------------------------------------------


def _moved(
    db: Session, job_id: int, attempt: int, *, seen: datetime | None = None, **values: Any
) -> None:
    """Updates the row only while ``attempt`` holds it running (and, with ``seen``, has not
    beaten since that heartbeat); else :class:`Superseded`."""
    where = [Job.id == job_id, Job.attempts == attempt, Job.state == "running"]
    if seen is not None:
        where.append(Job.heartbeat_at == seen)
    done = db.execute(update(Job).where(*where).values(**values))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Superseded(job_id)


def claim(db: Session, job_id: int, worker: str, now: datetime | None = None) -> Job | None:
    """Takes a queued job for ``worker``: the job, running with its new attempt, or None when it
    is not queued (another worker took it, it ended, or it never was: a stale delivery)."""
    now = now or utcnow()
    job = db.get(Job, job_id)
    if job is None or job.state != "queued":
        return None
    attempt = job.attempts + 1
    ledger.record(
        db,
        job.actor,
        "jobs.started",
        detail={"job": job.id, "kind": job.kind, "attempt": attempt, "worker": worker},
    )
    taken = db.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "queued", Job.attempts == job.attempts)
        .values(
            state="running",
            attempts=attempt,
            worker=_cut(worker, 128),
            heartbeat_at=now,
            started_at=func.coalesce(Job.started_at, now),
            progress_label="开始运行",
            progress_label_en="Started",
        )
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Superseded(job_id)  # taken at the same moment by another worker: roll back
    db.refresh(job)
    return job


@dataclass(frozen=True)
class Shown:
    """Progress as an attempt last reported it."""

    done: int
    total: int
    label: Text


def beat(
    db: Session, job_id: int, attempt: int, progress: Shown | None, now: datetime | None = None
) -> None:
    """The attempt is alive (and how far it got); :class:`Superseded` if it no longer holds the
    job."""
    values: dict[str, Any] = {"heartbeat_at": now or utcnow()}
    if progress is not None:
        values.update(
            progress_done=max(0, progress.done),
            progress_total=max(0, progress.total),
            progress_label=_cut(str(progress.label), LABEL_MAX),
            progress_label_en=_cut(english(progress.label), LABEL_MAX),
        )
    _moved(db, job_id, attempt, **values)


def finish(
    db: Session,
    job: Job,
    attempt: int,
    outcome: Outcome,
    *,
    total: int = 1,
    now: datetime | None = None,
) -> None:
    """Done, in the transaction of the job's work: the work and the mark commit together.
    ``total`` is the last total the work reported (the bar ends full at it)."""
    now = now or utcnow()
    ledger.record(
        db,
        job.actor,
        "jobs.done",
        detail={"job": job.id, "kind": job.kind, "attempt": attempt, "result": outcome.summary},
    )
    total = max(total, 1)
    _moved(
        db,
        job.id,
        attempt,
        state="done",
        active_key=None,
        finished_at=now,
        heartbeat_at=now,
        progress_done=total,
        progress_total=total,
        progress_label="已完成",
        progress_label_en="Done",
        result=outcome.summary,
        result_text=_cut(str(outcome.text), REASON_MAX),
        result_text_en=_cut(english(outcome.text), REASON_MAX),
        link=_local_link(outcome.link),
        reason=None,
        reason_en=None,
    )


def _local_link(link: str | None) -> str | None:
    """A path of this site only (never another site's address)."""
    if link is None or not link.startswith("/") or link.startswith("//") or len(link) > LINK_MAX:
        return None
    return link


def fail(
    db: Session,
    job_id: int,
    attempt: int,
    reason: Text,
    now: datetime | None = None,
    *,
    actor: str | None = None,
    seen: datetime | None = None,
) -> None:
    """Failed with ``reason`` (the work's transaction rolled back before: nothing it wrote
    remains)."""
    job = db.get(Job, job_id)
    if job is None:
        raise Superseded(job_id)
    now = now or utcnow()
    ledger.record(
        db,
        actor or job.actor,
        "jobs.failed",
        detail={"job": job_id, "kind": job.kind, "attempt": attempt, "reason": str(reason)},
    )
    _moved(
        db,
        job_id,
        attempt,
        seen=seen,
        state="failed",
        active_key=None,
        finished_at=now,
        heartbeat_at=now,
        progress_label="未完成",
        progress_label_en="Not done",
        reason=_cut(str(reason), REASON_MAX),
        reason_en=_cut(english(reason), REASON_MAX),
    )


def retry_later(
    db: Session,
    job_id: int,
    attempt: int,
    reason: Text,
    now: datetime | None = None,
    *,
    actor: str | None = None,
    seen: datetime | None = None,
) -> None:
    """Queued again after an attempt that stopped (its reason kept until the next one ends)."""
    job = db.get(Job, job_id)
    if job is None:
        raise Superseded(job_id)
    now = now or utcnow()
    ledger.record(
        db,
        actor or job.actor,
        "jobs.resumed",
        detail={"job": job_id, "kind": job.kind, "attempt": attempt, "reason": str(reason)},
    )
    _moved(
        db,
        job_id,
        attempt,
        seen=seen,
        state="queued",
        enqueued_at=now,
        progress_label="等待重试",
        progress_label_en="Waiting to retry",
        reason=_cut(str(reason), REASON_MAX),
        reason_en=_cut(english(reason), REASON_MAX),
    )


def refusal_reason(problem: Problem) -> Text:
    """A refusal as one line for people: the detail, then each field's reason (not its name)."""
    detail = problem.detail or problem.type.title
    reasons = [str(e.reason) for e in problem.errors if str(e.reason) != str(detail)]
    reasons_en = [english(str(e.reason)) for e in problem.errors if str(e.reason) != str(detail)]
    en_detail = english(detail) if isinstance(detail, Text) else problem.type.title_en
    if not reasons:
        return Text(str(detail), en_detail)
    return Text(f"{detail}（{'；'.join(reasons)}）", f"{en_detail} ({'; '.join(reasons_en)})")


# --- taking back what a gone worker held ------------------------------------------------------


def _gone_here(worker: str | None, host: str, alive: Callable[[int], bool]) -> bool:
    """Whether ``worker`` was a process of this machine that has ended."""
    if not worker or ":" not in worker:
        return False
    where, _, pid = worker.rpartition(":")
    return where == host[:100] and pid.isdigit() and not alive(int(pid))


def interrupted(
    db: Session,
    now: datetime,
    stale_after: float,
    *,
    host: str,
    alive: Callable[[int], bool],
) -> list[Job]:
    """Running jobs whose worker is gone: a process of this machine that has ended, or any
    whose heartbeat is older than ``stale_after`` seconds."""
    cutoff = now - timedelta(seconds=stale_after)
    running = db.scalars(select(Job).where(Job.state == "running").order_by(Job.id))
    return [
        j
        for j in running
        if j.heartbeat_at is None or j.heartbeat_at < cutoff or _gone_here(j.worker, host, alive)
    ]


Taken = str  # "queued" (to run again) or "failed" (its attempts used)


def take_back(db: Session, job: Job, now: datetime | None = None) -> Taken:
    """A running job whose worker is gone: queued again while it has attempts left, else
    failed, saying so. Raises :class:`Superseded` if it moved on meanwhile."""
    now = now or utcnow()
    n = job.attempts
    if n < job.max_attempts:
        retry_later(
            db,
            job.id,
            n,
            Text(
                f"工作进程在运行中中断（第 {n} 次尝试），已重新排队",
                f"the worker stopped mid-run (attempt {n}); queued again",
            ),
            now,
            actor=SYSTEM,
            seen=job.heartbeat_at,
        )
        return "queued"
    fail(
        db,
        job.id,
        n,
        Text(
            f"工作进程在运行中中断，已尝试 {n} 次，不再重试",
            f"the worker stopped mid-run; tried {n} times, not retried again",
        ),
        now,
        actor=SYSTEM,
        seen=job.heartbeat_at,
    )
    return "failed"


def unclaimed(db: Session, now: datetime, stale_after: float) -> Sequence[int]:
    """Queued jobs handed to the queue more than ``stale_after`` seconds ago and still not
    taken — the queue lost them (a restart of a queue that keeps nothing, an enqueue that
    failed) or is busy: they are handed over again (a second delivery finds the job taken)."""
    cutoff = now - timedelta(seconds=stale_after)
    found = list(
        db.scalars(
            select(Job.id).where(Job.state == "queued", Job.enqueued_at < cutoff).order_by(Job.id)
        )
    )
    if found:
        db.execute(update(Job).where(Job.id.in_(found)).values(enqueued_at=now))
    return found


def invalid_params(error: ValidationError) -> Text:
    """Parameters stored by an older version that this one reads no more."""
    return Text(
        f"任务参数不再有效（{error.error_count()} 处），请重新发起",
        f"the job's parameters are no longer valid ({error.error_count()}); start it again",
    )
