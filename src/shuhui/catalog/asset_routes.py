"""The data-asset registry over HTTP: API and pages (apply, review, certificate, valuation)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from shuhui.catalog import assets
from shuhui.catalog.models import ASSET_RIGHTS, ASSET_STATES, AssetRegistration
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import Role, User

api = APIRouter(prefix="/api/v1/assets", tags=["data-asset registry"])
pages = APIRouter(include_in_schema=False)

Applicant = Annotated[
    User, Depends(require_role(Role.data_operator, Role.enterprise, Role.officer))
]
Operator = Annotated[User, Depends(require_role(Role.data_operator))]


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["dataset", "product"] = "dataset"
    dataset: str | None = Field(default=None, max_length=100)
    title: str = Field(min_length=1, max_length=256)
    holder_name: str = Field(min_length=1, max_length=256)
    holder_code: str = Field(min_length=18, max_length=18, description="unified credit code")
    rights: list[Literal["holding", "processing", "operation"]] = Field(min_length=1)
    sources: str = Field(min_length=1, max_length=assets.TEXT_LIMIT)
    processing: str = Field(min_length=1, max_length=assets.TEXT_LIMIT)
    scenarios: str = Field(min_length=1, max_length=assets.TEXT_LIMIT)

    def application(self) -> assets.Application:
        return assets.Application(
            kind=self.kind,
            dataset=self.dataset,
            title=self.title,
            holder_name=self.holder_name,
            holder_code=self.holder_code,
            rights=list(self.rights),
            sources=self.sources,
            processing=self.processing,
            scenarios=self.scenarios,
        )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "return", "reject"]
    reason: str = Field(default="", max_length=1024)


Amount = Annotated[str, Field(max_length=32, pattern=r"^-?\d+(\.\d+)?$")]


class ComparableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    price: Amount
    quality: Amount = "1"
    supply_demand: Amount = "1"
    period: Amount = "1"
    volume: Amount = "1"
    other: Amount = "1"


class ValuationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cost: dict[
        Literal[
            "acquisition",
            "processing",
            "quality",
            "security",
            "registration",
            "other",
            "profit_margin",
            "devaluation_rate",
            "quality_coefficient",
        ],
        Amount,
    ] = Field(default_factory=dict)
    incomes: list[Amount] = Field(default_factory=list, max_length=100)
    discount_rate: Amount | None = None
    income_share: Amount | None = None
    comparables: list[ComparableIn] = Field(default_factory=list, max_length=100)
    weights: dict[Literal["cost", "income", "market"], Amount] = Field(default_factory=dict)
    intended_use: Literal["internal_use", "held_for_sale"] = "internal_use"
    useful_life_years: int | None = Field(default=None, ge=1, le=100)
    benefits_probable: bool = True
    estimated_selling_price: Amount | None = None

    def given(self) -> assets.ValuationInput:
        return assets.ValuationInput(
            cost={str(k): v for k, v in self.cost.items()},
            incomes=list(self.incomes),
            discount_rate=self.discount_rate,
            income_share=self.income_share,
            comparables=[c.model_dump() for c in self.comparables],
            weights={str(k): v for k, v in self.weights.items()},
            intended_use=self.intended_use,
            useful_life_years=self.useful_life_years,
            benefits_probable=self.benefits_probable,
            estimated_selling_price=self.estimated_selling_price,
        )


def out(row: AssetRegistration) -> dict[str, Any]:
    return {
        "code": row.code,
        "kind": row.kind,
        "dataset": row.dataset.name if row.dataset else None,
        "title": row.title,
        "holder": {"name": row.holder_name, "credit_code": row.holder_code},
        "rights": assets.rights_of(row),
        "sources": row.sources,
        "processing": row.processing,
        "scenarios": row.scenarios,
        "status": row.status,
        "applicant": row.applicant,
        "submitted_at": row.submitted_at.isoformat(),
        "reviewer": row.reviewer,
        "review_reason": row.review_reason,
        "certificate_no": row.certificate_no,
        "certificate_url": (
            f"/catalog/assets/{row.code}/certificate.json" if row.certificate else None
        ),
        "seal_url": f"/catalog/assets/{row.code}/certificate.seal.json"
        if row.certificate
        else None,
        "valuation": json.loads(row.valuation) if row.valuation else None,
    }


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


@api.post("", status_code=201, summary="Apply to register a dataset or data product as an asset")
def apply(db: DB, user: Applicant, body: ApplicationIn) -> dict[str, Any]:
    return out(assets.apply(db, body.application(), applicant=user))


@api.get("", summary="Applications and registrations the caller may see")
def list_all(db: DB, user: Applicant, status: str | None = None) -> list[dict[str, Any]]:
    return [out(r) for r in assets.listing(db, user, status=status)]


@api.get("/{code}", summary="One application or registration")
def show(db: DB, user: Applicant, code: str) -> dict[str, Any]:
    return out(assets.get_for(db, code, user))


@api.put("/{code}", summary="Resubmit a returned application (the original applicant only)")
def resubmit(db: DB, user: Applicant, code: str, body: ApplicationIn) -> dict[str, Any]:
    return out(assets.resubmit(db, code, body.application(), applicant=user))


@api.post("/{code}/review", summary="Accept (seal a certificate), return or reject")
def review(request: Request, db: DB, user: Operator, code: str, body: ReviewIn) -> dict[str, Any]:
    row = assets.review(
        db,
        _data_dir(request),
        code,
        decision=body.decision,
        reason=body.reason,
        reviewer=user.username,
    )
    return out(row)


@api.post("/{code}/valuation", summary="Value a registered asset; returns the workings")
def value(request: Request, db: DB, user: Operator, code: str, body: ValuationIn) -> dict[str, Any]:
    return assets.value(
        db, request.app.state.settings.city_content, code, body.given(), valuer=user.username
    )


# --- certificate files (public: a certificate is shown to whoever relies on it) -----------------


@pages.get("/catalog/assets/{code}/certificate.json")
def certificate(db: DB, code: str) -> Response:
    row = assets.get(db, code)
    if row.certificate is None:
        raise Problem("not-found", detail="该申请尚未登记，没有登记证书")
    return Response(
        row.certificate,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{row.certificate_no}.json"'},
    )


@pages.get("/catalog/assets/{code}/certificate.seal.json")
def certificate_seal(db: DB, code: str) -> Response:
    row = assets.get(db, code)
    if row.certificate_seal is None:
        raise Problem("not-found", detail="该申请尚未登记，没有登记证书")
    return Response(
        row.certificate_seal.encode(),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="{row.certificate_no}.json.seal.json"'
        },
    )


# --- pages ------------------------------------------------------------------------------------

# What each field is called on the pages, so a refusal names the field as the form does.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "kind": ("登记对象", "What is registered"),
    "dataset": ("数据集", "Dataset"),
    "title": ("资产名称", "Asset title"),
    "holder_name": ("持有者名称", "Holder"),
    "holder_code": ("持有者统一社会信用代码", "Holder's credit code"),
    "rights": ("所持权利", "Rights held"),
    "sources": ("数据来源", "Sources"),
    "processing": ("加工处理过程", "Processing steps"),
    "scenarios": ("应用场景", "Intended scenarios"),
    "status": ("状态", "Status"),
    "applicant": ("申请人", "Applicant"),
    "code": ("申请号", "Application"),
    "decision": ("审核结论", "Decision"),
    "reason": ("审核意见", "Reason"),
    "reviewer": ("审核人", "Reviewer"),
    "cost": ("成本法", "Cost method"),
    "cost.acquisition": ("数据获取成本", "Acquisition cost"),
    "cost.processing": ("数据加工成本", "Processing cost"),
    "cost.quality": ("质量成本", "Quality cost"),
    "cost.security": ("安全成本", "Security cost"),
    "cost.registration": ("登记与合规成本", "Registration cost"),
    "cost.other": ("其他直接成本", "Other direct costs"),
    "cost.profit_margin": ("合理利润率", "Profit margin"),
    "cost.devaluation_rate": ("贬值率", "Devaluation rate"),
    "cost.quality_coefficient": ("质量调整系数", "Quality coefficient"),
    "quality_score": ("数据质量评分", "Quality score"),
    "bands": ("质量调整档次", "Quality bands"),
    "incomes": ("各年预期收益", "Projected incomes"),
    "discount_rate": ("折现率", "Discount rate"),
    "income_share": ("分成率", "Income share"),
    "comparables": ("可比案例", "Comparables"),
    "weights": ("方法权重", "Weights"),
    "results": ("各方法结果", "Method results"),
    "intended_use": ("持有目的", "Intended use"),
    "useful_life_years": ("使用寿命（年）", "Useful life (years)"),
    "benefits_probable": ("相关经济利益很可能流入", "Future economic benefits probable"),
    "estimated_selling_price": ("估计售价", "Estimated selling price"),
    "on": ("评估基准日", "Valuation date"),
}
COMPARABLE_PARTS: dict[str, tuple[str, str]] = {
    "name": ("名称", "name"),
    "price": ("价格", "price"),
    "quality": ("质量调整系数", "quality factor"),
    "supply_demand": ("供求调整系数", "supply-demand factor"),
    "period": ("期日调整系数", "date factor"),
    "volume": ("容量调整系数", "volume factor"),
    "other": ("其他调整系数", "other factor"),
    "weight": ("权重", "weight"),
}
_INCOME = re.compile(r"incomes\[(\d+)\]")
_COMPARABLE = re.compile(r"comparables\[(\d+)\](?:\.(\w+))?")


def field_label(field: str) -> tuple[str, str, str]:
    """(the form field it belongs to, its Chinese label, its English label) for a field path
    such as ``holder_code``, ``cost.acquisition``, ``incomes[1]`` or ``comparables[0].price``."""
    if found := _INCOME.fullmatch(field):
        year = int(found.group(1)) + 1
        return "incomes", f"各年预期收益（第{year}年）", f"projected income, year {year}"
    if found := _COMPARABLE.fullmatch(field):
        line = int(found.group(1)) + 1
        zh, en = f"可比案例第{line}行", f"comparable, line {line}"
        if found.group(2):
            part = COMPARABLE_PARTS.get(found.group(2), (found.group(2), found.group(2)))
            zh, en = f"{zh}{part[0]}", f"{en}, {part[1]}"
        return "comparables", zh, en
    key = field.split(".", 1)[0] if field.split(".", 1)[0] in ("weights", "results") else field
    zh, en = FIELD_LABELS.get(field, FIELD_LABELS.get(key, (field, field)))
    return key, zh, en


def shown_errors(exc: Problem) -> dict[str, Any]:
    """A refusal as a page shows it: a summary naming each field by its label, and each reason
    keyed by the form field it goes next to."""
    listed: list[dict[str, Any]] = []
    by_field: dict[str, list[dict[str, Any]]] = {}
    for e in exc.errors:
        key, zh, en = field_label(e.field)
        # Next to a field that holds many values (a year's income, a comparable's price), the
        # reason says which one.
        shown = {"field": e.field, "zh": zh, "en": en, "reason": e.reason, "which": key != e.field}
        listed.append(shown)
        by_field.setdefault(key, []).append(shown)
    message = exc.detail if exc.slug != "validation" or not exc.errors else None
    return {"message": message, "errors": listed, "field_errors": by_field}


_REASONS = {
    "string_pattern_mismatch": "not a number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _refusal(exc: ValidationError) -> Problem:
    """A form's values refused by the API's model, as the Problem the API would answer."""
    errors = [
        FieldError(_path(e["loc"]), _REASONS.get(e["type"], e["msg"].removeprefix("Value error, ")))
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
    return Problem("validation", detail=detail, errors=errors)


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "rights_titles": ASSET_RIGHTS,
        "state_titles": ASSET_STATES,
        "message": None,
        "errors": [],
        "field_errors": {},
        **extra,
    }


@pages.get("/catalog/assets", response_class=HTMLResponse)
def assets_page(request: Request, db: DB, user: Applicant) -> Response:
    return render(
        request,
        "assets.html",
        _context(
            rows=assets.listing(db, user),
            counts=assets.counts_by_status(db, user),
            sees_all=assets.is_operator(user),
        ),
    )


def _own_code(user: User) -> str | None:
    """The credit code an enterprise must apply under; None for whoever applies for a department."""
    return None if assets.applies_for_a_department(user) else user.credit_code


@pages.get("/catalog/assets/new", response_class=HTMLResponse)
def new_page(request: Request, db: DB, user: Applicant, dataset: str = "") -> Response:
    form = {
        "kind": "dataset",
        "dataset": dataset,
        "holder_name": user.department or user.display_name,
        "holder_code": user.credit_code or "",
    }
    return render(
        request,
        "asset_new.html",
        _context(datasets=assets.dataset_choices(db), form=form, own_code=_own_code(user)),
    )


def _form_application(form: Any) -> assets.Application:
    return assets.Application(
        kind=str(form.get("kind") or "dataset"),
        dataset=str(form.get("dataset") or "") or None,
        title=str(form.get("title") or ""),
        holder_name=str(form.get("holder_name") or ""),
        holder_code=str(form.get("holder_code") or ""),
        rights=[str(r) for r in form.getlist("rights")],
        sources=str(form.get("sources") or ""),
        processing=str(form.get("processing") or ""),
        scenarios=str(form.get("scenarios") or ""),
    )


def _typed(form: Any) -> dict[str, Any]:
    """What was typed into an application form, to show it again."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["rights_list"] = [str(r) for r in form.getlist("rights")]
    return values


