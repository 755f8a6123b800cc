"""Item administration (事项管理, ``/approval/admin/items``): every service item of the catalogue as
content declares it — domain and scenario, department, time limits, fee, process and
countersign, the e-certificate an approval issues, materials (and which an e-certificate
waives), how many fields the platform fills, zero submission, validity and legal reference —
and one item's form preview (each field with where it is filled from and its bounds) and process
diagram.

Read-only on purpose: items are data in git (``content/<city>/service-items.yaml`` and
``content/<city>/approval/``), reviewed like code and checked whole when the app starts
(``items.load_catalogue``), so the page says how to change one rather than offering an editor
whose changes would bypass that review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from shuhui.approval import diagram, metrics, process
from shuhui.approval.items import Catalogue, FormField, ServiceItem
from shuhui.approval.metrics import By
from shuhui.approval.models import FILL_KINDS
from shuhui.approval.precheck import KIND_NAMES
from shuhui.approval.schemas import MetricRow
from shuhui.core import display
from shuhui.core.bounds import day_in_window
from shuhui.core.clock import local_today
from shuhui.core.display import yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.standard.tables import TABLES
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

admin_pages = APIRouter(include_in_schema=False)

ItemReader = Annotated[User, Depends(require_role(Role.admin, Role.officer))]

PROCESS_NAMES: dict[str, tuple[str, str]] = {
    "approval-standard": ("标准审批（受理、审查、决定、办结）", "Standard approval"),
    "approval-countersign": ("会签审批（另一部门会签）", "Approval with a countersignature"),
    "approval-instant": ("即办（当场办结）", "Decided on the spot"),
}
HOLDERS: dict[str, tuple[str, str]] = {
    "person": ("个人", "Person"),
    "enterprise": ("企业", "Enterprise"),
}
_TABLES = {t.name: t for t in TABLES}
# How JSON Schema names a value's type, as a form's reader says it.
_TYPES: dict[str, str] = {
    "string": "文字",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "array": "多选",
}


def catalogue_of(request: Request) -> Catalogue:
    found: Catalogue = request.app.state.approval_catalogue
    return found


def content_dir_of(request: Request) -> Path:
    found: Path = request.app.state.settings.city_content
    return found


def fill_counts(item: ServiceItem) -> dict[str, int]:
    """How many of the item's fields the platform fills, by kind (a field may both be filled
    from a register and offer the applicant's history)."""
    fields = item.form.fields
    return {
        "identity": sum(1 for f in fields if f.fill is not None and f.fill.kind == "identity"),
        "shared": sum(1 for f in fields if f.fill is not None and f.fill.kind == "shared"),
        "history": sum(1 for f in fields if f.history),
        "total": len(fields),
    }


def fill_source(f: FormField) -> str:
    """Where the platform fills a field from, in words: the register or table and its column,
    and the key it reads the applicant's row by."""
    parts: list[str] = []
    if f.fill is not None:
        kind = FILL_KINDS[f.fill.kind][0]
        table = _TABLES.get(f.fill.table)
        if table is None:
            where = f"{f.fill.table}.{f.fill.column}"
        else:
            column = next((c for c in table.columns if c.name == f.fill.column), None)
            title = column.title if column is not None else f.fill.column
            where = f"{table.title}（{table.department}）·{title}"
        key = "公民身份号码" if f.fill.key == "citizen_id" else "统一社会信用代码"
        if f.fill.key not in ("citizen_id", "credit_code"):
            key = f.fill.key
        latest = "，取最新一条" if f.fill.order_by else ""
        parts.append(f"{kind}：{where}，按申请人{key}{latest}")
    if f.history:
        parts.append(f"{FILL_KINDS['history'][0]}：申请人以往办件中填写的值")
    return "；".join(parts) if parts else FILL_KINDS["typed"][0]


def field_bounds(schema: dict[str, Any]) -> list[str]:
    """A field's bounds as the applicant's form enforces them, in words (its pattern, being
    code, the page shows apart)."""
    out: list[str] = []
    kind = schema.get("type")
    if schema.get("format") == "date":
        out.append("日期（年-月-日）")
    elif isinstance(kind, str) and kind in _TYPES:
        out.append(_TYPES[kind])
    if "minLength" in schema and schema["minLength"] > 1:
        out.append(f"至少 {schema['minLength']} 字")
    if "maxLength" in schema:
        out.append(f"最多 {schema['maxLength']} 字")
    if "minimum" in schema:
        out.append(f"不小于 {schema['minimum']}")
    if "maximum" in schema:
        out.append(f"不大于 {schema['maximum']}")
    choices = schema.get("enum") or (schema.get("items") or {}).get("enum")
    if choices:
        out.append("可选：" + "、".join(str(c) for c in choices))
    if "maxItems" in schema:
        out.append(f"最多选 {schema['maxItems']} 项")
    return out


