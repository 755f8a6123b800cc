"""The data-asset registry (数据资产登记): apply, review, a sealed certificate, valuation.

An applicant states what is to be registered (a catalogued dataset, or a data product), who holds
it, which rights are held (资源持有权, 加工使用权, 产品经营权), where the data comes from, how it is
processed and what it is for. A data-bureau operator accepts, returns (with what to change) or
rejects (with why). Acceptance issues a registration certificate: a canonical JSON document sealed
with the bureau's registration e-seal, which anyone verifies at ``/seals/verify`` or with
``shuhui seal verify``. Valuations (cost, income, market methods, reconciled, and the accounting
view) are stored with their workings. Every step is an audit-ledger entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.catalog import service, valuation
from shuhui.catalog.models import ASSET_RIGHTS, AssetRegistration, Dataset
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.ids import InvalidIdentifier, parse_credit_code
from shuhui.trust import ledger, seals
from shuhui.trust.canonical import JsonValue, canonical_json

CERTIFICATE_FORMAT: Final = "shuhui-asset-certificate-v1"
REGISTRAR: Final = "青岛市大数据发展管理局"
REGISTRY_SEAL: Final = "QDSJJ-ZCDJ-0001"
REGISTRY_SEAL_NAME: Final = "青岛市大数据发展管理局数据资产登记专用章"
TEXT_LIMIT: Final = 4000


def _text(value: str, where: str, limit: int = TEXT_LIMIT) -> str:
    text = value.strip()
    if not text:
        raise Problem("validation", errors=[FieldError(where, "must not be empty")])
    if len(text) > limit:
        raise Problem("validation", errors=[FieldError(where, f"at most {limit} characters")])
    return text


@dataclass(frozen=True)
class Application:
    kind: str  # dataset | product
    dataset: str | None
    title: str
    holder_name: str
    holder_code: str
    rights: list[str]
    sources: str
    processing: str
    scenarios: str


def _checked(db: Session, app: Application) -> tuple[Application, Dataset | None]:
    if app.kind not in ("dataset", "product"):
        raise Problem("validation", errors=[FieldError("kind", "dataset or product")])
    dataset = None
    if app.kind == "dataset":
        if not app.dataset:
            raise Problem("validation", errors=[FieldError("dataset", "name the dataset")])
        dataset = db.scalar(select(Dataset).where(Dataset.name == app.dataset))
        if dataset is None:
            raise Problem("validation", errors=[FieldError("dataset", "no such dataset")])
    rights = sorted(set(app.rights))
    unknown = [r for r in rights if r not in ASSET_RIGHTS]
    if not rights or unknown:
        raise Problem(
            "validation", errors=[FieldError("rights", f"one or more of {', '.join(ASSET_RIGHTS)}")]
        )
    try:
        code = parse_credit_code(app.holder_code.strip().upper()).code
    except InvalidIdentifier as exc:
        raise Problem("validation", errors=[FieldError("holder_code", exc.reason)]) from None
    checked = Application(
        kind=app.kind,
        dataset=app.dataset if app.kind == "dataset" else None,
        title=_text(app.title, "title", 256),
        holder_name=_text(app.holder_name, "holder_name", 256),
        holder_code=code,
        rights=rights,
        sources=_text(app.sources, "sources"),
        processing=_text(app.processing, "processing"),
        scenarios=_text(app.scenarios, "scenarios"),
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


def listing(db: Session, *, status: str | None = None) -> list[AssetRegistration]:
    query = select(AssetRegistration).order_by(AssetRegistration.id.desc())
    if status:
        query = query.where(AssetRegistration.status == status)
    return list(db.scalars(query))


def apply(
    db: Session, app: Application, *, applicant: str, now: datetime | None = None
) -> AssetRegistration:
    now = as_utc(now or utcnow())
    checked, dataset = _checked(db, app)
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
        applicant=applicant,
        submitted_at=now,
    )
    db.add(row)
    db.flush()
    ledger.record(
        db,
        applicant,
        "asset.applied",
        subject=checked.holder_code,
        purpose="data-asset registration",
        grant=row.code,
        detail={"title": row.title, "kind": row.kind, "rights": list[JsonValue](checked.rights)},
    )
    return row


def resubmit(
    db: Session, code: str, app: Application, *, applicant: str, now: datetime | None = None
) -> AssetRegistration:
    """A returned application, changed as the reviewer asked, goes back for review."""
    now = as_utc(now or utcnow())
    row = get(db, code)
    if row.status != "returned":
        raise Problem("conflict", errors=[FieldError("status", f"is {row.status}, not returned")])
    checked, dataset = _checked(db, app)
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
        db, applicant, "asset.resubmitted", subject=row.holder_code, grant=row.code, detail={}
    )
    return row


def ensure_registry_seal(db: Session, data_dir: Path, *, actor: str) -> str:
    """The bureau's registration seal, issued the first time a registration needs it."""
    if seals.get_seal(db, REGISTRY_SEAL) is None:
        start, end = seals.valid_window(5 * 365)
        seals.create_seal(
            db,
            data_dir,
            code=REGISTRY_SEAL,
            name=REGISTRY_SEAL_NAME,
            department=REGISTRAR,
            valid_from=start - timedelta(minutes=1),
            valid_to=end,
            actor=actor,
        )
    return REGISTRY_SEAL


