"""The source article as stored in the project, and the spans that cite it.

Offsets count Unicode code points (as Python string indices and the W3C Web
Annotation ``TextPositionSelector`` do), so the file is read without newline
translation: one changed byte would shift every span after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the server reads the text only; rdflib is for the build and the checks
    from rdflib import Graph, URIRef

ARTICLE_PATH = Path(__file__).with_name("open-skies-2020-07-07.txt")


@cache
def article_text() -> str:
    """The article exactly as stored; spans index into this string."""
    with ARTICLE_PATH.open(encoding="utf-8", newline="") as handle:
        return handle.read()


@dataclass(frozen=True)
class Span:
    """One cited text span: the quote and where it stands in the article."""

    iri: URIRef
    exact: str
    start: int
    end: int

    def matches(self, text: str) -> bool:
        in_range = 0 <= self.start <= self.end <= len(text)
        return in_range and text[self.start : self.end] == self.exact


def spans_in(graph: Graph) -> list[Span]:
    """Every ``osk:TextSpan`` in a graph, with its quote and position selectors."""
    from rdflib.namespace import RDF

    from openskies.vocab import OA, OSK

    spans = []
    for span in graph.subjects(RDF.type, OSK.TextSpan):
        for selector in graph.objects(span, OA.hasSelector):
            exact = graph.value(selector, OA.exact)
            start = graph.value(selector, OA.start)
            end = graph.value(selector, OA.end)
            if exact is not None and start is not None and end is not None:
                spans.append(Span(span, str(exact), int(start), int(end)))
    return sorted(spans, key=lambda s: (s.start, s.end))


def broken_spans(graph: Graph, text: str | None = None) -> list[Span]:
    """Spans whose quote is not the article text between their offsets."""
    text = article_text() if text is None else text
    return [span for span in spans_in(graph) if not span.matches(text)]
