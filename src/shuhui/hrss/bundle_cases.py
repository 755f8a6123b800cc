"""Filing a one-thing bundle (一件事): one form, fanned out into a case at each department, one
combined status, one result notice.

``form`` pre-fills the bundle's union form: each item's form is pre-filled by the approval
machinery (each read in the ledger, as any form's) and a fact two items ask is offered once.

``file`` takes the union form's values and:

1. checks them against every item's form as that item would (its required fields, schemas and
   materials, the pre-fill under the values): any fault refuses the whole filing with a 422
   naming the fields, and no case is made (the pre-fills' ledger entries stay: the caller
   commits and answers the refusal);
2. makes the bundle's row, then each item's case from its own pre-fill and its own fields
   (``approval.service.file_prefilled``, each under a savepoint): a case the approval refuses
   now is kept as a refused part with its reasons, and the others stand — a sub-case failing
   loses none of the rest;
3. writes one ``hrss.bundle_filed`` ledger entry naming every part.

Each sub-case then runs at its department like any case. When one ends (issued, rejected,
withdrawn), approval calls :func:`case_finished` in that transaction (``approval.journal.
on_case_finished``): the part records how it ended, and when every part has ended, the bundle
is finished and its one result notice goes to the applicant's inbox (and the SMS gateway),
with an ``hrss.bundle_finished`` entry — once, because the part's end is written in the same
transaction and a part ends once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval import prefill
from shuhui.approval import service as approval
from shuhui.approval.items import Catalogue, ServiceItem
from shuhui.approval.journal import on_case_finished
from shuhui.approval.provenance import FilledField, Prefill
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.hrss.bundles import Bundle
from shuhui.hrss.models import BundleCase, BundlePart
from shuhui.programs import messages
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

CODE_PREFIX: Final = "YJS"
CODE: Final = re.compile(r"^YJS-\d{8}-\d{6}$")
CODE_ATTEMPTS: Final = 5
# How the parts' states read together, and what each part's state reads as.
ENDED: Final = ("rejected", "issued", "withdrawn")
STATE_NAMES: Final = {
    "refused": ("未能提交", "Not filed"),
    "submitted": ("已提交待受理", "Submitted"),
    "correction": ("待补正", "Awaiting correction"),
    "accepted": ("已受理", "Accepted"),
    "review": ("审查中", "Under review"),
    "approved": ("已准予", "Approved"),
    "rejected": ("不予许可", "Rejected"),
    "issued": ("已办结", "Done"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


# --- the union form -------------------------------------------------------------------------


@dataclass(frozen=True)
class UnionField:
    """A field of the bundle's form with the value offered and where it came from."""

    name: str
    title_zh: str
    title_en: str
    schema: dict[str, Any]
    required: bool
    value: Any
    source: str | None  # the table it was read from, or None
    items: tuple[str, ...]  # the items that ask it


def _prefills(
    db: Session, datacore: DataCore, bundle: Bundle, user: User, now: datetime
) -> dict[str, Prefill]:
    return {
        item.code: prefill.prefill(db, datacore, item, user=user, now=now) for item in bundle.items
    }


def _offered(filled: Mapping[str, Prefill], name: str) -> FilledField | None:
    for one in filled.values():
        found = one.fields.get(name)
        if found is not None and found.value is not None:
            return found
    return None


def form(
    db: Session, datacore: DataCore, bundle: Bundle, user: User, now: datetime | None = None
) -> list[UnionField]:
    """The bundle's one form pre-filled for ``user`` (each item's read in the ledger)."""
    check_open(bundle, user, now)
    filled = _prefills(db, datacore, bundle, user, as_utc(now or utcnow()))
    out = []
    for f in bundle.fields:
        offered = _offered(filled, f.name)
        source = offered.provenance.table if offered and offered.provenance else None
        out.append(
            UnionField(
                name=f.name,
                title_zh=f.title_zh,
                title_en=f.title_en,
                schema=f.schema,
                required=f.required,
                value=offered.value if offered else None,
                source=source,
                items=tuple(i.code for i in bundle.items if i.form.field(f.name) is not None),
            )
        )
    return out


