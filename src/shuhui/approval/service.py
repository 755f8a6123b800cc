"""What the pages and the API call: the steps a person takes, each composed of the modules that
do the work — an application (pre-fill, then a draft), a form as people read it (every field's
source in words), an upload (stored, pre-checked, attached), sending, an officer's decision, and
issuing the result (the sealed e-licence, then the case marked issued).

Nothing here decides on its own: the rules are in ``prefill``, ``cases``, ``precheck`` and
``licences``; this module only puts them in the order a person meets them and turns their
results into views.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import cases, formcheck, licences, prefill
from shuhui.approval.drafts import editable
from shuhui.approval.items import Catalogue, FormField, Material, ServiceItem
from shuhui.approval.models import (
    FILL_KINDS,
    Case,
    CaseChannel,
    CaseField,
    CaseMaterial,
    Licence,
)
from shuhui.approval.precheck import PrecheckResult, precheck, record_lookups, store_upload
from shuhui.approval.precheck.uploads import StoredUpload
from shuhui.approval.provenance import Prefill, Refusal
from shuhui.approval.schemas import CaseOut, TaskDecisionIn
from shuhui.core.clock import format_local, local_today
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.standard.tables import TABLES
from shuhui.trust.identity.models import User

TABLE_TITLES: Final = {spec.name: spec.title for spec in TABLES}
# What an officer's choice at a step is called on a button.
OUTCOME_NAMES: Final[dict[str, tuple[str, str]]] = {
    "accept": ("受理", "Accept"),
    "correct": ("一次性告知补正", "Request corrections"),
    "pass": ("审查通过", "Pass the review"),
    "agree": ("会签同意", "Agree"),
    "disagree": ("会签不同意", "Disagree"),
    "approve": ("准予许可", "Approve"),
    "reject": ("不予许可", "Reject"),
    "issue": ("办结出证", "Issue the result"),
}
TEXTAREA_FROM: Final = 200  # a text field allowing more characters than this is a text area


def _item(catalogue: Catalogue, code: str) -> ServiceItem:
    item = catalogue.get(code)
    if item is None:
        raise Problem(
            "not-found",
            detail=Text("没有这个事项", "no such service item"),
            errors=[FieldError("item", Text("事项编码不存在", "unknown item code"))],
        )
    return item


def item_of(catalogue: Catalogue, case: Case) -> ServiceItem:
    return _item(catalogue, case.item_code)


# --- applying --------------------------------------------------------------------------------


def start_application(
    db: Session,
    datacore: DataCore,
    catalogue: Catalogue,
    *,
    user: User,
    item_code: str,
    applicant_id: str | None = None,
    now: datetime | None = None,
    channel: CaseChannel | None = None,
) -> Case:
    """A draft with the item's form filled for the applicant (the user, or a principal under
    the user's mandate). A refused mandate raises ``Problem("mandate-refused")`` after the
    refusal's ledger entry: the caller commits before answering. ``channel`` says how the case
    came in; left out, ``agent`` under a mandate, else ``online``."""
    item = _item(catalogue, item_code)
    if not item.in_force(local_today(now)):
        raise Problem(
            "conflict",
            detail=Text("该事项当前不在办理期内", "the item is not open for applications"),
            errors=[FieldError("item", Text("不在办理期内", "not in force"))],
        )
    filled = prefill.prefill(db, datacore, item, user=user, applicant_id=applicant_id, now=now)
    return cases.create_draft(
        db, item=item, prefill=filled, actor=user.username, now=now, channel=channel
    )


def submit_whole(
    db: Session,
    datacore: DataCore,
    catalogue: Catalogue,
    *,
    user: User,
    item_code: str,
    values: Mapping[str, Any],
    applicant_id: str | None = None,
    now: datetime | None = None,
    channel: CaseChannel | None = None,
) -> Case:
    """An application in one request, for an item whose materials e-certificates waive (or
    which needs none): the form pre-filled, the given values over it, and the whole checked
    before anything is kept — a 422 names every faulty field and missing material, and no case
    is made. The pre-fill's read of the applicant's data stays in the ledger either way: the
    caller commits, answering the refusal rather than raising it. ``channel`` as for
    :func:`start_application`."""
    item = _item(catalogue, item_code)
    if not item.in_force(local_today(now)):
        raise Problem(
            "conflict",
            detail=Text("该事项当前不在办理期内", "the item is not open for applications"),
            errors=[FieldError("item", Text("不在办理期内", "not in force"))],
        )
    typed = typed_values(item, values)
    filled = prefill.prefill(db, datacore, item, user=user, applicant_id=applicant_id, now=now)
    errors = whole_errors(item, filled, typed)
    if errors:
        raise Problem("validation", detail=formcheck.summary(item, errors), errors=errors)
    return file_prefilled(db, item, filled, typed, actor=user.username, now=now, channel=channel)


def typed_values(item: ServiceItem, values: Mapping[str, Any]) -> dict[str, Any]:
    """Values given for ``item``'s form as its schema's types; a 422 for a field not on it."""
    specs = {f.name: f for f in item.form.fields}
    unknown = [name for name in values if name not in specs]
    if unknown:
        raise Problem(
            "validation",
            detail=Text("有不属于本事项表单的字段", "fields that are not on this form"),
            errors=[
                FieldError(n, Text("不是本事项表单的字段", "not on this form")) for n in unknown
            ],
        )
    return {name: _typed(specs[name], given) for name, given in values.items()}


def whole_errors(item: ServiceItem, filled: Prefill, typed: Mapping[str, Any]) -> list[FieldError]:
    """What would refuse the pre-filled form with ``typed`` over it: every faulty field and
    missing material (none: it may be filed)."""
    merged = {n: f.value for n, f in filled.fields.items() if f.value is not None}
    for name, value in typed.items():
        if value in ("", None):
            merged.pop(name, None)
        else:
            merged[name] = value
    return formcheck.submission_errors(item, merged, {code: True for code in filled.waived})


def file_prefilled(
    db: Session,
    item: ServiceItem,
    filled: Prefill,
    typed: Mapping[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
    channel: CaseChannel | None = None,
) -> Case:
    """The case made, saved and submitted from a pre-fill checked by :func:`whole_errors`. A
    savepoint: should anything still refuse, the case goes and the pre-fill's entry stays.
    ``channel`` says how the case came in (``link`` from the enterprise direct link); left
    out, ``agent`` where the pre-fill was an agent's under a mandate, else ``online``."""
    with db.begin_nested():
        case = cases.create_draft(
            db, item=item, prefill=filled, actor=actor, now=now, channel=channel
        )
        if typed:
            cases.save_form(db, case, dict(typed), actor=actor, now=now)
        return cases.submit(db, case, item, actor=actor, now=now)


