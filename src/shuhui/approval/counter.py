"""Filing at a service-hall window (窗口办理): an officer files an application for the applicant
who is present, after checking their identity document in person. The case's channel is
``counter`` — the one offline channel of the online share (网办率, ``metrics``).

**Who may.** An officer of a department that accepts the item: the department of the item's
process step with the role ``accept`` (the item's own department in every process the city has;
there is no hall-wide window role). Another department's officer is refused (403, naming the
item), and so is an officer filing for their own citizen ID or credit code: an officer does not
take in their own application. The item need not be delegable: the applicant is there in
person.

**What is kept.** The form is pre-filled for the applicant from the registers as online
(``prefill.prefill(…, at_counter=True)``: no mandate, nothing of the officer's own; the read is
its ``approval.form.prefilled`` entry, naming the window's department), the values the officer
typed go over it, and the whole is checked before anything is kept: a 422 names every faulty
field and missing material, and no case is made. Filed, the case is submitted at once (made by
the officer, ``created_by``), and an ``approval.case.filed_at_counter`` step — a case event and
a ledger entry about the applicant with the purpose the officer stated — says who filed it and
why. As for ``service.submit_whole``, the caller commits when refusing the form, so the read
stays in the ledger.

Materials: as in one online request, the items whose materials e-certificates waive (or which
need none) are filed whole here; a material that must be uploaded is named as missing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import formcheck, prefill, process, service
from shuhui.approval.items import Catalogue, ServiceItem
from shuhui.approval.journal import record_step
from shuhui.approval.models import Case
from shuhui.approval.schemas import CounterFilingIn
from shuhui.core.clock import local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

CHANNEL: Final = "counter"
ACCEPT_ROLE: Final = "accept"
NOT_REGISTERED: Final = {
    "person": Text("人口登记中没有这个公民身份号码，请核对证件", "no such citizen ID registered"),
    "enterprise": Text(
        "企业登记中没有这个统一社会信用代码，请核对证件", "no such credit code registered"
    ),
}


def accepting_departments(item: ServiceItem, content_dir: Path | None = None) -> set[str]:
    """The departments whose officers accept the item: those of its process's ``accept``
    steps."""
    spec = process.load_process(item.process, content_dir)
    found: set[str] = set()
    for step in spec.steps.values():
        if step.role != ACCEPT_ROLE:
            continue
        if step.department == "item":
            found.add(item.department)
        elif step.department == "countersign" and item.countersign:
            found.add(item.countersign)
    return found


def may_file(officer: User, item: ServiceItem, content_dir: Path | None = None) -> bool:
    """Whether ``officer`` may file ``item`` at a window."""
    return (
        Role.officer in officer.role_set
        and bool(officer.department)
        and officer.department in accepting_departments(item, content_dir)
    )


def items_for(
    officer: User,
    catalogue: Catalogue,
    *,
    content_dir: Path | None = None,
    now: datetime | None = None,
) -> list[ServiceItem]:
    """The items in force that ``officer`` may file at a window, by code."""
    today = local_today(now)
    return sorted(
        (
            item
            for item in catalogue.items.values()
            if item.in_force(today) and may_file(officer, item, content_dir)
        ),
        key=lambda item: item.code,
    )


def _item(catalogue: Catalogue, code: str, now: datetime | None) -> ServiceItem:
    item = catalogue.get(code)
    if item is None:
        raise Problem(
            "not-found",
            detail=Text("没有这个事项", "no such service item"),
            errors=[FieldError("item", Text("事项编码不存在", "unknown item code"))],
        )
    if not item.in_force(local_today(now)):
        raise Problem(
            "conflict",
            detail=Text("该事项当前不在办理期内", "the item is not open for applications"),
            errors=[FieldError("item", Text("不在办理期内", "not in force"))],
        )
    return item


def check_officer(
    officer: User, item: ServiceItem, applicant: str, content_dir: Path | None = None
) -> None:
    """Refuses (403) an officer of a department that does not accept the item, and an officer
    filing for themself."""
    if not may_file(officer, item, content_dir):
        accepting = "、".join(sorted(accepting_departments(item, content_dir))) or item.department
        raise Problem(
            "forbidden",
            detail=Text(
                f"只有{accepting}的工作人员可以在窗口受理“{item.name_zh}”",
                "only an officer of a department that accepts the item may file it at a window",
            ),
            errors=[
                FieldError(
                    "item", Text(f"须由{accepting}的窗口受理", "not accepted by your department")
                )
            ],
        )
    if applicant in {i for i in (officer.citizen_id, officer.credit_code) if i}:
        raise Problem(
            "forbidden",
            detail=Text(
                "工作人员不能在窗口为本人代为申请", "an officer does not file for themself"
            ),
            errors=[
                FieldError("applicant", Text("不能为本人代为申请", "this is your own identity"))
            ],
        )


def file_at_counter(
    db: Session,
    datacore: DataCore,
    catalogue: Catalogue,
    *,
    officer: User,
    given: CounterFilingIn,
    content_dir: Path | None = None,
    now: datetime | None = None,
) -> Case:
    """Files ``given`` for the applicant present (see the module's docstring): the case,
    submitted, its channel ``counter``. A 404 for an unknown item, a 403 for an officer who may
    not file it, a 422 naming the applicant's ID or every faulty field and missing material
    (after the pre-fill's read is recorded: the caller commits and answers it)."""
    item = _item(catalogue, given.item, now)
    check_officer(officer, item, given.applicant, content_dir)
    typed = service.typed_values(item, given.values)
    filled = prefill.prefill(
        db, datacore, item, user=officer, applicant_id=given.applicant, now=now, at_counter=True
    )
    if not filled.applicant_name:
        reason = NOT_REGISTERED[filled.applicant_kind]
        raise Problem("validation", detail=reason, errors=[FieldError("applicant", reason)])
    errors = service.whole_errors(item, filled, typed)
    if errors:
        raise Problem("validation", detail=formcheck.summary(item, errors), errors=errors)
    at = now or utcnow()
    case = service.file_prefilled(
        db, item, filled, typed, actor=officer.username, now=at, channel=CHANNEL
    )
    record_step(
        db,
        case,
        officer.username,
        "filed_at_counter",
        at,
        from_state=case.state,
        note=given.purpose,
        detail={"department": officer.department or "", "identity_checked": True},
        purpose=given.purpose,
    )
    return case


def filed_any(db: Session) -> bool:
    """Whether any case came in through a window."""
    return db.scalar(select(Case.id).where(Case.channel == CHANNEL).limit(1)) is not None


__all__ = [
    "accepting_departments",
    "check_officer",
    "file_at_counter",
    "filed_any",
    "items_for",
    "may_file",
]
