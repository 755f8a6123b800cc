"""Registering the data core in the catalog, and searching it."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from shuhui.catalog import search, service
from shuhui.catalog.models import DataItem, Dataset, ResourceClass
from shuhui.core.content import ContentError, parse_items
from shuhui.core.db import transaction
from shuhui.standard import TABLES

pytestmark = pytest.mark.both_backends


def index_of(app: FastAPI) -> search.SearchIndex:
    with app.state.session_factory() as db:
        return search.SearchIndex.build(db, app.state.city_catalog.synonyms)


def test_every_table_of_the_city_is_registered_with_full_metadata(catalogued: FastAPI) -> None:
    with catalogued.state.session_factory() as db:
        datasets = {d.name: d for d in db.scalars(select(Dataset))}
        assert set(datasets) == {t.name for t in TABLES}
        for spec in TABLES:
            d = datasets[spec.name]
            c = d.resource_class
            assert d.title == spec.title and d.rows > 0 and d.version == 1
            assert c.organisation.short == spec.department
            assert len(c.organisation.code) == 18
            assert [i.name for i in c.items] == [col.name for col in spec.columns]
            assert [i.personal for i in c.items] == [col.personal for col in spec.columns]
            assert c.share_type in ("unconditional", "conditional", "none")
            assert c.open_level in ("open", "conditional", "closed")
            assert c.record_count == d.rows
            assert json.loads(c.keywords)
            assert d.distributions
        # Open data has a download and an API; the rest is reached through an application.
        assert {x.format for x in datasets["enterprises"].distributions} == {"CSV", "JSON"}
        assert [x.format for x in datasets["medical_visits"].distributions] == ["API"]
        assert service.related_of(datasets["residents"].resource_class)


def test_registration_is_idempotent_and_follows_new_versions(catalogued: FastAPI) -> None:
    core = catalogued.state.datacore
    catalog = catalogued.state.city_catalog
    with transaction(catalogued.state.session_factory) as db:
        before = service.revision(db)
        again = service.sync_datacore(db, core, catalog, actor="test")
        assert again.registered == again.updated == []
        assert service.revision(db) == before
        items = db.scalar(select(func.count(DataItem.id)))
    table = core.sql("SELECT * FROM enterprises LIMIT 50")
    core.load(core.spec("enterprises"), table, source="test")
    with transaction(catalogued.state.session_factory) as db:
        result = service.sync_datacore(db, core, catalog, actor="test")
        assert result.updated == ["enterprises"]
        dataset = service.get_dataset(db, "enterprises")
        assert dataset.version == 2 and dataset.rows == 50
        assert db.scalar(select(func.count(DataItem.id))) == items
        assert service.revision(db) == before + 1


def test_chinese_search_finds_abbreviations_and_partial_words(catalogued: FastAPI) -> None:
    index = index_of(catalogued)

    def names(q: str) -> set[str]:
        ids = list(index.ids)
        return {
            index.names[ids.index(i)] for i in index.search(search.Query(q=q, rows=100)).dataset_ids
        }

    social = names("社保")
    assert {"insurance_enrolments", "insurance_contributions"} <= social
    assert "transit_trips" not in social
    assert names("社会保险") >= {"insurance_enrolments", "insurance_contributions"}
    assert "pension_payments" in names("养老")
    assert names("企业 用电") == {"enterprise_electricity"}
    assert names("enterprise") >= {"enterprises", "enterprise_tax", "enterprise_electricity"}
    assert names("不存在的东西") == set()


def test_facets_filters_sort_and_paging(scaled: FastAPI) -> None:
    index = index_of(scaled)
    everything = index.search(search.Query(rows=0, facet_fields=search.FACETS))
    assert everything.count == 2_000 + len(TABLES)
    assert sum(everything.facets["open_level"].values()) == everything.count
    assert sum(everything.facets["groups"].values()) == everything.count
    opened = index.search(search.Query(fq="open_level:open", rows=0))
    assert opened.count == everything.facets["open_level"]["open"]
    both = index.search(search.Query(fq='open_level:open groups:"04"', rows=0))
    assert both.count <= opened.count
    csv = index.search(search.Query(fq="res_format:CSV", rows=0))
    assert csv.count == everything.facets["res_format"]["CSV"]
    first = index.search(search.Query(sort="name asc", rows=10))
    second = index.search(search.Query(sort="name asc", rows=10, start=10))
    both_pages = index.search(search.Query(sort="name asc", rows=20))
    assert first.dataset_ids + second.dataset_ids == both_pages.dataset_ids
    newest = index.search(search.Query(sort="metadata_modified desc", rows=50)).dataset_ids
    with scaled.state.session_factory() as db:
        stamps = [d.modified for d in search.package_ids_in_order(db, newest)]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (search.Query(sort="popularity desc"), "sort"),
        (search.Query(fq="colour:red"), "fq"),
        (search.Query(fq="(broken"), "fq"),
        (search.Query(facet_fields=("colour",)), "facet.field"),
    ],
)
def test_bad_search_parameters_name_the_field(
    catalogued: FastAPI, query: search.Query, field: str
) -> None:
    from shuhui.core.errors import Problem

    with pytest.raises(Problem) as refused:
        index_of(catalogued).search(query)
    assert refused.value.errors[0].field == field


def test_the_index_follows_the_catalog_revision(catalogued: FastAPI) -> None:
    cache = search.IndexCache()
    with catalogued.state.session_factory() as db:
        first = cache.get(db, None)
        assert cache.get(db, None) is first
    with transaction(catalogued.state.session_factory) as db:
        service.bump(db)
    with catalogued.state.session_factory() as db:
        assert cache.get(db, None) is not first


@given(st.text(max_size=40))
def test_any_filter_text_parses_or_is_refused_naming_fq(text: str) -> None:
    from shuhui.core.errors import Problem

    try:
        parts = search.parse_fq(text)
    except Problem as refused:
        assert refused.errors[0].field == "fq"
    else:
        assert all(name and isinstance(value, str) for name, value in parts)


def test_catalog_content_refers_only_to_known_categories(catalogued: FastAPI) -> None:
    catalog = catalogued.state.city_catalog
    bad = parse_items(
        catalog.resources.path,
        "kind: catalog-resources\nitems:\n  - {code: x, name: {zh: 甲, en: A}, category: '99', "
        "share: none, open: closed, frequency: DAILY, valid_from: 2024-01-01, reference: r}\n",
        "catalog-resources",
    )
    with pytest.raises(ContentError, match="category"):
        service._check_references(
            service.CityCatalog(catalog.categories, catalog.departments, bad, catalog.synonyms)
        )
    with catalogued.state.session_factory() as db:
        assert db.scalar(select(func.count(ResourceClass.id))) == len(TABLES)


def test_registration_assesses_each_new_versions_quality(catalogued: FastAPI) -> None:
    core = catalogued.state.datacore
    table = core.sql("SELECT * FROM enterprise_electricity LIMIT 200")
    core.load(core.spec("enterprise_electricity"), table, source="test")
    with transaction(catalogued.state.session_factory) as db:
        service.sync_datacore(db, core, catalogued.state.city_catalog, actor="test")
        dataset = service.get_dataset(db, "enterprise_electricity")
        report = json.loads(dataset.quality or "{}")
        assert report["version"] == 2 and report["rows"] == 200
        assert {d["name"] for d in report["dimensions"]} >= {"completeness", "validity"}
        assert dataset.quality_score is not None and 0 <= dataset.quality_score <= 100
    from fastapi.testclient import TestClient

    page = TestClient(catalogued).get("/catalog/datasets/enterprise_electricity").text
    assert 'id="quality"' in page and 'data-dimension="completeness"' in page


def test_a_slow_to_build_index_is_rebuilt_in_the_background(catalogued: FastAPI) -> None:
    import time

    cache = search.IndexCache(sync_limit=0.0)  # every build counts as slow
    synonyms = catalogued.state.city_catalog.synonyms
    with catalogued.state.session_factory() as db:
        first = cache.get(db, synonyms)  # no index yet: built on the spot
    with transaction(catalogued.state.session_factory) as db:
        moved = service.bump(db)
    with catalogued.state.session_factory() as db:
        # The catalog moved: the previous index answers while the next one builds.
        assert cache.get(db, synonyms) is first
        deadline = time.monotonic() + 30
        while (current := cache.get(db, synonyms)) is first:
            assert time.monotonic() < deadline, "the background build never finished"
            time.sleep(0.05)
    assert current.revision == moved
    assert (
        current.search(search.Query(q="企业")).count == first.search(search.Query(q="企业")).count
    )
