"""The catalog as DCAT-AP 3: the whole catalog and each dataset, in Turtle and JSON-LD.

Every statement comes from one place, ``Describer``, as nodes: a subject and its
predicate-object pairs. A single dataset becomes an rdflib ``Graph`` and goes out through
rdflib's serialisers. The whole catalog is written node by node instead (``catalog_chunks``),
streaming: at 50,000 datasets it is some two million triples, and an rdflib graph of that size
takes minutes to build and to serialise (rdflib's ``Literal`` alone costs ~15 µs to make), so
nodes hold light terms (``Iri``, ``Text``) that become rdflib terms only on the way into a
graph. ``ExportCache`` keeps each whole export, gzip-compressed, for the catalog revision it
was made at.

The official DCAT-AP 3.0.0 SHACL shapes check the class of every resource a property points to
(a theme must be a ``skos:Concept`` with a label, a licence a ``dct:LicenseDocument``, an access
URL an ``rdfs:Resource`` …). The export types every resource it refers to, the EU vocabularies'
concepts included, so that it validates as it is, without the vocabularies loaded.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Final
from typing import Literal as Choice
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib import namespace as ns
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.catalog import service
from shuhui.catalog.models import (
    FREQUENCIES,
    OPEN_LEVELS,
    Dataset,
    Distribution,
    Organisation,
    ResourceClass,
)
from shuhui.catalog.service import CityCatalog
from shuhui.core.clock import as_utc
from shuhui.core.regions import QINGDAO_CITY, qingdao_districts

log = logging.getLogger("shuhui.catalog.dcat")

Format = Choice["turtle", "json-ld"]
MEDIA_TYPES: Final[dict[Format, str]] = {
    "turtle": "text/turtle; charset=utf-8",
    "json-ld": "application/ld+json",
}

# --- terms --------------------------------------------------------------------------------------

# What an IRI may not hold unescaped between Turtle's <> (and what JSON-LD keeps as is).
_IRI_SAFE: Final = ":/?#[]@!$&'()*+,;=%-._~"


class Iri(str):
    """An absolute IRI that is safe to write as it is (made by ``iri`` or from constants)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Text:
    """A literal: a string with a language tag, or with a datatype, or plain (xsd:string)."""

    value: str
    lang: str | None = None
    datatype: Iri | None = None


Term = Iri | Text


_IRI_PLAIN: Final = re.compile(r"[A-Za-z0-9:/?#\[\]@!$&'()*+,;=%._~-]*")


def iri(text: str) -> Iri:
    """An IRI from text that may hold anything (a Host header, a stored URL): what an IRI may
    not contain is percent-encoded, so no writer can be broken out of."""
    if _IRI_PLAIN.fullmatch(text):  # the usual case, and 10x faster than quote()
        return Iri(text)
    return Iri(quote(text, safe=_IRI_SAFE))


def base_iri(base_url: str) -> str:
    """The request's base URL without its trailing slash, IRI-safe."""
    return iri(base_url.rstrip("/"))


class Vocabulary:
    """The terms of one namespace as attributes (``DCT.title``), each made once."""

    def __init__(self, prefix: str, namespace: str) -> None:
        self._prefix = prefix
        self._namespace = namespace

    def __getattr__(self, name: str) -> Iri:
        if name.startswith("_"):
            raise AttributeError(name)
        term = Iri(self._namespace + name)
        setattr(self, name, term)
        return term


VOCABULARIES: Final = {
    "dcat": str(ns.DCAT),
    "dct": str(ns.DCTERMS),
    "foaf": str(ns.FOAF),
    "rdf": str(ns.RDF),
    "rdfs": str(ns.RDFS),
    "skos": str(ns.SKOS),
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": str(ns.XSD),
}
DCAT: Final = Vocabulary("dcat", VOCABULARIES["dcat"])
DCT: Final = Vocabulary("dct", VOCABULARIES["dct"])
FOAF: Final = Vocabulary("foaf", VOCABULARIES["foaf"])
RDFS: Final = Vocabulary("rdfs", VOCABULARIES["rdfs"])
SKOS: Final = Vocabulary("skos", VOCABULARIES["skos"])
VCARD: Final = Vocabulary("vcard", VOCABULARIES["vcard"])
XSD: Final = Vocabulary("xsd", VOCABULARIES["xsd"])
A: Final = Iri(VOCABULARIES["rdf"] + "type")


