"""The DCAT-AP 3 export: valid against the official shapes, bilingual, complete, cached."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef

from shuhui.catalog import generate, service
from shuhui.catalog.dcat.terms import GEONAMES_QINGDAO, MEDIA_TYPES, base_iri
from shuhui.core.db import transaction

# The official shapes live beside the repository (../shared/data), not in it; a clone elsewhere
# names them with SHUHUI_DCAT_SHAPES, and the workplace copy at /work/shared is the last resort.
_SHAPES_NAME = Path("shared") / "data" / "dcat-ap-3.0.0-shacl.ttl"
SHAPES = next(
    (
        p
        for p in (
            Path(os.environ.get("SHUHUI_DCAT_SHAPES", "/nonexistent")),
            Path(__file__).parents[3] / _SHAPES_NAME,
            Path("/work") / _SHAPES_NAME,
        )
        if p.is_file()
    ),
    Path(__file__).parents[3] / _SHAPES_NAME,
)
EU = "http://publications.europa.eu/resource/authority/"
# Plain namespaces: rdflib's closed ones warn when pytest inspects the module.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SH = Namespace("http://www.w3.org/ns/shacl#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

# rdflib's JSON-LD parser still uses its own deprecated ConjunctiveGraph.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    if not SHAPES.is_file():
        pytest.skip(f"the DCAT-AP 3.0.0 SHACL shapes are not at {SHAPES}")
    return Graph().parse(SHAPES, format="turtle")


@pytest.fixture
def web(catalogued: FastAPI) -> TestClient:
    return TestClient(catalogued, raise_server_exceptions=False)


def get_graph(web: TestClient, path: str, **headers: str) -> Graph:
    response = web.get(path, headers=headers)
    assert response.status_code == 200, response.text
    fmt = "json-ld" if path.endswith(".jsonld") else "turtle"
    expected = MEDIA_TYPES[fmt].split(";")[0]
    assert response.headers["content-type"].startswith(expected)
    return Graph().parse(data=response.content, format=fmt)


def assert_conforms(graph: Graph, shapes: Graph) -> None:
    conforms, results, text = validate(
        graph, shacl_graph=shapes, inference="none", allow_warnings=False
    )
    assert isinstance(results, Graph)
    violations = list(results.subjects(SH.resultSeverity, SH.Violation))
    assert conforms and not violations, text


def dataset(name: str) -> URIRef:
    return URIRef(f"http://testserver/catalog/datasets/{name}#dataset")


def test_the_whole_catalog_conforms_to_dcat_ap_3(web: TestClient, shapes: Graph) -> None:
    graph = get_graph(web, "/catalog.ttl")
    assert_conforms(graph, shapes)
    catalog = graph.value(predicate=TYPE, object=DCAT.Catalog)
    assert catalog == URIRef("http://testserver/catalog#catalog")
    assert {lit.language for lit in graph.objects(catalog, DCTERMS["title"])} == {"zh", "en"}
    assert graph.value(catalog, DCTERMS.publisher) is not None
    taxonomy = set(graph.objects(catalog, DCAT.themeTaxonomy))
    assert URIRef(EU + "data-theme") in taxonomy


def test_json_ld_holds_the_same_graph_and_every_dataset(catalogued: FastAPI) -> None:
    web = TestClient(catalogued)
    turtle = get_graph(web, "/catalog.ttl")
    jsonld = get_graph(web, "/catalog.jsonld")
    assert set(turtle) == set(jsonld)
    with catalogued.state.session_factory() as db:
        count = service.counts(db)["datasets"]
    datasets = set(jsonld.subjects(TYPE, DCAT.Dataset))
    assert len(datasets) == count
    catalog = jsonld.value(predicate=TYPE, object=DCAT.Catalog)
    assert set(jsonld.objects(catalog, DCAT.dataset)) == datasets


def test_titles_and_descriptions_are_in_chinese_and_english(web: TestClient) -> None:
    graph = get_graph(web, "/catalog.jsonld")
    for ds in graph.subjects(TYPE, DCAT.Dataset):
        for prop in (DCTERMS["title"], DCTERMS.description):
            values = [v for v in graph.objects(ds, prop) if isinstance(v, Literal)]
            assert {v.language for v in values} == {"zh", "en"}, (ds, prop)
            assert all(str(v).strip() for v in values)
    title = graph.value(dataset("enterprises"), DCTERMS["title"])
    assert title is not None


def test_each_dataset_exports_alone_and_conforms(web: TestClient, shapes: Graph) -> None:
    whole = set(get_graph(web, "/catalog.ttl"))
    for name, suffix in (
        ("enterprises", "ttl"),
        ("residents", "jsonld"),
        ("enterprise_tax", "ttl"),
    ):
        graph = get_graph(web, f"/catalog/datasets/{name}.{suffix}")
        assert_conforms(graph, shapes)
        assert set(graph.subjects(TYPE, DCAT.Dataset)) == {dataset(name)}
        # rdflib's serialisers (one dataset) and the streaming writer (the catalog) agree.
        assert set(graph) <= whole


def test_open_data_has_a_licence_and_a_download(web: TestClient) -> None:
    graph = get_graph(web, "/catalog/datasets/enterprises.ttl")
    ds = dataset("enterprises")
    assert graph.value(ds, DCTERMS.accessRights) == URIRef(EU + "access-right/PUBLIC")
    dists = list(graph.objects(ds, DCAT.distribution))
    assert len(dists) == 2
    licences = {graph.value(d, DCTERMS.license) for d in dists}
    assert licences == {URIRef(EU + "licence/CC_BY_4_0")}
    downloads = [graph.value(d, DCAT.downloadURL) for d in dists]
    assert URIRef("http://testserver/catalog/datasets/enterprises/download.csv") in downloads
    formats = {graph.value(d, DCTERMS["format"]) for d in dists}
    assert formats == {URIRef(EU + "file-type/CSV"), URIRef(EU + "file-type/JSON")}
    media = {graph.value(d, DCAT.mediaType) for d in dists}
    assert URIRef("http://www.iana.org/assignments/media-types/text/csv") in media
    assert all(graph.value(d, DCAT.accessURL) is not None for d in dists)


def test_closed_data_has_no_download_and_states_its_rights(web: TestClient) -> None:
    graph = get_graph(web, "/catalog/datasets/residents.ttl")
    ds = dataset("residents")
    assert graph.value(ds, DCTERMS.accessRights) == URIRef(EU + "access-right/NON_PUBLIC")
    dists = list(graph.objects(ds, DCAT.distribution))
    assert dists
    for d in dists:
        assert graph.value(d, DCAT.downloadURL) is None
        assert graph.value(d, DCTERMS.license) is None
        assert graph.value(d, DCAT.accessURL) is not None
        assert graph.value(d, DCTERMS.rights) is not None
    assert not list(graph.subject_objects(DCAT.downloadURL))
    tax = get_graph(web, "/catalog/datasets/enterprise_tax.ttl")
    assert tax.value(dataset("enterprise_tax"), DCTERMS.accessRights) == URIRef(
        EU + "access-right/RESTRICTED"
    )


def test_dataset_metadata_is_complete(web: TestClient) -> None:
    graph = get_graph(web, "/catalog/datasets/enterprises.jsonld")
    ds = dataset("enterprises")
    assert graph.value(ds, DCTERMS.identifier) == Literal("enterprises")
    publisher = graph.value(ds, DCTERMS.publisher)
    assert publisher is not None
    assert len(str(graph.value(publisher, DCTERMS.identifier))) == 18  # the credit code
    contact = graph.value(ds, DCAT.contactPoint)
    email = graph.value(contact, VCARD.hasEmail)
    assert str(email).startswith("mailto:data@") and str(email).endswith(".qingdao.gov.cn")
    themes = set(graph.objects(ds, DCAT.theme))
    assert URIRef(EU + "data-theme/ECON") in themes
    assert URIRef("http://testserver/catalog/categories/01") in themes
    assert list(graph.objects(ds, DCAT.keyword))
    issued = graph.value(ds, DCTERMS.issued)
    modified = graph.value(ds, DCTERMS.modified)
    assert isinstance(issued, Literal) and issued.datatype == XSD.date
    assert isinstance(modified, Literal) and modified.datatype == XSD.dateTime
    frequency = graph.value(ds, DCTERMS.accrualPeriodicity)
    assert str(frequency).startswith(EU + "frequency/")
    assert graph.value(ds, DCTERMS.spatial) == URIRef(GEONAMES_QINGDAO)
    assert graph.value(ds, DCAT.landingPage) == URIRef(
        "http://testserver/catalog/datasets/enterprises"
    )


@pytest.mark.parametrize("suffix", ["ttl", "jsonld"])
def test_an_unknown_dataset_is_a_404_problem(web: TestClient, suffix: str) -> None:
    response = web.get(f"/catalog/datasets/no-such-dataset.{suffix}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/not-found" and body["status"] == 404


def test_the_whole_export_is_cached_per_revision(catalogued: FastAPI) -> None:
    web = TestClient(catalogued)
    first = web.get("/catalog.ttl")  # made now, sent gzip-compressed as it is made
    assert first.headers["content-encoding"] == "gzip"
    cached = catalogued.state.dcat_exports
    with catalogued.state.session_factory() as db:
        revision = service.revision(db)
    kept = cached.get("turtle", "http://testserver", revision)
    assert kept is not None and gzip.decompress(kept) == first.content
    again = web.get("/catalog.ttl")
    plain = web.get("/catalog.ttl", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert again.content == plain.content == first.content
    # A change to the catalog makes a new export.
    with transaction(catalogued.state.session_factory) as db:
        generate.generate_catalog(db, catalogued.state.city_catalog, classes=2, datasets=3, seed=5)
    after = Graph().parse(data=web.get("/catalog.ttl").content, format="turtle")
    before = Graph().parse(data=first.content, format="turtle")
    count = lambda g: len(set(g.subjects(TYPE, DCAT.Dataset)))  # noqa: E731
    assert count(after) == count(before) + 3


def test_iris_are_safe_whatever_the_host(catalogued: FastAPI) -> None:
    web = TestClient(catalogued, base_url='http://a"b<c>d')
    response = web.get("/catalog/datasets/enterprises.ttl")
    assert response.status_code == 200
    Graph().parse(data=response.content, format="turtle")
    assert base_iri('http://a"b<c>{d}/') == "http://a%22b%3Cc%3E%7Bd%7D"


def test_generated_datasets_at_scale_export_and_conform(scaled: FastAPI, shapes: Graph) -> None:
    web = TestClient(scaled)
    graph = get_graph(web, "/catalog.jsonld")
    with scaled.state.session_factory() as db:
        count = service.counts(db)["datasets"]
    datasets = set(graph.subjects(TYPE, DCAT.Dataset))
    assert len(datasets) == count >= 2_000
    # Every district a dataset covers is a typed location; the shapes hold on a sample (the
    # whole export conforms too, but takes pyshacl half a minute).
    for ds in datasets:
        place = graph.value(ds, DCTERMS.spatial)
        assert (place, TYPE, DCTERMS.Location) in graph
    sample = get_graph(web, "/catalog/datasets/gen-01-000000-000000.ttl")
    assert_conforms(sample, shapes)
    assert sample.value(dataset("gen-01-000000-000000"), DCTERMS.temporal) is not None
