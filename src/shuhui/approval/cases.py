"""Cases (办件): from the pre-filled draft to the result issued, every step a case event and a
ledger entry in the caller's transaction.

    draft ──submit──▶ submitted ──accept──▶ accepted ──pass──▶ review ──approve──▶ approved
      │                  │  ▲                                  (countersign)   │       │
      │            correct  resubmit                                   reject  │     issue
      ▼                  ▼  │                                                 ▼       ▼
    withdrawn ◀──── correction                                           rejected  issued

This module is the one to call: it holds the submission and the steps, and gives the drafts'
functions (``drafts``), the reading ones (``access``) and the queues' (``queues``) under the
same names; ``journal`` writes what every step writes.

The steps and who takes them are the item's BPMN process (``process``); the case keeps the
running workflow serialised in ``process_state`` and its open user tasks as ``CaseTask`` rows,
the officers' queues (``queues``). The terms the case runs on are the item's when it was
submitted, kept in the workflow's data (``terms``): its departments, time limits, fields and
materials, so a case runs to its end on them even after the item's content changes.

**Concurrency.** An officer takes a step with one conditional UPDATE of the task's row
(``WHERE id = :id AND closed_at IS NULL``) and one of the case's (``WHERE version = :read``):
of two officers deciding one case at once, the second finds no row to update and is told, in a
409, that the case was handled already. Nothing of the loser's is written (the service raises,
the request's transaction rolls back). PostgreSQL queues the second UPDATE on the first's row
lock and then re-reads the row; SQLite lets one transaction write at a time.

**Time limits** are counted in working days by the Chinese calendar (``calendar``) from the
day of acceptance: promised (承诺时限) and statutory (法定时限). While the case waits for the
applicant's correction the clock stands (``paused_since``); the working days waited are added
to ``paused_days`` and to the due dates when the applicant resubmits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shuhui.approval import calendar, formcheck, process
from shuhui.approval.access import (
    case_for,
    case_out,
    cases_of,
    cases_of_item,
    diagram_state,
    events_of,
    fields_of,
    get_case,
    is_officer_of,
    is_party,
    materials_of,
    party_case,
    tasks_of,
)
from shuhui.approval.drafts import (
    CODE_PREFIX,
    EDITABLE,
    attach_material,
    create_draft,
    save_form,
)
from shuhui.approval.items import ServiceItem
from shuhui.approval.journal import CHANGED, TAKEN, record_step, take, taken
from shuhui.approval.models import Case, CaseTask
from shuhui.approval.queues import due_soon, queue, queue_counts, warning
from shuhui.approval.schemas import TaskDecisionIn
from shuhui.core.clock import local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.forms import validate
from shuhui.core.i18n import Text, codes
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

# The states in which an officer's step may be taken (a task is open).
RUNNING = ("submitted", "accepted", "review", "approved")
FINISHED = ("rejected", "issued", "withdrawn")
# What each outcome makes of the case, and the verb its event and ledger entry take.
VERBS = {
    "accept": "accepted",
    "correct": "correction_requested",
    "pass": "reviewed",
    "agree": "countersigned",
    "disagree": "countersigned",
    "approve": "approved",
    "reject": "rejected",
    "issue": "issued",
}
STATES_AFTER = {
    "accept": "accepted",
    "correct": "correction",
    "pass": "review",
    "agree": "review",
    "disagree": "review",
    "approve": "approved",
    "reject": "rejected",
    "issue": "issued",
}


# --- submitting -----------------------------------------------------------------------------------


def _terms(item: ServiceItem) -> dict[str, Any]:
    """What the case runs on, from the item as it stands at submission."""
    return {
        "item": item.code,
        "department": item.department,
        "countersign": item.countersign,
        "promised_days": item.promised_days,
        "statutory_days": item.statutory_days,
        "issues": item.issues,
        "fields": [f.name for f in item.form.fields],
        "materials": [m.code for m in item.materials],
    }


def check_submission(db: Session, case: Case, item: ServiceItem) -> list[FieldError]:
    """Everything that keeps the case from going to the department, all at once: each faulty
    form field and each required material neither uploaded nor waived."""
    provided = {row.material: bool(row.waived or row.stored_as) for row in materials_of(db, case)}
    return formcheck.submission_errors(item, case.form, provided)


def _refuse_if_faulty(db: Session, case: Case, item: ServiceItem) -> None:
    errors = check_submission(db, case, item)
    if errors:
        raise Problem("validation", detail=formcheck.summary(item, errors), errors=errors)


def _department_of(step: process.Step, terms: Mapping[str, Any]) -> str:
    if step.department == "countersign":
        return str(terms["countersign"])
    return str(terms["department"])


def _open_tasks(db: Session, case: Case, workflow: Any, at: datetime) -> list[CaseTask]:
    """A queue row for each officer's task the workflow now waits on (none for the
    applicant's own step)."""
    open_ids = set(
        db.scalars(
            select(CaseTask.task_id).where(
                CaseTask.case_id == case.id, CaseTask.closed_at.is_(None)
            )
        )
    )
    terms = workflow.data["terms"]
    opened: list[CaseTask] = []
    for ready in process.ready_tasks(workflow):
        if ready.step.department == "applicant" or ready.id in open_ids:
            continue
        task = CaseTask(
            case_id=case.id,
            task_id=ready.id,
            step=ready.step.id,
            name=ready.step.name,
            department=_department_of(ready.step, terms),
            role=ready.step.role,
            opened_at=at,
        )
        db.add(task)
        opened.append(task)
    return opened