def zh(value: str) -> Text:
    return Text(value, "zh")


def en(value: str) -> Text:
    return Text(value, "en")


def plain(value: str) -> Text:
    return Text(value)


def xsd_date(value: date) -> Text:
    return Text(value.isoformat(), datatype=XSD.date)


def xsd_date_time(value: datetime) -> Text:
    return Text(as_utc(value).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


# --- the controlled vocabularies ----------------------------------------------------------------

EU: Final = "http://publications.europa.eu/resource/authority/"
DATA_THEME_SCHEME: Final = Iri(EU + "data-theme")
# The EU data-theme vocabulary, with its English labels.
DATA_THEMES: Final[dict[str, str]] = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "OP_DATPRO": "Provisional data",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
# Open level -> the EU access-right concept, with Chinese and English labels.
ACCESS_RIGHTS: Final[dict[str, tuple[str, str, str]]] = {
    "open": ("PUBLIC", "公开", "public"),
    "conditional": ("RESTRICTED", "受限", "restricted"),
    "closed": ("NON_PUBLIC", "非公开", "non-public"),
}
# Open data is published under CC BY 4.0.
LICENCE: Final = Iri(EU + "licence/CC_BY_4_0")
LICENCE_TITLE: Final = "Creative Commons Attribution 4.0 International"
# A distribution's format (as the catalog writes it) or media type -> the EU file-type code.
FILE_TYPES: Final[dict[str, str]] = {
    "CSV": "CSV",
    "JSON": "JSON",
    "PARQUET": "PARQUET",
    "XML": "XML",
    "XLSX": "XLSX",
}
MEDIA_FILE_TYPES: Final[dict[str, str]] = {
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/vnd.apache.parquet": "PARQUET",
    "application/xml": "XML",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
}
IANA: Final = "http://www.iana.org/assignments/media-types/"
LANGUAGES: Final = (("ZHO", "中文", "Chinese"), ("ENG", "英语", "English"))
GEONAMES_QINGDAO: Final = Iri("https://sws.geonames.org/1797929/")
# Who publishes the catalog: the department (by its short name in departments.yaml).
CATALOG_PUBLISHER: Final = "市大数据发展管理局"


@cache
def eu(kind: str, code: str) -> Iri:
    return iri(f"{EU}{kind}/{code}")


@cache
def eu_theme(code: str) -> Iri | None:
    """The EU data theme of a category's ``dcat_theme`` code; None (and a warning, once) for a
    code the vocabulary does not have."""
    if code in DATA_THEMES:
        return eu("data-theme", code)
    log.warning("dcat_theme %s is not an EU data theme; left out of the DCAT-AP export", code)
    return None


def file_type(fmt: str, media_type: str) -> str | None:
    return FILE_TYPES.get(fmt.upper()) or MEDIA_FILE_TYPES.get(media_type.lower())


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


# --- describing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Node:
    """A subject and what is said of it, in order."""

    subject: Iri
    pairs: list[tuple[Iri, Term]] = field(default_factory=list)

    def add(self, predicate: Iri, *objects: Term) -> Node:
        for o in objects:
            self.pairs.append((predicate, o))
        return self

    def zh_en(self, predicate: Iri, chinese: str, english: str) -> Node:
        self.pairs.append((predicate, zh(chinese)))
        self.pairs.append((predicate, en(english)))
        return self


@dataclass
class _Used:
    """The shared resources that the nodes described so far refer to."""

    agents: dict[str, OrgRow] = field(default_factory=dict)  # by credit code
    categories: set[str] = field(default_factory=set)
    themes: set[Iri] = field(default_factory=set)
    frequencies: set[str] = field(default_factory=set)
    rights: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    file_types: set[str] = field(default_factory=set)
    media_types: set[str] = field(default_factory=set)
    licence: bool = False


class Describer:
    """Turns catalog rows into DCAT-AP 3 nodes, with absolute IRIs under ``base``, and
    remembers which shared resources (agents, concepts, places …) they refer to."""

    def __init__(self, base: str, city: CityCatalog) -> None:
        self.base = base
        self.city = city
        self.catalog = Iri(f"{base}/catalog#catalog")
        self.homepage = Iri(f"{base}/catalog")
        self.scheme = Iri(f"{base}/catalog/categories")
        self.used = _Used()
        publisher = next(
            (d for d in city.departments if d.attrs.get("short") == CATALOG_PUBLISHER),
            next(iter(city.departments)),
        )
        self.publisher = OrgRow(
            publisher.code, service.slug_for(publisher.code), publisher.name_zh, publisher.name_en
        )
        self._districts = {r.code: r for r in qingdao_districts()}
        self._agents: dict[str, tuple[Iri, Iri]] = {}

    # IRIs
    def landing_page(self, name: str) -> Iri:
        return iri(f"{self.base}/catalog/datasets/{name}")

    def dataset_iri(self, name: str) -> Iri:
        return Iri(f"{self.landing_page(name)}#dataset")

    def agent(self, org: OrgRow) -> tuple[Iri, Iri]:
        """The organisation's agent and its contact point."""
        found = self._agents.get(org.code)
        if found is None:
            page = iri(f"{self.base}/catalog/organisations/{org.slug}")
            found = self._agents[org.code] = (Iri(f"{page}#org"), Iri(f"{page}#contact"))
            self.used.agents[org.code] = org
        return found

    def category(self, code: str) -> Iri:
        self.used.categories.add(code)
        return iri(f"{self.base}/catalog/categories/{code}")

    def place(self, code: str | None) -> Iri:
        code = code or QINGDAO_CITY.code
        self.used.places.add(code)
        if code == QINGDAO_CITY.code:
            return GEONAMES_QINGDAO
        return iri(f"{self.base}/api/v1/regions#{code}")

    def url(self, stored: str) -> Iri:
        """A distribution's URL, absolute (the catalog stores paths on this site)."""
        return iri(stored if "://" in stored else f"{self.base}{stored}")

    # nodes
    def catalog_nodes(self, snap: Snapshot) -> list[Node]:
        city = QINGDAO_CITY
        catalog = Node(self.catalog).add(A, DCAT.Catalog)
        catalog.zh_en(
            DCT.title, f"{city.name}公共数据资源目录", f"{city.name_en} public data catalogue"
        )
        catalog.zh_en(
            DCT.description,
            f"{city.name}各部门提供的数据资源及其数据集、共享与开放属性和获取方式。",
            f"The data resources that the departments of {city.name_en} provide: their datasets, "
            "how they are shared and opened, and how to obtain them.",
        )
        catalog.add(DCT.identifier, plain(self.homepage))
        catalog.add(DCT.publisher, self.agent(self.publisher)[0])
        catalog.add(DCT.language, *(eu("language", code) for code, *_ in LANGUAGES))
        catalog.add(FOAF.homepage, self.homepage)
        catalog.add(DCT.spatial, self.place(city.code))
        if snap.modified is not None:
            catalog.add(DCT.modified, xsd_date_time(snap.modified))
        catalog.add(DCAT.themeTaxonomy, self.scheme, DATA_THEME_SCHEME)
        catalog.add(DCAT.dataset, *(self.dataset_iri(d.name) for d in snap.datasets))
        return [catalog, Node(self.homepage).add(A, FOAF.Document)]

    def dataset_nodes(self, d: DatasetRow) -> list[Node]:
        landing = self.landing_page(d.name)
        ds = Node(Iri(f"{landing}#dataset")).add(A, DCAT.Dataset)
        nodes = [ds]
        org = d.organisation
        open_zh, open_en = OPEN_LEVELS.get(d.open_level, (d.open_level, d.open_level))
        frequency = FREQUENCIES.get(d.frequency)
        english = f"{d.title_en}. Provided by {org.title_en}. {open_en}."
        if frequency is not None:
            english += f" Update frequency: {frequency[1].lower()}."
        ds.zh_en(DCT.title, d.title, d.title_en)
        ds.zh_en(DCT.description, d.description, english)
        ds.add(DCT.identifier, plain(d.name))
        agent, contact = self.agent(org)
        ds.add(DCT.publisher, agent)
        ds.add(DCAT.contactPoint, contact)
        ds.add(DCAT.theme, self.category(d.category))
        theme = self._category_theme(d.category)
        if theme is not None:
            ds.add(DCAT.theme, theme)
        ds.add(DCAT.keyword, *(zh(k) for k in d.keywords))
        ds.add(DCT.issued, xsd_date(d.issued))
        ds.add(DCT.modified, xsd_date_time(d.modified))
        if frequency is not None:
            self.used.frequencies.add(d.frequency)
            ds.add(DCT.accrualPeriodicity, eu("frequency", d.frequency))
        ds.add(DCT.spatial, self.place(d.spatial))
        if d.temporal_start is not None or d.temporal_end is not None:
            period = Node(Iri(f"{landing}#period")).add(A, DCT.PeriodOfTime)
            if d.temporal_start is not None:
                period.add(DCAT.startDate, xsd_date(d.temporal_start))
            if d.temporal_end is not None:
                period.add(DCAT.endDate, xsd_date(d.temporal_end))
            ds.add(DCT.temporal, period.subject)
            nodes.append(period)
        ds.add(DCT.language, eu("language", "ZHO"))
        access = ACCESS_RIGHTS.get(d.open_level)
        if access is not None:
            self.used.rights.add(d.open_level)
            ds.add(DCT.accessRights, eu("access-right", access[0]))
        is_open = d.open_level == "open"
        rights: Iri | None = None
        if not is_open:
            rights = Iri(f"{landing}#rights")
            statement = Node(rights).add(A, DCT.RightsStatement)
            if d.open_level == "conditional":
                statement.zh_en(
                    RDFS.label,
                    f"{open_zh}：{d.open_condition or '经申请批准后通过数据通道获取'}",
                    f"{open_en}: obtained through the data channel after an approved application.",
                )
            else:
                statement.zh_en(RDFS.label, open_zh, f"{open_en} to the public.")
            nodes.append(statement)
        if d.version is not None:
            ds.add(DCAT.version, plain(str(d.version)))
        ds.add(DCAT.landingPage, landing)
        nodes.append(Node(landing).add(A, FOAF.Document))
        urls: set[Iri] = set()
        for dist in d.distributions:
            node = Node(iri(f"{landing}#resource-{dist.uid}")).add(A, DCAT.Distribution)
            nodes.append(node)
            ds.add(DCAT.distribution, node.subject)
            node.zh_en(DCT.title, dist.title, self._distribution_title_en(d, dist))
            url = self.url(dist.url)
            node.add(DCAT.accessURL, url)
            # Only open data is downloadable, whatever a stored distribution says.
            if dist.kind == "download" and is_open:
                node.add(DCAT.downloadURL, url)
            code = file_type(dist.format, dist.media_type)
            if code is not None:
                self.used.file_types.add(code)
                node.add(DCT.format, eu("file-type", code))
            if dist.media_type:
                media = iri(IANA + dist.media_type.lower())
                self.used.media_types.add(media)
                node.add(DCAT.mediaType, media)
            if is_open:
                self.used.licence = True
                node.add(DCT.license, LICENCE)
            elif rights is not None:
                node.add(DCT.rights, rights)
            if url not in urls:
                urls.add(url)
                nodes.append(Node(url).add(A, RDFS.Resource))
        return nodes

    @staticmethod
    def _distribution_title_en(d: DatasetRow, dist: DistRow) -> str:
        if dist.kind == "download":
            return f"{d.title_en} ({dist.format} download)"
        if d.open_level == "open":
            return f"{d.title_en} (data API, {dist.format})"
        return f"{d.title_en} (data channel, on application)"

    def _category_theme(self, code: str) -> Iri | None:
        item = self.city.categories.get(code)
        theme = eu_theme(str(item.attrs.get("dcat_theme", ""))) if item is not None else None
        if theme is not None:
            self.used.themes.add(theme)
        return theme

    def shared_nodes(self, *, every_category: bool) -> list[Node]:
        """The resources the described nodes refer to: agents and contact points, categories
        and themes, places, and the EU vocabularies' concepts, typed as the shapes expect."""
        if every_category:
            for category in self.city.categories:
                self.category(category.code)
                self._category_theme(category.code)
        return [
            *self._agent_nodes(),
            *self._category_nodes(),
            *self._vocabulary_nodes(),
            *(self._place_node(code) for code in sorted(self.used.places)),
        ]

    def _agent_nodes(self) -> Iterator[Node]:
        for org in sorted(self.used.agents.values(), key=lambda o: o.code):
            agent_iri, contact_iri = self.agent(org)
            agent = Node(agent_iri).add(A, FOAF.Agent, FOAF.Organization)
            agent.zh_en(FOAF.name, org.title, org.title_en)
            yield agent.add(DCT.identifier, plain(org.code))
            contact = Node(contact_iri).add(A, VCARD.Organization, VCARD.Kind)
            contact.zh_en(VCARD.fn, org.title, org.title_en)
            yield contact.add(VCARD.hasEmail, iri(f"mailto:data@{org.slug}.qingdao.gov.cn"))

    def _category_nodes(self) -> Iterator[Node]:
        if self.used.categories:
            scheme = Node(self.scheme).add(A, SKOS.ConceptScheme)
            yield scheme.zh_en(DCT.title, "数据资源目录主题分类", "Catalogue themes")
        for code in sorted(self.used.categories):
            item = self.city.categories.get(code)
            concept = Node(self.category(code)).add(A, SKOS.Concept)
            if item is not None:
                concept.zh_en(SKOS.prefLabel, item.name_zh, item.name_en)
            else:
                concept.add(SKOS.prefLabel, plain(code))
            concept.add(SKOS.notation, plain(code))
            concept.add(SKOS.inScheme, self.scheme)
            theme = self._category_theme(code)
            if theme is not None:
                concept.add(SKOS.closeMatch, theme)
            yield concept
        if self.used.themes:
            scheme = Node(DATA_THEME_SCHEME).add(A, SKOS.ConceptScheme)
            yield scheme.add(DCT.title, en("Data theme"))
        for eu_concept in sorted(self.used.themes):
            code = eu_concept.rsplit("/", 1)[1]
            yield (
                Node(eu_concept)
                .add(A, SKOS.Concept)
                .add(SKOS.prefLabel, en(DATA_THEMES[code]))
                .add(SKOS.inScheme, DATA_THEME_SCHEME)
            )

    def _vocabulary_nodes(self) -> Iterator[Node]:
        used = self.used
        for code in sorted(used.frequencies):
            chinese, english = FREQUENCIES[code]
            yield (
                Node(eu("frequency", code))
                .add(A, DCT.Frequency)
                .zh_en(SKOS.prefLabel, chinese, english.lower())
            )
        for level in sorted(used.rights):
            code, chinese, english = ACCESS_RIGHTS[level]
            yield (
                Node(eu("access-right", code))
                .add(A, DCT.RightsStatement)
                .zh_en(SKOS.prefLabel, chinese, english)
            )
        if used.licence:
            yield Node(LICENCE).add(A, DCT.LicenseDocument).add(DCT.title, en(LICENCE_TITLE))
        for code in sorted(used.file_types):
            yield (
                Node(eu("file-type", code))
                .add(A, DCT.MediaTypeOrExtent)
                .add(SKOS.prefLabel, plain(code))
            )
        for media in sorted(used.media_types):
            yield Node(Iri(media)).add(A, DCT.MediaType)
        for code, chinese, english in LANGUAGES:
            yield (
                Node(eu("language", code))
                .add(A, DCT.LinguisticSystem)
                .zh_en(SKOS.prefLabel, chinese, english)
            )

    def _place_node(self, code: str) -> Node:
        node = Node(self.place(code)).add(A, DCT.Location)
        region = QINGDAO_CITY if code == QINGDAO_CITY.code else self._districts.get(code)
        if region is not None:
            node.zh_en(SKOS.prefLabel, region.name, region.name_en)
        return node.add(DCT.identifier, plain(code))


def catalog_nodes(describer: Describer, snap: Snapshot) -> Iterator[Node]:
    yield from describer.catalog_nodes(snap)
    for row in snap.datasets:
        yield from describer.dataset_nodes(row)
    yield from describer.shared_nodes(every_category=True)


# --- one dataset, through rdflib ----------------------------------------------------------------


def _rdflib(term: Term) -> URIRef | Literal:
    if isinstance(term, Iri):
        return URIRef(term)
    datatype = URIRef(term.datatype) if term.datatype is not None else None
    return Literal(term.value, lang=term.lang, datatype=datatype)


def graph_of(nodes: Iterable[Node]) -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in VOCABULARIES.items():
        graph.bind(prefix, namespace)
    for node in nodes:
        subject = URIRef(node.subject)
        for predicate, obj in node.pairs:
            graph.add((subject, URIRef(predicate), _rdflib(obj)))
    return graph


def dataset_graph(describer: Describer, row: DatasetRow) -> Graph:
    nodes = describer.dataset_nodes(row)
    return graph_of([*nodes, *describer.shared_nodes(every_category=False)])


def serialise(graph: Graph, fmt: Format) -> bytes:
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context=VOCABULARIES, encoding="utf-8")
    return graph.serialize(format="turtle", encoding="utf-8")


