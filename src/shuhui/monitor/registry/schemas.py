"""What the registry's API and pages take and give, with bounds on every field."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shuhui.core.bounds import Day, Month, Offset
from shuhui.core.i18n import Text
from shuhui.monitor.registry.service import AssetQuery, Progress
from shuhui.standard.vocabularies import ASSET_STATUSES, ASSET_TYPES

DISTRICT_PATTERN = r"^3702[0-9]{2}$"
AssetId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Year = Annotated[int, Ge(2000), Le(2100)]
Lon = Annotated[float, Ge(-180), Le(180)]
Lat = Annotated[float, Ge(-90), Le(90)]
PageLimit = Annotated[int, Ge(1), Le(500)]


def month_start(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value + "-01")


class AssetFilter(BaseModel):
    """The asset list's filters (query parameters of the API and of the page)."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(
        default=None, description="asset type code", json_schema_extra={"enum": list(ASSET_TYPES)}
    )
    district: str | None = Field(default=None, pattern=DISTRICT_PATTERN)
    status: str | None = Field(default=None, json_schema_extra={"enum": list(ASSET_STATUSES)})
    operator: str | None = Field(default=None, min_length=1, max_length=64)
    sensor_type: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,64}$")
    site: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    text: str | None = Field(
        default=None, min_length=1, max_length=64, description="in the name or id"
    )
    west: Lon | None = None
    south: Lat | None = None
    east: Lon | None = None
    north: Lat | None = None
    commissioned_from: Day | None = None
    commissioned_to: Day | None = None
    offset: Offset = 0
    limit: PageLimit = 50

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        if value is not None and value not in ASSET_TYPES:
            raise ValueError(Text("未知的设施类型", "unknown asset type"))
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and value not in ASSET_STATUSES:
            raise ValueError(Text("状态须为在用、建设中或停用", "in use, building or retired"))
        return value

    @model_validator(mode="after")
    def _checked(self) -> AssetFilter:
        box = (self.west, self.south, self.east, self.north)
        if any(v is not None for v in box) and not all(v is not None for v in box):
            raise ValueError(
                Text("范围须同时给出西、南、东、北", "give west, south, east and north")
            )
        if self.west is not None and (self.west > self.east or self.south > self.north):  # type: ignore[operator]
            raise ValueError(Text("范围的西须不大于东、南须不大于北", "west ≤ east, south ≤ north"))
        return self

    def query(self) -> AssetQuery:
        bbox = None
        if self.west is not None:
            bbox = (self.west, self.south, self.east, self.north)
        return AssetQuery(
            asset_type=self.type,
            district=self.district,
            status=self.status,
            operator=self.operator,
            sensor_type=self.sensor_type,
            site=self.site,
            text=self.text,
            bbox=bbox,  # type: ignore[arg-type]
            commissioned_from=self.commissioned_from,
            commissioned_to=self.commissioned_to,
        )


class ProgressFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year | None = None
    start: Month | None = Field(default=None, description="first month, YYYY-MM")
    end: Month | None = Field(default=None, description="last month, YYYY-MM")


class AssetOut(BaseModel):
    asset_id: str
    asset_type: str
    name: str
    district_code: str
    street: str | None
    village_code: str | None
    lon: float
    lat: float
    operator: str
    status: str
    commissioned_on: date | None
    retired_on: date | None
    capacity: int | None
    sensor_type: str | None
    site_id: str | None
    site_name: str | None


class AssetPageOut(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AssetOut]


class TargetOut(BaseModel):
    year: int
    value: float
    inferred: bool
    basis: str


class DistrictOut(BaseModel):
    code: str
    name: str
    name_en: str
    value: float | None


class ProgressOut(BaseModel):
    code: str
    name: str
    name_en: str
    asset_type: str
    measure: str
    denominator: str
    unit: str
    unit_en: str
    reference: str
    year: int
    as_of: date
    value: float | None
    target: TargetOut | None
    share_of_target: float | None
    targets: list[TargetOut]
    baseline: TargetOut | None
    districts: list[DistrictOut]
    months: list[str] = Field(description="YYYY-MM, oldest first")
    city_series: list[float | None]
    district_series: dict[str, list[float | None]]

    @classmethod
    def of(cls, p: Progress, *, series: bool = True) -> ProgressOut:
        i = p.indicator

        def target(t: Any) -> TargetOut | None:
            return (
                None
                if t is None
                else TargetOut(year=t.year, value=t.value, inferred=t.inferred, basis=t.basis)
            )

        return cls(
            code=i.code,
            name=i.name_zh,
            name_en=i.name_en,
            asset_type=i.asset_type,
            measure=i.measure,
            denominator=i.denominator,
            unit=i.unit_zh,
            unit_en=i.unit_en,
            reference=i.reference,
            year=p.year,
            as_of=p.as_of,
            value=p.value,
            target=target(p.target),
            share_of_target=p.share_of_target,
            targets=[t for t in (target(t) for t in i.targets) if t is not None],
            baseline=target(i.baseline),
            districts=[
                DistrictOut(code=d.code, name=d.name_zh, name_en=d.name_en, value=d.value)
                for d in p.districts
            ],
            months=[m.strftime("%Y-%m") for m in p.months] if series else [],
            city_series=p.city_series if series else [],
            district_series=p.district_series if series else {},
        )
