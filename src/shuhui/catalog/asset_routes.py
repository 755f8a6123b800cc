"""The data-asset registry over HTTP: API and pages (apply, review, certificate, valuation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from shuhui.catalog import assets
from shuhui.catalog.models import ASSET_RIGHTS, ASSET_STATES, AssetRegistration
from shuhui.core.errors import Problem
from shuhui.core.http import render
from shuhui.trust.deps import DB, require_role
from shuhui.trust.models import Role, User

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
    return out(assets.apply(db, body.application(), applicant=user.username))


@api.get("", summary="Applications and registrations")
def list_all(db: DB, user: Applicant, status: str | None = None) -> list[dict[str, Any]]:
    return [out(r) for r in assets.listing(db, status=status)]


@api.get("/{code}", summary="One application or registration")
def show(db: DB, user: Applicant, code: str) -> dict[str, Any]:
    return out(assets.get(db, code))


@api.put("/{code}", summary="Resubmit a returned application")
def resubmit(db: DB, user: Applicant, code: str, body: ApplicationIn) -> dict[str, Any]:
    return out(assets.resubmit(db, code, body.application(), applicant=user.username))


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


def _context(**extra: Any) -> dict[str, Any]:
    return {"rights_titles": ASSET_RIGHTS, "state_titles": ASSET_STATES, **extra}


@pages.get("/catalog/assets", response_class=HTMLResponse)
def assets_page(request: Request, db: DB, user: Applicant) -> Response:
    return render(
        request,
        "assets.html",
        _context(rows=assets.listing(db), counts=assets.counts_by_status(db)),
    )


@pages.get("/catalog/assets/new", response_class=HTMLResponse)
def new_page(request: Request, db: DB, user: Applicant, dataset: str = "") -> Response:
    return render(
        request,
        "asset_new.html",
        _context(
            datasets=assets.dataset_choices(db),
            form={"dataset": dataset, "holder_name": user.department or user.display_name},
            error=None,
        ),
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


@pages.post("/catalog/assets/new", response_class=HTMLResponse)
async def new_submit(request: Request, db: DB, user: Applicant) -> Response:
    form = await request.form()
    try:
        row = assets.apply(db, _form_application(form), applicant=user.username)
    except Problem as exc:
        db.rollback()
        values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        values["rights_list"] = [str(r) for r in form.getlist("rights")]
        reason = "；".join(f"{e.field}: {e.reason}" for e in exc.errors) or (exc.detail or "")
        return render(
            request,
            "asset_new.html",
            _context(datasets=assets.dataset_choices(db), form=values, error=reason),
            status=422,
        )
    return RedirectResponse(f"/catalog/assets/{row.code}", status_code=303)


@pages.get("/catalog/assets/{code}", response_class=HTMLResponse)
def detail_page(request: Request, db: DB, user: Applicant, code: str) -> Response:
    row = assets.get(db, code)
    return render(
        request,
        "asset_detail.html",
        _context(
            row=row,
            rights=assets.rights_of(row),
            valuation=json.loads(row.valuation) if row.valuation else None,
            is_operator=Role.data_operator in user.role_set,
            notice=request.query_params.get("notice"),
        ),
    )


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
        reason = "；".join(f"{e.field}: {e.reason}" for e in exc.errors) or (exc.detail or "")
        return RedirectResponse(f"/catalog/assets/{code}?notice={reason}", status_code=303)
    return RedirectResponse(f"/catalog/assets/{code}", status_code=303)


def _amount(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


@pages.post("/catalog/assets/{code}/valuation", response_class=HTMLResponse)
async def value_page(request: Request, db: DB, user: Operator, code: str) -> Response:
    form = await request.form()
    cost_fields = ("acquisition", "processing", "quality", "security", "registration", "other")
    cost = {k: v for k in cost_fields if (v := _amount(form, k)) is not None}
    for rate in ("profit_margin", "devaluation_rate"):
        if (v := _amount(form, rate)) is not None:
            cost[rate] = v
    incomes = [x for x in str(form.get("incomes") or "").replace("，", ",").split(",") if x.strip()]
    comparables = []
    for line in str(form.get("comparables") or "").splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) >= 2 and parts[0]:
            names = ("quality", "supply_demand", "period", "volume", "other")
            comparables.append(
                {"name": parts[0], "price": parts[1], **dict(zip(names, parts[2:], strict=False))}
            )
    life = _amount(form, "useful_life_years")
    try:
        body = ValuationIn.model_validate(
            {
                "cost": cost,
                "incomes": [i.strip() for i in incomes],
                "discount_rate": _amount(form, "discount_rate"),
                "comparables": comparables,
                "intended_use": str(form.get("intended_use") or "internal_use"),
                "useful_life_years": int(life) if life and life.isdigit() else None,
                "benefits_probable": form.get("benefits_probable") is not None,
            }
        )
        assets.value(
            db, request.app.state.settings.city_content, code, body.given(), valuer=user.username
        )
    except (Problem, ValueError) as exc:
        db.rollback()
        if isinstance(exc, Problem):
            reason = "；".join(f"{e.field}: {e.reason}" for e in exc.errors) or (exc.detail or "")
        else:
            reason = str(exc).splitlines()[0]
        return RedirectResponse(
            f"/catalog/assets/{code}?notice={reason}#valuation", status_code=303
        )
    return RedirectResponse(f"/catalog/assets/{code}#valuation", status_code=303)