def certificate_document(row: AssetRegistration, registered_at: datetime) -> bytes:
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
        "registrar": REGISTRAR,
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
    code: str,
    *,
    decision: str,
    reason: str,
    reviewer: str,
    now: datetime | None = None,
) -> AssetRegistration:
    """accept → registered, with a sealed certificate; return → back to the applicant with what
    to change; reject → closed, with why. Only a submitted application can be reviewed."""
    now = as_utc(now or utcnow())
    row = get(db, code)
    if row.status != "submitted":
        raise Problem("conflict", errors=[FieldError("status", f"is {row.status}, not submitted")])
    why = reason.strip()
    if decision in ("return", "reject") and not why:
        raise Problem("validation", errors=[FieldError("reason", "say why")])
    if len(why) > 1024:
        raise Problem("validation", errors=[FieldError("reason", "at most 1024 characters")])
    if decision == "accept":
        row.status = "registered"
        row.certificate_no = _next_number(db, "QDSJZC", AssetRegistration.certificate_no, now)
        document = certificate_document(row, now)
        seal = ensure_registry_seal(db, data_dir, actor=reviewer)
        envelope = seals.sign_document(db, data_dir, seal, document, signer=reviewer, at=now)
        row.certificate = document
        row.certificate_seal = json.dumps(envelope, ensure_ascii=False)
    elif decision == "return":
        row.status = "returned"
    elif decision == "reject":
        row.status = "rejected"
    else:
        raise Problem("validation", errors=[FieldError("decision", "accept, return or reject")])
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


@dataclass(frozen=True)
class ValuationInput:
    cost: dict[str, str]  # cost_method keyword → amount / rate as text
    incomes: list[str]
    discount_rate: str | None
    income_share: str | None
    comparables: list[dict[str, str]]
    weights: dict[str, str]
    intended_use: str
    useful_life_years: int | None
    benefits_probable: bool
    estimated_selling_price: str | None


def value(
    db: Session,
    city_content: Path,
    code: str,
    given: ValuationInput,
    *,
    valuer: str,
    today: date | None = None,
) -> dict[str, Any]:
    """Values a registered asset by every method the inputs allow; stores the workings."""
    row = get(db, code)
    if row.status != "registered":
        raise Problem(
            "conflict", errors=[FieldError("status", "only a registered asset is valued")]
        )
    today = today or utcnow().date()
    results: dict[str, valuation.Valuation] = {}
    out: dict[str, Any] = {"valued_at": utcnow().isoformat(timespec="seconds"), "by": valuer}
    quality_score = row.dataset.quality_score if row.dataset is not None else None
    cost: valuation.CostValuation | None = None
    if given.cost:
        amounts: dict[str, Any] = dict(given.cost)
        if quality_score is not None and "quality_coefficient" not in amounts:
            # The dataset's measured quality sets the coefficient, through the city's bands.
            amounts["quality_score"] = quality_score
            amounts["bands"] = valuation.load_quality_bands(city_content, today)
        elif "quality_coefficient" not in amounts:
            amounts["quality_coefficient"] = "1"
        cost = valuation.cost_method(**amounts)
        results["cost"] = cost
    if given.incomes:
        if given.discount_rate is None:
            raise Problem("validation", errors=[FieldError("discount_rate", "needed with incomes")])
        results["income"] = valuation.income_method(
            incomes=given.incomes, discount_rate=given.discount_rate, share=given.income_share
        )
    if given.comparables:
        results["market"] = valuation.market_method(
            [valuation.Comparable(**c) for c in given.comparables]
        )
    if not results:
        raise Problem(
            "validation", errors=[FieldError("cost", "give the inputs of at least one method")]
        )
    for label, result in results.items():
        out[label] = result.as_dict()
    weights = {k: v for k, v in given.weights.items() if k in results and v}
    reconciled = valuation.reconcile(results, weights or None)
    out["reconciled"] = reconciled.as_dict()
    # The books carry what the resource cost, not what an appraiser says it is worth.
    out["accounting"] = valuation.accounting_view(
        intended_use=given.intended_use,
        cost=cost.total_cost if cost is not None else Decimal(0),
        benefits_probable=given.benefits_probable,
        cost_reliably_measurable=cost is not None,
        useful_life_years=given.useful_life_years,
        estimated_selling_price=given.estimated_selling_price,
        on=today,
    ).as_dict()
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


def counts_by_status(db: Session) -> dict[str, int]:
    return {
        str(s): int(n)
        for s, n in db.execute(
            select(AssetRegistration.status, func.count()).group_by(AssetRegistration.status)
        )
    }


def dataset_choices(db: Session) -> list[Dataset]:
    return list(
        db.scalars(select(Dataset).where(Dataset.table_name.is_not(None)).order_by(Dataset.name))
    )


__all__ = ["Application", "ValuationInput", "service"]
