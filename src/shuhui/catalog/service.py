"""The catalog's logic: what the city configures, registering the data core's tables, reading.

Registration is idempotent: ``sync_datacore`` makes the catalog describe exactly the tables the
data core publishes now (their classes, items, datasets and distributions), from each table's
``TableSpec`` plus the governance decisions in ``content/<city>/catalog-resources.yaml``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shuhui.catalog.models import (
    FREQUENCIES,
    OPEN_LEVELS,
    SHARE_TYPES,
    CatalogState,
    DataItem,
    Dataset,
    Distribution,
    Organisation,
    ResourceClass,
)
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.regions import QINGDAO_CITY_CODE
from shuhui.datacore.schema import CHECK_TITLES, HOSTED_PREFIX, Column, TableSpec
from shuhui.datacore.store import DataCore, TableInfo
from shuhui.quality import checks as quality_checks
from shuhui.quality.masking import mask
from shuhui.trust.ledger import service as ledger

CONTENT: Final = {
    "categories": ("catalog-categories.yaml", "catalog-categories"),
    "departments": ("departments.yaml", "departments"),
    "resources": ("catalog-resources.yaml", "catalog-resources"),
    "synonyms": ("search-synonyms.yaml", "search-synonyms"),
}
# http://publications.europa.eu/resource/authority/data-theme — what DCAT-AP's dcat:theme takes.
EU_DATA_THEMES: Final = frozenset(
    {
        "AGRI",
        "ECON",
        "EDUC",
        "ENER",
        "ENVI",
        "GOVE",
        "HEAL",
        "INTR",
        "JUST",
        "OP_DATPRO",
        "REGI",
        "SOCI",
        "TECH",
        "TRAN",
    }
)
NAME: Final = re.compile(r"^[a-z0-9_-]{2,100}$")
# A resource id is a UUID derived from the dataset and the kind, so it survives re-registration.
RESOURCE_NAMESPACE: Final = uuid.UUID("5b3c1f0e-8d1e-4c39-9a51-53a4a6f2d7c1")


@dataclass(frozen=True)
class CityCatalog:
    categories: Items
    departments: Items
    resources: Items
    synonyms: Items

    def category(self, code: str) -> Item:
        found = self.categories.get(code)
        if found is None:
            raise ContentError(self.categories.path, code, "no such category")
        return found


def city_catalog(city_content: Path) -> CityCatalog:
    loaded = {key: load_items(city_content / f, kind) for key, (f, kind) in CONTENT.items()}
    catalog = CityCatalog(**loaded)
    _check_references(catalog)
    return catalog


def _check_references(catalog: CityCatalog) -> None:
    for item in catalog.resources:
        where = f"{item.code}"
        if catalog.categories.get(str(item.attrs.get("category"))) is None:
            raise ContentError(catalog.resources.path, f"{where}.category", "no such category")
        if item.attrs.get("share") not in SHARE_TYPES:
            raise ContentError(
                catalog.resources.path, f"{where}.share", f"one of {list(SHARE_TYPES)}"
            )
        if item.attrs.get("open") not in OPEN_LEVELS:
            raise ContentError(
                catalog.resources.path, f"{where}.open", f"one of {list(OPEN_LEVELS)}"
            )
        if item.attrs.get("frequency") not in FREQUENCIES:
            raise ContentError(
                catalog.resources.path, f"{where}.frequency", f"one of {list(FREQUENCIES)}"
            )
    for item in catalog.categories:
        if item.attrs.get("dcat_theme") not in EU_DATA_THEMES:
            raise ContentError(
                catalog.categories.path,
                f"{item.code}.dcat_theme",
                f"one of the EU data themes {sorted(EU_DATA_THEMES)}",
            )


# --- revision ---------------------------------------------------------------------------------


def revision(db: Session) -> int:
    return int(db.scalar(select(CatalogState.revision).where(CatalogState.id == 1)) or 0)


def bump(db: Session) -> int:
    """Marks the catalog changed, in the caller's transaction."""
    return int(
        db.execute(
            update(CatalogState)
            .where(CatalogState.id == 1)
            .values(revision=CatalogState.revision + 1)
            .returning(CatalogState.revision)
        ).scalar_one()
    )


# --- organisations ------------------------------------------------------------------------------


def slug_for(code: str) -> str:
    return f"org-{code.lower()}"