@pages.post("/catalog/assets/new", response_class=HTMLResponse)
async def new_submit(request: Request, db: DB, user: Applicant) -> Response:
    form = await request.form()
    try:
        row = assets.apply(db, _form_application(form), applicant=user)
    except Problem as exc:
        db.rollback()
        return render(
            request,
            "asset_new.html",
            _context(
                datasets=assets.dataset_choices(db),
                form=_typed(form),
                own_code=_own_code(user),
                **shown_errors(exc),
            ),
            status=exc.http_status,
        )
    return RedirectResponse(f"/catalog/assets/{row.code}", status_code=303)


COST_INPUTS = (
    "acquisition",
    "processing",
    "quality",
    "security",
    "registration",
    "other",
    "profit_margin",
    "devaluation_rate",
)
VALUATION_DEFAULTS: dict[str, Any] = {"intended_use": "internal_use", "benefits_probable": True}


def _detail(
    request: Request,
    db: Session,
    user: User,
    row: AssetRegistration,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    application: dict[str, Any] | None = None,
    valuation_form: dict[str, Any] | None = None,
    typed_reason: str = "",
) -> Response:
    own = row.applicant == user.username
    operator = assets.is_operator(user)
    can_resubmit = own and row.status == "returned"
    current = {
        "kind": row.kind,
        "dataset": row.dataset.name if row.dataset else "",
        "title": row.title,
        "holder_name": row.holder_name,
        "holder_code": row.holder_code,
        "rights_list": assets.rights_of(row),
        "sources": row.sources,
        "processing": row.processing,
        "scenarios": row.scenarios,
    }
    return render(
        request,
        "asset_detail.html",
        _context(
            row=row,
            rights=assets.rights_of(row),
            valuation=json.loads(row.valuation) if row.valuation else None,
            is_operator=operator,
            own_application=own,
            can_review=operator and not own and row.status == "submitted",
            can_resubmit=can_resubmit,
            datasets=assets.dataset_choices(db) if can_resubmit else [],
            own_code=_own_code(user),
            form=application or current,
            vform=valuation_form or VALUATION_DEFAULTS,
            failed=failed,
            typed_reason=typed_reason,
            **(shown_errors(refusal) if refusal else {}),
        ),
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/catalog/assets/{code}", response_class=HTMLResponse)
def detail_page(request: Request, db: DB, user: Applicant, code: str) -> Response:
    return _detail(request, db, user, assets.get_for(db, code, user))


@pages.post("/catalog/assets/{code}/resubmit", response_class=HTMLResponse)
async def resubmit_page(request: Request, db: DB, user: Applicant, code: str) -> Response:
    form = await request.form()
    assets.get_for(db, code, user)
    try:
        assets.resubmit(db, code, _form_application(form), applicant=user)
    except Problem as exc:
        db.rollback()
        row = assets.get_for(db, code, user)
        return _detail(
            request, db, user, row, failed="resubmit", refusal=exc, application=_typed(form)
        )
    return RedirectResponse(f"/catalog/assets/{code}", status_code=303)


@pages.post("/catalog/assets/{code}/review", response_class=HTMLResponse)
async def review_page(request: Request, db: DB, user: Operator, code: str) -> Response:
    form = await request.form()
    try:
        assets.review(
            db,
            _data_dir(request),
            code,
            decision=str(form.get("decision") or ""),
            reason=str(form.get("reason") or ""),
            reviewer=user.username,
        )
    except Problem as exc:
        db.rollback()
        row = assets.get(db, code)
        reason = str(form.get("reason") or "")
        return _detail(request, db, user, row, failed="review", refusal=exc, typed_reason=reason)
    return RedirectResponse(f"/catalog/assets/{code}", status_code=303)


def _valuation_typed(form: Any) -> dict[str, Any]:
    """What was typed into the valuation form, to show it again."""
    names = (*COST_INPUTS, "incomes", "discount_rate", "comparables", "useful_life_years")
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in names}
    values["intended_use"] = str(form.get("intended_use") or "internal_use")
    values["benefits_probable"] = form.get("benefits_probable") is not None
    return values


