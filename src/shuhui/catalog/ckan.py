"""CKAN's Action API over the catalog: the read actions, their parameters, and the dicts CKAN
returns, so CKAN clients (``ckanapi``, harvesters, portals) read the catalog unchanged.

No HTTP here: :func:`call` takes the parameters as CKAN receives them (query string or JSON body,
already merged into one dict) and returns the status and the encoded ``{"help", "success",
"result"}`` envelope. Failures are CKAN's error envelope, with CKAN's status codes (404 Not
Found Error, 409 Validation Error naming each field, 403 Authorization Error); they also carry
the platform's problem-details members (``type``, ``title``, ``status``…), so one body serves
CKAN clients and problem+json clients alike.

What is public: the catalog's metadata, and through ``datastore_search`` the rows of datasets
whose class is open unconditionally (无条件开放) and that have a data-core table, without their
personal-information columns. Personal columns are neither listed, nor returned, nor usable in
``filters``, ``q`` or ``sort``.

``package_search`` is the hot path: the search runs on the in-process index, each package
dict is encoded once per catalog revision and kept, and so is each whole answer, keyed by the
request's query string (:class:`PackageCache`): a portal's home page, its popular words and
its facet links are asked again and again between two catalog changes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import urlencode

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.catalog import search, service
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
from shuhui.core.content import Items
from shuhui.core.errors import FieldError, Problem, problem_body
from shuhui.datacore.errors import TableNotFound
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.store import DataCore

API_PATH: Final = "/api/3/action/"
ROWS_MAX: Final = 1000  # ckan.search.rows_max
DATASTORE_ROWS_MAX: Final = 32000  # ckan.datastore.search.rows_max
LIST_MAX: Final = 1000  # ckan.group_and_organization_list_max
# How long a search trusts the index without asking the database for the catalog's revision.
REVISION_CHECK: Final = 1.0
DEFAULT_SORT: Final = "score desc, metadata_modified desc"
# Actions whose answers depend only on the request and the catalog revision (see Raw.revision).
KEPT_ANSWERS: Final = frozenset({"package_search"})
# CKAN-compatible identifiers; anything else is not looked up at all.
NAME: Final = re.compile(r"[a-z0-9_-]{2,100}")
UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CREDIT_CODE: Final = re.compile(r"[0-9A-Z]{18}")
# The datastore's column types (PostgreSQL's names, as CKAN reports them).
DATASTORE_TYPES: Final = {
    "string": "text",
    "int8": "int4",
    "int16": "int4",
    "int32": "int4",
    "int64": "int8",
    "float64": "float8",
    "bool": "bool",
    "date": "date",
    "timestamp": "timestamp",
}
LICENSES: Final = {
    True: ("other-open", "Other (Open)"),
    False: ("other-closed", "Other (Not Open)"),
}
ERROR_TYPES: Final = {
    # problem slug -> (CKAN's __type, HTTP status)
    "validation": ("Validation Error", 409),
    "not-found": ("Not Found Error", 404),
    "forbidden": ("Authorization Error", 403),
    "malformed-request": ("Bad Request", 400),
    "http-error": ("Bad Request", 400),
}


# --- parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of an action, as CKAN's validators take it.

    kinds: ``text``; ``natural`` (integer ≥ 0, capped at ``maximum`` as CKAN caps it);
    ``integer``; ``boolean``; ``list`` (a list of strings, a JSON list, or comma-separated);
    ``object`` (a JSON object, or its text); ``text_or_object`` (datastore ``q``).
    """

    name: str
    kind: str
    description: str
    default: Any = None
    maximum: int | None = None
    required: bool = False


TRUE: Final = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE: Final = frozenset({"false", "f", "no", "n", "off", "0"})


