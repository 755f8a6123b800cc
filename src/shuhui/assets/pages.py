"""The data-asset registry's pages (``/catalog/assets…``) and its public certificate files.

A form's values are validated by the API's own models (:mod:`shuhui.assets.schemas`) before the
service sees them, so a page refuses what the API refuses, naming the field by its label.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.assets import service
from shuhui.assets.deps import Applicant, Operator, data_dir, registrar
from shuhui.assets.models import ASSET_RIGHTS, ASSET_STATES, AssetRegistration
from shuhui.assets.schemas import (
    COST_INPUTS,
    FACTOR_INPUTS,
    PERCENT_INPUTS,
    ApplicationIn,
    ReviewIn,
    ValuationIn,
)
from shuhui.core import display, forms
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render
from shuhui.core.money import MoneyError, fraction_text, parse_percent, percent_shown
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)


# --- certificate files (public: a certificate is shown to whoever relies on it) -----------------


@pages.get("/catalog/assets/{code}/certificate.json")
def certificate(db: DB, code: str) -> Response:
    row = service.get(db, code)
    if row.certificate is None:
        raise Problem("not-found", detail="该申请尚未登记，没有登记证书")
    return Response(
        row.certificate,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{row.certificate_no}.json"'},
    )


@pages.get("/catalog/assets/{code}/certificate.seal.json")
def certificate_seal(db: DB, code: str) -> Response:
    row = service.get(db, code)
    if row.certificate_seal is None:
        raise Problem("not-found", detail="该申请尚未登记，没有登记证书")
    return Response(
        row.certificate_seal.encode(),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="{row.certificate_no}.json.seal.json"'
        },
    )


# --- how a refusal names the fields -------------------------------------------------------------

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
    **{f"cost.{name}": (zh, en) for name, zh, en in COST_INPUTS},
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


# --- pages ------------------------------------------------------------------------------------


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "rights_titles": ASSET_RIGHTS,
        "state_titles": ASSET_STATES,
        "cost_inputs": COST_INPUTS,
        "percent_inputs": PERCENT_INPUTS,
        "factor_inputs": FACTOR_INPUTS,
        **display.shown_errors_by_place(None, field_label),
        **extra,
    }


@pages.get("/catalog/assets", response_class=HTMLResponse)
def assets_page(request: Request, db: DB, user: Applicant) -> Response:
    return render(
        request,
        "assets.html",
        _context(
            rows=service.listing(db, user),
            counts=service.counts_by_status(db, user),
            sees_all=service.is_operator(user),
        ),
    )


def _own_code(user: User) -> str | None:
    """The credit code an enterprise must apply under; None for whoever applies for a department."""
    return None if service.applies_for_a_department(user) else user.credit_code


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
        _context(datasets=service.dataset_choices(db), form=form, own_code=_own_code(user)),
    )


def _form_application(form: Any) -> ApplicationIn:
    """An application form's values, validated as the API validates its body."""
    values: dict[str, Any] = {
        name: str(form.get(name) or "") for name in ApplicationIn.model_fields if name != "rights"
    }
    values["kind"] = values["kind"] or "dataset"
    values["dataset"] = values["dataset"] or None
    values["rights"] = [str(r) for r in form.getlist("rights")]
    return forms.validate(ApplicationIn, values)