# --- the whole catalog, streaming ---------------------------------------------------------------

_LOCAL_NAME: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@cache
def qname(term: str) -> str | None:
    """``dct:title`` for a predicate, class or datatype in one of VOCABULARIES, if it has one."""
    for prefix, namespace in VOCABULARIES.items():
        if term.startswith(namespace):
            local = term[len(namespace) :]
            if local and local[0].isalpha() and set(local) <= _LOCAL_NAME:
                return f"{prefix}:{local}"
    return None


def _class(term: Term) -> Iri:
    if not isinstance(term, Iri):
        raise TypeError(f"a class must be an IRI, not {term!r}")
    return term


def _turtle_name(term: str) -> str:
    return qname(term) or f"<{term}>"


_TURTLE_ESCAPES: Final = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _turtle_object(term: Term) -> str:
    if isinstance(term, Iri):
        return f"<{term}>"
    value = term.value
    if '"' in value or "\\" in value or "\n" in value or "\r" in value:
        value = value.translate(_TURTLE_ESCAPES)
    text = f'"{value}"'
    if term.lang:
        return f"{text}@{term.lang}"
    if term.datatype is not None:
        return f"{text}^^{_turtle_name(term.datatype)}"
    return text


def turtle_node(node: Node) -> str:
    by_predicate: dict[Iri, list[Term]] = {}
    for predicate, obj in node.pairs:
        by_predicate.setdefault(predicate, []).append(obj)
    lines = []
    for predicate, objects in by_predicate.items():
        if predicate == A:
            lines.append("a " + ", ".join(_turtle_name(_class(o)) for o in objects))
            continue
        joint = ", " if len(objects) < 4 else ",\n        "
        lines.append(_turtle_name(predicate) + " " + joint.join(map(_turtle_object, objects)))
    return f"<{node.subject}> " + " ;\n    ".join(lines) + " .\n\n"


