"""The catalog's read actions (``package_search``, ``package_show``, ``organization_list``…,
``status_show``, ``help_show``) and the registry every action module adds its actions to."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select

from shuhui.catalog import search, service
from shuhui.catalog.ckan.context import Context
from shuhui.catalog.ckan.dicts import (
    dataset_id_of,
    distribution_of,
    encode,
    group_dict,
    organisation_of,
    organization_dict,
    package_dicts,
    tag_dict,
)
from shuhui.catalog.ckan.params import DEFAULT_SORT, LIST_MAX, ROWS_MAX, Param
from shuhui.catalog.models import (
    FREQUENCIES,
    OPEN_LEVELS,
    SHARE_TYPES,
    Organisation,
)
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text, codes

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
                FieldError(
                    "sort",
                    Text(
                        f"不能按 `{unknown[0]}` 排序，可用：{codes(search.SORTS)}",
                        f"cannot sort by {unknown[0]!r}; use {', '.join(search.SORTS)}",
                    ),
                )
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
    dataset_id = dataset_id_of(ctx, p["id"])
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
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "sort",
                    Text(
                        "必须是以下之一：" + codes(LIST_SORTS), f"one of: {', '.join(LIST_SORTS)}"
                    ),
                )
            ],
        )
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
    org = organisation_of(ctx, p["id"])
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
    dist, dataset, _cls = distribution_of(ctx, p["id"])
    package = package_dicts(ctx, [dataset.id])[dataset.id]
    return next(r for r in package["resources"] if r["id"] == dist.uid)


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
        raise Problem(
            "not-found",
            detail=Text(f"没有名为 {p['name']!r} 的接口", f"Not found: action {p['name']!r}"),
        )
    lines = [found.summary, "", found.doc, ""]
    lines += [f":param {x.name}: {x.description}" for x in found.params]
    return "\n".join(lines)
