"""The catalog as DCAT-AP 3: the whole catalog and each dataset, in Turtle and JSON-LD. An
adapter: it reads the catalog through its models and service, and nothing in the catalog
depends on it.

Every statement comes from one place, ``describe.Describer``, as nodes: a subject and its
predicate-object pairs. A single dataset becomes an rdflib ``Graph`` and goes out through
rdflib's serialisers. The whole catalog is written node by node instead
(``serialise.catalog_chunks``), streaming: at 50,000 datasets it is some two million triples,
and an rdflib graph of that size takes minutes to build and to serialise (rdflib's ``Literal``
alone costs ~15 µs to make), so nodes hold light terms (``terms.Iri``, ``terms.Text``) that
become rdflib terms only on the way into a graph. ``cache.ExportCache`` keeps each whole export,
gzip-compressed, for the catalog revision it was made at.

The official DCAT-AP 3.0.0 SHACL shapes check the class of every resource a property points to
(a theme must be a ``skos:Concept`` with a label, a licence a ``dct:LicenseDocument``, an access
URL an ``rdfs:Resource`` …). The export types every resource it refers to, the EU vocabularies'
concepts included, so that it validates as it is, without the vocabularies loaded.

``terms``, ``snapshot`` (what is exported), ``describe``, ``serialise``, ``cache``, ``routes``
(``/catalog.ttl``, ``/catalog.jsonld``, ``/catalog/datasets/{name}.ttl``, ``.jsonld``).
"""