def turtle_header() -> str:
    return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in VOCABULARIES.items()) + "\n"


def _jsonld_name(term: str) -> str:
    return qname(term) or term


def _jsonld_value(term: Term) -> dict[str, str]:
    if isinstance(term, Iri):
        return {"@id": term}
    if term.lang:
        return {"@value": term.value, "@language": term.lang}
    if term.datatype is not None:
        return {"@value": term.value, "@type": _jsonld_name(term.datatype)}
    return {"@value": term.value}


def jsonld_node(node: Node) -> str:
    out: dict[str, str | list[str] | list[dict[str, str]]] = {"@id": node.subject}
    types: list[str] = []
    values: dict[str, list[dict[str, str]]] = {}
    for predicate, obj in node.pairs:
        if predicate == A:
            types.append(_jsonld_name(_class(obj)))
        else:
            values.setdefault(_jsonld_name(predicate), []).append(_jsonld_value(obj))
    if types:
        out["@type"] = types
    out.update(values)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def catalog_chunks(
    describer: Describer, snap: Snapshot, fmt: Format, *, chunk: int = 1 << 18
) -> Iterator[bytes]:
    """The whole catalog as Turtle or JSON-LD, in UTF-8 chunks of about ``chunk`` characters."""
    nodes = catalog_nodes(describer, snap)
    texts = _jsonld_texts(nodes) if fmt == "json-ld" else _turtle_texts(nodes)
    buffered: list[str] = []
    size = 0
    for text in texts:
        buffered.append(text)
        size += len(text)
        if size >= chunk:
            yield "".join(buffered).encode()
            buffered, size = [], 0
    if buffered:
        yield "".join(buffered).encode()