def check_open(bundle: Bundle, user: User, now: datetime | None = None) -> None:
    if not bundle.in_force(local_today(now)):
        raise Problem(
            "conflict",
            detail=Text("该“一件事”当前不在办理期内", "the bundle is not open for applications"),
        )
    own = user.citizen_id if bundle.holder == "person" else user.credit_code
    if not own:
        who = "个人" if bundle.holder == "person" else "企业"
        raise Problem(
            "forbidden",
            detail=Text(
                f"该“一件事”须由{who}申请", f"this bundle is applied for by a {bundle.holder}"
            ),
        )


# --- filing ---------------------------------------------------------------------------------


def _next_code(db: Session, at: datetime) -> str:
    stem = f"{CODE_PREFIX}-{local_today(at):%Y%m%d}-"
    latest = db.scalar(select(func.max(BundleCase.code)).where(BundleCase.code.like(f"{stem}%")))
    return f"{stem}{(int(latest[len(stem) :]) + 1) if latest else 1:06d}"


def _own_values(item: ServiceItem, values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if item.form.field(k) is not None}


def _refusal(problem: Problem) -> dict[str, Any]:
    return {
        "detail": str(problem.detail or problem.type.title),
        "errors": [{"field": e.field, "reason": str(e.reason)} for e in problem.errors],
    }


