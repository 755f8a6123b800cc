"""What is exported: the catalog's organisations, datasets and distributions read in a few
queries into plain rows (:func:`snapshot`), one dataset or the whole catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.catalog import service
from shuhui.catalog.models import (
    Dataset,
    Distribution,
    Organisation,
    ResourceClass,
)
from shuhui.core.clock import as_utc

# --- what is exported ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgRow:
    code: str  # unified social credit code
    slug: str
    title: str
    title_en: str


@dataclass(frozen=True, slots=True)
class DistRow:
    uid: str
    kind: str  # download | api
    title: str
    format: str
    media_type: str
    url: str


@dataclass(frozen=True, slots=True)
class DatasetRow:
    name: str
    title: str
    title_en: str
    description: str
    issued: date
    modified: datetime
    temporal_start: date | None
    temporal_end: date | None
    spatial: str | None
    version: int | None
    category: str
    frequency: str
    open_level: str
    open_condition: str | None
    keywords: tuple[str, ...]
    organisation: OrgRow
    distributions: tuple[DistRow, ...]


@dataclass(frozen=True)
class Snapshot:
    revision: int
    datasets: list[DatasetRow]
    modified: datetime | None  # the latest change of any dataset


def snapshot(db: Session, name: str | None = None) -> Snapshot:
    """The catalog (or the one dataset ``name``) as plain rows: a few Core queries, no ORM
    objects, so that a response can stream after the request's session has closed."""
    revision = service.revision(db)  # before the rows: a later change bumps it past this
    conn = db.connection()
    orgs = {
        row.id: OrgRow(row.code, row.slug, row.title, row.title_en)
        for row in conn.execute(
            select(
                Organisation.id,
                Organisation.code,
                Organisation.slug,
                Organisation.title,
                Organisation.title_en,
            )
        )
    }
    datasets = (
        select(
            Dataset.id,
            Dataset.name,
            Dataset.title,
            Dataset.title_en,
            Dataset.description,
            Dataset.issued,
            Dataset.modified,
            Dataset.temporal_start,
            Dataset.temporal_end,
            Dataset.spatial,
            Dataset.version,
            ResourceClass.category,
            ResourceClass.frequency,
            ResourceClass.open_level,
            ResourceClass.open_condition,
            ResourceClass.keywords,
            ResourceClass.organisation_id,
        )
        .select_from(Dataset)
        .join(ResourceClass, Dataset.class_id == ResourceClass.id)
        .order_by(Dataset.name)
    )
    distributions = select(
        Distribution.dataset_id,
        Distribution.uid,
        Distribution.kind,
        Distribution.title,
        Distribution.format,
        Distribution.media_type,
        Distribution.url,
    ).order_by(Distribution.dataset_id, Distribution.id)
    modified = select(func.max(Dataset.modified))
    if name is not None:
        found = service.get_dataset(db, name).id  # a Problem (404) if there is none
        datasets = datasets.where(Dataset.id == found)
        distributions = distributions.where(Distribution.dataset_id == found)
        modified = modified.where(Dataset.id == found)
    by_dataset: dict[int, list[DistRow]] = {}
    for d in conn.execute(distributions):
        by_dataset.setdefault(d.dataset_id, []).append(
            DistRow(d.uid, d.kind, d.title, d.format, d.media_type, d.url)
        )
    keywords: dict[str, tuple[str, ...]] = {}  # a class's datasets share its keywords

    def keywords_of(stored: str) -> tuple[str, ...]:
        found = keywords.get(stored)
        if found is None:
            found = keywords[stored] = tuple(str(k) for k in json.loads(stored))
        return found

    rows = [
        DatasetRow(
            name=r.name,
            title=r.title,
            title_en=r.title_en,
            description=r.description,
            issued=r.issued,
            modified=as_utc(r.modified),
            temporal_start=r.temporal_start,
            temporal_end=r.temporal_end,
            spatial=r.spatial,
            version=r.version,
            category=r.category,
            frequency=r.frequency,
            open_level=r.open_level,
            open_condition=r.open_condition,
            keywords=keywords_of(r.keywords),
            organisation=orgs[r.organisation_id],
            distributions=tuple(by_dataset.get(r.id, ())),
        )
        for r in conn.execute(datasets)
    ]
    latest = conn.execute(modified).scalar()
    return Snapshot(revision, rows, as_utc(latest) if latest is not None else None)