def cases_of_item(
    db: Session, item_code: str, states: Sequence[str], *, limit: int = 200
) -> list[Case]:
    """An item's cases in ``states``, the oldest submitted first (a service above approval
    that watches one item's statutory clocks)."""
    return cases.cases_of_item(db, item_code, states, limit=limit)


def cases_of_applicant(db: Session, applicant_id: str, *, limit: int = 20) -> list[Case]:
    """A person's or an enterprise's cases as applicant (drafts left out), newest first: for a
    service above approval that shows them in a file it keeps (the enterprise's 一企一档)."""
    query = (
        select(Case)
        .where(Case.applicant_id == applicant_id, Case.state != "draft")
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def materials_of(db: Session, case: Case) -> list[CaseMaterial]:
    """A case's materials as held: uploaded, or waived for an e-certificate."""
    return cases.materials_of(db, case)


def case_by_code(db: Session, code: str) -> Case | None:
    """A case by its code, for a service above approval that keeps the codes it made."""
    return cases.get_case(db, code)


def _typed(spec: FormField, text: Any) -> Any:
    """A page's text as the schema's type, where it reads as one; anything else is kept as
    typed so the submission check names the field."""
    if not isinstance(text, str):
        return text
    value = text.strip()
    if value == "":
        return ""
    kind = spec.schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def save(
    db: Session,
    catalogue: Catalogue,
    case: Case,
    values: Mapping[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """The applicant's values saved as their types (nothing is refused here but fields the
    form does not have: the submission checks everything at once)."""
    item = item_of(catalogue, case)
    typed: dict[str, Any] = {}
    for name, given in values.items():
        spec = item.form.field(name)
        typed[name] = _typed(spec, given) if spec is not None else given
    return cases.save_form(db, case, typed, actor=actor, now=now)


@dataclass(frozen=True)
class Reading:
    """An upload kept and read, not yet attached: reading (OCR) takes a second or more and
    writes nothing to the database, so a page reads first and then writes briefly."""

    material: str
    stored: StoredUpload
    result: PrecheckResult | None


def read_upload(
    data_dir: Path,
    datacore: DataCore,
    catalogue: Catalogue,
    case: Case,
    *,
    material: str,
    content: bytes,
    file_name: str,
    form: Mapping[str, Any] | None = None,
) -> Reading:
    """Keeps an uploaded material and reads it (the pre-check, against ``form`` — the case's
    form by default — and the registers). A file that is not an image or PDF, or too large, is
    refused (415, 413) before anything is kept."""
    item = item_of(catalogue, case)
    wanted = next((m for m in item.materials if m.code == material), None)
    if wanted is None:
        raise Problem(
            "validation",
            detail=Text("不是本事项需要的材料", "not a material of this item"),
            errors=[FieldError("material", Text("不是本事项需要的材料", "not one of its"))],
        )
    editable(case)
    stored = store_upload(data_dir, case.code, material, content, file_name)
    result = None
    if wanted.kind is not None:
        against = case.form if form is None else form
        result = precheck(
            content, wanted.kind, form=against, datacore=datacore, file_name=file_name
        )
    return Reading(material, stored, result)


def attach_reading(
    db: Session,
    catalogue: Catalogue,
    case: Case,
    reading: Reading,
    *,
    actor: str,
    now: datetime | None = None,
) -> CaseMaterial:
    """Attaches a read upload to the case, with the ledger entries of the register rows its
    pre-check read."""
    stored, result = reading.stored, reading.result
    if result is not None:
        record_lookups(db, result, actor=actor, case_code=case.code, file_name=stored.file_name)
        case.precheck_used = True
    return cases.attach_material(
        db,
        case,
        reading.material,
        file_name=stored.file_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        stored_as=stored.stored_as,
        precheck=None if result is None else result.as_json(),
        precheck_ok=None if result is None else result.ok,
        actor=actor,
        item=item_of(catalogue, case),
        now=now,
    )


def upload(
    db: Session,
    data_dir: Path,
    datacore: DataCore,
    catalogue: Catalogue,
    case: Case,
    *,
    material: str,
    content: bytes,
    file_name: str,
    actor: str,
    now: datetime | None = None,
) -> CaseMaterial:
    """Keeps, reads and attaches an uploaded material (:func:`read_upload`, then
    :func:`attach_reading`)."""
    reading = read_upload(
        data_dir, datacore, catalogue, case, material=material, content=content, file_name=file_name
    )
    return attach_reading(db, catalogue, case, reading, actor=actor, now=now)


def send(
    db: Session, catalogue: Catalogue, case: Case, *, actor: str, now: datetime | None = None
) -> Case:
    """Submits a draft, or resubmits a case after its correction: a 422 names every faulty
    field and material, and nothing changes."""
    item = item_of(catalogue, case)
    if case.state == "correction":
        return cases.resubmit(db, case, item, actor=actor, now=now)
    return cases.submit(db, case, item, actor=actor, now=now)


def withdraw(db: Session, case: Case, *, actor: str, now: datetime | None = None) -> Case:
    return cases.withdraw(db, case, actor=actor, now=now)


# --- deciding --------------------------------------------------------------------------------


def decide(
    db: Session,
    task_id: int,
    *,
    officer: User,
    decision: TaskDecisionIn,
    now: datetime | None = None,
) -> Case:
    corrections = [(c.field, c.reason) for c in decision.corrections]
    return cases.complete_task(
        db,
        task_id,
        officer=officer,
        outcome=decision.outcome,
        reason=decision.reason,
        corrections=corrections or None,
        now=now,
    )


def issue(
    db: Session,
    data_dir: Path,
    datacore: DataCore,
    catalogue: Catalogue,
    case: Case,
    *,
    officer: User,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> Licence | None:
    """Ends an approved case: the sealed e-licence where the item issues one (written to the
    data core's e-certificates once this transaction commits), then the case marked issued."""
    if not cases.is_officer_of(db, officer, case) or officer.department != case.department:
        raise Problem(
            "forbidden",
            detail=Text("只有受理部门的工作人员可以出证", "only the deciding department issues"),
        )
    item = item_of(catalogue, case)
    licence = None
    if item.issues is not None:
        licence = licences.issue_licence(
            db,
            data_dir,
            datacore,
            case=case,
            item=item,
            officer=officer.username,
            now=now,
            city_content=city_content,
        )
    cases.mark_issued(
        db,
        case,
        licence_no=None if licence is None else licence.certificate_no,
        actor=officer.username,
        now=now,
    )
    return licence


# What an officer's step is taken with when a case ends approved on a decision made elsewhere
# on the platform (``finish_approved``).
APPROVING_OUTCOMES: Final = {
    "accept": "accept",
    "review": "pass",
    "countersign": "agree",
    "decide": "approve",
    "issue": "issue",
}


def finish_approved(
    db: Session,
    data_dir: Path,
    datacore: DataCore | None,
    catalogue: Catalogue,
    case: Case,
    *,
    officer: User,
    reason: str,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> Case:
    """Takes a running case through its open steps to the end, approved with ``reason``: for a
    decision a body made elsewhere on the platform (a labour-capacity assessment's conclusion),
    each step the officer's, journalled and in the ledger as if taken at the desk. A step of
    another department (a countersign) is left for that department."""
    for _ in range(8):  # a process has a handful of steps; a loop past that is a defect
        if case.state in cases.FINISHED:
            return case
        open_steps = [
            t
            for t in cases.tasks_of(db, case)
            if t.closed_at is None and t.department == officer.department
        ]
        if not open_steps:
            return case
        task = open_steps[0]
        if task.role == "issue" and item_of(catalogue, case).issues is not None:
            if datacore is None:
                raise ValueError("an item that issues an e-certificate needs the data core")
            issue(
                db,
                data_dir,
                datacore,
                catalogue,
                case,
                officer=officer,
                city_content=city_content,
                now=now,
            )
            continue
        outcome = APPROVING_OUTCOMES.get(task.role, "pass")
        cases.complete_task(
            db,
            task.id,
            officer=officer,
            outcome=outcome,
            reason=reason if outcome in ("approve", "agree") else None,
            now=now,
        )
    raise RuntimeError(f"case {case.code} did not end within its steps")


# --- views -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    name: str
    title: str
    value: Any
    required: bool
    input: Literal["text", "date", "number", "select", "textarea"]
    options: list[tuple[str, str]]
    max_length: int | None
    pattern: str | None
    help: str
    width: str
    fill: str  # identity | history | shared | typed
    fill_zh: str
    source_zh: str  # where the offered value came from, in words ("" when typed)
    offered: Any
    kept: bool | None
    choices: list[tuple[str, str]]  # (value, "from case … of …")
    correction: str | None


@dataclass(frozen=True)
class GroupView:
    title: str
    fields: list[FieldView]


@dataclass(frozen=True)
class MaterialView:
    code: str
    name: str
    required: bool
    kind: str | None
    replaced_by: str | None
    waived: bool
    certificate_no: str | None
    holder: str | None
    uploaded: bool
    file_name: str | None
    size: int | None
    precheck_ok: bool | None
    issues: list[tuple[str, str]]
    fields: dict[str, str]
    correction: str | None


@dataclass(frozen=True)
class FormView:
    item: ServiceItem
    case: CaseOut
    groups: list[GroupView]
    materials: list[MaterialView]
    refused: list[Refusal]
    editable: bool
    filled: int
    total: int
    waived: int
    materials_total: int
    corrections: dict[str, str] = field(default_factory=dict)


def input_kind(spec: FormField) -> Literal["text", "date", "number", "select", "textarea"]:
    """How a page asks for the field's value."""
    schema = spec.schema
    if "enum" in schema:
        return "select"
    if schema.get("format") == "date":
        return "date"
    if schema.get("type") in ("integer", "number"):
        return "number"
    if int(schema.get("maxLength") or 0) > TEXTAREA_FROM:
        return "textarea"
    return "text"


def _masked_key(key: str | None) -> str:
    if not key:
        return ""
    return mask_citizen_id(key) if len(key) == 18 and key[:17].isdigit() else key


def source_text(row: CaseField) -> str:
    """Where an offered value came from, as a person reads it."""
    when = format_local(row.source_at) if row.source_at else ""
    if row.fill == "history" and row.source_case:
        return f"您在办件 {row.source_case} 中填写过 · {when}".strip(" ·")
    if row.source_table:
        title = TABLE_TITLES.get(row.source_table, row.source_table)
        version = f" 第{row.source_version}版" if row.source_version else ""
        key = f" · 按 {_masked_key(row.source_key)} 查询" if row.source_key else ""
        return f"{title}{version}{key} · {when}".strip(" ·")
    return ""


def _corrections(case: Case) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in case.correction or []:
        if entry.get("material"):
            out[f"materials.{entry['material']}"] = entry["reason"]
        elif entry.get("field"):
            out[entry["field"]] = entry["reason"]
    return out


def options_of(spec: FormField) -> list[tuple[str, str]]:
    """A choice field's (value, label) pairs."""
    labels = spec.schema.get("x-enum-titles") or {}
    return [(str(v), str(labels.get(str(v), v))) for v in spec.schema.get("enum", [])]


def form_view(
    db: Session, catalogue: Catalogue, case: Case, *, refused: list[Refusal] | None = None
) -> FormView:
    """The case's form as the applicant (or an officer) reads it: grouped by the layout, each
    field's value and where the platform found it, each material waived, uploaded (with its
    pre-check) or still wanted, and the department's corrections beside what they name."""
    item = item_of(catalogue, case)
    rows = {row.field: row for row in cases.fields_of(db, case)}
    held = {row.material: row for row in cases.materials_of(db, case)}
    corrections = _corrections(case)
    groups: dict[str, list[FieldView]] = {}
    filled = 0
    for spec in item.form.fields:
        row = rows.get(spec.name)
        fill = row.fill if row is not None else "typed"
        if row is not None and row.filled_value is not None:
            filled += 1
        choices = []
        if row is not None and fill == "history" and row.source_case:
            choices.append((str(row.filled_value), f"办件 {row.source_case}"))
        view = FieldView(
            name=spec.name,
            title=spec.title_zh,
            value=case.form.get(spec.name, "" if row is None else row.value),
            required=spec.required,
            input=input_kind(spec),
            options=options_of(spec),
            max_length=spec.schema.get("maxLength"),
            pattern=spec.schema.get("pattern"),
            help=spec.help_zh,
            width=spec.width,
            fill=fill,
            fill_zh=FILL_KINDS.get(fill, FILL_KINDS["typed"])[0],
            source_zh="" if row is None else source_text(row),
            offered=None if row is None else row.filled_value,
            kept=None if row is None else row.kept,
            choices=choices,
            correction=corrections.get(spec.name),
        )
        groups.setdefault(spec.group or "申请信息", []).append(view)
    materials = [_material_view(m, held.get(m.code), corrections) for m in item.materials]
    return FormView(
        item=item,
        case=cases.case_out(case),
        groups=[GroupView(title, fields) for title, fields in groups.items()],
        materials=materials,
        refused=refused or [],
        editable=case.state in cases.EDITABLE,
        filled=filled,
        total=len(item.form.fields),
        waived=sum(1 for m in materials if m.waived),
        materials_total=len(materials),
        corrections=corrections,
    )


def _material_view(
    material: Material, row: CaseMaterial | None, corrections: Mapping[str, str]
) -> MaterialView:
    checked = (row.precheck or {}) if row is not None else {}
    issues = [
        (str(i.get("field", "")), str(i.get("reason", ""))) for i in checked.get("issues", [])
    ]
    return MaterialView(
        code=material.code,
        name=material.name_zh,
        required=material.required,
        kind=material.kind,
        replaced_by=material.replaced_by,
        waived=bool(row is not None and row.waived),
        certificate_no=None if row is None else row.certificate_no,
        holder=None if row is None else row.certificate_holder,
        uploaded=bool(row is not None and row.stored_as),
        file_name=None if row is None else row.file_name,
        size=None if row is None else row.size,
        precheck_ok=None if row is None else row.precheck_ok,
        issues=issues,
        fields={str(k): str(v) for k, v in (checked.get("fields") or {}).items()},
        correction=corrections.get(f"materials.{material.code}"),
    )


__all__ = [
    "OUTCOME_NAMES",
    "FieldView",
    "FormView",
    "GroupView",
    "MaterialView",
    "Reading",
    "attach_reading",
    "decide",
    "form_view",
    "input_kind",
    "issue",
    "item_of",
    "options_of",
    "read_upload",
    "save",
    "send",
    "source_text",
    "start_application",
    "submit_whole",
    "upload",
    "withdraw",
]
