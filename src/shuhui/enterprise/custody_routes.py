"""Data custody over HTTP: the enterprise's API (``/api/v1/enterprise/custody/…``, router
``api``) and its pages (``/enterprise/data…``, router ``pages``): host a file, see it listed and
offered, review the applications for it, read what it earned, withdraw it.

Thin, as every domain's routes are: the API takes the schemas of
:mod:`shuhui.enterprise.custody_schemas`, the pages read their forms through the same schemas,
and every decision is :mod:`shuhui.enterprise.custody`'s. A refused form comes back with each
reason next to its field and the status the API would answer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from shuhui.catalog.service import CityCatalog
from shuhui.channel.billing import ProviderStatement, usage_title
from shuhui.channel.city import CityChannel
from shuhui.channel.common import month_of
from shuhui.channel.deps import city_now, parse_month
from shuhui.channel.schemas import application_out
from shuhui.channel.views import application_view
from shuhui.core import display, forms
from shuhui.core.bounds import Month
from shuhui.core.clock import format_local, utcnow
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.datacore.store import DataCore
from shuhui.enterprise import custody
from shuhui.enterprise.access import EnterpriseUser
from shuhui.enterprise.custody_schemas import (
    CODE_PATTERN,
    COLUMN_TYPES,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_FORM_BYTES,
    MAX_JSON_BYTES,
    TERMS,
    HostFileIn,
    HostIn,
    ReviewIn,
    WithdrawIn,
)
from shuhui.enterprise.models import HostedData
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

api = APIRouter(prefix="/api/v1/enterprise/custody", tags=["enterprise: data custody (数据托管)"])
pages = APIRouter(include_in_schema=False)

HostingCode = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]
ApplicationCode = Annotated[str, Path(min_length=1, max_length=32)]
SHOWN_COLUMNS: Final = 6  # empty column rows the form starts with


def _core(request: Request) -> DataCore:
    core: DataCore = request.app.state.datacore
    return core


def _catalog(request: Request) -> CityCatalog:
    catalog: CityCatalog = request.app.state.city_catalog
    return catalog


def hosting_out(row: HostedData, city: CityChannel) -> dict[str, Any]:
    product = city.products.get(row.table_name)
    return {
        "code": row.code,
        "table": row.table_name,
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "columns": row.columns,
        "keys": row.keys,
        "category": row.category,
        "zone": row.zone,
        "terms": row.terms,
        "condition": row.condition,
        "price_fen": row.price_fen,
        "price_yuan": yuan(row.price_fen),
        "public_governance_fen": row.public_governance_fen,
        "rows": row.rows,
        "version": row.version,
        "file_sha256": row.file_sha256,
        "file_bytes": row.file_bytes,
        "state": row.state,
        "state_zh": custody.STATES[row.state][0],
        "uploaded_at": row.uploaded_at.isoformat(),
        "withdrawn_at": None if row.withdrawn_at is None else row.withdrawn_at.isoformat(),
        "withdrawn_reason": row.withdrawn_reason,
        "catalog": f"/catalog/datasets/{row.table_name}",
        "product": None
        if product is None
        else {
            "code": product.code,
            "endpoint": f"/api/v1/channel/products/{product.code}",
            "in_force": product.withdrawn_at is None,
            "params": [p.name for p in product.params],
        },
    }


def statement_out(found: ProviderStatement) -> dict[str, Any]:
    return {
        "month": found.month.strftime("%Y-%m"),
        "lines": [
            {
                "consumer": x.consumer.credit_code,
                "consumer_name": x.consumer.name,
                "product": x.product,
                "usage": x.usage,
                "usage_zh": usage_title(x.usage)[0],
                "calls": x.calls,
                "fen": x.fen,
                "yuan": yuan(x.fen),
                "issued": x.issued,
            }
            for x in found.lines
        ],
        "calls": found.calls,
        "refused_calls": found.refused,
        "total_fen": found.fen,
        "total_yuan": yuan(found.fen),
    }


# --- the API ----------------------------------------------------------------------------------


@api.get("/datasets", summary="The enterprise's hosted data (数据托管)")
def list_hostings(request: Request, db: DB, user: EnterpriseUser) -> list[dict[str, Any]]:
    city = city_now(request, db)
    return [hosting_out(r, city) for r in custody.hostings(db, user)]


@api.post(
    "/datasets",
    status_code=201,
    summary="Host a CSV file of the enterprise's own data: checked, loaded under its own name, "
    "listed in the catalog and offered through the data channel",
)
@accepts(max_bytes=MAX_JSON_BYTES)
def host(body: HostFileIn, request: Request, db: DB, user: EnterpriseUser) -> dict[str, Any]:
    city = city_now(request, db)
    row = custody.host(
        db,
        core=_core(request),
        catalog=_catalog(request),
        city=city,
        user=user,
        given=body,  # a HostIn, carrying the file beside
        data=body.csv.encode("utf-8"),
    )
    return hosting_out(row, city_now(request, db))


@api.get("/datasets/{code}", summary="One of the enterprise's hosted data")
def get_hosting(
    code: HostingCode, request: Request, db: DB, user: EnterpriseUser
) -> dict[str, Any]:
    return hosting_out(custody.own(db, user, code), city_now(request, db))


@api.post(
    "/datasets/{code}/withdraw",
    summary="Withdraw hosted data: its calls are refused at once, its catalog entry closes",
)
def withdraw(
    code: HostingCode, body: WithdrawIn, request: Request, db: DB, user: EnterpriseUser
) -> dict[str, Any]:
    row = custody.withdraw(db, user=user, code=code, reason=body.reason)
    return hosting_out(row, city_now(request, db))


@api.get("/applications", summary="Applications to use the enterprise's hosted data")
def list_applications(request: Request, db: DB, user: EnterpriseUser) -> list[dict[str, Any]]:
    city = city_now(request, db)
    return [
        {**application_out(r.application), "my_step": r.step}
        for r in custody.applications(db, city, user)
    ]


@api.post(
    "/applications/{code}/review",
    summary="The enterprise's review of an application for its data: approve (the data bureau "
    "decides next), reject or return",
)
def review(
    code: ApplicationCode, body: ReviewIn, request: Request, db: DB, user: EnterpriseUser
) -> dict[str, Any]:
    city = city_now(request, db)
    done = custody.review(db, city, user, code, decision=body.decision, reason=body.reason)
    return application_out(done)


@api.get(
    "/statements/{month}",
    summary="What the hosted data earned in a month (YYYY-MM): calls and amounts per consumer",
)
def statement(month: Month, request: Request, db: DB, user: EnterpriseUser) -> dict[str, Any]:
    found = custody.statement(db, city_now(request, db), user, parse_month(month))
    return statement_out(found)


# --- the pages --------------------------------------------------------------------------------

FIELD_LABELS: Final = {
    "csv": ("CSV 文件", "CSV file"),
    "file": ("CSV 文件", "CSV file"),
    "slug": ("数据简称", "Short name"),
    "title": ("数据名称", "Title"),
    "description": ("数据说明", "Description"),
    "columns": ("列", "Columns"),
    "keys": ("筛选列", "Key columns"),
    "category": ("目录分类", "Category"),
    "zone": ("数据专区", "Zone"),
    "terms": ("开放方式", "Terms"),
    "condition": ("开放条件", "Conditions"),
    "price": ("每次调用价格", "Price a call"),
    "public_governance_price": ("公共治理用途价格", "Public-governance price"),
    "reason": ("原因", "Reason"),
    "decision": ("审核结论", "Decision"),
    "month": ("月份", "Month"),
}


def _shown(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    shown = display.shown_errors(refusal, display.labels_from(FIELD_LABELS), failed)
    # A file's faults name their row and column in their words; they go next to the file.
    shown["file_errors"] = [
        reason
        for field, reason in shown["field_errors"].items()
        if field in ("csv", "file") or field.startswith("csv.")
    ]
    return shown


def _statement_view(found: ProviderStatement) -> dict[str, Any]:
    out = statement_out(found)
    for line in out["lines"]:
        line["usage_title"] = usage_title(line["usage"])
    return out


def _list_page(
    request: Request,
    db: Session,
    user: User,
    *,
    month: date | None = None,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
    rows: int = SHOWN_COLUMNS,
) -> HTMLResponse:
    city = city_now(request, db)
    chosen = month or month_of(utcnow())
    reviews = custody.applications(db, city, user)
    catalog = _catalog(request)
    return render(
        request,
        "enterprise_custody.html",
        {
            "hostings": [hosting_out(r, city) for r in custody.hostings(db, user)],
            "states": custody.STATES,
            "waiting": [
                {**application_view(city, r.application), "step": r.step}
                for r in reviews
                if r.step is not None
            ],
            "others": [application_view(city, r.application) for r in reviews if r.step is None],
            "statement": _statement_view(custody.statement(db, city, user, chosen)),
            "zones": [z for z in city.zones.in_force(chosen)],
            "categories": list(catalog.categories),
            "column_types": COLUMN_TYPES,
            "terms": TERMS,
            "rows": max(rows, len((typed or {}).get("columns", []))),
            "max_columns": MAX_COLUMNS,
            "max_mb": MAX_BYTES // (1024 * 1024),
            "typed": typed or {},
            **_shown(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/enterprise/data", response_class=HTMLResponse)
def data_page(
    request: Request,
    db: DB,
    user: EnterpriseUser,
    month: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    try:
        chosen = parse_month(month) if month else None
    except Problem as exc:
        return _list_page(request, db, user, failed="statement", refusal=exc)
    return _list_page(request, db, user, month=chosen)


def _typed_host(form: Any) -> dict[str, Any]:
    """What the host form holds, as :class:`HostIn` takes it: its column rows up to the last
    one filled in (a blank row between is refused as the API would refuse it), the key
    columns ticked beside them, a public-governance price left blank left out."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    rows: list[dict[str, Any]] = []
    keys: list[str] = []
    for i in range(MAX_COLUMNS + 1):
        row = {
            "name": text(f"columns.{i}.name"),
            "title": text(f"columns.{i}.title"),
            "type": text(f"columns.{i}.type") or "string",
            "personal": form.get(f"columns.{i}.personal") == "on",
            "required": form.get(f"columns.{i}.required") == "on",
        }
        rows.append(row)
        if form.get(f"columns.{i}.key") == "on" and row["name"]:
            keys.append(row["name"])
    while rows and not (rows[-1]["name"] or rows[-1]["title"]):
        rows.pop()
    typed: dict[str, Any] = {
        name: text(name)
        for name in ("slug", "title", "description", "category", "zone", "terms", "condition")
    }
    typed.update(columns=rows, keys=keys, price=text("price"))
    if text("public_governance_price"):
        typed["public_governance_price"] = text("public_governance_price")
    return typed


