"""What insight's API and pages take (a scope: months and a district) and give (figures with
their definition and inputs), bounded like every input of the platform."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shuhui.core.bounds import Month
from shuhui.core.display import quantity
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.regions import qingdao_districts
from shuhui.insight.content import Indicator, Map
from shuhui.insight.engine import Cell, Figure, Scope
from shuhui.insight.measures import Listing
from shuhui.insight.service import Outcome, measure_of
from shuhui.standard.tables import TABLES

DISTRICT_PATTERN = r"^[0-9]{6}$"


class ScopeIn(BaseModel):
    """Months from ``start`` to ``end`` (YYYY-MM, inclusive; none: the latest twelve) in one
    district (its six-digit code; none: the whole city)."""

    model_config = ConfigDict(extra="forbid")

    start: Month | None = Field(default=None, description="first month, YYYY-MM")
    end: Month | None = Field(default=None, description="last month, YYYY-MM")
    district: str | None = Field(
        default=None,
        pattern=DISTRICT_PATTERN,
        description="区（市）代码",
        json_schema_extra={"enum": [r.code for r in qingdao_districts()]},
    )

    @field_validator("district")
    @classmethod
    def _a_district(cls, value: str | None) -> str | None:
        if value is not None and value not in {r.code for r in qingdao_districts()}:
            raise ValueError("须为青岛市的区（市）代码")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ScopeIn:
        if self.start and self.end and self.start > self.end:
            raise ValueError("起始月份不能晚于结束月份")
        return self

    def scope(self) -> Scope:
        if self.start and self.end:
            first, last = month_start(self.start), month_start(self.end)
            if (last.year - first.year) * 12 + last.month - first.month >= 120:
                raise Problem(
                    "validation",
                    Text("时间范围最长十年", "at most ten years"),
                    errors=[FieldError("start", Text("时间范围最长十年", "at most ten years"))],
                )
        return Scope(
            start=None if self.start is None else month_start(self.start),
            end=None if self.end is None else month_start(self.end),
            district=self.district,
        )


def month_start(text: str) -> date:
    """A ``YYYY-MM`` (checked by ``Month``) as its first day."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def text_json(text: Text) -> dict[str, str]:
    return {"zh": str(text), "en": text.en}


def cell_json(c: Cell, unit: str) -> dict[str, Any]:
    return {
        "key": c.key,
        "label": text_json(c.label),
        "value": c.value,
        "shown": "已隐去" if c.withheld else quantity(c.value, unit),
        "withheld": c.withheld,
    }


def indicator_json(ind: Indicator) -> dict[str, Any]:
    m = measure_of(ind)
    return {
        "code": ind.code,
        "name": text_json(ind.name),
        "map": ind.map,
        "definition": text_json(ind.definition),
        "unit": text_json(ind.unit),
        "owner": ind.owner,
        "refresh": ind.refresh,
        "aggregate": ind.aggregate,
        "scale": ind.scale,
        "people": ind.people,
        "better": ind.better,
        "formula": (
            {"kind": "sql", "tables": list(ind.tables), "sql": ind.sql}
            if m is None
            else {
                "kind": "measure",
                "measure": m.name,
                "how": text_json(m.how),
                "tables": list(m.tables),
                "operational": m.operational,
            }
        ),
        "targets": [{"year": t.year, "value": t.value, "basis": t.basis} for t in ind.targets],
        "reference": ind.reference,
        "valid_from": ind.valid_from.isoformat(),
        "valid_to": None if ind.valid_to is None else ind.valid_to.isoformat(),
        "charts": list(ind.charts),
        "drill": ind.drill,
    }


def figure_json(f: Figure) -> dict[str, Any]:
    unit = str(f.indicator.unit)
    return {
        "value": f.value,
        "shown": "已隐去" if f.withheld else quantity(f.value, unit),
        "withheld": f.withheld,
        "start": None if f.start is None else f.start.isoformat()[:7],
        "end": None if f.end is None else f.end.isoformat()[:7],
        "district": f.district,
        "previous": f.previous,
        "change": f.change,
        "target": None
        if f.target is None
        else {
            "year": f.target.year,
            "value": f.target.value,
            "shown": quantity(f.target.value, unit),
            "basis": f.target.basis,
        },
        "attainment": f.attainment,
        "by_district": [cell_json(c, unit) for c in f.by_district],
        "by_month": [cell_json(c, unit) for c in f.by_month],
        "by_group": [cell_json(c, unit) for c in f.by_group],
        "sources": sources_json(f),
        "computed_at": f.computed_at.isoformat(),
        "compute_seconds": round(f.seconds, 4),
        "k": f.k,
        "notes": [text_json(n) for n in f.notes],
        "forecast": None if f.forecast is None else forecast_json(f, unit),
    }


def sources_json(f: Figure) -> dict[str, Any]:
    """The sources, each table with its title in the data standard (people read the title)."""
    found = f.sources.as_json()
    titles = {t.name: t.title for t in TABLES}
    for table in found["tables"]:
        table["title"] = titles.get(table["table"], table["table"])
    return found


def forecast_json(f: Figure, unit: str) -> dict[str, Any]:
    ahead = f.forecast
    assert ahead is not None
    return {
        "method": {
            "code": ahead.method.code,
            "name": text_json(ahead.method.name),
            "description": text_json(ahead.method.description),
        },
        "points": [
            {
                "key": month.isoformat(),
                "label": {"zh": f"{month.year}年{month.month}月", "en": f"{month:%b %Y}"},
                "value": value,
                "shown": quantity(value, unit),
            }
            for month, value in ahead.points
        ],
        "mae": ahead.mae,
        "mae_shown": quantity(ahead.mae, unit),
        "mape": ahead.mape,
        "backtest": [
            {"month": t.month.isoformat(), "actual": t.actual, "predicted": t.predicted}
            for t in ahead.backtest
        ],
    }


def outcome_json(o: Outcome, *, definition: bool = False) -> dict[str, Any]:
    ind = o.indicator
    base: dict[str, Any] = (
        indicator_json(ind)
        if definition
        else {
            "code": ind.code,
            "name": text_json(ind.name),
            "unit": text_json(ind.unit),
            "owner": ind.owner,
            "charts": list(ind.charts),
            "better": ind.better,
            "people": ind.people,
        }
    )
    base["figure"] = None if o.figure is None else figure_json(o.figure)
    base["problem"] = None if o.problem is None else text_json(o.problem)
    return base


def map_json(m: Map) -> dict[str, Any]:
    return {
        "code": m.code,
        "name": text_json(m.name),
        "summary": text_json(m.summary),
        "reference": m.reference,
        "dashboard": list(m.dashboard),
    }


def listing_json(found: Listing) -> dict[str, Any]:
    return {
        "columns": [{"key": c.key, "title": text_json(c.title)} for c in found.columns],
        "rows": found.rows,
        "total": found.total,
        "personal": found.personal,
    }