@dataclass(frozen=True)
class ItemRow:
    item: ServiceItem
    domain: str
    scenario: str
    process: tuple[str, str]
    fee: str
    counts: dict[str, int]
    waivable: int
    in_force: bool


def item_row(catalogue: Catalogue, item: ServiceItem, today: date) -> ItemRow:
    domain = catalogue.domains.get(item.domain)
    scenario = catalogue.scenarios.get(item.scenario or "")
    return ItemRow(
        item=item,
        domain=domain.name_zh if domain else item.domain,
        scenario=scenario.name_zh if scenario else "",
        process=PROCESS_NAMES.get(item.process, (item.process, item.process)),
        fee="免费" if item.fee_fen == 0 else f"{yuan(item.fee_fen)} 元",
        counts=fill_counts(item),
        waivable=sum(1 for m in item.materials if m.replaced_by),
        in_force=item.in_force(today),
    )


@admin_pages.get("/approval/admin/items", response_class=HTMLResponse)
def items_page(
    request: Request, user: ItemReader, domain: str = "", scenario: str = ""
) -> Response:
    catalogue = catalogue_of(request)
    today = local_today()
    domain = domain[:32] if domain in catalogue.domains else ""
    scenario = scenario[:64] if scenario in catalogue.scenarios else ""
    chosen = [
        i
        for i in catalogue.items.values()
        if (not domain or i.domain == domain)
        and (
            not scenario or i.scenario == scenario or i.code in catalogue.scenarios[scenario].items
        )
    ]
    groups: list[tuple[str, list[ItemRow]]] = []
    for code, d in catalogue.domains.items():
        rows = [item_row(catalogue, i, today) for i in chosen if i.domain == code]
        if rows:
            groups.append((d.name_zh, rows))
    return render(
        request,
        "approval_desk_items.html",
        {
            "groups": groups,
            "domains": catalogue.domains,
            "scenarios": catalogue.scenarios,
            "domain": domain,
            "scenario": scenario,
            "total": len(chosen),
            "all": len(catalogue.items),
            "zero": sum(1 for i in chosen if i.zero_submission),
            "holders": HOLDERS,
            "city": content_dir_of(request).name,
        },
    )


@admin_pages.get("/approval/admin/items/{code}", response_class=HTMLResponse)
def item_page(request: Request, user: ItemReader, code: str) -> Response:
    catalogue = catalogue_of(request)
    item = catalogue.get(code[:64])
    if item is None:
        raise Problem("not-found", detail=Text(f"没有事项 {code[:64]}", "no such item"))
    today = local_today()
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in item.form.fields:
        groups.setdefault(f.group or "其他", []).append(
            {
                "field": f,
                "source": fill_source(f),
                "kind": f.fill.kind
                if f.fill is not None
                else ("history" if f.history else "typed"),
                "bounds": field_bounds(f.schema),
                "pattern": f.schema.get("pattern"),
            }
        )
    svg = diagram.render_svg(
        process.process_path(item.process, content_dir_of(request)), current=set(), done=set()
    )
    steps = process.load_process(item.process, content_dir_of(request)).steps.values()
    return render(
        request,
        "approval_desk_item.html",
        {
            "row": item_row(catalogue, item, today),
            "item": item,
            "groups": groups,
            "diagram_svg": svg,
            "steps": [(s.name, process.ROLES.get(s.role, (s.role, s.role))[0]) for s in steps],
            "holders": HOLDERS,
            "city": content_dir_of(request).name,
            "kinds": KIND_NAMES,
        },
    )


# --- 审批效能: the metrics page ----------------------------------------------------------------

MetricsReader = Annotated[User, Depends(require_role(Role.officer, Role.admin, Role.data_operator))]
BY: dict[str, tuple[str, str]] = {
    "item": ("按事项", "By item"),
    "department": ("按部门", "By department"),
    "domain": ("按领域", "By domain"),
}
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "since": ("起始日期", "From"),
    "until": ("截止日期", "To"),
}