async def _file_of(form: Any) -> bytes:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
        raise invalid("file", Text("请选择要上传的 CSV 文件", "choose the CSV file to upload"))
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise invalid(
            "file",
            Text(
                f"文件超过 {MAX_BYTES // (1024 * 1024)} MB：请分成几个文件上传",
                f"larger than {MAX_BYTES // (1024 * 1024)} MiB",
            ),
        )
    return data


@pages.post("/enterprise/data", response_class=HTMLResponse)
@accepts(max_bytes=MAX_FORM_BYTES)
async def host_page(request: Request, db: DB, user: EnterpriseUser) -> Response:
    form = await request.form()
    typed = _typed_host(form)
    if form.get("action") == "more":  # one more column row; nothing is checked or kept
        return _list_page(request, db, user, typed=typed, rows=len(typed["columns"]) + 1)
    try:
        given = forms.validate(HostIn, typed)
        data = await _file_of(form)
        # Reading, checking and writing the file take a while: not on the event loop.
        row = await run_in_threadpool(
            custody.host,
            db,
            core=_core(request),
            catalog=_catalog(request),
            city=city_now(request, db),
            user=user,
            given=given,
            data=data,
        )
    except Problem as exc:
        db.rollback()
        return _list_page(request, db, user, failed="host", refusal=exc, typed=typed)
    return RedirectResponse(f"/enterprise/data/{row.code}", status_code=303)


