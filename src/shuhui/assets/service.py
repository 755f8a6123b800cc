"""The data-asset registry (数据资产登记): apply, review, a sealed certificate, valuation.

An applicant states what is to be registered (a catalogued dataset, or a data product), who holds
it, which rights are held (资源持有权, 加工使用权, 产品经营权), where the data comes from, how it is
processed and what it is for. A data-bureau operator accepts, returns (with what to change) or
rejects (with why). Acceptance issues a registration certificate: a canonical JSON document sealed
with the registrar's e-seal (both named in ``content/<city>/asset-registry.yaml``), which anyone
verifies at ``/seals/verify`` or with
``shuhui seal verify``. Valuations (cost, income, market methods, reconciled, and the accounting
view) are stored with their workings. Every step is an audit-ledger entry.

Who may do what: a data-bureau operator sees every application and reviews, but never one they
submitted themselves (separation of duties). Anyone else sees only the applications they submitted
or whose holder is their own account's credit code, and only the original applicant corrects and
resubmits a returned one. An enterprise applies for itself: the holder's credit code must be its
account's own. Officers and operators apply for a department and may name any holder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from shuhui.assets.models import ASSET_RIGHTS, AssetRegistration
from shuhui.assets.schemas import TEXT_LIMIT, ApplicationIn, CostIn, ValuationIn
from shuhui.assets.valuation import accounting, bands, cost, income, market, reconcile
from shuhui.assets.valuation.common import Valuation
from shuhui.catalog import service as catalog_service
from shuhui.catalog.models import Dataset
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.content import ContentError, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_credit_code
from shuhui.trust.crypto.canonical import JsonValue, canonical_json
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals import service as seals

CERTIFICATE_FORMAT: Final = "shuhui-asset-certificate-v1"
# The content this module reads: who registers, with which seal; the departments' names.
CONTENT: Final = ("asset-registry.yaml", "asset-registry")
DEPARTMENTS: Final = ("departments.yaml", "departments")


@dataclass(frozen=True)
class Registrar:
    """Who registers data assets in a city, and the seal its certificates carry."""

    name: str  # the department's full name, as departments.yaml gives it
    seal_code: str
    seal_name: str


def city_registrar(city_content: Path, on: date | None = None) -> Registrar:
    """The registrar in force ``on`` (default today), from the city's content; checks the
    valuation parameters too, so a bad file stops the app at startup."""
    on = on or utcnow().date()
    bands.check_content(load_items(city_content / bands.CONTENT[0], bands.CONTENT[1]))
    registry = load_items(city_content / CONTENT[0], CONTENT[1])
    departments = load_items(city_content / DEPARTMENTS[0], DEPARTMENTS[1])
    in_force = [item for item in registry if item.in_force(on)]
    if len(in_force) != 1:
        raise ContentError(registry.path, "items", f"{len(in_force)} registrars in force on {on}")
    item = in_force[0]
    short = str(item.attrs.get("registrar", ""))
    department = next((d for d in departments if d.attrs.get("short") == short), None)
    if department is None:
        raise ContentError(registry.path, f"{item.code}.registrar", "no such department")
    return Registrar(name=department.name_zh, seal_code=item.code, seal_name=item.name_zh)


def _text(value: str, where: str, limit: int = TEXT_LIMIT) -> str:
    text = value.strip()
    if not text:
        raise Problem(
            "validation", errors=[FieldError(where, Text("不能为空", "must not be empty"))]
        )
    if len(text) > limit:
        raise Problem(
            "validation",
            errors=[FieldError(where, Text(f"最多 {limit} 个字", f"at most {limit} characters"))],
        )
    return text


def is_operator(user: User) -> bool:
    """A data-bureau operator: sees every application, reviews and values."""
    return Role.data_operator in user.role_set


def applies_for_a_department(user: User) -> bool:
    """Officers and operators apply on behalf of a department, so they may name any holder."""
    return bool(user.role_set & {Role.data_operator, Role.officer})


def _checked(db: Session, app: ApplicationIn, user: User) -> tuple[ApplicationIn, Dataset | None]:
    if app.kind not in ("dataset", "product"):
        raise Problem(
            "validation",
            errors=[FieldError("kind", Text("应为数据集或数据产品", "dataset or product"))],
        )
    dataset = None
    if app.kind == "dataset":
        if not app.dataset:
            raise Problem(
                "validation",
                errors=[FieldError("dataset", Text("请选择数据集", "name the dataset"))],
            )
        dataset = catalog_service.find_dataset(db, app.dataset)
        if dataset is None:
            raise Problem(
                "validation",
                errors=[FieldError("dataset", Text("没有这个数据集", "no such dataset"))],
            )
    rights = sorted(set(app.rights))
    unknown = [r for r in rights if r not in ASSET_RIGHTS]
    if not rights or unknown:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "rights",
                    Text(
                        "至少选择一项：" + "、".join(zh for zh, _ in ASSET_RIGHTS.values()),
                        f"one or more of {', '.join(ASSET_RIGHTS)}",
                    ),
                )
            ],
        )
    try:
        code = parse_credit_code(app.holder_code.strip().upper()).code
    except InvalidIdentifier as exc:
        raise Problem("validation", errors=[FieldError("holder_code", exc.reason)]) from None
    if not applies_for_a_department(user):
        # An enterprise registers what it holds itself, under its own credit code.
        if not user.credit_code:
            reason = "the account has no credit code bound; an enterprise applies for itself"
            raise Problem("validation", errors=[FieldError("holder_code", reason)])
        if code != user.credit_code:
            reason = f"must be your account's own credit code {user.credit_code}"
            raise Problem("validation", errors=[FieldError("holder_code", reason)])
    checked = app.model_copy(
        update={
            "dataset": app.dataset if app.kind == "dataset" else None,
            "title": _text(app.title, "title", 256),
            "holder_name": _text(app.holder_name, "holder_name", 256),
            "holder_code": code,
            "rights": rights,
            "sources": _text(app.sources, "sources"),
            "processing": _text(app.processing, "processing"),
            "scenarios": _text(app.scenarios, "scenarios"),
        }
    )
    return checked, dataset


def _next_number(db: Session, prefix: str, column: Any, now: datetime) -> str:
    stem = f"{prefix}-{now.year}-"
    count = db.scalar(select(func.count()).where(column.like(f"{stem}%"))) or 0
    return f"{stem}{count + 1:06d}"


def get(db: Session, code: str) -> AssetRegistration:
    found = db.scalar(select(AssetRegistration).where(AssetRegistration.code == code))
    if found is None:
        raise Problem("not-found", detail=f"资产登记 {code} 不存在")
    return found


def _visible_to(user: User) -> ColumnElement[bool] | None:
    """What ``user`` may see: everything for an operator (None), else their own applications
    and those whose holder is their account's credit code."""
    if is_operator(user):
        return None
    mine: ColumnElement[bool] = AssetRegistration.applicant == user.username
    if user.credit_code:
        mine = or_(mine, AssetRegistration.holder_code == user.credit_code)
    return mine


