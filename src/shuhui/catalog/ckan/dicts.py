"""The dicts CKAN returns: organisations, groups, tags, resources and packages, built from the
catalog's rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import select

from shuhui.catalog import service
from shuhui.catalog.ckan.context import Context
from shuhui.catalog.ckan.params import CREDIT_CODE, LICENSES, NAME, UUID
from shuhui.catalog.models import (
    FREQUENCIES,
    OPEN_LEVELS,
    SHARE_TYPES,
    DataItem,
    Dataset,
    Distribution,
    Organisation,
    ResourceClass,
)
from shuhui.catalog.service import RESOURCE_NAMESPACE, CityCatalog
from shuhui.core.clock import as_utc
from shuhui.core.errors import Problem

# --- the dicts CKAN returns ----------------------------------------------------------------


def package_uuid(name: str) -> str:
    return str(uuid.uuid5(RESOURCE_NAMESPACE, f"package/{name}"))


def ckan_time(value: datetime | date | None) -> str | None:
    """CKAN's timestamps: naive UTC, ISO 8601 with microseconds."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds")


def organization_dict(org: Organisation, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.code,
        "name": org.slug,
        "title": org.title,
        "display_name": org.title,
        "description": org.title_en,
        "type": "organization",
        "state": "active",
        "is_organization": True,
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def group_dict(catalog: CityCatalog, code: str, package_count: int | None = None) -> dict[str, Any]:
    item = catalog.categories.get(code)
    title = item.name_zh if item else code
    out: dict[str, Any] = {
        "id": code,
        "name": code,
        "title": title,
        "display_name": title,
        "description": item.name_en if item else "",
        "type": "group",
        "state": "active",
        "is_organization": False,
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if item is not None:
        out["extras"] = [
            {"key": "title_en", "value": item.name_en},
            {"key": "dcat_theme", "value": str(item.attrs.get("dcat_theme", ""))},
        ]
    if package_count is not None:
        out["package_count"] = package_count
    return out


def tag_dict(name: str) -> dict[str, Any]:
    return {
        "id": name,
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def _resource_dict(
    ctx: Context, row: Any, package_id: str, position: int, datastore: bool
) -> dict[str, Any]:
    return {
        "id": row.uid,
        "package_id": package_id,
        "name": row.title,
        "description": "",
        "format": row.format,
        "mimetype": row.media_type,
        "mimetype_inner": None,
        "url": ctx.absolute(row.url),
        "url_type": None,
        "resource_type": row.kind,
        "position": position,
        "state": "active",
        "size": None,
        "hash": "",
        "created": row.created,
        "last_modified": row.modified,
        "metadata_modified": row.modified,
        "cache_url": None,
        "cache_last_updated": None,
        "datastore_active": datastore,
    }


_PACKAGE_COLUMNS: Final = (
    Dataset.id,
    Dataset.name,
    Dataset.title,
    Dataset.title_en,
    Dataset.description,
    Dataset.table_name,
    Dataset.version,
    Dataset.rows,
    Dataset.issued,
    Dataset.modified,
    Dataset.temporal_start,
    Dataset.temporal_end,
    Dataset.spatial,
    Dataset.quality_score,
    ResourceClass.id.label("class_id"),
    ResourceClass.code.label("class_code"),
    ResourceClass.category,
    ResourceClass.share_type,
    ResourceClass.share_condition,
    ResourceClass.open_level,
    ResourceClass.open_condition,
    ResourceClass.frequency,
    ResourceClass.keywords,
    Organisation.code.label("org_code"),
    Organisation.slug.label("org_slug"),
    Organisation.title.label("org_title"),
    Organisation.title_en.label("org_title_en"),
)


def package_dicts(ctx: Context, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Full package dicts of these datasets, read in three queries whatever their number."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = ctx.db.execute(
        select(*_PACKAGE_COLUMNS)
        .join(ResourceClass, Dataset.class_id == ResourceClass.id)
        .join(Organisation, ResourceClass.organisation_id == Organisation.id)
        .where(Dataset.id.in_(wanted))
    ).all()
    class_ids = {r.class_id for r in rows}
    items: dict[int, list[dict[str, Any]]] = {c: [] for c in class_ids}
    for item in ctx.db.execute(
        select(
            DataItem.class_id,
            DataItem.name,
            DataItem.title,
            DataItem.type,
            DataItem.personal,
            DataItem.required,
        )
        .where(DataItem.class_id.in_(class_ids))
        .order_by(DataItem.class_id, DataItem.position)
    ):
        items[item.class_id].append(
            {
                "name": item.name,
                "title": item.title,
                "type": item.type,
                "personal": item.personal,
                "required": item.required,
            }
        )
    distributions: dict[int, list[Any]] = {i: [] for i in wanted}
    for dist in ctx.db.execute(
        select(
            Distribution.dataset_id,
            Distribution.uid,
            Distribution.kind,
            Distribution.title,
            Distribution.format,
            Distribution.media_type,
            Distribution.url,
        )
        .where(Distribution.dataset_id.in_(wanted))
        .order_by(Distribution.id)
    ):
        distributions[dist.dataset_id].append(dist)
    return {row.id: _package(ctx, row, items[row.class_id], distributions[row.id]) for row in rows}


@dataclass(frozen=True)
class _Resource:
    uid: str
    kind: str
    title: str
    format: str
    media_type: str
    url: str
    created: str | None
    modified: str | None


def _package(
    ctx: Context, row: Any, items: list[dict[str, Any]], dists: list[Any]
) -> dict[str, Any]:
    package_id = package_uuid(row.name)
    is_open = row.open_level == "open"
    license_id, license_title = LICENSES[is_open]
    created, modified = ckan_time(row.issued), ckan_time(row.modified)
    keywords = [str(k) for k in json.loads(row.keywords)]
    datastore = is_open and row.table_name is not None
    resources = [
        _resource_dict(
            ctx,
            _Resource(d.uid, d.kind, d.title, d.format, d.media_type, d.url, created, modified),
            package_id,
            position,
            datastore,
        )
        for position, d in enumerate(dists)
    ]
    extras: list[tuple[str, Any]] = [
        ("class_code", row.class_code),
        ("category", row.category),
        ("share_type", row.share_type),
        ("share_type_title", SHARE_TYPES.get(row.share_type, ("", ""))[0]),
        ("share_condition", row.share_condition),
        ("open_level", row.open_level),
        ("open_level_title", OPEN_LEVELS.get(row.open_level, ("", ""))[0]),
        ("open_condition", row.open_condition),
        ("frequency", row.frequency),
        ("frequency_title", FREQUENCIES.get(row.frequency, ("", ""))[0]),
        ("title_en", row.title_en),
        ("issued", row.issued.isoformat()),
        ("temporal_start", row.temporal_start.isoformat() if row.temporal_start else None),
        ("temporal_end", row.temporal_end.isoformat() if row.temporal_end else None),
        ("division_code", row.spatial),
        ("table_version", None if row.version is None else str(row.version)),
        ("quality_score", None if row.quality_score is None else str(row.quality_score)),
        ("data_items", json.dumps(items, ensure_ascii=False)),
    ]
    return {
        "id": package_id,
        "name": row.name,
        "title": row.title,
        "notes": row.description,
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": is_open,
        "license_id": license_id,
        "license_title": license_title,
        "url": ctx.absolute(f"/catalog/datasets/{row.name}"),
        "version": None if row.version is None else str(row.version),
        "author": None,
        "author_email": None,
        "maintainer": None,
        "maintainer_email": None,
        "metadata_created": created,
        "metadata_modified": modified,
        "num_rows": row.rows,
        "owner_org": row.org_code,
        "organization": {
            "id": row.org_code,
            "name": row.org_slug,
            "title": row.org_title,
            "description": row.org_title_en,
            "type": "organization",
            "state": "active",
            "is_organization": True,
            "approval_status": "approved",
            "image_url": "",
        },
        "groups": [
            {k: v for k, v in group_dict(ctx.catalog, row.category).items() if k != "extras"}
        ],
        "tags": [tag_dict(k) for k in keywords],
        "num_tags": len(keywords),
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras if v is not None],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8", "backslashreplace"
    )


def dataset_id_of(ctx: Context, ident: str) -> int:
    """A dataset's row id from its CKAN name or id; 404 otherwise."""
    found: int | None = None
    if UUID.fullmatch(ident):
        ctx.cache.follow(service.revision(ctx.db))  # a dataset added since is found at once
        by_uuid: dict[str, int] = ctx.cache.lookup(
            "uuids",
            lambda: {
                package_uuid(name): i
                for i, name in ctx.db.execute(select(Dataset.id, Dataset.name))
            },
        )
        found = by_uuid.get(ident)
    elif NAME.fullmatch(ident):
        found = ctx.db.scalar(select(Dataset.id).where(Dataset.name == ident))
    if found is None:
        raise Problem("not-found", detail=f"Not found: 数据集 {ident!r} 不存在")
    return found


def organisation_of(ctx: Context, ident: str) -> Organisation:
    if not (NAME.fullmatch(ident) or CREDIT_CODE.fullmatch(ident)):
        raise Problem("not-found", detail=f"Not found: 部门 {ident!r} 不存在")
    try:
        return service.get_organisation(ctx.db, ident)
    except Problem:
        raise Problem("not-found", detail=f"Not found: 部门 {ident!r} 不存在") from None


def distribution_of(ctx: Context, ident: str) -> tuple[Distribution, Dataset, ResourceClass]:
    row = None
    if UUID.fullmatch(ident):
        row = ctx.db.execute(
            select(Distribution, Dataset, ResourceClass)
            .join(Dataset, Distribution.dataset_id == Dataset.id)
            .join(ResourceClass, Dataset.class_id == ResourceClass.id)
            .where(Distribution.uid == ident)
        ).first()
    if row is None:
        raise Problem("not-found", detail=f"Not found: 资源 {ident!r} 不存在")
    return row[0], row[1], row[2]
