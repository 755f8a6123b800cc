"""Drafts (草稿): an application made from the pre-filled form, each field with where its value
came from and whether the applicant kept it, each material uploaded (with its pre-check) or
waived by an e-certificate (免提交). A draft, and a case sent back for correction, are the
applicant's to change; anything else is refused with a 409.

A case's code is ``SP`` + the local date + a five-digit sequence of the day (``SP2026092800001``).

A case's channel (``models.CASE_CHANNELS``) is set when its draft is made, by the caller that
knows it (the direct link, the counter); left out, it follows from the pre-fill: ``agent`` where
an agent applies under a mandate, else ``online``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval.access import fields_of
from shuhui.approval.items import ServiceItem
from shuhui.approval.journal import record_step, state_name
from shuhui.approval.models import (
    CASE_CHANNELS,
    CASE_STATES,
    Case,
    CaseChannel,
    CaseField,
    CaseMaterial,
)
from shuhui.approval.provenance import Prefill
from shuhui.core.clock import local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text

CODE_PREFIX = "SP"
EDITABLE = ("draft", "correction")


def _next_code(db: Session, at: datetime) -> str:
    prefix = f"{CODE_PREFIX}{local_today(at):%Y%m%d}"
    last = db.scalar(
        select(Case.code)
        .where(Case.code.like(f"{prefix}%"))
        .order_by(func.length(Case.code).desc(), Case.code.desc())
        .limit(1)
    )
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def _insert_with_code(db: Session, case: Case, at: datetime) -> None:
    """Adds the case under the day's next code (SP + local date + sequence). Two drafts made at
    once may pick the same number: the unique code refuses the second, which takes the next."""
    for _attempt in range(20):
        case.code = _next_code(db, at)
        try:
            with db.begin_nested():
                db.add(case)
        except IntegrityError:
            continue
        return
    raise Problem("conflict", detail=Text("办件编号繁忙，请重试", "case numbers busy: try again"))


def channel_of(prefill: Prefill) -> CaseChannel:
    """The channel of a case no caller named: an agent's under a mandate, else the applicant's
    own online application."""
    return "agent" if prefill.agent_id or prefill.mandate_code else "online"


def create_draft(
    db: Session,
    *,
    item: ServiceItem,
    prefill: Prefill,
    actor: str,
    now: datetime | None = None,
    channel: CaseChannel | None = None,
) -> Case:
    """A draft case from a pre-filled form: each field's offered value with where it came from
    (kept undecided until the applicant saves), and each material an e-certificate waives.
    ``channel`` says how it came in (by default :func:`channel_of` the pre-fill)."""
    if prefill.item_code != item.code:
        raise ValueError(f"the pre-fill is for {prefill.item_code}, not {item.code}")
    chosen = channel or channel_of(prefill)
    if chosen not in CASE_CHANNELS:
        raise ValueError(f"not a case channel: {chosen!r}")
    if prefill.applicant_kind != item.holder:
        who = "企业" if item.holder == "enterprise" else "个人"
        raise Problem(
            "validation",
            detail=Text(f"该事项须由{who}申请", f"this item is applied for by a {item.holder}"),
            errors=[FieldError("applicant", Text(f"须由{who}申请", f"a {item.holder} applies"))],
        )
    at = now or utcnow()
    case = Case(
        item_code=item.code,
        item_name=item.name_zh,
        department=item.department,
        domain=item.domain,
        scenario=item.scenario,
        applicant_kind=prefill.applicant_kind,
        applicant_id=prefill.applicant_id,
        applicant_name=prefill.applicant_name,
        created_by=actor,
        agent_id=prefill.agent_id,
        mandate_code=prefill.mandate_code,
        channel=chosen,
        state="draft",
        version=1,
        process=item.process,
        form={},
        correction_count=0,
        precheck_used=False,
        paused_days=0,
        created_at=at,
    )
    _insert_with_code(db, case, at)
    form: dict[str, Any] = {}
    filled = 0
    for field in item.form.fields:
        offered = prefill.fields.get(field.name)
        source = offered.provenance if offered is not None else None
        value = offered.value if offered is not None and source is not None else None
        if value is None:
            source = None
        row = CaseField(case_id=case.id, field=field.name, value=value, filled_value=value)
        row.fill = source.kind if source is not None else "typed"
        if source is not None:
            filled += 1
            form[field.name] = value
            row.source_table = source.table
            row.source_version = source.version
            row.source_key = source.key
            row.source_case = source.case_code
            row.source_at = source.at
        db.add(row)
    case.form = form
    codes = {m.code for m in item.materials}
    for waived in prefill.waived.values():
        if waived.material not in codes:
            raise ValueError(f"{waived.material} is not a material of {item.code}")
        db.add(
            CaseMaterial(
                case_id=case.id,
                material=waived.material,
                waived=True,
                certificate_type=waived.certificate_type,
                certificate_no=waived.certificate_no,
                certificate_holder=waived.holder_id,
                authorisation_code=waived.authorisation_code,
                updated_at=at,
            )
        )
    record_step(
        db,
        case,
        actor,
        "created",
        at,
        from_state=None,
        detail={
            "fields_filled": filled,
            "materials_waived": len(prefill.waived),
            "agent": prefill.agent_id,
            "mandate": prefill.mandate_code,
            "channel": chosen,
        },
    )
    return case


def editable(case: Case) -> None:
    if case.state not in EDITABLE:
        raise Problem(
            "conflict",
            detail=Text(
                f"办件{state_name(case.state)}，不能再修改",
                f"the case is {CASE_STATES[case.state][1].lower()} and can no longer change",
            ),
        )


def save_form(
    db: Session,
    case: Case,
    values: Mapping[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """Saves the applicant's values (a draft, or a case being corrected). Each field records
    whether the value the platform offered was kept; an empty value clears the field."""
    editable(case)
    rows = {row.field: row for row in fields_of(db, case)}
    unknown = [name for name in values if name not in rows]
    if unknown:
        raise Problem(
            "validation",
            detail=Text("有不属于本事项表单的字段", "fields that are not on this form"),
            errors=[
                FieldError(name, Text("不是本事项表单的字段", "not a field of this form"))
                for name in unknown
            ],
        )
    form = dict(case.form)
    changed: list[str] = []
    for name, given in values.items():
        value = None if given == "" else given
        row = rows[name]
        if row.value != value:
            changed.append(name)
        row.value = value
        row.kept = None if row.filled_value is None else value == row.filled_value
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    case.form = form
    if changed:
        at = now or utcnow()
        record_step(db, case, actor, "saved", at, from_state=case.state, detail={"fields": changed})
    return case


def attach_material(
    db: Session,
    case: Case,
    material: str,
    *,
    file_name: str,
    content_type: str,
    size: int,
    sha256: str,
    stored_as: str,
    precheck: dict[str, Any] | None,
    precheck_ok: bool | None,
    actor: str,
    item: ServiceItem | None = None,
    now: datetime | None = None,
) -> CaseMaterial:
    """Records an uploaded material (replacing an earlier upload, or the waiver, of the same
    material) with its pre-check. With ``item``, a code that is not the item's is refused."""
    editable(case)
    if item is not None and material not in {m.code for m in item.materials}:
        raise Problem(
            "validation",
            detail=Text("不是本事项需要的材料", "not a material of this item"),
            errors=[
                FieldError("material", Text("不是本事项需要的材料", "not one of its materials"))
            ],
        )
    at = now or utcnow()
    row = db.scalar(
        select(CaseMaterial).where(
            CaseMaterial.case_id == case.id, CaseMaterial.material == material
        )
    )
    if row is None:
        row = CaseMaterial(case_id=case.id, material=material)
        db.add(row)
    row.waived = False
    row.certificate_type = row.certificate_no = row.certificate_holder = None
    row.authorisation_code = None
    row.file_name = file_name
    row.content_type = content_type
    row.size = size
    row.sha256 = sha256
    row.stored_as = stored_as
    row.precheck = precheck
    row.precheck_ok = precheck_ok
    row.updated_at = at
    if precheck is not None:
        case.precheck_used = True
    record_step(
        db,
        case,
        actor,
        "attached",
        at,
        from_state=case.state,
        detail={"material": material, "sha256": sha256, "precheck_ok": precheck_ok},
    )
    return row


__all__ = [
    "CODE_PREFIX",
    "EDITABLE",
    "attach_material",
    "channel_of",
    "create_draft",
    "editable",
    "save_form",
]