def _detail_page(
    request: Request,
    db: Session,
    user: User,
    code: str,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    city = city_now(request, db)
    row = custody.own(db, user, code)
    reviews = [
        r
        for r in custody.applications(db, city, user)
        if row.table_name in application_out(r.application)["products"]
    ]
    return render(
        request,
        "enterprise_custody_detail.html",
        {
            "h": hosting_out(row, city),
            "states": custody.STATES,
            "uploaded": format_local(row.uploaded_at),
            "withdrawn": format_local(row.withdrawn_at),
            "column_types": COLUMN_TYPES,
            "terms": TERMS,
            "holders": custody.users_of(db, row),
            "applications": [
                {**application_view(city, r.application), "step": r.step} for r in reviews
            ],
            "typed": typed or {},
            **_shown(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/enterprise/data/{code}", response_class=HTMLResponse)
def hosting_page(code: HostingCode, request: Request, db: DB, user: EnterpriseUser) -> Response:
    return _detail_page(request, db, user, code)


def _withdraw_ask(row: HostedData, holders: int, reason: str) -> Ask:
    summary = (
        (
            f"撤回后，正在使用这份数据的 {holders} 家机构的调用立即被拒绝，"
            "数据目录中的条目随即关闭；撤回后不能恢复。",
            f"Once withdrawn, the calls of the {holders} institutions using it are refused at "
            "once and its catalog entry closes; this cannot be undone.",
        )
        if holders
        else (
            "目前没有机构获准使用这份数据。撤回后不能再申请使用，数据目录中的条目随即关闭；"
            "撤回后不能恢复。",
            "No institution holds a grant of it now. Once withdrawn, no one can apply for it and "
            "its catalog entry closes; this cannot be undone.",
        )
    )
    return Ask(
        title=(f"撤回“{row.title}”？", f"Withdraw {row.title}?"),
        summary=summary,
        consequences=(
            (f"撤回原因：{reason}", f"Reason: {reason}"),
            (
                "已经产生的调用仍按月结算，本企业仍能看到对账；",
                "calls made so far are still billed, and you still see them;",
            ),
            (
                "如需再次提供，请以新的数据简称重新上传；",
                "to offer it again, upload it under a new short name;",
            ),
            ("撤回记入审计账本。", "the withdrawal is recorded in the audit ledger."),
        ),
        action=f"/enterprise/data/{row.code}/withdraw",
        cancel=f"/enterprise/data/{row.code}",
        button=("确认撤回", "Withdraw"),
        count=holders,
    )


@pages.post("/enterprise/data/{code}/withdraw", response_class=HTMLResponse)
async def withdraw_page(
    code: HostingCode, request: Request, db: DB, user: EnterpriseUser
) -> Response:
    form = await request.form()
    typed = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        body = forms.validate_form(WithdrawIn, form)
        if not confirmed(form):
            row = custody.own(db, user, code)
            if row.state != "hosted":
                raise Problem("conflict", detail="这份数据已撤回")
            holders = len(custody.users_of(db, row))
            return ask_first(request, _withdraw_ask(row, holders, body.reason.strip()), form)
        custody.withdraw(db, user=user, code=code, reason=body.reason)
    except Problem as exc:
        db.rollback()
        return _detail_page(request, db, user, code, failed="withdraw", refusal=exc, typed=typed)
    return RedirectResponse(f"/enterprise/data/{code}", status_code=303)


def _reject_ask(view: dict[str, Any], back: str) -> Ask:
    names = "、".join(p["zh"] for p in view["product_names"])
    return Ask(
        title=(f"不同意 {view['consumer_name']} 的申请？", "Reject the application?"),
        summary=(
            f"不同意后，{view['consumer_name']} 申请使用“{names}”的申请 {view['code']} "
            "即告终止，不能恢复；对方须重新申请。",
            f"The application {view['code']} ends and cannot be resumed; the consumer must "
            "apply again.",
        ),
        consequences=(("审核意见记入审计账本。", "The decision is recorded in the ledger."),),
        action=f"/enterprise/data/applications/{view['code']}/review",
        cancel=back,
        button=("确认不同意", "Reject"),
        count=1,
    )


@pages.post("/enterprise/data/applications/{code}/review", response_class=HTMLResponse)
async def review_page(
    code: ApplicationCode, request: Request, db: DB, user: EnterpriseUser
) -> Response:
    form = await request.form()
    typed = {k: v for k, v in form.items() if isinstance(v, str)}
    back = "/enterprise/data#applications"
    failed = f"review:{code}"
    try:
        given = forms.validate_form(ReviewIn, form)
        city = city_now(request, db)
        if given.decision == "reject" and not confirmed(form):
            reviews = custody.applications(db, city, user)
            found = next((r for r in reviews if r.application.code == code), None)
            if found is None or found.step is None:
                raise Problem("forbidden", detail="该申请不在等待本企业审核")
            if not given.reason.strip():
                raise invalid("reason", Text("请写明不同意的理由", "say why"))
            view = application_view(city, found.application)
            return ask_first(request, _reject_ask(view, back), form)
        custody.review(db, city, user, code, decision=given.decision, reason=given.reason)
    except Problem as exc:
        db.rollback()
        return _list_page(request, db, user, failed=failed, refusal=exc, typed=typed)
    return RedirectResponse(back, status_code=303)