def _day(field: str, raw: str) -> date | None:
    text = raw.strip()[:10]
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise invalid(field, Text("请按“年-月-日”填写日期", "YYYY-MM-DD")) from None
    return day_in_window(field, day)


def _share(v: float | None) -> float | None:
    return None if v is None else round(v * 100, 1)


def metric_charts(rows: list[MetricRow]) -> list[dict[str, Any]]:
    """What each chart draws and its table beside it repeats: the groups' names, and each
    series' name and values (a share in percent, one decimal; None where nothing was
    counted)."""
    names = [r.name for r in rows]

    def series(zh: str, en: str, values: list[Any]) -> dict[str, Any]:
        return {"zh": zh, "en": en, "values": values}

    return [
        {
            "id": "fields",
            "zh": "少填的字段（按填写方式）",
            "en": "Fields spared, by how they were filled",
            "stack": True,
            "unit": "",
            "names": names,
            "series": [
                series("身份自动填", "Identity", [r.fields_identity for r in rows]),
                series("共享系统填", "Shared data", [r.fields_shared for r in rows]),
                series("历史选择填", "History", [r.fields_history for r in rows]),
                series("申请人填写", "Typed", [r.fields_typed for r in rows]),
            ],
        },
        {
            "id": "materials",
            "zh": "免提交的材料",
            "en": "Materials spared",
            "stack": True,
            "unit": "",
            "names": names,
            "series": [
                series(
                    "免提交（电子证照）",
                    "Waived (e-certificate)",
                    [r.materials_waived for r in rows],
                ),
                series("上传", "Uploaded", [r.materials_uploaded for r in rows]),
            ],
        },
        {
            "id": "first-pass",
            "zh": "一次通过率（有无智能预审）",
            "en": "First-submission pass rate, with and without the pre-check",
            "stack": False,
            "unit": "%",
            "names": names,
            "series": [
                series("经预审", "Pre-checked", [_share(r.first_pass_with_precheck) for r in rows]),
                series(
                    "未预审",
                    "Not pre-checked",
                    [_share(r.first_pass_without_precheck) for r in rows],
                ),
            ],
        },
        {
            "id": "on-time",
            "zh": "按时办结率",
            "en": "Finished on time",
            "stack": False,
            "unit": "%",
            "names": names,
            "series": [
                series(
                    "承诺时限内",
                    "Within the promised limit",
                    [_share(r.on_time_promised) for r in rows],
                ),
                series(
                    "法定时限内",
                    "Within the statutory limit",
                    [_share(r.on_time_statutory) for r in rows],
                ),
            ],
        },
        {
            "id": "ratings",
            "zh": "好差评",
            "en": "Ratings",
            "stack": False,
            "unit": "",
            "names": names,
            "series": [
                series("评价数", "Ratings", [r.ratings for r in rows]),
                series("差评数", "Bad ratings", [r.bad_ratings for r in rows]),
            ],
        },
    ]


def _metrics_page(
    request: Request,
    db: Session,
    by: str,
    typed: dict[str, str],
    since: date | None,
    until: date | None,
    refusal: Problem | None = None,
) -> Response:
    catalogue = catalogue_of(request)
    chosen: By = "department" if by == "department" else "domain" if by == "domain" else "item"
    rows = metrics.metrics(db, by=chosen, since=since, until=until, catalogue=catalogue)
    overall = metrics.metrics(db, by="all", since=since, until=until, catalogue=catalogue)
    return render(
        request,
        "approval_desk_metrics.html",
        {
            "by": chosen,
            "bys": BY,
            "rows": rows,
            "total": overall[0] if overall else None,
            "charts": metric_charts(rows),
            "typed": typed,
            **display.shown_errors(refusal, display.labels_from(METRIC_LABELS), "range"),
        },
        status=refusal.http_status if refusal else 200,
    )


@admin_pages.get("/approval/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    db: DB,
    user: MetricsReader,
    by: str = "item",
    since: str = "",
    until: str = "",
) -> Response:
    typed = {"since": since[:10], "until": until[:10]}
    try:
        start, end = _day("since", since), _day("until", until)
        if start is not None and end is not None and end < start:
            raise invalid("until", Text("截止日期不能早于起始日期", "the end is before the start"))
    except Problem as exc:
        return _metrics_page(request, db, by, typed, None, None, refusal=exc)
    return _metrics_page(request, db, by, typed, start, end)