def _typed(form: Any) -> dict[str, Any]:
    """What was typed into an application form, to show it again."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["rights_list"] = [str(r) for r in form.getlist("rights")]
    return values


@pages.post("/catalog/assets/new", response_class=HTMLResponse)
async def new_submit(request: Request, db: DB, user: Applicant) -> Response:
    form = await request.form()
    try:
        row = service.apply(db, _form_application(form), applicant=user)
    except Problem as exc:
        db.rollback()
        return render(
            request,
            "asset_new.html",
            _context(
                datasets=service.dataset_choices(db),
                form=_typed(form),
                own_code=_own_code(user),
                **display.shown_errors_by_place(exc, field_label),
            ),
            status=exc.http_status,
        )
    return RedirectResponse(f"/catalog/assets/{row.code}", status_code=303)


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
    rate_warnings: list[dict[str, str]] | None = None,
) -> Response:
    own = row.applicant == user.username
    operator = service.is_operator(user)
    can_resubmit = own and row.status == "returned"
    current = {
        "kind": row.kind,
        "dataset": row.dataset.name if row.dataset else "",
        "title": row.title,
        "holder_name": row.holder_name,
        "holder_code": row.holder_code,
        "rights_list": service.rights_of(row),
        "sources": row.sources,
        "processing": row.processing,
        "scenarios": row.scenarios,
    }
    return render(
        request,
        "asset_detail.html",
        _context(
            row=row,
            rights=service.rights_of(row),
            valuation=json.loads(row.valuation) if row.valuation else None,
            is_operator=operator,
            own_application=own,
            can_review=operator and not own and row.status == "submitted",
            can_resubmit=can_resubmit,
            datasets=service.dataset_choices(db) if can_resubmit else [],
            own_code=_own_code(user),
            form=application or current,
            vform=valuation_form or VALUATION_DEFAULTS,
            typed_reason=typed_reason,
            rate_warnings=rate_warnings or [],
            **display.shown_errors_by_place(refusal, field_label, failed),
        ),
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/catalog/assets/{code}", response_class=HTMLResponse)
def detail_page(request: Request, db: DB, user: Applicant, code: str) -> Response:
    return _detail(request, db, user, service.get_for(db, code, user))


@pages.post("/catalog/assets/{code}/resubmit", response_class=HTMLResponse)
async def resubmit_page(request: Request, db: DB, user: Applicant, code: str) -> Response:
    form = await request.form()
    service.get_for(db, code, user)
    try:
        service.resubmit(db, code, _form_application(form), applicant=user)
    except Problem as exc:
        db.rollback()
        row = service.get_for(db, code, user)
        return _detail(
            request, db, user, row, failed="resubmit", refusal=exc, application=_typed(form)
        )
    return RedirectResponse(f"/catalog/assets/{code}", status_code=303)


@pages.post("/catalog/assets/{code}/review", response_class=HTMLResponse)
async def review_page(request: Request, db: DB, user: Operator, code: str) -> Response:
    form = await request.form()
    try:
        body = forms.validate(
            ReviewIn,
            {"decision": str(form.get("decision") or ""), "reason": str(form.get("reason") or "")},
        )
        if body.decision == "reject" and not confirmed(form):
            row = service.get(db, code)
            if row.status != "submitted":
                raise Problem("conflict", detail="该申请已审核")
            if row.applicant == user.username:
                raise Problem("forbidden", detail="申请人不能审核自己提交的申请（职责分离）")
            if not body.reason.strip():
                raise Problem("validation", errors=[FieldError("reason", "请写明不予登记的理由")])
            return ask_first(request, _ask_reject(row, body.reason.strip()), form)
        service.review(
            db,
            data_dir(request),
            registrar(request),
            code,
            decision=body.decision,
            reason=body.reason,
            reviewer=user.username,
        )
    except Problem as exc:
        db.rollback()
        row = service.get(db, code)
        reason = str(form.get("reason") or "")
        return _detail(request, db, user, row, failed="review", refusal=exc, typed_reason=reason)
    return RedirectResponse(f"/catalog/assets/{code}", status_code=303)


def _ask_reject(row: AssetRegistration, reason: str) -> Ask:
    return Ask(
        title=(f"不予登记 {row.code}？", f"Reject the registration {row.code}?"),
        summary=(
            f"{row.holder_name}的“{row.title}”登记申请将不予登记并结束，不能改回；"
            f"理由“{reason}”会告知申请人。如只需修改，请选择“退回修改”。",
            f"{row.holder_name}'s application to register “{row.title}” will be rejected and "
            "closed; this cannot be undone. To ask for changes, return it instead.",
        ),
        action=f"/catalog/assets/{row.code}/review",
        cancel=f"/catalog/assets/{row.code}",
        button=("确认不予登记", "Reject"),
        count=1,
    )


def _valuation_typed(form: Any) -> dict[str, Any]:
    """What was typed into the valuation form, to show it again."""
    costs = tuple(name for name, _zh, _en in COST_INPUTS)
    names = (*costs, "incomes", "discount_rate", "comparables", "useful_life_years")
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in names}
    values["intended_use"] = str(form.get("intended_use") or "internal_use")
    values["benefits_probable"] = form.get("benefits_probable") is not None
    return values


class _Rates:
    """Reads the valuation form's rates, typed as percentages ("8", "8%", "8.5%"), into the
    API's fractions ("0.08"), keeping each refusal. (Money typed in 元 is read by the schema,
    ``core.money.YuanText``.) A refused rate goes on as "0": the schema then has nothing more
    to say about it, and with a refusal kept nothing reaches the valuation."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def read(self, field: str, text: str) -> str:
        try:
            # The sign is the method's to judge, so a form's every fault is named at once.
            return fraction_text(parse_percent(text, negative=True))
        except MoneyError as exc:
            self.errors.append(FieldError(field, str(exc)))
            return "0"

    def cost(self, name: str, text: str) -> str:
        return self.read(f"cost.{name}", text) if name in PERCENT_INPUTS else text


