"""The catalog's tables: organisations, data-resource classes with their data items, datasets
(versions of a class's data, usually a data-core table) and their distributions.

Categories live in ``content/<city>/catalog-categories.yaml`` (a taxonomy a city configures), so
they are referred to by code here rather than stored.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.clock import utcnow
from shuhui.core.db import Base, UTCDateTime

SHARE_TYPES: dict[str, tuple[str, str]] = {
    "unconditional": ("无条件共享", "Shared unconditionally"),
    "conditional": ("有条件共享", "Shared on conditions"),
    "none": ("不予共享", "Not shared"),
}
OPEN_LEVELS: dict[str, tuple[str, str]] = {
    "open": ("无条件开放", "Open"),
    "conditional": ("有条件开放", "Open on conditions"),
    "closed": ("不予开放", "Not open"),
}
# DCAT-AP frequency codes (http://publications.europa.eu/resource/authority/frequency/...).
FREQUENCIES: dict[str, tuple[str, str]] = {
    "UPDATE_CONT": ("实时", "Continuously"),
    "DAILY": ("每日", "Daily"),
    "WEEKLY": ("每周", "Weekly"),
    "MONTHLY": ("每月", "Monthly"),
    "QUARTERLY": ("每季度", "Quarterly"),
    "ANNUAL": ("每年", "Annual"),
    "IRREG": ("不定期", "Irregular"),
}


class Organisation(Base):
    """A providing department (数据提供部门)."""

    __tablename__ = "catalog_organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)  # unified social credit code
    # CKAN's organisation "name": a URL-safe identifier.
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    short: Mapped[str] = mapped_column(String(128), index=True)  # as the data core names it
    title: Mapped[str] = mapped_column(String(128))
    title_en: Mapped[str] = mapped_column(String(256))


class ResourceClass(Base):
    """A data-resource class (数据资源 / 信息资源) of the catalog."""

    __tablename__ = "catalog_classes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    title_en: Mapped[str] = mapped_column(String(256))
    summary: Mapped[str] = mapped_column(String())
    category: Mapped[str] = mapped_column(String(8), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("catalog_organisations.id"), index=True)
    share_type: Mapped[str] = mapped_column(String(16), index=True)
    share_condition: Mapped[str | None] = mapped_column(String(512))
    open_level: Mapped[str] = mapped_column(String(16), index=True)
    open_condition: Mapped[str | None] = mapped_column(String(512))
    frequency: Mapped[str] = mapped_column(String(16), index=True)
    formats: Mapped[str] = mapped_column(String(256))  # JSON list, e.g. ["CSV","Parquet","API"]
    keywords: Mapped[str] = mapped_column(String())  # JSON list
    related: Mapped[str] = mapped_column(String())  # JSON list of class codes
    release_date: Mapped[date] = mapped_column(Date)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    has_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    items: Mapped[list[DataItem]] = relationship(
        back_populates="resource_class",
        cascade="all, delete-orphan",
        order_by="DataItem.position",
        lazy="selectin",
    )


class DataItem(Base):
    """A data item (信息项) of a class: one column of its data."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("class_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_classes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(), default="")
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)

    resource_class: Mapped[ResourceClass] = relationship(back_populates="items")


class Dataset(Base):
    """A dataset of a class: for the data core's tables, the table as currently published."""

    __tablename__ = "catalog_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # CKAN's package "name": lower-case ASCII, digits, '-' and '_'.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    title_en: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(String())
    class_id: Mapped[int] = mapped_column(ForeignKey("catalog_classes.id"), index=True)
    table_name: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[date] = mapped_column(Date)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    spatial: Mapped[str | None] = mapped_column(String(6))  # GB/T 2260 division code
    quality_score: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[str | None] = mapped_column(String())  # the latest quality report, JSON

    resource_class: Mapped[ResourceClass] = relationship(lazy="joined")
    distributions: Mapped[list[Distribution]] = relationship(
        back_populates="dataset",
        cascade="all, delete-orphan",
        order_by="Distribution.id",
        lazy="selectin",
    )


class Distribution(Base):
    """How a dataset is obtained: a download, or an API (CKAN's "resource")."""

    __tablename__ = "catalog_distributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A stable public id (CKAN resource ids are UUID strings).
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_datasets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # download | api
    title: Mapped[str] = mapped_column(String(256))
    format: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(512))

    dataset: Mapped[Dataset] = relationship(back_populates="distributions")


class CatalogState(Base):
    """One row: a counter bumped by every catalog change, so each process knows when its search
    index is stale without reading the catalog."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