def ensure_organisation(db: Session, catalog: CityCatalog, short: str) -> Organisation:
    found = db.scalar(select(Organisation).where(Organisation.short == short))
    if found is not None:
        return found
    entry = next((d for d in catalog.departments if d.attrs.get("short") == short), None)
    if entry is None:
        raise ContentError(catalog.departments.path, short, "department not listed")
    org = Organisation(
        code=entry.code,
        slug=slug_for(entry.code),
        short=short,
        title=entry.name_zh,
        title_en=entry.name_en,
    )
    db.add(org)
    db.flush()
    return org


# --- registering the data core ----------------------------------------------------------------


def class_code(category: str, table: str) -> str:
    return f"QD-{category}-{table.upper()}"


def _item_description(column: Any) -> str:
    parts = []
    if column.values:
        parts.append("取值：" + "、".join(column.values))
    if column.check:
        parts.append(f"校验：{CHECK_TITLES[column.check][0]}")
    return "；".join(parts)


def _formats(open_level: str) -> list[str]:
    return ["CSV", "JSON", "API"] if open_level == "open" else ["API"]


def _distributions(dataset: Dataset, open_level: str) -> list[Distribution]:
    def uid(kind: str) -> str:
        return str(uuid.uuid5(RESOURCE_NAMESPACE, f"{dataset.name}/{kind}"))

    base = f"/catalog/datasets/{dataset.name}"
    if open_level == "open":
        return [
            Distribution(
                uid=uid("csv"),
                kind="download",
                title=f"{dataset.title}（CSV 下载）",
                format="CSV",
                media_type="text/csv",
                url=f"{base}/download.csv",
            ),
            Distribution(
                uid=uid("datastore"),
                kind="api",
                title=f"{dataset.title}（数据接口）",
                format="JSON",
                media_type="application/json",
                url=f"/api/3/action/datastore_search?resource_id={uid('datastore')}",
            ),
        ]
    # Conditional data is reached through the data channel, after an approved application.
    return [
        Distribution(
            uid=uid("channel"),
            kind="api",
            title=f"{dataset.title}（数据通道，需申请）",
            format="API",
            media_type="application/json",
            url=f"{base}#apply",
        )
    ]


@dataclass(frozen=True)
class SyncResult:
    registered: list[str]
    updated: list[str]
    unchanged: list[str]
    skipped: list[str]  # tables with no catalog entry in content/

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "registered": self.registered,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }


