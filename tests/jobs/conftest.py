"""Background-job fixtures: a test kind of job whose steps, failures and pauses a test chooses,
and the platform's queue over the test's database with it (a quick heartbeat, no retry delay)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.db import transaction
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.settings import Settings
from shuhui.jobs import service
from shuhui.jobs.kinds import JobKind, Outcome, Prepared, Run
from shuhui.jobs.models import Job
from shuhui.jobs.queue import Jobs
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerEntry

STEPS = "test.steps"
WROTE = "test.wrote"  # the ledger entry the test kind's work writes: what must not remain


class StepsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = 3
    # where its work goes wrong: never, a refusal, an error, an error on the first attempt only
    fail: Literal["none", "refusal", "error", "first"] = "none"
    key: str | None = None


@dataclass
class Steps:
    """The test kind: each step a progress report, then one ledger entry (``test.wrote``) per
    step, then its failure if asked. With ``gate`` set it waits there after its first step."""

    gate: threading.Event | None = None
    reached: threading.Event = field(default_factory=threading.Event)
    max_attempts: int = 3

    def kind(self) -> JobKind[StepsIn]:
        def prepare(db: Session, user: User, params: StepsIn) -> Prepared[StepsIn]:
            if params.steps < 1:
                raise Problem(
                    "validation",
                    detail=Text("步数至少为 1", "at least one step"),
                    errors=[FieldError("steps", Text("至少为 1", "at least 1"))],
                )
            return Prepared(params, Text("测试任务", "Test job"), key=params.key)

        def work(run: Run[StepsIn]) -> Outcome:
            p = run.params
            for i in range(p.steps):
                run.progress(i + 1, p.steps, Text(f"第 {i + 1} 步", f"step {i + 1}"))
                if i == 0:
                    self.reached.set()
                    if self.gate is not None:
                        assert self.gate.wait(30), "the test never opened the gate"
            for i in range(p.steps):
                ledger.record(run.db, run.actor, WROTE, detail={"job": run.job_id, "step": i})
            if p.fail == "refusal":
                raise Problem("validation", detail=Text("测试要求拒绝", "refused as asked"))
            if p.fail == "error" or (p.fail == "first" and run.attempt == 1):
                raise RuntimeError("asked to fail")
            return Outcome(
                {"steps": p.steps}, Text(f"完成 {p.steps} 步", f"{p.steps} steps"), link="/jobs"
            )

        name = Text("测试任务", "Test job")
        return JobKind(STEPS, name, StepsIn, prepare, work, self.max_attempts)


def queue(settings: Settings, factory: Any, *kinds: JobKind[Any], **options: Any) -> Jobs:
    options = {"beat_every": 0.05, "retry_delay": 0.0, **options}
    return Jobs(settings, factory, kinds, **options)


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
def jobs(app: FastAPI, steps: Steps) -> Iterator[Jobs]:
    """The app's queue, knowing the test kind (pages and API see the same rows)."""
    made = queue(app.state.settings, app.state.session_factory, steps.kind())
    app.state.jobs = made
    yield made


def user(app: FastAPI, username: str) -> User:
    with app.state.session_factory() as db:
        found = identity.get_user_by_username(db, username)
        assert found is not None
        db.expunge(found)
        return found


def start(app: FastAPI, jobs: Jobs, username: str = "officer", **params: Any) -> int:
    who = user(app, username)
    with transaction(app.state.session_factory) as db:
        db.add(who)
        job, _ = service.start(db, jobs, STEPS, StepsIn(**params), who)
        return job.id


def row(app: FastAPI, job_id: int) -> Job:
    with app.state.session_factory() as db:
        job = db.get(Job, job_id)
        assert job is not None
        db.expunge(job)
        return job


def entries(app: FastAPI, action: str) -> int:
    with app.state.session_factory() as db:
        query = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.action == action)
        return int(db.scalar(query) or 0)