def _text_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _convert(param: Param, value: Any) -> Any:
    """The typed value, or raises ValueError with CKAN's wording of what is wrong."""
    kind = param.kind
    if kind == "text":
        if value is None or isinstance(value, bool | list | dict):
            raise ValueError("Must be a string")
        text = str(value)
        if not _text_ok(text):
            raise ValueError("Invalid characters")
        return text
    if kind in ("natural", "integer"):
        if isinstance(value, bool):
            raise ValueError("Invalid integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("Invalid integer")
            value = int(value)
        if isinstance(value, str):
            if not re.fullmatch(r"\s*[-+]?\d{1,30}\s*", value):
                raise ValueError("Invalid integer")
            value = int(value)
        if not isinstance(value, int):
            raise ValueError("Invalid integer")
        if kind == "natural" and value < 0:
            raise ValueError("Must be a natural number")
        if param.maximum is not None:
            value = min(value, param.maximum)
        return max(min(value, 2**62), -(2**62))
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE
        raise ValueError("Not a boolean value (true or false)")
    if kind == "list":
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                try:
                    value = json.loads(stripped)
                except ValueError:
                    raise ValueError("Could not parse as valid JSON") from None
            else:
                value = [part.strip() for part in stripped.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Must be a list of strings")
        if not all(_text_ok(v) for v in value):
            raise ValueError("Invalid characters")
        return value
    if kind in ("object", "text_or_object"):
        if isinstance(value, str):
            stripped = value.strip()
            if kind == "text_or_object" and not stripped.startswith("{"):
                if not _text_ok(value):
                    raise ValueError("Invalid characters")
                return value
            try:
                value = json.loads(stripped)
            except ValueError:
                raise ValueError("Could not parse as valid JSON") from None
        if not isinstance(value, dict):
            raise ValueError("Must be a JSON object")
        if not all(_text_ok(k) for k in value):
            raise ValueError("Invalid characters")
        return value
    raise AssertionError(kind)


def parse(params: Sequence[Param], raw: dict[str, Any]) -> dict[str, Any]:
    """All parameters at once, as CKAN validates: every field at fault is named."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for param in params:
        value = raw.get(param.name)
        if value is None or (isinstance(value, str) and value == "" and param.kind != "text"):
            if param.required:
                errors.append(FieldError(param.name, "Missing value"))
            out[param.name] = param.default
            continue
        if param.required and isinstance(value, str) and not value.strip():
            errors.append(FieldError(param.name, "Missing value"))
            continue
        try:
            out[param.name] = _convert(param, value)
        except ValueError as exc:
            errors.append(FieldError(param.name, str(exc)))
    if errors:
        raise Problem("validation", errors=errors)
    return out


# --- the context of a call -----------------------------------------------------------------


@dataclass
class Context:
    db: Session
    catalog: CityCatalog
    indexes: search.IndexCache
    datacore: DataCore
    cache: PackageCache
    base_url: str  # scheme://host[:port], no trailing slash
    path: str = API_PATH
    request_id: str | None = None

    def absolute(self, url: str) -> str:
        return self.base_url + url if url.startswith("/") else url

    def index(self) -> search.SearchIndex:
        return self.cache.index(self.indexes, self.db, self.catalog.synonyms)


class PackageCache:
    """Encoded package dicts, whole search answers and a few lookups of one catalog revision.

    Keyed by the site's base URL too, since resource URLs are absolute. Bounded: the least
    recently used entries go first (answers also by their total size).
    """

    def __init__(
        self,
        capacity: int = 20_000,
        max_age: float = REVISION_CHECK,
        answers: int = 2_000,
        answer_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self.answers_max = answers
        self.answer_bytes_max = answer_bytes
        self.revision: int | None = None
        self._index: tuple[float, search.SearchIndex] | None = None
        self._lock = threading.Lock()
        self._packages: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._answer_bytes = 0
        self._confirming = -math.inf  # when a caller last went to confirm the revision
        self._lookups: dict[str, Any] = {}

    def index(
        self, indexes: search.IndexCache, db: Session, synonyms: Items | None
    ) -> search.SearchIndex:
        """The search index, asking the database whether the catalog moved at most every
        ``max_age`` seconds: a search may lag a catalog change by that much."""
        now = time.monotonic()
        held = self._index
        if held is not None and now - held[0] < self.max_age:
            return held[1]
        index = indexes.get(db, synonyms)
        self.follow(index.revision)
        self._index = (now, index)
        return index

    def follow(self, revision: int) -> None:
        if revision != self.revision:
            with self._lock:
                if revision != self.revision:
                    self._packages.clear()
                    self._answers.clear()
                    self._answer_bytes = 0
                    self._lookups.clear()
                    self.revision = revision

    def answer(self, key: Hashable) -> bytes | None:
        """A kept answer, while the revision it was made at is known to be current.

        The revision is confirmed against the database every ``max_age`` seconds. When that is
        due, one caller is told "no answer", goes the long way and confirms it; the others keep
        being answered meanwhile (for at most another ``max_age``), rather than all of them
        queueing for the database at once. So an answer lags a catalog change by at most twice
        ``max_age``.
        """
        held = self._index
        if held is None:
            return None
        now = time.monotonic()
        age = now - held[0]
        if age >= self.max_age:
            with self._lock:
                if age >= 2 * self.max_age or now - self._confirming >= self.max_age:
                    self._confirming = now
                    return None
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
            return body

    def keep_answer(self, key: Hashable, body: bytes, revision: int) -> None:
        """Keeps an answer made at ``revision``, unless the catalog has moved on since."""
        if len(body) > self.answer_bytes_max // 16:
            return  # a few huge pages must not push out hundreds of ordinary ones
        with self._lock:
            if revision != self.revision or key in self._answers:
                return
            self._answers[key] = body
            self._answer_bytes += len(body)
            while (
                len(self._answers) > self.answers_max or self._answer_bytes > self.answer_bytes_max
            ):
                _, dropped = self._answers.popitem(last=False)
                self._answer_bytes -= len(dropped)

    def packages(self, base: str, ids: Sequence[int]) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        with self._lock:
            for i in ids:
                hit = self._packages.get((base, i))
                if hit is not None:
                    self._packages.move_to_end((base, i))
                    found[i] = hit
        return found

    def store(self, base: str, encoded: dict[int, bytes], revision: int | None) -> None:
        """Keeps what was read at ``revision``, unless the catalog has moved on since."""
        with self._lock:
            if revision != self.revision:
                return
            for i, body in encoded.items():
                self._packages[(base, i)] = body
            while len(self._packages) > self.capacity:
                self._packages.popitem(last=False)

    def lookup(self, name: str, build: Callable[[], Any]) -> Any:
        value = self._lookups.get(name)
        if value is None:
            revision = self.revision
            value = build()
            with self._lock:
                if revision == self.revision:
                    self._lookups[name] = value
        return value


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


def _dataset_id(ctx: Context, ident: str) -> int:
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


def _organisation(ctx: Context, ident: str) -> Organisation:
    if not (NAME.fullmatch(ident) or CREDIT_CODE.fullmatch(ident)):
        raise Problem("not-found", detail=f"Not found: 部门 {ident!r} 不存在")
    try:
        return service.get_organisation(ctx.db, ident)
    except Problem:
        raise Problem("not-found", detail=f"Not found: 部门 {ident!r} 不存在") from None


def _distribution(ctx: Context, ident: str) -> tuple[Distribution, Dataset, ResourceClass]:
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


# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A result already encoded as JSON; ``revision`` is the catalog revision it shows, when
    the whole answer may be kept and served again until the catalog changes."""

    body: bytes
    revision: int | None = None


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[Context, dict[str, Any]], Any]
    params: tuple[Param, ...]
    summary: str
    doc: str = field(default="")


ACTIONS: dict[str, Action] = {}


def action(
    summary: str, *params: Param
) -> Callable[[Callable[[Context, dict[str, Any]], Any]], Callable[[Context, dict[str, Any]], Any]]:
    def register(
        fn: Callable[[Context, dict[str, Any]], Any],
    ) -> Callable[[Context, dict[str, Any]], Any]:
        ACTIONS[fn.__name__] = Action(fn.__name__, fn, params, summary, (fn.__doc__ or "").strip())
        return fn

    return register


def _facet_display(ctx: Context, name: str) -> Callable[[str], str]:
    if name == "organization":
        titles: dict[str, str] = ctx.cache.lookup(
            "org_titles",
            lambda: {
                s: t for s, t in ctx.db.execute(select(Organisation.slug, Organisation.title))
            },
        )
        return lambda v: titles.get(v, v)
    if name == "groups":
        return lambda v: item.name_zh if (item := ctx.catalog.categories.get(v)) else v
    vocabulary = {"open_level": OPEN_LEVELS, "frequency": FREQUENCIES, "share_type": SHARE_TYPES}
    if name in vocabulary:
        words = vocabulary[name]
        return lambda v: words[v][0] if v in words else v
    return lambda v: v


def _sort(value: str) -> str:
    """CKAN's sort (``field direction[, field direction…]``) as the index's key."""
    parts = [" ".join(p.split()) for p in value.split(",") if p.strip()]
    if not parts:
        return "score desc"
    unknown = [p for p in parts if p not in search.SORTS]
    if unknown:
        raise Problem(
            "validation",
            errors=[
                FieldError("sort", f"cannot sort by {unknown[0]!r}; use {', '.join(search.SORTS)}")
            ],
        )
    # The index breaks ties itself (newest first, then catalog order), so the first key decides.
    return parts[0]


def encoded_packages(ctx: Context, ids: Sequence[int]) -> list[bytes]:
    revision = ctx.cache.revision
    cached = ctx.cache.packages(ctx.base_url, ids)
    missing = [i for i in ids if i not in cached]
    if missing:
        made = {i: encode(p) for i, p in package_dicts(ctx, missing).items()}
        ctx.cache.store(ctx.base_url, made, revision)
        cached.update(made)
    return [cached[i] for i in ids if i in cached]


@action(
    "Search datasets (CKAN package_search)",
    Param("q", "text", "words to find; 社保 also finds 社会保险", ""),
    Param(
        "fq",
        "text",
        "filters, field:value ANDed: organization, groups, tags, res_format, open_level, "
        'frequency, share_type, name (e.g. open_level:open groups:"04")',
        "",
    ),
    Param("rows", "natural", f"results per page (at most {ROWS_MAX})", 10, ROWS_MAX),
    Param("start", "natural", "offset of the first result", 0),
    Param("sort", "text", "e.g. score desc, metadata_modified desc, name asc", DEFAULT_SORT),
    Param("facet", "boolean", "whether to count facets", True),
    Param("facet.field", "list", 'facets to count, a JSON list: ["organization","groups"]', []),
    Param("facet.limit", "integer", "values per facet (-1: all)", 50),
    Param("facet.mincount", "natural", "smallest count to list", 1),
    Param("include_private", "boolean", "accepted; the catalog has no private datasets", False),
)
def package_search(ctx: Context, p: dict[str, Any]) -> Raw:
    """Searches the catalog. Returns ``count``, ``results`` (full package dicts), ``sort``,
    ``facets`` ({field: {value: count}}) and ``search_facets`` ({field: {title, items:
    [{name, display_name, count}]}})."""
    index = ctx.index()
    facet_fields = tuple(dict.fromkeys(p["facet.field"])) if p["facet"] else ()
    limit = p["facet.limit"]
    query = search.Query(
        q=p["q"],
        fq=p["fq"],
        sort=_sort(p["sort"]),
        rows=p["rows"],
        start=min(p["start"], 2**31 - 1),
        facet_fields=facet_fields,
        facet_limit=limit if limit >= 0 else 2**31 - 1,
    )
    found = index.search(query)
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name in facet_fields:
        counts = {v: n for v, n in found.facets.get(name, {}).items() if n >= p["facet.mincount"]}
        facets[name] = counts
        display = _facet_display(ctx, name)
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": v, "display_name": display(v), "count": n} for v, n in counts.items()
            ],
        }
    head = encode({"count": found.count, "sort": p["sort"] or DEFAULT_SORT, "facets": facets})
    body = b"".join(
        (
            head[:-1],
            b',"search_facets":',
            encode(search_facets),
            b',"results":[',
            b",".join(encoded_packages(ctx, found.dataset_ids)),
            b"]}",
        )
    )
    return Raw(body, index.revision)