def sync_datacore(
    db: Session,
    core: DataCore,
    catalog: CityCatalog,
    *,
    actor: str,
    now: datetime | None = None,
    assess_quality: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyncResult:
    """Registers every published (non-truth) table of the data core, with full metadata; each
    new version's data quality is assessed on the data core (``assess_quality``).
    ``progress`` is told (table, tables done, tables) before each table (a command's bar)."""
    now = as_utc(now or utcnow())
    registered: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    skipped: list[str] = []
    infos = [info for info in core.tables() if not info.truth]
    for done, info in enumerate(infos):
        if progress is not None:
            progress(info.name, done, len(infos))
        governance = catalog.resources.get(info.name)
        if governance is None:
            skipped.append(info.name)
            continue
        dataset = db.scalar(select(Dataset).where(Dataset.table_name == info.name))
        if dataset is not None and dataset.version == info.version:
            unchanged.append(info.name)
            continue
        spec = core.spec(info.name)
        (registered if dataset is None else updated).append(info.name)
        dataset = _register(db, catalog, info, spec, governance, dataset, now)
        if assess_quality:
            assess_dataset(core, dataset, spec)
    if registered or updated:
        bump(db)
        ledger.record(
            db,
            actor,
            "catalog.synced",
            subject="catalog",
            purpose="register the data core's tables in the catalog",
            detail={"registered": list(registered), "updated": list(updated)},
        )
    return SyncResult(registered, updated, unchanged, skipped)


def _register(
    db: Session,
    catalog: CityCatalog,
    info: TableInfo,
    spec: TableSpec,
    governance: Item,
    dataset: Dataset | None,
    now: datetime,
) -> Dataset:
    g = governance.attrs
    category = str(g["category"])
    org = ensure_organisation(db, catalog, spec.department)
    code = class_code(category, spec.name)
    cls = db.scalar(select(ResourceClass).where(ResourceClass.code == code))
    loaded_at = as_utc(datetime.fromisoformat(info.loaded_at))
    keywords = [str(k) for k in g.get("keywords", [])]
    summary = spec.description or f"{org.title}提供的{spec.title}。"
    if cls is None:
        cls = ResourceClass(code=code, created_at=now, release_date=loaded_at.date())
        db.add(cls)
    cls.title = spec.title
    cls.title_en = governance.name_en
    cls.summary = summary
    cls.category = category
    cls.organisation_id = org.id
    cls.share_type = str(g["share"])
    cls.share_condition = g.get("share_condition")
    cls.open_level = str(g["open"])
    cls.open_condition = g.get("open_condition")
    cls.frequency = str(g["frequency"])
    cls.formats = json.dumps(_formats(cls.open_level))
    cls.keywords = json.dumps(keywords, ensure_ascii=False)
    cls.related = json.dumps([], ensure_ascii=False)
    cls.record_count = info.rows
    cls.has_personal = any(c.personal for c in spec.columns)
    cls.updated_at = now
    # Old items go first: the new ones reuse their (class, name) keys.
    cls.items.clear()
    db.flush()
    cls.items = [
        DataItem(
            position=i,
            name=c.name,
            title=c.title,
            type=c.type,
            description=_item_description(c),
            personal=c.personal,
            required=c.required,
        )
        for i, c in enumerate(spec.columns)
    ]
    db.flush()
    if dataset is None:
        dataset = Dataset(name=spec.name, table_name=spec.name, issued=loaded_at.date())
        db.add(dataset)
    dataset.title = spec.title
    dataset.title_en = governance.name_en
    dataset.description = summary
    dataset.class_id = cls.id
    dataset.version = info.version
    dataset.rows = info.rows
    dataset.modified = loaded_at
    dataset.spatial = QINGDAO_CITY_CODE  # the whole city: the data core holds city-wide tables
    dataset.distributions.clear()
    db.flush()
    dataset.distributions = _distributions(dataset, cls.open_level)
    db.flush()
    return dataset


# --- data organisations host (数据托管) ------------------------------------------------------

HOSTED_OPEN_LEVELS: Final = ("open", "conditional")
HOSTED_PURPOSE: Final = "enterprise data custody"
HOSTED_KEYWORDS: Final = ("企业数据", "数据托管")


def _organisation_of(db: Session, code: str, name: str) -> Organisation:
    """The catalog's organisation for a providing organisation named by its credit code (an
    enterprise hosting its data), made the first time it provides."""
    org = db.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        org = Organisation(
            code=code, slug=slug_for(code), short=name, title=name, title_en=f"Enterprise {code}"
        )
        db.add(org)
    org.short = org.title = name  # a renamed enterprise is listed under its name now
    db.flush()
    return org


def register_hosted(
    db: Session,
    catalog: CityCatalog,
    *,
    name: str,
    title: str,
    description: str,
    category: str,
    provider_code: str,
    provider_name: str,
    open_level: str,
    open_condition: str | None,
    columns: Sequence[Column],
    rows: int,
    version: int,
    access_url: str,
    actor: str,
    now: datetime | None = None,
) -> Dataset:
    """Lists a table an organisation hosts in the data core as its own data (企业数据), on its
    own terms: ``open`` (无条件开放: any member of the channel's zone may be granted it without
    the provider's review) or ``conditional`` (有条件开放, ``open_condition`` saying on what).

    Whatever the terms, its rows leave only through the data channel (``access_url``, the
    product's page): the dataset names no data-core table (``table_name`` is None), so the
    catalog's samples, downloads and CKAN datastore, which read open data-core tables, never
    read it. Registering the same ``name`` again (a new version) updates the entry."""
    now = as_utc(now or utcnow())
    if catalog.categories.get(category) is None:
        raise Problem(
            "validation",
            detail="没有这个数据目录分类",
            errors=[FieldError("category", Text("没有这个分类", "no such category"))],
        )
    if open_level not in HOSTED_OPEN_LEVELS:
        raise Problem(
            "validation",
            detail="开放方式只能是无条件开放或有条件开放",
            errors=[FieldError("terms", Text("请选择开放方式", "open or conditional"))],
        )
    org = _organisation_of(db, provider_code, provider_name)
    code = class_code(category, name)
    cls = db.scalar(select(ResourceClass).where(ResourceClass.code == code))
    if cls is None:
        cls = ResourceClass(code=code, created_at=now, release_date=local_today(now))
        db.add(cls)
    cls.title = title
    cls.title_en = f"{title} (enterprise data)"
    cls.summary = description
    cls.category = category
    cls.organisation_id = org.id
    cls.share_type = "conditional"
    cls.share_condition = "经数据提供企业同意，通过数据通道申请使用"
    cls.open_level = open_level
    cls.open_condition = open_condition if open_level == "conditional" else None
    cls.frequency = "IRREG"
    cls.formats = json.dumps(["API"])
    cls.keywords = json.dumps([*HOSTED_KEYWORDS, provider_name], ensure_ascii=False)
    cls.related = json.dumps([])
    cls.record_count = rows
    cls.has_personal = any(c.personal for c in columns)
    cls.updated_at = now
    cls.items.clear()
    db.flush()
    cls.items = [
        DataItem(
            position=i,
            name=c.name,
            title=c.title,
            type=c.type,
            description="个人信息：经数据通道提供时脱敏" if c.personal else "",
            personal=c.personal,
            required=c.required,
        )
        for i, c in enumerate(columns)
    ]
    db.flush()
    dataset = find_dataset(db, name)
    if dataset is None:
        dataset = Dataset(name=name, table_name=None, issued=local_today(now))
        db.add(dataset)
    dataset.title = title
    dataset.title_en = cls.title_en
    dataset.description = description
    dataset.class_id = cls.id
    dataset.version = version
    dataset.rows = rows
    dataset.modified = now
    dataset.spatial = QINGDAO_CITY_CODE
    dataset.distributions.clear()
    db.flush()
    dataset.distributions = [
        Distribution(
            uid=str(uuid.uuid5(RESOURCE_NAMESPACE, f"{name}/channel")),
            kind="api",
            title=f"{title}（数据通道，{OPEN_LEVELS[open_level][0]}）",
            format="API",
            media_type="application/json",
            url=access_url,
        )
    ]
    db.flush()
    bump(db)
    ledger.record(
        db,
        actor,
        "catalog.hosted_registered",
        subject=provider_code,
        purpose=HOSTED_PURPOSE,
        detail={
            "dataset": name,
            "class": code,
            "provider": provider_code,
            "open_level": open_level,
            "version": version,
            "rows": rows,
        },
    )
    return dataset


def close_hosted(
    db: Session, name: str, *, reason: str, actor: str, now: datetime | None = None
) -> Dataset:
    """Closes the entry of a hosted table its provider withdrew (不予开放, nothing to reach
    it by): it stays listed, saying when and why, so what was offered remains on record."""
    now = as_utc(now or utcnow())
    dataset = get_dataset(db, name)
    cls = dataset.resource_class
    if dataset.table_name is not None or not name.startswith(HOSTED_PREFIX):
        raise Problem("conflict", detail=f"数据集 {name} 不是企业托管数据")
    if cls.open_level == "closed":
        raise Problem("conflict", detail=f"数据集 {name} 已关闭")
    cls.open_level = "closed"
    cls.open_condition = f"数据提供方已于 {local_today(now).isoformat()} 撤回：{reason}"[:512]
    cls.share_type = "none"
    cls.share_condition = None
    cls.formats = json.dumps([])
    cls.updated_at = now
    dataset.modified = now
    dataset.distributions.clear()
    db.flush()
    bump(db)
    ledger.record(
        db,
        actor,
        "catalog.hosted_closed",
        subject=cls.organisation.code,
        purpose=HOSTED_PURPOSE,
        detail={"dataset": name, "reason": reason},
    )
    return dataset


UPDATE_EVERY: Final = {
    "UPDATE_CONT": timedelta(days=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=31),
    "QUARTERLY": timedelta(days=92),
    "ANNUAL": timedelta(days=366),
}


def assess_dataset(core: DataCore, dataset: Dataset, spec: TableSpec) -> None:
    """Scores the dataset's current version (completeness, validity, uniqueness, consistency,
    timeliness against its declared update frequency) and keeps the report with it."""
    report = quality_checks.assess(
        core,
        spec.name,
        spec=spec,
        update_every=UPDATE_EVERY.get(dataset.resource_class.frequency),
    )
    dataset.quality = json.dumps(report.as_dict(), ensure_ascii=False)
    dataset.quality_score = int(report.score)


def related_by_keywords(db: Session) -> None:
    """Links classes that share a keyword or a data item naming the same identifier."""
    classes = list(db.scalars(select(ResourceClass)))
    keys: dict[int, set[str]] = {}
    for c in classes:
        words = set(json.loads(c.keywords))
        words |= {i.name for i in c.items if i.name in ("citizen_id", "credit_code")}
        keys[c.id] = words
    for c in classes:
        related = sorted(
            other.code for other in classes if other.id != c.id and keys[c.id] & keys[other.id]
        )
        c.related = json.dumps(related[:20])


# --- reading ----------------------------------------------------------------------------------


def get_dataset(db: Session, name: str) -> Dataset:
    found = db.scalar(select(Dataset).where(Dataset.name == name))
    if found is None:
        raise Problem("not-found", detail=f"数据集 {name} 不存在")
    return found


def find_dataset(db: Session, name: str) -> Dataset | None:
    """The dataset of this name, or None."""
    return db.scalar(select(Dataset).where(Dataset.name == name))


def data_core_datasets(db: Session) -> list[Dataset]:
    """The datasets that are data-core tables, by name."""
    return list(
        db.scalars(select(Dataset).where(Dataset.table_name.is_not(None)).order_by(Dataset.name))
    )


def get_class(db: Session, code: str) -> ResourceClass:
    found = db.scalar(select(ResourceClass).where(ResourceClass.code == code))
    if found is None:
        raise Problem("not-found", detail=f"数据资源 {code} 不存在")
    return found


def get_distribution(db: Session, uid: str) -> Distribution:
    found = db.scalar(select(Distribution).where(Distribution.uid == uid))
    if found is None:
        raise Problem("not-found", detail=f"资源 {uid} 不存在")
    return found


def organisations(db: Session) -> list[Organisation]:
    return list(db.scalars(select(Organisation).order_by(Organisation.slug)))


def get_organisation(db: Session, slug_or_code: str) -> Organisation:
    found = db.scalar(
        select(Organisation).where(
            (Organisation.slug == slug_or_code) | (Organisation.code == slug_or_code)
        )
    )
    if found is None:
        raise Problem("not-found", detail=f"部门 {slug_or_code} 不存在")
    return found


def dataset_names(db: Session, *, limit: int | None = None, offset: int = 0) -> list[str]:
    query = select(Dataset.name).order_by(Dataset.name).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.scalars(query))


