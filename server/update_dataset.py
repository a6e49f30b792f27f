"""The Protocol's ``using-graph-uri`` / ``using-named-graph-uri``, applied to an update's text.

SPARQL 1.1 Protocol (section 2.2.3) lets an update request name the RDF
dataset that its ``WHERE`` clauses match against, with the same meaning as
``USING`` / ``USING NAMED`` in the update itself, and requires a service to
refuse a request that does both (or uses ``WITH``). pyoxigraph's
``Store.update`` takes no dataset, so the parameters become ``USING`` and
``USING NAMED`` clauses written into the text before every top-level
``WHERE``. Every backend then gets the same update, remote stores included.

``DELETE WHERE { P }`` has no place for ``USING``: it is by definition
``DELETE { P } WHERE { P }`` (SPARQL 1.1 Update, 3.1.3.3), so it is written
out in that form first. Operations without a ``WHERE`` (``INSERT DATA``,
``LOAD``, ``CLEAR`` ...) have no dataset to set and are left as they are.

The text is read with the scan's tokenizer (``sparql_scan``), so a ``WHERE``
inside a string, an IRI, a comment or a nested group is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from openskies.server.sparql_scan import token_spans

USING_DEFAULT = "using-graph-uri"
USING_NAMED = "using-named-graph-uri"

_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*")
"""An absolute IRI that can be written between ``<`` and ``>`` as it is (IRIREF's characters)."""

_OPEN = "{(["
_CLOSE = "})]"


class DatasetConflict(ValueError):
    """The request gives a dataset both ways, or one that cannot be written as IRIs."""


def _clauses(default_graphs: Sequence[str], named_graphs: Sequence[str]) -> str:
    for name, iris in ((USING_DEFAULT, default_graphs), (USING_NAMED, named_graphs)):
        for iri in iris:
            if not _ABSOLUTE_IRI.fullmatch(iri):
                raise DatasetConflict(f"{name} must be an absolute IRI, not {iri!r}.")
    return " ".join(
        [f"USING <{iri}>" for iri in default_graphs]
        + [f"USING NAMED <{iri}>" for iri in named_graphs]
    )


def _group_end(tokens: list[tuple[str, str, int, int]], start: int) -> int | None:
    """Index of the token that closes the group opened at ``tokens[start]``, if any."""
    depth = 0
    for index in range(start, len(tokens)):
        kind, text, _, _ = tokens[index]
        if kind != "punct":
            continue
        if text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth -= 1
            if depth == 0:
                return index
    return None


def with_protocol_dataset(
    update: str, default_graphs: Sequence[str], named_graphs: Sequence[str]
) -> str:
    """``update`` with the protocol's dataset written in as ``USING`` / ``USING NAMED``.

    Raises ``DatasetConflict`` (a message for the client, answered with 400)
    when the update has its own ``USING``, ``USING NAMED`` or ``WITH``, or
    when a graph is not an absolute IRI. With no graphs, ``update`` is
    returned unchanged.

    >>> with_protocol_dataset("INSERT { ?s a <x:T> } WHERE { ?s ?p ?o }", ["http://g"], [])
    'INSERT { ?s a <x:T> } USING <http://g> WHERE { ?s ?p ?o }'
    >>> with_protocol_dataset("DELETE WHERE { ?s <x:p> ?o }", [], ["http://n"])
    'DELETE { ?s <x:p> ?o } USING NAMED <http://n> WHERE { ?s <x:p> ?o }'
    """
    if not default_graphs and not named_graphs:
        return update
    clauses = _clauses(default_graphs, named_graphs)
    tokens = token_spans(update)
    inserts: list[tuple[int, str]] = []
    depth = 0
    previous = ""
    for index, (kind, text, start, _) in enumerate(tokens):
        if kind == "punct":
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE:
                depth = max(0, depth - 1)
        elif depth == 0 and kind == "word":
            word = text.upper()
            if word in ("USING", "WITH"):
                raise DatasetConflict(
                    f"{USING_DEFAULT} and {USING_NAMED} cannot be used with an update that has "
                    f"its own dataset ({word} at character {start + 1})."
                )
            if word == "WHERE":
                if previous == "DELETE":
                    end = _group_end(tokens, index + 1)
                    if end is None:  # malformed: the engine reports it
                        continue
                    pattern = update[tokens[index + 1][2] : tokens[end][3]]
                    inserts.append((start, f"{pattern} {clauses} "))
                else:
                    inserts.append((start, f"{clauses} "))
        previous = text.upper() if depth == 0 and kind == "word" else ""
    pieces = []
    last = 0
    for position, text in inserts:
        pieces += [update[last:position], text]
        last = position
    pieces.append(update[last:])
    return "".join(pieces)