def _valuation_body(typed: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The valuation form as the API's body; blank cost items are left out (they count as 0)."""
    errors: list[FieldError] = []
    comparables: list[dict[str, str]] = []
    names = ("quality", "supply_demand", "period", "volume", "other")
    lines = [line for line in str(typed["comparables"]).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) > 2 + len(names):
            errors.append(FieldError(f"comparables[{i}]", "at most 7 values on a line"))
        factors = {k: v for k, v in zip(names, parts[2:], strict=False) if v}
        price = parts[1] if len(parts) > 1 else ""
        comparables.append({"name": parts[0], "price": price, **factors})
    incomes = str(typed["incomes"]).replace("，", ",").split(",")
    body = {
        "cost": {k: typed[k] for k in COST_INPUTS if typed[k]},
        "incomes": [i.strip() for i in incomes if i.strip()],
        "discount_rate": typed["discount_rate"] or None,
        "comparables": comparables,
        "intended_use": typed["intended_use"],
        "useful_life_years": typed["useful_life_years"] or None,
        "benefits_probable": typed["benefits_probable"],
    }
    return body, errors


@pages.post("/catalog/assets/{code}/valuation", response_class=HTMLResponse)
async def value_page(request: Request, db: DB, user: Operator, code: str) -> Response:
    form = await request.form()
    typed = _valuation_typed(form)
    body, errors = _valuation_body(typed)
    try:
        given: assets.ValuationInput | None = None
        try:
            given = ValuationIn.model_validate(body).given()
        except ValidationError as exc:
            errors += _refusal(exc).errors
        if errors or given is None:
            detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
            raise Problem("validation", detail=detail, errors=errors)
        assets.value(db, request.app.state.settings.city_content, code, given, valuer=user.username)
    except Problem as exc:
        db.rollback()
        row = assets.get(db, code)
        return _detail(
            request, db, user, row, failed="valuation", refusal=exc, valuation_form=typed
        )
    return RedirectResponse(f"/catalog/assets/{code}#valuation", status_code=303)