def may_see(user: User, row: AssetRegistration) -> bool:
    return (
        is_operator(user)
        or row.applicant == user.username
        or (bool(user.credit_code) and row.holder_code == user.credit_code)
    )


def get_for(db: Session, code: str, user: User) -> AssetRegistration:
    """One application, if ``user`` may see it (403 otherwise)."""
    row = get(db, code)
    if not may_see(user, row):
        raise Problem(
            "forbidden",
            detail="只有申请人、持有者或大数据局运营人员可以查看此登记",
            errors=[FieldError("code", Text("这不是您的申请", "not your application"))],
        )
    return row


def listing(db: Session, user: User, *, status: str | None = None) -> list[AssetRegistration]:
    """The applications ``user`` may see, newest first."""
    query = select(AssetRegistration).order_by(AssetRegistration.id.desc())
    if (visible := _visible_to(user)) is not None:
        query = query.where(visible)
    if status:
        query = query.where(AssetRegistration.status == status)
    return list(db.scalars(query))


def apply(
    db: Session, app: ApplicationIn, *, applicant: User, now: datetime | None = None
) -> AssetRegistration:
    now = as_utc(now or utcnow())
    checked, dataset = _checked(db, app, applicant)
    row = AssetRegistration(
        code=_next_number(db, "QDZCSQ", AssetRegistration.code, now),
        kind=checked.kind,
        dataset_id=None if dataset is None else dataset.id,
        title=checked.title,
        holder_name=checked.holder_name,
        holder_code=checked.holder_code,
        rights=json.dumps(checked.rights),
        sources=checked.sources,
        processing=checked.processing,
        scenarios=checked.scenarios,
        status="submitted",
        applicant=applicant.username,
        submitted_at=now,
    )
    db.add(row)
    db.flush()
    ledger.record(
        db,
        applicant.username,
        "asset.applied",
        subject=checked.holder_code,
        purpose="data-asset registration",
        grant=row.code,
        detail={"title": row.title, "kind": row.kind, "rights": list[JsonValue](checked.rights)},
    )
    return row