def _turtle_texts(nodes: Iterable[Node]) -> Iterator[str]:
    yield turtle_header()
    for node in nodes:
        yield turtle_node(node)


def _jsonld_texts(nodes: Iterable[Node]) -> Iterator[str]:
    context = json.dumps(VOCABULARIES, ensure_ascii=False)
    yield '{"@context":' + context + ',"@graph":[\n'
    separator = ""
    for node in nodes:
        yield separator + jsonld_node(node)
        separator = ",\n"
    yield "\n]}\n"


# --- caching the whole export -------------------------------------------------------------------


def tee_gzip(
    chunks: Iterable[bytes], keep: Callable[[bytes], None], *, send_gzip: bool
) -> Iterator[bytes]:
    """Passes ``chunks`` on (gzip-compressed if ``send_gzip``) while compressing them, and hands
    the whole gzip to ``keep`` once the last chunk has gone: a client that stops reading leaves
    nothing half-made behind."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts: list[bytes] = []
    for piece in chunks:
        packed = compressor.compress(piece)
        parts.append(packed)
        if not send_gzip:
            yield piece
        elif packed:
            yield packed
    tail = compressor.flush()
    parts.append(tail)
    if send_gzip and tail:
        yield tail
    keep(b"".join(parts))


def gunzip_chunks(data: bytes, *, step: int = 1 << 16) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(31)
    for start in range(0, len(data), step):
        out = decompressor.decompress(data[start : start + step])
        if out:
            yield out
    tail = decompressor.flush()
    if tail:
        yield tail


@dataclass(frozen=True)
class CachedExport:
    revision: int
    gzipped: bytes


class ExportCache:
    """Whole-catalog exports, gzip-compressed, per format and base URL, for the catalog revision
    they were made at. At most ``capacity`` entries: the base URL comes from the request's Host
    header, so how many there are is not ours to bound."""

    def __init__(self, capacity: int = 4) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], CachedExport] = OrderedDict()

    def get(self, fmt: Format, base: str, revision: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get((fmt, base))
            if entry is None or entry.revision != revision:
                return None
            self._entries.move_to_end((fmt, base))
            return entry.gzipped

    def put(self, fmt: Format, base: str, revision: int, gzipped: bytes) -> None:
        with self._lock:
            current = self._entries.get((fmt, base))
            if current is not None and current.revision > revision:
                return  # a newer export got here first
            self._entries[(fmt, base)] = CachedExport(revision, gzipped)
            self._entries.move_to_end((fmt, base))
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