def counts(db: Session) -> dict[str, int]:
    return {
        "classes": int(db.scalar(select(func.count(ResourceClass.id))) or 0),
        "datasets": int(db.scalar(select(func.count(Dataset.id))) or 0),
        "organisations": int(db.scalar(select(func.count(Organisation.id))) or 0),
    }


def keywords_of(cls: ResourceClass) -> list[str]:
    return [str(k) for k in json.loads(cls.keywords)]


def formats_of(cls: ResourceClass) -> list[str]:
    return [str(k) for k in json.loads(cls.formats)]


def related_of(cls: ResourceClass) -> list[str]:
    return [str(k) for k in json.loads(cls.related)]


def date_or_none(value: str | None) -> date | None:
    return None if not value else date.fromisoformat(value)


def open_datasets(db: Session, names: Sequence[str]) -> list[Dataset]:
    return list(
        db.scalars(
            select(Dataset)
            .join(ResourceClass)
            .where(Dataset.name.in_(names), ResourceClass.open_level == "open")
        )
    )


def open_level_of_table(db: Session, table: str) -> str | None:
    """The open level (open | conditional | closed) the catalog gives a data-core table, or None
    when the table is not catalogued: what decides whether its raw rows may leave the platform."""
    return db.scalar(
        select(ResourceClass.open_level)
        .join(Dataset, Dataset.class_id == ResourceClass.id)
        .where(Dataset.table_name == table)
        .order_by(Dataset.id.desc())
        .limit(1)
    )


def public_columns(db: Session, spec: TableSpec) -> list[Column]:
    """The columns of a data-core table that may leave the platform when the catalog opens it
    (page samples, CSV downloads, the CKAN datastore, the channel's open products): every column
    neither the data standard (the spec) nor the catalog's data items mark as personal.

    Both are asked because they can disagree for a while: the catalog describes the version it
    last registered, the spec the version loaded now. A column either calls personal is left out.
    """
    personal = set(
        db.scalars(
            select(DataItem.name)
            .join(ResourceClass, DataItem.class_id == ResourceClass.id)
            .join(Dataset, Dataset.class_id == ResourceClass.id)
            .where(Dataset.table_name == spec.name, DataItem.personal.is_(True))
        )
    )
    return [c for c in spec.columns if not (c.personal or c.name in personal)]


def mask_personal(
    value: object, *, check: Literal["citizen_id", "credit_code"] | None = None
) -> str:
    """A personal value as it may be shown outside its department: the catalog's masking rule
    (citizen IDs keep the division code and the last four characters, other text its first and
    last character, dates the year). ``check`` is the column's identifier check, if any."""
    return mask(value, Column("value", "string", "", personal=True, check=check))
