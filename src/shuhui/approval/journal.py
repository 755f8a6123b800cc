"""What every step of a case writes, and how a step takes the case: the case event and the
ledger entry about the applicant (in the caller's transaction), and the conditional UPDATE of
the case's version that lets exactly one of two concurrent steps through.

Services above approval that must act when a case ends (a one-thing bundle sending its one
result notice, ``hrss``) register with :func:`on_case_finished`: approval cannot import them,
and they learn it in the transaction that ends the case, so the notice exists exactly if the
ending does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shuhui.approval.models import CASE_STATES, Case, CaseEvent
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.trust.ledger.service import record

TAKEN = Text("该办件已由其他工作人员处理", "another officer has already handled this case")
CHANGED = Text("办件已在别处更新，请刷新后再试", "the case changed meanwhile: reload and try again")


def taken(detail: Text = TAKEN) -> Problem:
    """The 409 of a case someone else changed first."""
    return Problem("conflict", detail=detail)


# The states a case ends in (``cases.FINISHED`` says the same; journal sits below cases).
ENDED = ("rejected", "issued", "withdrawn")
CaseFinished = Callable[[Session, Case], None]
_finished_listeners: dict[str, CaseFinished] = {}


def on_case_finished(name: str, listener: CaseFinished) -> None:
    """Calls ``listener(db, case)`` in the step's transaction whenever a case reaches an end
    state; registering a name again replaces its listener."""
    _finished_listeners[name] = listener


def state_name(state: str) -> str:
    return CASE_STATES[state][0]


def record_step(
    db: Session,
    case: Case,
    actor: str,
    verb: str,
    at: datetime,
    *,
    from_state: str | None,
    step: str | None = None,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
    purpose: str | None = None,
) -> None:
    """The step as a case event and a ledger entry about the applicant, in one transaction; the
    entry's purpose is handling the item unless the actor stated another (``purpose``)."""
    db.add(
        CaseEvent(
            case_id=case.id,
            at=at,
            actor=actor,
            action=verb,
            from_state=from_state,
            to_state=case.state,
            step=step,
            note=note,
            detail=detail,
        )
    )
    record(
        db,
        actor,
        f"approval.case.{verb}",
        subject=case.applicant_id,
        purpose=purpose or f"办理{case.item_name}",
        detail={"case": case.code, "item": case.item_code, "state": case.state, **(detail or {})},
    )
    if case.state in ENDED and from_state not in ENDED:
        for listener in list(_finished_listeners.values()):
            listener(db, case)


def take(db: Session, case: Case, states: Sequence[str], detail: Text = TAKEN) -> None:
    """Takes the case for this change: its version moves on only if no one changed it since it
    was read (and it is still in one of ``states``); else the 409 of a case handled already."""
    read = case.version
    done = db.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == read, Case.state.in_(states))
        .values(version=read + 1)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        raise taken(detail)
    set_committed_value(case, "version", read + 1)


__all__ = ["CHANGED", "TAKEN", "record_step", "state_name", "take", "taken"]
