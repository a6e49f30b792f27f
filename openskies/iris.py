"""The project's IRIs as plain strings: base, prefixes and named graphs.

Kept apart from ``openskies.vocab`` (rdflib namespaces, for the build) so
that the server and its query workers never import rdflib: it costs about
0.2 s and 15 MiB per process, which is most of a small server's start-up.
"""

from __future__ import annotations

BASE = "https://w3id.org/openskies/"

GRAPH_BASE = BASE + "graph/"


class GraphIRIs:
    """Named graphs of the dataset; the default graph of a query is their union."""

    ONTOLOGY = GRAPH_BASE + "ontology"
    ARTICLE = GRAPH_BASE + "article"
    BACKGROUND = GRAPH_BASE + "background"
    LINKS = GRAPH_BASE + "links"
    INFERRED = GRAPH_BASE + "inferred"


PREFIXES: dict[str, str] = {
    "osg": GRAPH_BASE,
    "osk": BASE + "ontology/",
    "osd": BASE + "id/",
    "stance": BASE + "stance/",
    "oa": "http://www.w3.org/ns/oa#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "time": "http://www.w3.org/2006/time#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
    "void": "http://rdfs.org/ns/void#",
    "sh": "http://www.w3.org/ns/shacl#",
    "wd": "http://www.wikidata.org/entity/",
    "dbr": "http://dbpedia.org/resource/",
}
"""Prefixes used in the Turtle sources, the query catalog and the server."""
