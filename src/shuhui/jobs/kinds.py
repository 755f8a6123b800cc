"""What a kind of job is, as the domain that owns the work declares it.

A domain above this package (programs, its certification…) makes a :class:`JobKind`: its
code and name, the pydantic schema of its parameters, ``prepare`` — run in the request that
starts the job, so a refusal (a future date, another department's policy) is answered at once
and nothing is queued — and ``work``, run by a worker with a :class:`Run`: one session whose
transaction the runner commits, with the job marked done, only when the work returns. The app
factory and ``shuhui jobs worker`` hand the kinds to :class:`shuhui.jobs.queue.Jobs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.identity.models import User

P = TypeVar("P", bound=BaseModel)

# Attempts before a job that keeps being interrupted (or keeps meeting an unexpected error) is
# failed: enough for a restart or two, few enough that a broken job stops soon.
MAX_ATTEMPTS = 3


class Superseded(Exception):
    """This attempt's job was taken back (its worker looked dead) or ended: stop, write nothing."""


@dataclass(frozen=True)
class Prepared(Generic[P]):
    """A start accepted: the parameters as they will run (a default date made today's date, so
    a retry runs the same), the title people see, and the key that makes a second start of the
    same work, while the first is queued or running, return the first."""

    params: P
    title: Text
    key: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a job did: a summary for the API, a line for people and the page showing it."""

    summary: dict[str, JsonValue]
    text: Text
    link: str | None = None


Progress = Callable[[int, int, Text], None]


@dataclass
class Run(Generic[P]):
    """One attempt at a job, as its work sees it. ``db`` is the job's one transaction: the work
    writes through it and never commits. ``progress(done, total, label)`` is cheap (kept in
    memory, written by the heartbeat every second) and raises :class:`Superseded` when this
    attempt no longer holds the job."""

    job_id: int
    attempt: int
    db: Session
    params: P
    actor: str
    department: str | None
    progress: Progress


@dataclass(frozen=True)
class JobKind(Generic[P]):
    code: str
    name: Text
    params: type[P]
    prepare: Callable[[Session, User, P], Prepared[P]]
    work: Callable[[Run[P]], Outcome]
    max_attempts: int = MAX_ATTEMPTS


@dataclass(frozen=True)
class Kinds(Mapping[str, "JobKind[Any]"]):
    """The kinds a process knows, by code."""

    members: tuple[JobKind[Any], ...] = ()
    _by_code: dict[str, JobKind[Any]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        for kind in self.members:
            if kind.code in self._by_code:
                raise ValueError(f"two job kinds named {kind.code}")
            self._by_code[kind.code] = kind

    @classmethod
    def of(cls, kinds: Iterable[JobKind[Any]]) -> Kinds:
        return cls(tuple(kinds))

    def __getitem__(self, code: str) -> JobKind[Any]:
        return self._by_code[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    def kind(self, code: str) -> JobKind[Any]:
        """The kind, or a 404 naming it (a kind this process does not know)."""
        found = self._by_code.get(code)
        if found is None:
            raise Problem(
                "not-found",
                detail=Text("没有这种后台任务", "no such kind of background job"),
                errors=[FieldError("kind", Text("未知的任务类型", "unknown kind"))],
            )
        return found
