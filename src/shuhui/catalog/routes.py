"""The catalog's pages: search with facets, a dataset's page, a class's page, open downloads;
and the one JSON call the search box makes as people type (``/api/v1/catalog/suggest``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.catalog import search, service, tasks
from shuhui.catalog.models import FREQUENCIES, OPEN_LEVELS, SHARE_TYPES, Dataset, ResourceClass
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.datacore.errors import TableNotFound
from shuhui.datacore.schema import TYPE_TITLES
from shuhui.datacore.store import DataCore
from shuhui.jobs import service as jobs_service
from shuhui.jobs.routes import queue_of
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])

Operator = Annotated[User, Depends(require_role(*tasks.WHO))]

PAGE: Final = 20
SAMPLE_ROWS: Final = 10
SUGGESTIONS: Final = 8
SUGGEST_MAX: Final = 40  # a search box's few words, not a document
PAGE_FACETS: Final = ("groups", "organization", "open_level", "res_format", "frequency")
SORT_CHOICES: Final = (
    ("score desc", ("相关度", "Relevance")),
    ("metadata_modified desc", ("最近更新", "Recently updated")),
    ("title_string asc", ("名称", "Title")),
    ("num_rows desc", ("记录数", "Records")),
)


def _index(request: Request, db: Session) -> search.SearchIndex:
    cache: search.IndexCache = request.app.state.catalog_index
    index: search.SearchIndex = cache.get(db, request.app.state.city_catalog.synonyms)
    return index


def _labels(request: Request, db: Session) -> dict[str, dict[str, tuple[str, str]]]:
    catalog: service.CityCatalog = request.app.state.city_catalog
    return {
        "groups": {c.code: (c.name_zh, c.name_en) for c in catalog.categories},
        "organization": {o.slug: (o.title, o.title_en) for o in service.organisations(db)},
        "open_level": OPEN_LEVELS,
        "share_type": SHARE_TYPES,
        "frequency": FREQUENCIES,
        "res_format": {},
    }


@pages.get("/catalog", response_class=HTMLResponse)
def home(
    request: Request,
    db: DB,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=40)] = "score desc",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    groups: Annotated[str, Query(max_length=40)] = "",
    organization: Annotated[str, Query(max_length=100)] = "",
    open_level: Annotated[str, Query(max_length=20)] = "",
    res_format: Annotated[str, Query(max_length=20)] = "",
    frequency: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    chosen = {
        "groups": groups,
        "organization": organization,
        "open_level": open_level,
        "res_format": res_format,
        "frequency": frequency,
    }
    fq = " ".join(f'{k}:"{v}"' for k, v in chosen.items() if v and '"' not in v)
    index = _index(request, db)
    asked = search.Query(
        q=q,
        fq=fq,
        sort=sort,
        rows=PAGE,
        start=(page - 1) * PAGE,
        facet_fields=PAGE_FACETS,
        facet_limit=30,
    )
    result = index.search(asked)
    # Nothing found: near queries that do find something, instead of empty facet headings.
    suggestions = index.suggest(asked) if result.count == 0 and q.strip() else []
    datasets = search.package_ids_in_order(db, result.dataset_ids)
    return render(
        request,
        "catalog_home.html",
        {
            "q": q,
            "sort": sort,
            "page": page,
            "pages": max(1, -(-result.count // PAGE)),
            "count": result.count,
            "suggestions": suggestions,
            "datasets": datasets,
            "facets": result.facets,
            "chosen": chosen,
            "labels": _labels(request, db),
            "sort_choices": SORT_CHOICES,
            "counts": service.counts(db),
            "open_levels": OPEN_LEVELS,
        },
    )


@pages.post("/catalog/sync", response_class=HTMLResponse)
def sync(request: Request, db: DB, user: Operator) -> Response:
    """Registers the data core's new versions and assesses their quality: a background job,
    whose page follows it (a data operator's; asked again while it runs, the same job)."""
    job, _ = jobs_service.start(db, queue_of(request), tasks.SYNC, tasks.SyncIn(), user)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@api.get("/suggest", summary="Up to 8 dataset titles for what is typed so far (搜索建议)")
def suggest(
    request: Request,
    db: DB,
    q: Annotated[str, Query(max_length=SUGGEST_MAX, description="what is typed so far")] = "",
) -> dict[str, Any]:
    """Titles the catalog search finds for ``q`` (Chinese, English, pinyin or its initials: the
    same search as the page), best first, each title once."""
    if not q.strip():
        return {"q": q, "suggestions": []}
    index = _index(request, db)
    ids = index.search(search.Query(q=q, rows=SUGGESTIONS * 3)).dataset_ids
    if not ids:
        # The last word may be half typed (sheb…): try the words it may be the start of.
        words = search.split_words(q)
        for word in index.completions(words[-1]) if words else []:
            completed = " ".join([*words[:-1], word])
            ids += index.search(search.Query(q=completed, rows=SUGGESTIONS * 3)).dataset_ids
            if len(ids) >= SUGGESTIONS * 3:
                break
    titles: dict[str, str] = {}
    for d in search.package_ids_in_order(db, list(dict.fromkeys(ids))):
        titles.setdefault(d.title, d.name)
    shown = [{"title": t, "name": n} for t, n in titles.items()][:SUGGESTIONS]
    return {"q": q, "suggestions": shown}


def _sample(db: Session, core: DataCore, dataset: Dataset) -> tuple[list[str], list[list[Any]]]:
    """A few rows of an open dataset, without its personal columns."""
    if dataset.table_name is None or dataset.resource_class.open_level != "open":
        return [], []
    try:
        spec = core.spec(dataset.table_name)
    except TableNotFound:
        return [], []
    columns = [c.name for c in service.public_columns(db, spec)]
    listing = ", ".join(f'"{c}"' for c in columns)
    con = core.connect()
    try:
        rows = con.execute(
            f'SELECT {listing} FROM "{spec.name}" LIMIT {SAMPLE_ROWS}'  # noqa: S608
        ).fetchall()
    finally:
        con.close()
    return columns, [list(r) for r in rows]


@pages.get("/catalog/datasets/{name}", response_class=HTMLResponse)
def dataset_page(request: Request, db: DB, name: str) -> Response:
    dataset = service.get_dataset(db, name)
    core: DataCore = request.app.state.datacore
    columns, sample = _sample(db, core, dataset)
    versions = []
    if dataset.table_name is not None:
        try:
            versions = list(reversed(core.history(dataset.table_name)))
        except TableNotFound:
            versions = []
    quality = json.loads(dataset.quality) if dataset.quality else None
    related = list(
        db.scalars(
            select(ResourceClass).where(
                ResourceClass.code.in_(service.related_of(dataset.resource_class))
            )
        )
    )
    return render(
        request,
        "catalog_dataset.html",
        {
            "d": dataset,
            "c": dataset.resource_class,
            "category": request.app.state.city_catalog.categories.get(
                dataset.resource_class.category
            ),
            "keywords": service.keywords_of(dataset.resource_class),
            "columns": columns,
            "column_titles": {i.name: i.title for i in dataset.resource_class.items},
            "sample": sample,
            "versions": versions,
            "quality": quality,
            "related": related,
            "open_levels": OPEN_LEVELS,
            "share_types": SHARE_TYPES,
            "frequencies": FREQUENCIES,
            "type_titles": TYPE_TITLES,
        },
    )


@pages.get("/catalog/classes/{code}", response_class=HTMLResponse)
def class_page(request: Request, db: DB, code: str) -> Response:
    cls = service.get_class(db, code)
    datasets = list(
        db.scalars(select(Dataset).where(Dataset.class_id == cls.id).order_by(Dataset.name))
    )
    return render(
        request,
        "catalog_class.html",
        {
            "c": cls,
            "datasets": datasets,
            "category": request.app.state.city_catalog.categories.get(cls.category),
            "keywords": service.keywords_of(cls),
            "open_levels": OPEN_LEVELS,
            "share_types": SHARE_TYPES,
            "frequencies": FREQUENCIES,
            "type_titles": TYPE_TITLES,
        },
    )


@pages.get("/catalog/datasets/{name}/download.csv")
def download(request: Request, db: DB, name: str) -> Response:
    """An open dataset as CSV (UTF-8 with BOM, for spreadsheet programs), personal columns left
    out; other datasets are reached through the data channel after an application."""
    dataset = service.get_dataset(db, name)
    if dataset.resource_class.open_level != "open" or dataset.table_name is None:
        raise Problem(
            "forbidden",
            detail="该数据集不是无条件开放数据，请通过数据通道申请使用",
            errors=[FieldError("name", Text("这不是开放数据", "not open data"))],
        )
    core: DataCore = request.app.state.datacore
    spec = core.spec(dataset.table_name)
    columns = [c.name for c in service.public_columns(db, spec)]
    listing = ", ".join(f'"{c}"' for c in columns)

    def rows() -> Iterator[bytes]:
        con = core.connect()
        try:
            query = f'SELECT {listing} FROM "{spec.name}"'  # noqa: S608
            reader = con.sql(query).to_arrow_reader(50_000)
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            yield ("\ufeff" + buffer.getvalue()).encode()
            for batch in reader:
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(zip(*(col.to_pylist() for col in batch.columns), strict=True))
                yield buffer.getvalue().encode()
        finally:
            con.close()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{dataset.name}.csv"'},
    )