def submit(
    db: Session,
    case: Case,
    item: ServiceItem,
    *,
    actor: str,
    now: datetime | None = None,
    content_dir: Path | None = None,
) -> Case:
    """Sends a draft to the department. The form is checked against the item's JSON Schema and
    every required material must be uploaded or waived: otherwise a 422 names every fault and
    nothing changes. Then the item's process starts and its first step waits in the queue."""
    if case.item_code != item.code:
        raise ValueError(f"case {case.code} is for {case.item_code}, not {item.code}")
    if case.state != "draft":
        raise Problem("conflict", detail=Text("办件已提交", "the case was submitted already"))
    at = now or utcnow()
    if not item.in_force(local_today(at)):
        raise Problem(
            "conflict",
            detail=Text("该事项当前不在办理期内", "the item is not open for applications"),
        )
    _refuse_if_faulty(db, case, item)
    spec = process.load_process(item.process, content_dir)
    if item.countersign is None and any(s.department == "countersign" for s in spec.steps.values()):
        raise ValueError(f"{item.code}: process {item.process} needs a countersign department")
    take(db, case, ("draft",), CHANGED)
    workflow = process.start(spec, {"case": case.code, "terms": _terms(item)})
    case.state = "submitted"
    case.submitted_at = at
    _open_tasks(db, case, workflow, at)
    case.process_state = process.dumps(workflow)
    rows = fields_of(db, case)
    for row in rows:
        # An offered value never saved over goes as offered: kept.
        if row.filled_value is not None and row.kept is None:
            row.kept = row.value == row.filled_value
    kept = [row.field for row in rows if row.kept]
    record_step(
        db,
        case,
        actor,
        "submitted",
        at,
        from_state="draft",
        detail={"fields": len(case.form), "kept": len(kept), "precheck_used": case.precheck_used},
    )
    return case


def resubmit(
    db: Session, case: Case, item: ServiceItem, *, actor: str, now: datetime | None = None
) -> Case:
    """The applicant's corrected application: checked again as at submission (every fault
    named), then back to the step that asked for it; the working days waited are added to the
    due dates."""
    if case.item_code != item.code:
        raise ValueError(f"case {case.code} is for {case.item_code}, not {item.code}")
    if case.state != "correction":
        raise Problem(
            "conflict", detail=Text("办件不在待补正状态", "the case is not awaiting a correction")
        )
    _refuse_if_faulty(db, case, item)
    at = now or utcnow()
    take(db, case, ("correction",), CHANGED)
    workflow = _workflow(case)
    mine = [t for t in process.ready_tasks(workflow) if t.step.department == "applicant"]
    if not mine:
        raise taken()
    process.complete(workflow, mine[0].id, "resubmit", {"by": actor})
    waited = _resume_clock(case, at)
    case.state = "submitted" if case.accepted_at is None else "review"
    _open_tasks(db, case, workflow, at)
    case.process_state = process.dumps(workflow)
    record_step(
        db,
        case,
        actor,
        "resubmitted",
        at,
        from_state="correction",
        step=mine[0].step.id,
        detail={"paused_days": waited},
    )
    return case


def _resume_clock(case: Case, at: datetime) -> int:
    """Ends the pause: the working days it lasted move the due dates on."""
    if case.paused_since is None:
        return 0
    waited = max(0, calendar.working_days_between(local_today(case.paused_since), local_today(at)))
    case.paused_days = (case.paused_days or 0) + waited
    if case.promised_due is not None:
        case.promised_due = calendar.add_working_days(case.promised_due, waited)
    if case.statutory_due is not None:
        case.statutory_due = calendar.add_working_days(case.statutory_due, waited)
    case.paused_since = None
    return waited


