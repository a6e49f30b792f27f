"""The endpoint describing itself: SPARQL 1.1 Service Description and VoID.

Both are small graphs built in the web process from the pool's statistics
(no query of the client's ever runs here) and serialized with pyoxigraph in
the negotiated RDF format.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from openskies.iris import BASE, PREFIXES
from openskies.server.negotiation import Format

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
FORMATS = "http://www.w3.org/ns/formats/"

DATASET_IRI = BASE + "dataset"
"""The stable IRI of the Open Skies dataset (not tied to the host serving it)."""
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"

LINK_TARGETS = {
    "wikidata": ("http://www.wikidata.org/", "http://www.wikidata.org/entity/", "Wikidata"),
    "dbpedia": ("http://dbpedia.org/", "http://dbpedia.org/resource/", "DBpedia"),
}
"""Linkset name -> (target dataset IRI, its URI space, title)."""

LINKSET_COUNTS = """
SELECT ?target (COUNT(*) AS ?links) WHERE {
  GRAPH <https://w3id.org/openskies/graph/links> { ?s owl:sameAs ?o }
  VALUES (?target ?space) {
    ("wikidata" "http://www.wikidata.org/entity/")
    ("dbpedia" "http://dbpedia.org/resource/")
  }
  FILTER(STRSTARTS(STR(?o), ?space))
} GROUP BY ?target
"""
"""owl:sameAs links per target, counted from the links graph for the VoID linksets."""

RESULT_FORMAT_IRIS = {
    "json": FORMATS + "SPARQL_Results_JSON",
    "xml": FORMATS + "SPARQL_Results_XML",
    "csv": FORMATS + "SPARQL_Results_CSV",
    "tsv": FORMATS + "SPARQL_Results_TSV",
    "turtle": FORMATS + "Turtle",
    "ntriples": FORMATS + "N-Triples",
    "jsonld": FORMATS + "JSON-LD",
    "rdfxml": FORMATS + "RDF_XML",
}
RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


class _Graph:
    """A tiny triple collector with helpers for IRIs and literals."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, subject: Any, predicate: str, obj: Any) -> None:
        self.triples.append(ox.Triple(subject, ox.NamedNode(predicate), obj))

    def serialize(self, fmt: Format) -> bytes:
        prefixes = {key: PREFIXES[key] for key in ("rdf", "void", "dcterms", "xsd", "owl")}
        prefixes["sd"] = SD
        prefixes["formats"] = FORMATS
        if fmt.name not in ("turtle", "rdfxml"):
            prefixes = None
        return ox.serialize(self.triples, format=RDF_FORMATS[fmt.name], prefixes=prefixes) or b""


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=XSD_INTEGER)


