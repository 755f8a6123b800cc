"""What the officer's desk and a case's page show of a case beyond its form: the open steps with
the choices each offers, the case's events in words, its due dates, its process diagram with
the step it stands at, and its e-licence as the viewer may see it (``service`` builds the form's
view; this module composes it with the rest for the officer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.approval import cases, diagram, licences, process, ratings
from shuhui.approval.items import Catalogue
from shuhui.approval.models import (
    Case,
    Licence,
)
from shuhui.approval.queues import days_left
from shuhui.approval.schemas import LicenceOut, RatingOut
from shuhui.approval.service import OUTCOME_NAMES, FormView, form_view
from shuhui.core.clock import format_local
from shuhui.core.display import mask_citizen_id
from shuhui.trust.identity.models import User
from shuhui.trust.identity.service import actor_names
from shuhui.trust.ledger.actions import action_name


@dataclass(frozen=True)
class TaskView:
    id: int
    step: str
    name: str
    role: str
    department: str
    outcomes: list[tuple[str, str]]


@dataclass(frozen=True)
class EventView:
    at: str
    actor: str
    action: str
    note: str


@dataclass(frozen=True)
class DueView:
    promised: date | None
    statutory: date | None
    days_left: int | None
    warning: str | None  # overdue | due_soon
    paused: bool


@dataclass(frozen=True)
class OfficerView:
    form: FormView
    tasks: list[TaskView]  # the open steps this officer may take
    events: list[EventView]
    diagram_svg: str
    licence: LicenceOut | None
    rating: RatingOut | None
    due: DueView


def licence_out(licence: Licence, case: Case, *, viewer: User) -> LicenceOut:
    """A licence as ``viewer`` may see it: the holder's ID in full for the holder only."""
    own = licence.holder_id in (viewer.citizen_id, viewer.credit_code)
    shown = licence.holder_id if own or licence.holder_kind == "enterprise" else None
    return LicenceOut(
        certificate_no=licence.certificate_no,
        certificate_type=licence.certificate_type,
        case_code=case.code,
        holder_kind="enterprise" if licence.holder_kind == "enterprise" else "person",
        holder_name=licence.holder_name,
        holder_id=shown or mask_citizen_id(licence.holder_id),
        issuer=licence.issuer,
        issued_on=licence.issued_on,
        seal_code=licence.seal_code,
        sha256=licence.sha256,
        datacore_version=licence.datacore_version,
    )


def actor_shown(actor: str) -> str:
    """An actor without an account, as people read it: the demo's made-up applicants say they
    are demo data, the platform's own steps say so."""
    if actor.startswith("demo:"):
        return "演示申请人（演示数据）"
    if actor == "system":
        return "系统"
    return actor


def events_view(db: Session, case: Case) -> list[EventView]:
    events = cases.events_of(db, case)
    names = actor_names(db, {e.actor for e in events})
    return [
        EventView(
            at=format_local(e.at),
            actor=names.get(e.actor) or actor_shown(e.actor),
            action=str(action_name(f"approval.case.{e.action}")),
            note=e.note or "",
        )
        for e in events
    ]


def diagram_of(case: Case, city_content: Path | None = None) -> str:
    current, done = cases.diagram_state(case)
    return diagram.render_svg(
        process.process_path(case.process, city_content), current=current, done=done
    )


def officer_view(
    db: Session,
    catalogue: Catalogue,
    case: Case,
    *,
    officer: User,
    city_content: Path | None = None,
) -> OfficerView:
    """What an officer of a department with a part in the case sees and may do."""
    spec = process.load_process(case.process, city_content)
    tasks = [
        TaskView(
            id=t.id,
            step=t.step,
            name=t.name,
            role=t.role,
            department=t.department,
            outcomes=[
                (o, OUTCOME_NAMES.get(o, (o, o))[0])
                for o in (spec.steps[t.step].outcomes if t.step in spec.steps else ())
            ],
        )
        for t in cases.tasks_of(db, case)
        if t.closed_at is None and t.department == officer.department
    ]
    licence = licences.licence_of(db, case)
    rating = ratings.rating_of(db, case)
    return OfficerView(
        form=form_view(db, catalogue, case),
        tasks=tasks,
        events=events_view(db, case),
        diagram_svg=diagram_of(case, city_content),
        licence=None if licence is None else licence_out(licence, case, viewer=officer),
        rating=None if rating is None else ratings.rating_out(db, rating),
        due=DueView(
            promised=case.promised_due,
            statutory=case.statutory_due,
            days_left=days_left(case),
            warning=cases.warning(case),
            paused=case.paused_since is not None,
        ),
    )


__all__ = [
    "DueView",
    "EventView",
    "OfficerView",
    "TaskView",
    "actor_shown",
    "diagram_of",
    "events_view",
    "licence_out",
    "officer_view",
]
