"""Every statement of the export, from one place: :class:`Describer` turns the snapshot's rows
into nodes (a subject and its predicate-object pairs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from shuhui.catalog import service
from shuhui.catalog.dcat.snapshot import DatasetRow, DistRow, OrgRow, Snapshot
from shuhui.catalog.dcat.terms import (
    ACCESS_RIGHTS,
    CATALOG_PUBLISHER,
    DATA_THEME_SCHEME,
    DATA_THEMES,
    DCAT,
    DCT,
    FOAF,
    GEONAMES_QINGDAO,
    IANA,
    LANGUAGES,
    LICENCE,
    LICENCE_TITLE,
    RDFS,
    SKOS,
    VCARD,
    A,
    Iri,
    Term,
    en,
    eu,
    eu_theme,
    file_type,
    iri,
    plain,
    xsd_date,
    xsd_date_time,
    zh,
)
from shuhui.catalog.models import (
    FREQUENCIES,
    OPEN_LEVELS,
)
from shuhui.catalog.service import CityCatalog
from shuhui.core.regions import QINGDAO_CITY, qingdao_districts

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