def service_description(
    endpoint: str,
    stats: dict[str, Any],
    fmt: Format,
    *,
    update_endpoint: str | None,
    federated: bool,
) -> bytes:
    """sd:Service for the query ``endpoint``: language, formats, features and the default dataset.

    Updates have their own endpoint (``/update``; the query endpoint refuses
    them), so when writes are on it is a second sd:Service that supports
    SPARQL 1.1 Update. It has no sd:UnionDefaultGraph: an update's default
    graph is the store's own.
    """
    graph = _Graph()
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    graph.add(service, RDF_TYPE.value, ox.NamedNode(SD + "Service"))
    graph.add(service, SD + "endpoint", ox.NamedNode(endpoint))
    graph.add(service, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query"))
    if update_endpoint is not None:
        updates = ox.BlankNode("updateService")
        graph.add(updates, RDF_TYPE.value, ox.NamedNode(SD + "Service"))
        graph.add(updates, SD + "endpoint", ox.NamedNode(update_endpoint))
        graph.add(updates, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Update"))
    for name in RESULT_FORMAT_IRIS:
        graph.add(service, SD + "resultFormat", ox.NamedNode(RESULT_FORMAT_IRIS[name]))
    graph.add(service, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
    if federated:
        graph.add(service, SD + "feature", ox.NamedNode(SD + "BasicFederatedQuery"))
    graph.add(service, SD + "defaultDataset", dataset)
    graph.add(dataset, RDF_TYPE.value, ox.NamedNode(SD + "Dataset"))
    graph.add(dataset, DCTERMS + "source", ox.NamedNode(DATASET_IRI))
    graph.add(dataset, SD + "defaultGraph", default_graph)
    graph.add(default_graph, RDF_TYPE.value, ox.NamedNode(SD + "Graph"))
    graph.add(default_graph, VOID + "triples", _integer(stats["triples"]))
    for index, (name, count) in enumerate(stats["graphs"].items()):
        named = ox.BlankNode(f"namedGraph{index}")
        inner = ox.BlankNode(f"graph{index}")
        graph.add(dataset, SD + "namedGraph", named)
        graph.add(named, RDF_TYPE.value, ox.NamedNode(SD + "NamedGraph"))
        graph.add(named, SD + "name", ox.NamedNode(name))
        graph.add(named, SD + "graph", inner)
        graph.add(inner, RDF_TYPE.value, ox.NamedNode(SD + "Graph"))
        graph.add(inner, VOID + "triples", _integer(count))
    return graph.serialize(fmt)


def void_description(
    base_url: str,
    stats: dict[str, Any],
    fmt: Format,
    *,
    linksets: dict[str, int] | None = None,
    dump_paths: list[str] | None = None,
) -> bytes:
    """void:Dataset with counts, a subset per named graph, linksets, license and access points.

    ``linksets`` maps a ``LINK_TARGETS`` name to its number of owl:sameAs links;
    ``dump_paths`` are the server paths of the downloadable files.
    """
    graph = _Graph()
    dataset = ox.NamedNode(DATASET_IRI)
    graph.add(dataset, RDF_TYPE.value, ox.NamedNode(VOID + "Dataset"))
    title = ox.Literal("Open Skies Treaty knowledge graph", language="en")
    graph.add(dataset, DCTERMS + "title", title)
    graph.add(dataset, DCTERMS + "license", ox.NamedNode(DATA_LICENSE))
    graph.add(dataset, VOID + "sparqlEndpoint", ox.NamedNode(base_url + "/sparql"))
    for path in dump_paths or ():
        graph.add(dataset, VOID + "dataDump", ox.NamedNode(base_url + path))
    graph.add(dataset, VOID + "uriSpace", ox.Literal(BASE))
    for key in ("osk", "osd", "stance"):
        graph.add(dataset, VOID + "vocabulary", ox.NamedNode(PREFIXES[key]))
    for key in ("triples", "entities", "classes", "properties"):
        graph.add(dataset, VOID + key, _integer(stats[key]))
    for name, count in stats["graphs"].items():
        subset = ox.NamedNode(name)
        graph.add(dataset, VOID + "subset", subset)
        graph.add(subset, RDF_TYPE.value, ox.NamedNode(VOID + "Dataset"))
        graph.add(subset, VOID + "triples", _integer(count))
        graph.add(subset, DCTERMS + "license", ox.NamedNode(DATA_LICENSE))
    for name in ("turtle", "ntriples"):
        graph.add(dataset, VOID + "feature", ox.NamedNode(RESULT_FORMAT_IRIS[name]))
    for name, count in sorted((linksets or {}).items()):
        target_iri, uri_space, title = LINK_TARGETS[name]
        linkset = ox.NamedNode(f"{DATASET_IRI}/linkset/{name}")
        target = ox.NamedNode(target_iri)
        graph.add(dataset, VOID + "subset", linkset)
        graph.add(linkset, RDF_TYPE.value, ox.NamedNode(VOID + "Linkset"))
        graph.add(linkset, DCTERMS + "title", ox.Literal(f"Links to {title}", language="en"))
        graph.add(linkset, VOID + "subjectsTarget", dataset)
        graph.add(linkset, VOID + "objectsTarget", target)
        graph.add(linkset, VOID + "linkPredicate", ox.NamedNode(OWL_SAME_AS))
        graph.add(linkset, VOID + "triples", _integer(count))
        graph.add(target, RDF_TYPE.value, ox.NamedNode(VOID + "Dataset"))
        graph.add(target, DCTERMS + "title", ox.Literal(title))
        graph.add(target, VOID + "uriSpace", ox.Literal(uri_space))
    return graph.serialize(fmt)