def _valuation_body(typed: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The valuation form as the API's body; blank cost items are left out (they count as 0),
    rates typed as percentages become the API's fractions."""
    rates = _Rates()
    errors = rates.errors
    comparables: list[dict[str, str]] = []
    names = ("quality", "supply_demand", "period", "volume", "other")
    lines = [line for line in str(typed["comparables"]).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) > 2 + len(names):
            errors.append(FieldError(f"comparables[{i}]", "每行最多 7 项"))
        factors = {k: v for k, v in zip(names, parts[2:], strict=False) if v}
        price = parts[1] if len(parts) > 1 else ""
        comparables.append({"name": parts[0], "price": price, **factors})
    # Incomes are separated by commas, "、" or ";": a comma inside an amount ("8,000") would be
    # ambiguous, so this one field takes no thousands separators.
    incomes = re.split(r"[,，、;；]", str(typed["incomes"]))
    rate = typed["discount_rate"]
    body = {
        "cost": {
            name: rates.cost(name, typed[name]) for name, _zh, _en in COST_INPUTS if typed[name]
        },
        "incomes": [i.strip() for i in incomes if i.strip()],
        "discount_rate": rates.read("discount_rate", rate) if rate else None,
        "comparables": comparables,
        "intended_use": typed["intended_use"],
        "useful_life_years": typed["useful_life_years"] or None,
        "benefits_probable": typed["benefits_probable"],
    }
    return body, errors


def rate_warnings(given: ValuationIn) -> list[dict[str, str]]:
    """The rates outside the range a valuation usually stays in (a discount rate of 1000% is
    likely "10" meant as 10%): the page asks for a confirmation before saving them."""
    rates = {"discount_rate": given.discount_rate, **given.cost.given()}
    found = []
    for name, (low, high) in PERCENT_INPUTS.items():
        value = rates.get(name)
        if value is None:
            continue
        fraction = Decimal(value)
        if low <= fraction <= high:
            continue
        field = name if name == "discount_rate" else f"cost.{name}"
        _key, zh, en = field_label(field)
        found.append(
            {
                "field": field,
                "zh": f"{zh}为 {percent_shown(fraction)}，通常在 {percent_shown(low)} 至 "
                f"{percent_shown(high)} 之间：请核对（单位是百分数，8 即 8%）",
                "en": f"{en} is {percent_shown(fraction)}, usually between "
                f"{percent_shown(low)} and {percent_shown(high)}: please check "
                "(it is a percentage: 8 means 8%)",
            }
        )
    return found


@pages.post("/catalog/assets/{code}/valuation", response_class=HTMLResponse)
async def value_page(request: Request, db: DB, user: Operator, code: str) -> Response:
    form = await request.form()
    typed = _valuation_typed(form)
    body, errors = _valuation_body(typed)
    try:
        given: ValuationIn | None = None
        try:
            given = ValuationIn.model_validate(body)
        except ValidationError as exc:
            errors += forms.field_errors(exc.errors())
        if errors or given is None:
            detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
            raise Problem("validation", detail=detail, errors=errors)
        warnings = rate_warnings(given)
        if warnings and form.get("confirm_rates") != "1":
            # Nothing saved yet: the same form again, the warnings beside it and a button that
            # saves these values as they are.
            row = service.get(db, code)
            return _detail(request, db, user, row, valuation_form=typed, rate_warnings=warnings)
        service.value(
            db, request.app.state.settings.city_content, code, given, valuer=user.username
        )
    except Problem as exc:
        db.rollback()
        row = service.get(db, code)
        return _detail(
            request, db, user, row, failed="valuation", refusal=exc, valuation_form=typed
        )
    return RedirectResponse(f"/catalog/assets/{code}#valuation", status_code=303)