@action("A dataset's package dict", Param("id", "text", "the dataset's name or id", required=True))
def package_show(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """One dataset, as package_search returns it."""
    dataset_id = _dataset_id(ctx, p["id"])
    return package_dicts(ctx, [dataset_id])[dataset_id]


@action(
    "Names of all datasets",
    Param("limit", "natural", "how many names", None),
    Param("offset", "natural", "how many to skip", 0),
)
def package_list(ctx: Context, p: dict[str, Any]) -> list[str]:
    """Names of the catalog's datasets, in name order."""
    return service.dataset_names(ctx.db, limit=p["limit"], offset=p["offset"])


def _facet_counts(ctx: Context, name: str) -> dict[str, int]:
    index = ctx.index()
    found = index.search(search.Query(rows=0, facet_fields=(name,), facet_limit=2**31 - 1))
    return found.facets.get(name, {})


LIST_PARAMS: Final = (
    Param("all_fields", "boolean", "full dicts instead of names", False),
    Param("sort", "text", "name asc | name desc | title asc | title desc | package_count desc", ""),
    Param("limit", "natural", f"how many (at most {LIST_MAX})", LIST_MAX, LIST_MAX),
    Param("offset", "natural", "how many to skip", 0),
    Param("include_dataset_count", "boolean", "package_count in full dicts", True),
)
LIST_SORTS: Final = ("name asc", "name desc", "title asc", "title desc", "package_count desc")


def _listing(
    p: dict[str, Any], entries: list[dict[str, Any]], wanted: list[str] | None
) -> list[Any]:
    sort = " ".join(p["sort"].split()) or "name asc"
    if sort not in LIST_SORTS:
        raise Problem("validation", errors=[FieldError("sort", f"one of: {', '.join(LIST_SORTS)}")])
    if wanted:
        entries = [e for e in entries if e["name"] in wanted]
    key, direction = sort.split()
    entries.sort(key=lambda e: e[key], reverse=direction == "desc")
    page = entries[p["offset"] : p["offset"] + p["limit"]]
    if not p["all_fields"]:
        return [e["name"] for e in page]
    if not p["include_dataset_count"]:
        for e in page:
            e.pop("package_count", None)
    return page


@action(
    "Providing departments (CKAN organizations)",
    *LIST_PARAMS,
    Param("organizations", "list", "only these names", None),
)
def organization_list(ctx: Context, p: dict[str, Any]) -> list[Any]:
    """The providing departments: names, or full dicts with ``all_fields``."""
    counts = _facet_counts(ctx, "organization")
    entries = [organization_dict(o, counts.get(o.slug, 0)) for o in service.organisations(ctx.db)]
    return _listing(p, entries, p["organizations"])


@action(
    "A providing department",
    Param("id", "text", "the organization's name (slug) or id (credit code)", required=True),
    Param("include_datasets", "boolean", f"the first {ROWS_MAX} of its datasets", False),
)
def organization_show(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """One providing department, with its dataset count (and datasets, if asked)."""
    org = _organisation(ctx, p["id"])
    counts = _facet_counts(ctx, "organization")
    out = organization_dict(org, counts.get(org.slug, 0))
    out["extras"] = [
        {"key": "credit_code", "value": org.code},
        {"key": "title_en", "value": org.title_en},
        {"key": "short", "value": org.short},
    ]
    if p["include_datasets"]:
        out["packages"] = _packages_where(ctx, f'organization:"{org.slug}"')
    return out


def _packages_where(ctx: Context, fq: str) -> list[Any]:
    found = ctx.index().search(search.Query(fq=fq, sort="name asc", rows=ROWS_MAX))
    return [json.loads(b) for b in encoded_packages(ctx, found.dataset_ids)]


@action(
    "Catalog categories (CKAN groups)",
    *LIST_PARAMS,
    Param("groups", "list", "only these names", None),
)
def group_list(ctx: Context, p: dict[str, Any]) -> list[Any]:
    """The catalog's subject categories as CKAN groups: name is the category code, display_name
    its Chinese title."""
    counts = _facet_counts(ctx, "groups")
    entries = [
        group_dict(ctx.catalog, c.code, counts.get(c.code, 0)) for c in ctx.catalog.categories
    ]
    return _listing(p, entries, p["groups"])


@action(
    "A catalog category (CKAN group)",
    Param("id", "text", "the category code", required=True),
    Param("include_datasets", "boolean", f"the first {ROWS_MAX} of its datasets", False),
)
def group_show(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """One category, with its dataset count (and datasets, if asked)."""
    code = p["id"]
    if ctx.catalog.categories.get(code) is None:
        raise Problem("not-found", detail=f"Not found: 分类 {code!r} 不存在")
    out = group_dict(ctx.catalog, code, _facet_counts(ctx, "groups").get(code, 0))
    if p["include_datasets"]:
        out["packages"] = _packages_where(ctx, f'groups:"{code}"')
    return out


@action(
    "Tags (the classes' keywords)",
    Param("query", "text", "only tags containing this text", ""),
    Param("vocabulary_id", "text", "not supported: free tags only", ""),
    Param("all_fields", "boolean", "tag dicts instead of names", False),
)
def tag_list(ctx: Context, p: dict[str, Any]) -> list[Any]:
    """Every tag in use by a dataset, in name order."""
    if p["vocabulary_id"]:
        raise Problem("not-found", detail=f"Not found: 词表 {p['vocabulary_id']!r} 不存在")
    index = ctx.index()
    tags = index.multi["tags"].values if "tags" in index.multi else []
    names = [t for t in tags if p["query"] in t]
    return [tag_dict(t) for t in names] if p["all_fields"] else names


@action("A resource (distribution)", Param("id", "text", "the resource's id", required=True))
def resource_show(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """One resource: a download or an API of a dataset."""
    dist, dataset, _cls = _distribution(ctx, p["id"])
    package = package_dicts(ctx, [dataset.id])[dataset.id]
    return next(r for r in package["resources"] if r["id"] == dist.uid)


# --- the datastore -------------------------------------------------------------------------


def _open_table(ctx: Context, resource_id: str) -> tuple[TableSpec, list[Column]]:
    """The data-core table behind an open resource, and its columns that may be published."""
    dist, dataset, cls = _distribution(ctx, resource_id)
    if cls.open_level != "open":
        level = OPEN_LEVELS.get(cls.open_level, ("", ""))[0]
        raise Problem(
            "forbidden",
            detail=f"Access denied: 数据集 {dataset.name} 为{level}数据，"
            "数据接口只提供无条件开放的数据",
        )
    if dataset.table_name is None:
        raise Problem("not-found", detail=f"Not found: 资源 {dist.uid} 没有数据接口（datastore）")
    try:
        spec: TableSpec = ctx.datacore.spec(dataset.table_name)
    except TableNotFound:
        raise Problem(
            "not-found", detail=f"Not found: 资源 {dist.uid} 没有数据接口（datastore）"
        ) from None
    return spec, service.public_columns(ctx.db, spec)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column(columns: dict[str, Column], name: str, field_name: str, hidden: set[str]) -> Column:
    if name in hidden:
        raise Problem(
            "validation", errors=[FieldError(field_name, f"字段 {name!r} 为个人信息，不开放")]
        )
    if name not in columns:
        raise Problem(
            "validation", errors=[FieldError(field_name, f'field "{name}" not in the table')]
        )
    return columns[name]


def _value(column: Column, value: Any, field_name: str) -> Any:
    """A filter value as the column's type; CKAN's datastore compares typed values."""
    bad = Problem(
        "validation",
        errors=[FieldError(field_name, f"{column.name}: {value!r} is not a valid {column.type}")],
    )
    if value is None or isinstance(value, list | dict):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    try:
        if column.type == "string":
            text = str(value)
            if not _text_ok(text):
                raise bad
            return text
        if column.type in ("int8", "int16", "int32", "int64"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise bad
            number = int(value)
            if abs(number) >= 2**63:
                raise bad
            return number
        if column.type == "float64":
            if isinstance(value, bool):
                raise bad
            return float(value)
        if column.type == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in TRUE | FALSE:
                return str(value).lower() in TRUE
            raise bad
        if column.type == "date":
            return date.fromisoformat(str(value))
        if column.type == "timestamp":
            return as_utc(datetime.fromisoformat(str(value)))
    except (ValueError, OverflowError):
        raise bad from None
    raise bad


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # strict JSON has no NaN or Infinity
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@action(
    "Rows of an open dataset (CKAN datastore_search)",
    Param("resource_id", "text", "the resource's id", required=True),
    Param("filters", "object", 'equality filters, e.g. {"district": "370202"}', None),
    Param("q", "text_or_object", "words to find in any field, or {field: text}", None),
    Param("fields", "list", "fields to return (default: all published fields)", None),
    Param("sort", "text", "e.g. name asc, registered_capital_fen desc", ""),
    Param("limit", "natural", f"rows (at most {DATASTORE_ROWS_MAX})", 100, DATASTORE_ROWS_MAX),
    Param("offset", "natural", "rows to skip", 0),
    Param("distinct", "boolean", "distinct rows only", False),
    Param("include_total", "boolean", "count all matching rows", True),
    Param("records_format", "text", "objects | lists | csv | tsv", "objects"),
    Param("plain", "boolean", "accepted", True),
    Param("language", "text", "accepted", ""),
)
def datastore_search(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Reads rows of an unconditionally open dataset from the data core. Personal-information
    columns are never published: not in ``fields``, not returned, not filterable."""
    fmt = p["records_format"]
    if fmt not in ("objects", "lists", "csv", "tsv"):
        raise Problem(
            "validation", errors=[FieldError("records_format", "one of objects, lists, csv, tsv")]
        )
    spec, public = _open_table(ctx, p["resource_id"])
    table = spec.name
    columns = {c.name: c for c in public}
    hidden = {c.name for c in spec.columns} - set(columns)

    chosen = (
        [_column(columns, n, "fields", hidden) for n in dict.fromkeys(p["fields"])]
        if p["fields"]
        else public
    )
    where: list[str] = []
    args: list[Any] = []
    for name, wanted in (p["filters"] or {}).items():
        column = _column(columns, name, "filters", hidden)
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            raise Problem("validation", errors=[FieldError("filters", f"{name}: no values")])
        typed = [_value(column, v, "filters") for v in values]
        where.append(f"{_quote(name)} IN ({', '.join('?' for _ in typed)})")
        args.extend(typed)
    q = p["q"]
    if isinstance(q, dict):
        for name, text in q.items():
            column = _column(columns, name, "q", hidden)
            if not isinstance(text, str) or not _text_ok(text):
                raise Problem("validation", errors=[FieldError("q", f"{name}: must be text")])
            where.append(f"contains(lower(CAST({_quote(column.name)} AS VARCHAR)), lower(?))")
            args.append(text)
    elif q:
        everything = (
            "concat_ws(' ', "
            + ", ".join(f"CAST({_quote(c.name)} AS VARCHAR)" for c in public)
            + ")"
        )
        for word in q.split():
            where.append(f"contains(lower({everything}), lower(?))")
            args.append(word)
    order: list[str] = []
    for part in (s.strip() for s in p["sort"].split(",")):
        if not part:
            continue
        words = part.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if len(words) > 2 or direction not in ("asc", "desc"):
            raise Problem(
                "validation", errors=[FieldError("sort", f"expected 'field [asc|desc]': {part!r}")]
            )
        column = _column(columns, words[0].strip('"'), "sort", hidden)
        order.append(f"{_quote(column.name)} {direction.upper()}")
    if not order:
        # A stable order, so that pages do not overlap: the key, when it is published.
        order = [_quote(k) for k in spec.primary_key if k in columns]

    select_list = ", ".join(_quote(c.name) for c in chosen)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    distinct = "DISTINCT " if p["distinct"] else ""
    ordering = f" ORDER BY {', '.join(order)}" if order else ""
    query = (
        f"SELECT {distinct}{select_list} FROM {_quote(table)}{condition}{ordering} LIMIT ? OFFSET ?"  # noqa: S608
    )
    con = ctx.datacore.connect()
    try:
        rows = con.execute(query, [*args, p["limit"], p["offset"]]).fetchall()
        total = None
        if p["include_total"]:
            counted = f"SELECT {distinct}{select_list} FROM {_quote(table)}{condition}"  # noqa: S608
            total = con.execute(f"SELECT count(*) FROM ({counted})", args).fetchone()  # noqa: S608
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        raise Problem(
            "validation", errors=[FieldError("filters", str(exc).splitlines()[0])]
        ) from None
    finally:
        con.close()

    fields = [
        {"id": c.name, "type": DATASTORE_TYPES[c.type], "info": {"label": c.title}} for c in chosen
    ]
    values = [[_json_value(v) for v in row] for row in rows]
    records: Any
    if fmt == "objects":
        names = [c.name for c in chosen]
        records = [dict(zip(names, row, strict=True)) for row in values]
    elif fmt == "lists":
        records = values
    else:
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerows(values)
        records = out.getvalue()

    link = {"resource_id": p["resource_id"]}
    for name in ("q", "filters"):
        if p[name]:
            link[name] = p[name] if isinstance(p[name], str) else json.dumps(p[name])
    for name in ("sort", "records_format"):
        if p[name] and p[name] != "objects":
            link[name] = p[name]
    if p["fields"]:
        link["fields"] = ",".join(p["fields"])
    if p["limit"] != 100:
        link["limit"] = str(p["limit"])
    start = f"{API_PATH}datastore_search?{urlencode(link)}"
    after = f"{API_PATH}datastore_search?{urlencode({**link, 'offset': p['offset'] + p['limit']})}"
    result: dict[str, Any] = {
        "resource_id": p["resource_id"],
        "fields": fields,
        "records_format": fmt,
        "records": records,
        "limit": p["limit"],
        "offset": p["offset"],
        "include_total": p["include_total"],
        "_links": {"start": start, "next": after},
    }
    for name in ("q", "filters", "sort"):
        if p[name]:
            result[name] = p[name]
    if total is not None:
        result["total"] = int(total[0])
        result["total_was_estimated"] = False
    return result


@action("Site status (CKAN status_show)")
def status_show(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """What this site is, for clients that check before they call."""
    return {
        "site_title": "数慧 Shuhui",
        "site_description": "公共数据资源目录 · the public data catalog",
        "site_url": ctx.base_url,
        "ckan_version": "2.10.0",
        "api_version": 3,
        "locale_default": "zh_Hans_CN",
        "extensions": ["datastore"],
    }


@action("Help for an action", Param("name", "text", "an action's name", required=True))
def help_show(ctx: Context, p: dict[str, Any]) -> str:
    """The documentation of an action."""
    found = ACTIONS.get(p["name"])
    if found is None:
        raise Problem("not-found", detail=f"Not found: action {p['name']!r}")
    lines = [found.summary, "", found.doc, ""]
    lines += [f":param {x.name}: {x.description}" for x in found.params]
    return "\n".join(lines)


# --- calling -------------------------------------------------------------------------------


def help_url(ctx: Context, name: str) -> str:
    return f"{ctx.base_url}{API_PATH}help_show?name={name}"


def error(
    ctx: Context, problem: Problem, name: str, *, instance: str | None = None
) -> tuple[int, bytes]:
    """CKAN's error envelope, which is also a problem-details document."""
    kind, status = ERROR_TYPES.get(problem.slug, ("Bad Request", problem.http_status))
    message = problem.detail or (
        "; ".join(f"{e.field}: {e.reason}" for e in problem.errors) or kind
    )
    details: dict[str, Any] = {"__type": kind, "message": message}
    for e in problem.errors:
        details.setdefault(e.field, []).append(e.reason)
    body = {
        "help": help_url(ctx, name),
        "success": False,
        "error": details,
        **problem_body(
            problem.type,
            status=status,
            detail=message,
            errors=problem.errors,
            instance=instance or ctx.path,
            request_id=ctx.request_id,
        ),
    }
    return status, encode(body)


def bad_request(ctx: Context, name: str, message: str) -> tuple[int, bytes]:
    return error(ctx, Problem("malformed-request", detail=f"Bad request - {message}"), name)


def unknown_action(ctx: Context, name: str) -> tuple[int, bytes]:
    problem = Problem("http-error", detail=f"Bad request - Action name not known: {name}")
    return error(ctx, problem, name)


def call(
    ctx: Context, name: str, raw: dict[str, Any], answer_key: Hashable | None = None
) -> tuple[int, bytes]:
    """Runs one action; returns the HTTP status and the encoded envelope. With ``answer_key``
    (what identifies the request: its base URL and query string), an answer that may be served
    again is kept under it (:meth:`PackageCache.answer`)."""
    found = ACTIONS.get(name)
    if found is None:
        return unknown_action(ctx, name)
    try:
        result = found.run(ctx, parse(found.params, raw))
    except Problem as problem:
        return error(ctx, problem, name)
    head = b'{"help":' + encode(help_url(ctx, name)) + b',"success":true,"result":'
    payload = result.body if isinstance(result, Raw) else encode(result)
    body = head + payload + b"}"
    if answer_key is not None and isinstance(result, Raw) and result.revision is not None:
        ctx.cache.keep_answer(answer_key, body, result.revision)
    return 200, body
