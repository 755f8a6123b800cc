"""The catalog's figures as facts (``core.facts``), for whatever sums them (``shuhui.insight``):
how much of the data core is catalogued, how the catalog's entries are shared and opened, their
measured quality, and the entries themselves for the list behind a figure. Read from the
catalog's own tables (and the data core's list of published tables); written nowhere.

Public data are the data core's tables the catalog registers (a dataset naming its table); an
enterprise's hosted data (企业数据) are catalogued too, but they are not public data, so the
figures about public data (coverage, sharing, opening, quality) leave them out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from shuhui.catalog.models import OPEN_LEVELS, SHARE_TYPES, Dataset, Organisation, ResourceClass
from shuhui.catalog.service import CityCatalog
from shuhui.core.facts import Fact
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore

# The share types and open levels that make data reachable by others (共享 / 开放).
SHARED: tuple[str, ...] = ("unconditional", "conditional")
OPENED: tuple[str, ...] = ("open", "conditional")
# Public data: a dataset naming its data-core table (hosted data name none).
PUBLIC: Final = Dataset.table_name.is_not(None)


def coverage(db: Session, core: DataCore, catalog: CityCatalog) -> list[Fact]:
    """Per providing department (its credit code), how many of its published data-core tables
    the catalog describes at their current version (value), of all it publishes (base). A table
    loaded anew and not yet registered counts as not catalogued until it is."""
    codes = {str(d.attrs.get("short")): d.code for d in catalog.departments}
    registered = {
        str(name): version
        for name, version in db.execute(select(Dataset.table_name, Dataset.version).where(PUBLIC))
    }
    tables: Counter[str] = Counter()
    described: Counter[str] = Counter()
    for info in core.tables():
        if info.truth:
            continue
        department = codes.get(info.department, info.department)
        tables[department] += 1
        if registered.get(info.name) == info.version:
            described[department] += 1
    return [Fact(described[d], base=n, group=d) for d, n in sorted(tables.items())]


def by_category(db: Session) -> list[Fact]:
    """Catalog entries (数据资源目录条目: classes) per theme category, public and enterprise
    data alike."""
    rows = db.execute(
        select(ResourceClass.category, func.count(ResourceClass.id)).group_by(
            ResourceClass.category
        )
    )
    return [Fact(int(n), group=str(category)) for category, n in rows]


def _share_of(
    db: Session, column: InstrumentedAttribute[str], levels: tuple[str, ...]
) -> list[Fact]:
    """Per department, its public classes whose ``column`` is one of ``levels`` (value), of
    all its public classes (base)."""
    public = select(Dataset.class_id).where(PUBLIC).distinct()
    hit = func.sum(case((column.in_(levels), 1), else_=0))
    rows = db.execute(
        select(Organisation.code, hit, func.count(ResourceClass.id))
        .select_from(ResourceClass)
        .join(Organisation, ResourceClass.organisation_id == Organisation.id)
        .where(ResourceClass.id.in_(public))
        .group_by(Organisation.code)
    )
    return [Fact(int(n or 0), base=int(total), group=str(code)) for code, n, total in rows]


def shared(db: Session) -> list[Fact]:
    """Per department, its public classes shared with other departments (无条件共享 or
    有条件共享) of all its public classes."""
    return _share_of(db, ResourceClass.share_type, SHARED)


def opened(db: Session) -> list[Fact]:
    """Per department, its public classes open to society (无条件开放 or 有条件开放) of all
    its public classes."""
    return _share_of(db, ResourceClass.open_level, OPENED)


def quality(db: Session) -> list[Fact]:
    """Per department, the sum of its assessed public datasets' quality scores (0–100, value)
    and how many were assessed (base): their mean is the ratio."""
    rows = db.execute(
        select(Organisation.code, func.sum(Dataset.quality_score), func.count(Dataset.id))
        .select_from(Dataset)
        .join(ResourceClass, Dataset.class_id == ResourceClass.id)
        .join(Organisation, ResourceClass.organisation_id == Organisation.id)
        .where(PUBLIC, Dataset.quality_score.is_not(None))
        .group_by(Organisation.code)
    )
    return [Fact(float(total or 0), base=int(n), group=str(code)) for code, total, n in rows]


@dataclass(frozen=True)
class Entry:
    """A catalogued dataset as the list behind a figure shows it."""

    name: str
    title: str
    department: str
    category: str  # code (catalog-categories.yaml)
    share: Text
    open: Text
    rows: int
    quality_score: int | None
    public: bool  # a data-core table (not an enterprise's hosted data)


def entries(
    db: Session, *, public_only: bool = False, assessed_only: bool = False, limit: int = 200
) -> tuple[list[Entry], int]:
    """Catalogued datasets (at most ``limit``) and how many there are: by department and
    title, or, with ``assessed_only``, the assessed ones lowest score first (what to fix)."""
    where: list[ColumnElement[bool]] = []
    if public_only or assessed_only:
        where.append(PUBLIC)
    if assessed_only:
        where.append(Dataset.quality_score.is_not(None))
    query = (
        select(Dataset, Organisation.title)
        .select_from(Dataset)
        .join(ResourceClass, Dataset.class_id == ResourceClass.id)
        .join(Organisation, ResourceClass.organisation_id == Organisation.id)
        .where(*where)
    )
    order = (
        (Dataset.quality_score, Dataset.name)
        if assessed_only
        else (Organisation.title, Dataset.title, Dataset.name)
    )
    total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    found = []
    for dataset, department in db.execute(query.order_by(*order).limit(limit)):
        cls = dataset.resource_class
        found.append(
            Entry(
                name=dataset.name,
                title=dataset.title,
                department=str(department),
                category=cls.category,
                share=Text(*SHARE_TYPES.get(cls.share_type, (cls.share_type, cls.share_type))),
                open=Text(*OPEN_LEVELS.get(cls.open_level, (cls.open_level, cls.open_level))),
                rows=dataset.rows,
                quality_score=dataset.quality_score,
                public=dataset.table_name is not None,
            )
        )
    return found, total
