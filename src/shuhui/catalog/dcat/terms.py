"""RDF terms as light values (``Iri``, ``Text``), the vocabularies used, and the EU controlled
vocabularies (data themes, access rights, file types, languages) the export refers to."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Final
from typing import Literal as Choice
from urllib.parse import quote

from rdflib import namespace as ns

from shuhui.core.clock import as_utc

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
