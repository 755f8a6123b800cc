"""Nodes out as RDF: one dataset through an rdflib graph and its serialisers; the whole catalog
streamed node by node as Turtle or JSON-LD (:func:`catalog_chunks`), with no graph built."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Final

from rdflib import Graph, Literal, URIRef

from shuhui.catalog.dcat.describe import Describer, Node, catalog_nodes
from shuhui.catalog.dcat.snapshot import DatasetRow, Snapshot
from shuhui.catalog.dcat.terms import VOCABULARIES, A, Format, Iri, Term

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