def resubmit(
    db: Session, code: str, app: ApplicationIn, *, applicant: User, now: datetime | None = None
) -> AssetRegistration:
    """A returned application, changed as the reviewer asked, goes back for review; only the
    original applicant resubmits it."""
    now = as_utc(now or utcnow())
    row = get(db, code)
    if row.applicant != applicant.username:
        raise Problem(
            "forbidden",
            detail="只有原申请人可以修改并重新提交申请",
            errors=[
                FieldError(
                    "applicant",
                    Text("只有原申请人可以重新提交", "only the original applicant resubmits"),
                )
            ],
        )
    if row.status != "returned":
        raise Problem(
            "conflict",
            errors=[
                FieldError(
                    "status",
                    Text("这份申请没有被退回，不能重新提交", f"is {row.status}, not returned"),
                )
            ],
        )
    checked, dataset = _checked(db, app, applicant)
    row.kind, row.title = checked.kind, checked.title
    row.dataset_id = None if dataset is None else dataset.id
    row.holder_name, row.holder_code = checked.holder_name, checked.holder_code
    row.rights = json.dumps(checked.rights)
    row.sources, row.processing, row.scenarios = (
        checked.sources,
        checked.processing,
        checked.scenarios,
    )
    row.status, row.submitted_at = "submitted", now
    db.flush()
    ledger.record(
        db,
        applicant.username,
        "asset.resubmitted",
        subject=row.holder_code,
        grant=row.code,
        detail={},
    )
    return row


def ensure_registry_seal(
    db: Session,
    data_dir: Path,
    registrar: Registrar,
    *,
    actor: str,
    since: datetime | None = None,
) -> str:
    """The registrar's registration seal, issued the first time a registration needs it (in
    force from ``since``: see :func:`seals.ensure_seal`)."""
    return seals.ensure_seal(
        db,
        data_dir,
        code=registrar.seal_code,
        name=registrar.seal_name,
        department=registrar.name,
        actor=actor,
        since=since,
    )


def certificate_document(
    row: AssetRegistration, registered_at: datetime, registrar: Registrar
) -> bytes:
    dataset: dict[str, JsonValue] | None = None
    if row.dataset is not None:
        dataset = {
            "name": row.dataset.name,
            "title": row.dataset.title,
            "version": row.dataset.version,
            "rows": row.dataset.rows,
        }
    body: dict[str, JsonValue] = {
        "format": CERTIFICATE_FORMAT,
        "certificate_no": row.certificate_no,
        "application": row.code,
        "registrar": registrar.name,
        "title": row.title,
        "kind": row.kind,
        "holder": {"name": row.holder_name, "credit_code": row.holder_code},
        "rights": list[JsonValue](rights_of(row)),
        "dataset": dataset,
        "registered_at": seals.iso(registered_at),
    }
    return canonical_json(body)


