"""Content negotiation: which serialization answers a request.

The formats are the ones the SPARQL 1.1 specifications define for results
(JSON, XML, CSV, TSV) and the common RDF syntaxes for graphs (Turtle,
N-Triples, JSON-LD, RDF/XML). A client picks one with ``Accept`` (q-values
honoured, ties broken by the server's order of preference, which puts the
spec's primary formats first) or, as Fuseki and Virtuoso allow, with a
``format`` parameter holding a short name or a media type; ``format`` wins
over ``Accept`` because it is the only thing a plain link can set.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache


class Kind(Enum):
    """Results of SELECT/ASK are solutions; CONSTRUCT/DESCRIBE results are graphs."""

    SOLUTIONS = "solutions"
    GRAPH = "graph"


@dataclass(frozen=True)
class Format:
    """One serialization the endpoint offers."""

    name: str
    """Short name, used by the ``format`` parameter and between processes."""
    media_type: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    """Other media types a client may ask for; the answer uses ``media_type``."""
    short_names: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


SOLUTION_FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        "application/sparql-results+json",
        Kind.SOLUTIONS,
        ("application/json",),
        ("json", "srj"),
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        Kind.SOLUTIONS,
        ("application/xml", "text/xml"),
        ("xml", "srx"),
    ),
    Format("csv", "text/csv", Kind.SOLUTIONS, (), ("csv",)),
    Format("tsv", "text/tab-separated-values", Kind.SOLUTIONS, (), ("tsv",)),
)

GRAPH_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", Kind.GRAPH, ("application/x-turtle",), ("turtle", "ttl")),
    Format(
        "ntriples",
        "application/n-triples",
        Kind.GRAPH,
        ("text/plain",),
        ("ntriples", "nt", "n-triples"),
    ),
    Format(
        "jsonld",
        "application/ld+json",
        Kind.GRAPH,
        ("application/json",),
        ("jsonld", "json-ld", "json"),
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        Kind.GRAPH,
        ("application/xml", "text/xml"),
        ("rdfxml", "rdf", "xml", "rdf/xml", "rdf+xml"),
    ),
)

FORMATS_BY_NAME: dict[str, Format] = {f.name: f for f in SOLUTION_FORMATS + GRAPH_FORMATS}


class NotAcceptable(Exception):
    """Nothing the client accepts is offered; carries the offers for the 406 body."""

    def __init__(self, offered: tuple[Format, ...]):
        self.offered = offered
        super().__init__(
            "Not Acceptable. Offered media types: " + ", ".join(f.media_type for f in offered)
        )


def offers_for(kind: Kind) -> tuple[Format, ...]:
    """The formats in which results of ``kind`` can be written, preferred first."""
    return SOLUTION_FORMATS if kind is Kind.SOLUTIONS else GRAPH_FORMATS


def parse_accept(header: str) -> list[tuple[str, float]]:
    """``(media range, q)`` pairs of an Accept header; malformed q counts as 0."""
    ranges = []
    for part in header.split(","):
        pieces = [piece.strip() for piece in part.split(";")]
        media_range = pieces[0].lower()
        if not media_range:
            continue
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        ranges.append((media_range, quality))
    return ranges


def _quality(fmt: Format, ranges: list[tuple[str, float]]) -> float:
    """q of ``fmt``: from the most specific matching media range (RFC 9110, 12.5.1)."""
    best_specificity, best_q = -1, 0.0
    major = fmt.media_type.split("/")[0]
    for media_range, quality in ranges:
        # Aliases match only exactly: a wildcard is matched by the type we send.
        if media_range == fmt.media_type or media_range in fmt.aliases:
            specificity = 2
        elif media_range == f"{major}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity or (specificity == best_specificity and quality > best_q):
            best_specificity, best_q = specificity, quality
    return best_q


@lru_cache(maxsize=512)
def negotiate(kind: Kind, accept: str | None, format_param: str | None = None) -> Format:
    """The format to answer with, or ``NotAcceptable`` listing the offers.

    Memoized: a server sees few distinct ``Accept`` headers, and parsing one
    cost as much as the rest of a cached answer.
    """
    offered = offers_for(kind)
    if format_param:
        wanted = format_param.strip().lower()
        for fmt in offered:
            if wanted in fmt.short_names or wanted == fmt.media_type or wanted in fmt.aliases:
                return fmt
        raise NotAcceptable(offered)
    if not accept or not accept.strip():
        return offered[0]
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for fmt in offered:
        quality = _quality(fmt, ranges)
        if quality > best_q:
            best, best_q = fmt, quality
    if best is None:
        raise NotAcceptable(offered)
    return best
