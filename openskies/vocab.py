"""Namespaces and named-graph IRIs shared by every part of the project.

The IRIs are stable and not tied to any host: the server maps its own URL
paths onto them, so the data never has to change when it moves.
"""

from rdflib import Namespace, URIRef

BASE = "https://w3id.org/openskies/"

OSK = Namespace(BASE + "ontology/")
"""The ontology's classes and properties."""

OSD = Namespace(BASE + "id/")
"""Instance data: states, people, institutions, events, statements, spans."""

STANCE = Namespace(BASE + "stance/")
"""The SKOS concept scheme of statement stances."""

OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
TIME = Namespace("http://www.w3.org/2006/time#")
WD = Namespace("http://www.wikidata.org/entity/")
DBR = Namespace("http://dbpedia.org/resource/")


class Graphs:
    """Named graphs of the dataset; the default graph of a query is their union."""

    ONTOLOGY = URIRef(BASE + "graph/ontology")
    ARTICLE = URIRef(BASE + "graph/article")
    BACKGROUND = URIRef(BASE + "graph/background")
    LINKS = URIRef(BASE + "graph/links")
    INFERRED = URIRef(BASE + "graph/inferred")


PREFIXES: dict[str, str] = {
    "osg": BASE + "graph/",
    "osk": str(OSK),
    "osd": str(OSD),
    "stance": str(STANCE),
    "oa": str(OA),
    "prov": str(PROV),
    "schema": str(SCHEMA),
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
    "wd": str(WD),
    "dbr": str(DBR),
}
"""Prefixes used in the Turtle sources, the query catalog and the server."""
