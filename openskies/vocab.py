"""Namespaces and named-graph IRIs shared by every part of the project.

The IRIs are stable and not tied to any host: the server maps its own URL
paths onto them, so the data never has to change when it moves.
"""

from rdflib import Namespace, URIRef

from openskies.iris import BASE, PREFIXES, GraphIRIs

__all__ = [
    "BASE",
    "DBR",
    "OA",
    "OSD",
    "OSK",
    "PREFIXES",
    "PROV",
    "SCHEMA",
    "STANCE",
    "TIME",
    "WD",
    "Graphs",
]

OSK = Namespace(PREFIXES["osk"])
"""The ontology's classes and properties."""

OSD = Namespace(PREFIXES["osd"])
"""Instance data: states, people, institutions, events, statements, spans."""

STANCE = Namespace(PREFIXES["stance"])
"""The SKOS concept scheme of statement stances."""

OA = Namespace(PREFIXES["oa"])
PROV = Namespace(PREFIXES["prov"])
SCHEMA = Namespace(PREFIXES["schema"])
TIME = Namespace(PREFIXES["time"])
WD = Namespace(PREFIXES["wd"])
DBR = Namespace(PREFIXES["dbr"])


class Graphs:
    """Named graphs of the dataset as rdflib terms (``openskies.iris.GraphIRIs`` as strings)."""

    ONTOLOGY = URIRef(GraphIRIs.ONTOLOGY)
    ARTICLE = URIRef(GraphIRIs.ARTICLE)
    BACKGROUND = URIRef(GraphIRIs.BACKGROUND)
    LINKS = URIRef(GraphIRIs.LINKS)
    INFERRED = URIRef(GraphIRIs.INFERRED)