def review(
    db: Session,
    data_dir: Path,
    registrar: Registrar,
    code: str,
    *,
    decision: str,
    reason: str,
    reviewer: str,
    now: datetime | None = None,
) -> AssetRegistration:
    """accept → registered, with a sealed certificate; return → back to the applicant with what
    to change; reject → closed, with why. Only a submitted application can be reviewed, and never
    by the one who submitted it (separation of duties)."""
    now = as_utc(now or utcnow())
    row = get(db, code)
    if row.applicant == reviewer:
        raise Problem(
            "forbidden",
            detail="申请人不能审核自己提交的申请（职责分离），请由其他运营人员审核",
            errors=[
                FieldError(
                    "reviewer",
                    Text(
                        "申请人不能审核自己的申请",
                        "the applicant cannot review their own application",
                    ),
                )
            ],
        )
    if row.status != "submitted":
        raise Problem(
            "conflict",
            errors=[
                FieldError(
                    "status", Text("这份申请不在待审核状态", f"is {row.status}, not submitted")
                )
            ],
        )
    why = reason.strip()
    if decision in ("return", "reject") and not why:
        raise Problem("validation", errors=[FieldError("reason", Text("请说明原因", "say why"))])
    if len(why) > 1024:
        raise Problem(
            "validation",
            errors=[FieldError("reason", Text("最多 1024 个字", "at most 1024 characters"))],
        )
    if decision == "accept":
        row.status = "registered"
        row.certificate_no = _next_number(db, "QDSJZC", AssetRegistration.certificate_no, now)
        document = certificate_document(row, now, registrar)
        seal = ensure_registry_seal(db, data_dir, registrar, actor=reviewer)
        envelope = seals.sign_document(db, data_dir, seal, document, signer=reviewer, at=now)
        row.certificate = document
        row.certificate_seal = json.dumps(envelope, ensure_ascii=False)
    elif decision == "return":
        row.status = "returned"
    elif decision == "reject":
        row.status = "rejected"
    else:
        raise Problem(
            "validation",
            errors=[
                FieldError("decision", Text("请选择通过、退回或驳回", "accept, return or reject"))
            ],
        )
    row.reviewer, row.reviewed_at, row.review_reason = reviewer, now, why or None
    db.flush()
    ledger.record(
        db,
        reviewer,
        f"asset.{row.status}",
        subject=row.holder_code,
        purpose="data-asset registration review",
        grant=row.code,
        detail={"reason": why, "certificate_no": row.certificate_no},
    )
    return row


def rights_of(row: AssetRegistration) -> list[str]:
    return [str(r) for r in json.loads(row.rights)]


# --- valuation ---------------------------------------------------------------------------------

# valuation's own names for what a caller gives under another name
_INCOME_FIELDS: Final = {"share": "income_share"}


def _fields(exc: Problem, rename: Callable[[str], str]) -> list[FieldError]:
    return [FieldError(rename(e.field), e.reason) for e in exc.errors] or [
        FieldError("body", exc.detail or "invalid")
    ]


def _cost_field(name: str) -> str:
    # The cost inputs arrive under ``cost``: name them as the caller sent them.
    return f"cost.{name}" if name in CostIn.model_fields else name


