"""The stored article as HTML with every cited span highlighted.

Spans nest and overlap (a statement's span contains a person's), so the text
is cut at every span boundary and each piece is marked with the spans that
cover it. Each span also gets an anchor ``#chars-START-END`` at its start,
which is where entity pages link to.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class CitedSpan:
    """A span and the nodes whose evidence it is."""

    start: int
    end: int
    supports: tuple[tuple[str, str], ...]
    """(label, link) of each node citing the span."""


def render_article(text: str, spans: list[CitedSpan]) -> str:
    """HTML for the article body; text is escaped, spans become ``<mark>`` pieces."""
    cuts = {0, len(text)}
    for span in spans:
        cuts.update((span.start, span.end))
    anchors: dict[int, list[CitedSpan]] = {}
    for span in spans:
        anchors.setdefault(span.start, []).append(span)
    bounds = sorted(cut for cut in cuts if 0 <= cut <= len(text))
    parts: list[str] = []
    for left, right in zip(bounds, bounds[1:], strict=False):
        for span in anchors.get(left, ()):
            parts.append(f'<span id="chars-{span.start}-{span.end}" class="anchor"></span>')
        piece = escape(text[left:right])
        covering = [span for span in spans if span.start <= left and right <= span.end]
        if not covering:
            parts.append(piece)
            continue
        labels = sorted({label for span in covering for label, _ in span.supports})
        innermost = min(covering, key=lambda span: span.end - span.start)
        link = innermost.supports[0][1] if innermost.supports else None
        title = escape("Cited by: " + "; ".join(labels), quote=True)
        body = f'<a href="{escape(link, quote=True)}">{piece}</a>' if link else piece
        parts.append(
            f'<mark data-spans="{len(covering)}" '
            f'data-span="{innermost.start}-{innermost.end}" title="{title}">{body}</mark>'
        )
    return "".join(parts)