def withdraw(db: Session, case: Case, *, actor: str, now: datetime | None = None) -> Case:
    """The applicant withdraws a draft or a case awaiting correction; its process ends."""
    if case.state not in EDITABLE:
        raise Problem(
            "conflict",
            detail=Text(
                "只有草稿或待补正的办件可以撤回",
                "only a draft or a case awaiting correction can be withdrawn",
            ),
        )
    at = now or utcnow()
    before = case.state
    take(db, case, EDITABLE, CHANGED)
    if case.process_state is not None:
        workflow = _workflow(case)
        process.cancel(workflow)
        case.process_state = process.dumps(workflow)
    db.execute(
        update(CaseTask)
        .where(CaseTask.case_id == case.id, CaseTask.closed_at.is_(None))
        .values(closed_at=at, closed_by=actor, outcome="withdrawn")
        .execution_options(synchronize_session=False)
    )
    _resume_clock(case, at)
    case.state = "withdrawn"
    record_step(db, case, actor, "withdrawn", at, from_state=before)
    return case


# --- the officers' steps ---------------------------------------------------------------------


def _workflow(case: Case) -> Any:
    if case.process_state is None:
        raise taken()
    return process.loads(case.process_state)


def _close(db: Session, task: CaseTask, actor: str, outcome: str, at: datetime) -> None:
    """Takes the task: one UPDATE that only an open task's row satisfies."""
    done = db.execute(
        update(CaseTask)
        .where(CaseTask.id == task.id, CaseTask.closed_at.is_(None))
        .values(closed_at=at, closed_by=actor, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        raise taken()
    set_committed_value(task, "closed_at", at)
    set_committed_value(task, "closed_by", actor)
    set_committed_value(task, "outcome", outcome)


def _corrections(decision: TaskDecisionIn, terms: Mapping[str, Any]) -> list[dict[str, str]]:
    """The correction request as the case keeps it, each item a field or a material of the
    item; an item that is neither is refused by its place in the request."""
    fields, materials = set(terms["fields"]), set(terms["materials"])
    out: list[dict[str, str]] = []
    errors: list[FieldError] = []
    for i, item in enumerate(decision.corrections):
        if item.field.startswith("materials."):
            code = item.field.removeprefix("materials.")
            if code in materials:
                out.append({"material": code, "reason": item.reason})
                continue
        elif item.field in fields:
            out.append({"field": item.field, "reason": item.reason})
            continue
        errors.append(
            FieldError(
                f"corrections[{i}].field",
                Text("不是本事项的字段或材料", "not a field or material of this item"),
            )
        )
    if errors:
        raise Problem("validation", detail=errors[0].reason, errors=errors)
    return out


def _accept(case: Case, at: datetime, terms: Mapping[str, Any]) -> None:
    """Acceptance starts the clock: the due dates count from the day of acceptance."""
    day = local_today(at)
    case.accepted_at = at
    case.first_pass = case.correction_count == 0
    case.promised_due = calendar.add_working_days(day, int(terms["promised_days"]))
    case.statutory_due = calendar.add_working_days(day, int(terms["statutory_days"]))


def complete_task(
    db: Session,
    task_id: int,
    *,
    officer: User,
    outcome: str,
    reason: str | None = None,
    corrections: Sequence[tuple[str, str]] | None = None,
    now: datetime | None = None,
) -> Case:
    """An officer takes a step of a case: accept or ask for a correction (listing every item at
    once), pass the review, countersign, approve or reject (with a reason), or issue (for an
    item that issues no e-certificate; one that does goes through ``mark_issued``).

    Only an officer of the task's department may take it (the countersign step: the second
    department's). Of two officers taking one step at once exactly one succeeds; the other gets
    the 409 "该办件已由其他工作人员处理", as does anyone taking a closed step."""
    at = now or utcnow()
    task = db.get(CaseTask, task_id)
    if task is None:
        raise Problem("not-found", detail=Text("没有这个办理环节", "no such step"))
    if Role.officer not in officer.role_set or officer.department != task.department:
        raise Problem(
            "forbidden",
            detail=Text(
                f"只有{task.department}的工作人员可以办理此环节",
                "only an officer of the step's department may take it",
            ),
        )
    decision = validate(
        TaskDecisionIn,
        {
            "outcome": outcome,
            "reason": reason,
            "corrections": [{"field": f, "reason": r} for f, r in corrections or ()],
        },
    )
    if task.closed_at is not None:
        raise taken()
    case = db.get(Case, task.case_id)
    assert case is not None  # a task's case is its foreign key
    workflow = _workflow(case)
    terms = workflow.data["terms"]
    step = process.steps_of(workflow)[task.step]
    if decision.outcome not in step.outcomes:
        allowed = codes(step.outcomes)
        raise Problem(
            "validation",
            detail=Text(f"{step.name}环节只能选择：{allowed}", f"this step offers: {allowed}"),
            errors=[FieldError("outcome", Text(f"只能选择：{allowed}", f"one of: {allowed}"))],
        )
    if decision.outcome == "issue" and terms.get("issues"):
        raise Problem(
            "conflict",
            detail=Text(
                f"该事项须签发电子证照（{terms['issues']}）后办结",
                "this item ends with its e-certificate issued",
            ),
        )
    requested = _corrections(decision, terms) if decision.outcome == "correct" else None
    _close(db, task, officer.username, decision.outcome, at)
    if decision.outcome == "issue":
        return _issued(db, case, workflow, task, officer.username, None, at)
    before = case.state
    take(db, case, RUNNING)
    data: dict[str, Any] = {"by": officer.username, "reason": decision.reason}
    if requested is not None:
        data["corrections"] = requested
    try:
        process.complete(workflow, task.task_id, decision.outcome, data)
    except LookupError:
        raise taken() from None
    if decision.outcome in ("accept", "approve", "reject") and case.accepted_at is None:
        _accept(case, at, terms)
    if decision.outcome == "correct":
        case.correction = requested
        case.correction_count = (case.correction_count or 0) + 1
        if case.accepted_at is None:  # a case accepted first time passed at its first submission
            case.first_pass = False
        case.paused_since = at
    if decision.outcome in ("approve", "reject"):
        case.decision = "approved" if decision.outcome == "approve" else "rejected"
        case.decision_reason = decision.reason
        case.decided_at = at
        case.decided_by = officer.username
    case.state = STATES_AFTER[decision.outcome]
    _open_tasks(db, case, workflow, at)
    case.process_state = process.dumps(workflow)
    detail: dict[str, Any] = {
        "step": task.step,
        "outcome": decision.outcome,
        "department": task.department,
    }
    if requested is not None:
        detail["corrections"] = [c.get("field") or f"materials.{c['material']}" for c in requested]
    record_step(
        db,
        case,
        officer.username,
        VERBS[decision.outcome],
        at,
        from_state=before,
        step=task.step,
        note=decision.reason,
        detail=detail,
    )
    return case


def _issued(
    db: Session,
    case: Case,
    workflow: Any,
    task: CaseTask,
    actor: str,
    licence_no: str | None,
    at: datetime,
) -> Case:
    take(db, case, ("approved",))
    try:
        process.complete(workflow, task.task_id, "issue", {"by": actor, "licence_no": licence_no})
    except LookupError:
        raise taken() from None
    case.state = "issued"
    case.issued_at = at
    case.licence_no = licence_no
    case.process_state = process.dumps(workflow)
    record_step(
        db,
        case,
        actor,
        "issued",
        at,
        from_state="approved",
        step=task.step,
        detail={"licence": licence_no},
    )
    return case


def mark_issued(
    db: Session, case: Case, *, licence_no: str | None, actor: str, now: datetime | None = None
) -> Case:
    """Ends an approved case with its result issued (the e-licence's number, when the item
    issues one): the process's issue step, taken once (a second call gets the 409)."""
    at = now or utcnow()
    task = db.scalar(
        select(CaseTask).where(
            CaseTask.case_id == case.id, CaseTask.role == "issue", CaseTask.closed_at.is_(None)
        )
    )
    if task is None:
        if case.state == "issued":
            raise taken()
        raise Problem(
            "conflict",
            detail=Text("办件尚未准予许可，不能出证", "the case is not approved: nothing to issue"),
        )
    workflow = _workflow(case)
    _close(db, task, actor, "issue", at)
    return _issued(db, case, workflow, task, actor, licence_no, at)


__all__ = [
    "CODE_PREFIX",
    "EDITABLE",
    "FINISHED",
    "RUNNING",
    "TAKEN",
    "attach_material",
    "case_for",
    "case_out",
    "cases_of",
    "cases_of_item",
    "check_submission",
    "complete_task",
    "create_draft",
    "diagram_state",
    "due_soon",
    "events_of",
    "fields_of",
    "get_case",
    "is_officer_of",
    "is_party",
    "mark_issued",
    "materials_of",
    "party_case",
    "queue",
    "queue_counts",
    "resubmit",
    "save_form",
    "submit",
    "tasks_of",
    "warning",
    "withdraw",
]