def file(
    db: Session,
    datacore: DataCore,
    catalogue: Catalogue,
    bundle: Bundle,
    user: User,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> BundleCase:
    """Files the bundle (the module's docstring has the steps)."""
    at = as_utc(now or utcnow())
    check_open(bundle, user, at)
    unknown = [name for name in values if bundle.field(name) is None]
    if unknown:
        raise Problem(
            "validation",
            detail=Text("有不属于本表单的字段", "fields that are not on this form"),
            errors=[FieldError(n, Text("不是本表单的字段", "not on this form")) for n in unknown],
        )
    filled = _prefills(db, datacore, bundle, user, at)
    typed: dict[str, dict[str, Any]] = {}
    errors: dict[str, FieldError] = {}
    for item in bundle.items:
        typed[item.code] = approval.typed_values(item, _own_values(item, values))
        for e in approval.whole_errors(item, filled[item.code], typed[item.code]):
            errors.setdefault(e.field, e)  # one fact, one reason, however many items ask it
    if errors:
        raise Problem(
            "validation",
            detail=Text("表单有需要修改的地方", "the form needs changes"),
            errors=list(errors.values()),
        )
    made: BundleCase | None = None
    for _attempt in range(CODE_ATTEMPTS):
        candidate = BundleCase(
            code=_next_code(db, at),
            bundle=bundle.code,
            bundle_name=bundle.name_zh,
            applicant_id=filled[bundle.items[0].code].applicant_id,
            created_by=user.username,
            form={k: v for k, v in values.items() if v not in ("", None)},
            filed_at=at,
        )
        try:
            with db.begin_nested():
                db.add(candidate)
                db.flush()
        except IntegrityError:
            continue  # another filing took the code first
        made = candidate
        break
    if made is None:
        raise Problem("conflict", detail="办件编号分配冲突，请稍后重试")
    parts = []
    for position, item in enumerate(bundle.items):
        part = BundlePart(
            bundle_case_id=made.id,
            position=position,
            item_code=item.code,
            item_name=item.name_zh,
            department=item.department,
        )
        try:
            case = approval.file_prefilled(
                db, item, filled[item.code], typed[item.code], actor=user.username, now=at
            )
            part.case_code = case.code
        except Problem as refused:
            part.refusal = _refusal(refused)
        db.add(part)
        parts.append(part)
    db.flush()
    ledger.record(
        db,
        user.username,
        "hrss.bundle_filed",
        subject=made.applicant_id,
        purpose=f"办理{bundle.name_zh}",
        detail={
            "bundle": made.code,
            "kind": bundle.code,
            "parts": [{"item": p.item_code, "case": p.case_code} for p in parts],
        },
    )
    if all(p.refusal is not None for p in parts):
        _finish(db, made, parts, at)
    return made


# --- the combined status and the one notice -------------------------------------------------


@dataclass(frozen=True)
class PartStatus:
    item_code: str
    item_name: str
    department: str
    case_code: str | None
    state: str  # refused, or the case's state
    refusal: dict[str, Any] | None


@dataclass(frozen=True)
class Status:
    bundle_case: BundleCase
    parts: tuple[PartStatus, ...]

    @property
    def overall(self) -> str:
        """in_progress | done | partly_refused (some parts could not be filed)."""
        if any(p.state == "refused" for p in self.parts):
            return "partly_refused"
        if all(p.state in ENDED for p in self.parts):
            return "done"
        return "in_progress"


def parts_of(db: Session, bundle_case: BundleCase) -> list[BundlePart]:
    return list(
        db.scalars(
            select(BundlePart)
            .where(BundlePart.bundle_case_id == bundle_case.id)
            .order_by(BundlePart.position)
        )
    )


def status(db: Session, bundle_case: BundleCase) -> Status:
    out = []
    for p in parts_of(db, bundle_case):
        case = approval.case_by_code(db, p.case_code) if p.case_code else None
        state = "refused" if case is None else case.state
        out.append(
            PartStatus(p.item_code, p.item_name, p.department, p.case_code, state, p.refusal)
        )
    return Status(bundle_case, tuple(out))


def get(db: Session, code: str) -> BundleCase | None:
    return db.scalar(select(BundleCase).where(BundleCase.code == code))


def of_applicant(db: Session, applicant_id: str, limit: int = 20) -> list[BundleCase]:
    return list(
        db.scalars(
            select(BundleCase)
            .where(BundleCase.applicant_id == applicant_id)
            .order_by(BundleCase.id.desc())
            .limit(limit)
        )
    )


def for_user(db: Session, user: User, code: str) -> BundleCase:
    """The filing if ``user`` is its applicant or filed it; else 404 (whether it exists is
    not told)."""
    found = get(db, code) if CODE.match(code) else None
    own = {s for s in (user.citizen_id, user.credit_code) if s}
    if found is None or not (found.applicant_id in own or found.created_by == user.username):
        raise Problem("not-found", detail=Text(f"没有办件 {code}", f"no filing {code}"))
    return found


def _notice(bundle_case: BundleCase, parts: list[BundlePart]) -> tuple[str, str]:
    lines = []
    for p in parts:
        if p.refusal is not None:
            lines.append(f"{p.item_name}：未能提交（{p.refusal.get('detail', '')}）")
        else:
            lines.append(f"{p.item_name}（{p.department}）：{STATE_NAMES[p.ended or 'issued'][0]}")
    title = f"您的“{bundle_case.bundle_name}”已全部办结"
    body = f"办件编号 {bundle_case.code}。各事项结果：" + "；".join(lines) + "。"
    return title, body


def _finish(db: Session, bundle_case: BundleCase, parts: list[BundlePart], at: datetime) -> None:
    bundle_case.finished_at = at
    title, body = _notice(bundle_case, parts)
    messages.send(db, bundle_case.applicant_id, title, body, now=at)
    bundle_case.notified_at = at
    ledger.record(
        db,
        "system:hrss",
        "hrss.bundle_finished",
        subject=bundle_case.applicant_id,
        purpose=f"{bundle_case.bundle_name}办结告知",
        detail={
            "bundle": bundle_case.code,
            "parts": [
                {"item": p.item_code, "case": p.case_code, "ended": p.ended or "refused"}
                for p in parts
            ],
        },
    )


def case_finished(db: Session, case: Any) -> None:
    """Approval's call when a case ends: the part records it, and the bundle's one notice goes
    out when it was the last part to end (事后自动反馈)."""
    part = db.scalar(select(BundlePart).where(BundlePart.case_code == case.code))
    if part is None or part.ended is not None:
        return
    # The filing's row locked first: two departments ending the last two parts at once take
    # turns here, so the second sees the first's part ended and sends the one notice (else
    # each would see the other's still open, and none would).
    bundle_case = db.scalar(
        select(BundleCase).where(BundleCase.id == part.bundle_case_id).with_for_update()
    )
    part.ended = case.state
    db.flush()
    if bundle_case is None or bundle_case.notified_at is not None:
        return
    parts = parts_of(db, bundle_case)
    if all(p.ended is not None or p.refusal is not None for p in parts):
        _finish(db, bundle_case, parts, utcnow())


def listen() -> None:
    """Registers :func:`case_finished` with approval (the app factory calls it)."""
    on_case_finished("hrss.bundles", case_finished)