def value(
    db: Session,
    city_content: Path,
    code: str,
    given: ValuationIn,
    *,
    valuer: str,
    today: date | None = None,
) -> dict[str, Any]:
    """Values a registered asset by every method the inputs allow; stores the workings.

    Cost items left out count as 0 (the workings say which); at least one must be given for the
    cost method. Every bad input of every method is named in one refusal, as the caller sent it
    (``cost.acquisition``, ``incomes[2]``, ``comparables[0].price``, ``income_share``…).
    """
    row = get(db, code)
    if row.status != "registered":
        raise Problem(
            "conflict",
            errors=[
                FieldError(
                    "status", Text("只有已登记的资产才能估值", "only a registered asset is valued")
                )
            ],
        )
    today = today or utcnow().date()
    results: dict[str, Valuation] = {}
    errors: list[FieldError] = []
    out: dict[str, Any] = {"valued_at": utcnow().isoformat(timespec="seconds"), "by": valuer}
    quality_score = row.dataset.quality_score if row.dataset is not None else None
    by_cost: cost.CostValuation | None = None
    if amounts := dict[str, Any](given.cost.given()):
        if quality_score is not None and "quality_coefficient" not in amounts:
            # The dataset's measured quality sets the coefficient, through the city's bands.
            amounts["quality_score"] = quality_score
            amounts["bands"] = bands.load_quality_bands(city_content, today)
        elif "quality_coefficient" not in amounts:
            amounts["quality_coefficient"] = "1"
        try:
            by_cost = cost.cost_method(**amounts)
            results["cost"] = by_cost
        except Problem as exc:
            errors += _fields(exc, _cost_field)
    if given.incomes:
        if given.discount_rate is None:
            errors.append(
                FieldError("discount_rate", Text("填写了预期收益时必须填写", "needed with incomes"))
            )
        else:
            try:
                results["income"] = income.income_method(
                    incomes=given.incomes,
                    discount_rate=given.discount_rate,
                    share=given.income_share,
                )
            except Problem as exc:
                errors += _fields(exc, lambda f: _INCOME_FIELDS.get(f, f))
    elif given.discount_rate is not None or given.income_share is not None:
        errors.append(
            FieldError(
                "incomes", Text("请填写要折现的预期收益", "give the projected incomes to discount")
            )
        )
    if given.comparables:
        try:
            results["market"] = market.market_method(
                [market.Comparable(**c.model_dump()) for c in given.comparables]
            )
        except Problem as exc:
            errors += _fields(exc, lambda f: f)
    if not results and not errors:
        errors.append(
            FieldError(
                "cost",
                Text("请至少填写一种估值方法所需的数据", "give the inputs of at least one method"),
            )
        )
    books: accounting.AccountingView | None = None
    try:
        # The books carry what the resource cost, not what an appraiser says it is worth.
        books = accounting.accounting_view(
            intended_use=given.intended_use,
            cost=by_cost.total_cost if by_cost is not None else Decimal(0),
            benefits_probable=given.benefits_probable,
            cost_reliably_measurable=by_cost is not None,
            useful_life_years=given.useful_life_years,
            estimated_selling_price=given.estimated_selling_price,
            on=today,
        )
    except Problem as exc:
        errors += _fields(exc, lambda f: f)
    if errors or books is None:
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
        raise Problem("validation", detail=detail, errors=errors)
    for label, result in results.items():
        out[label] = result.as_dict()
    weights = {str(k): v for k, v in given.weights.items() if k in results and v}
    reconciled = reconcile.reconcile(results, weights or None)
    out["reconciled"] = reconciled.as_dict()
    out["accounting"] = books.as_dict()
    row.valuation = json.dumps(out, ensure_ascii=False)
    db.flush()
    ledger.record(
        db,
        valuer,
        "asset.valued",
        subject=row.holder_code,
        purpose="data-asset valuation",
        grant=row.code,
        detail={"value": str(reconciled.value), "methods": list[JsonValue](list(results))},
    )
    return out


def counts_by_status(db: Session, user: User) -> dict[str, int]:
    query = select(AssetRegistration.status, func.count()).group_by(AssetRegistration.status)
    if (visible := _visible_to(user)) is not None:
        query = query.where(visible)
    return {str(s): int(n) for s, n in db.execute(query)}


def dataset_choices(db: Session) -> list[Dataset]:
    return catalog_service.data_core_datasets(db)


# --- the workbench's counts -------------------------------------------------------------------


def count_pending_reviews(db: Session, reviewer: User) -> int:
    """Submitted applications ``reviewer`` may review: not their own (four eyes)."""
    if not is_operator(reviewer):
        return 0
    query = select(func.count()).where(
        AssetRegistration.status == "submitted", AssetRegistration.applicant != reviewer.username
    )
    return int(db.scalar(query) or 0)


def count_unvalued(db: Session, user: User) -> int:
    """Registered assets with no valuation yet (an operator values them)."""
    if not is_operator(user):
        return 0
    query = select(func.count()).where(
        AssetRegistration.status == "registered", AssetRegistration.valuation.is_(None)
    )
    return int(db.scalar(query) or 0)


def count_returned(db: Session, applicant: User) -> int:
    """Applications returned to ``applicant`` for changes (only they resubmit)."""
    query = select(func.count()).where(
        AssetRegistration.status == "returned", AssetRegistration.applicant == applicant.username
    )
    return int(db.scalar(query) or 0)
