"""The downloadable files of the dataset, written the same way by server and CLI.

TriG and N-Quads keep the named graphs; Turtle holds the union of all graphs
(a Turtle file cannot name graphs) and, per named graph, that graph alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from openskies.iris import BASE, PREFIXES

GRAPH_PREFIX = BASE + "graph/"


@dataclass(frozen=True)
class Dump:
    """One downloadable file: its name, media type and what it holds."""

    filename: str
    media_type: str
    format: ox.RdfFormat
    graph: str | None
    """Only this named graph; None for the whole dataset (or union, for Turtle)."""

    @property
    def description(self) -> str:
        if self.graph:
            return f"the named graph <{self.graph}>"
        if self.format in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
            return "every named graph"
        return "the union of every named graph"


DATASET_DUMPS = (
    Dump("openskies.trig", "application/trig", ox.RdfFormat.TRIG, None),
    Dump("openskies.nq", "application/n-quads", ox.RdfFormat.N_QUADS, None),
    Dump("openskies.ttl", "text/turtle", ox.RdfFormat.TURTLE, None),
)


def dumps_for(graphs: list[str]) -> list[Dump]:
    """The whole-dataset dumps plus one Turtle file per named graph of ours."""
    per_graph = [
        Dump(f"graph/{graph[len(GRAPH_PREFIX) :]}.ttl", "text/turtle", ox.RdfFormat.TURTLE, graph)
        for graph in sorted(graphs)
        if graph.startswith(GRAPH_PREFIX) and "/" not in graph[len(GRAPH_PREFIX) :]
    ]
    return list(DATASET_DUMPS) + per_graph


def write_dump(store: ox.Store, dump: Dump) -> bytes:
    """Serialize what ``dump`` names from ``store``."""
    prefixes = None if dump.format in (ox.RdfFormat.N_QUADS,) else PREFIXES
    if dump.graph is not None:
        return store.dump(
            format=dump.format, from_graph=ox.NamedNode(dump.graph), prefixes=prefixes
        )
    if dump.format in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
        return store.dump(format=dump.format, prefixes=prefixes)
    triples = {quad.triple for quad in store}
    return ox.serialize(sorted(triples, key=str), format=dump.format, prefixes=prefixes) or b""


EXPORT_FORMATS = {
    "trig": (ox.RdfFormat.TRIG,),
    "nquads": (ox.RdfFormat.N_QUADS,),
    "turtle": (ox.RdfFormat.TURTLE,),
}
"""``openskies export --format`` names; ``turtle`` covers the union and every graph."""


def export(
    store: ox.Store, out_dir: Path, formats: tuple[str, ...] = tuple(EXPORT_FORMATS)
) -> list[Path]:
    """Write the dumps of ``store`` in ``formats`` under ``out_dir``, named as under /dumps."""
    wanted = {fmt for name in formats for fmt in EXPORT_FORMATS[name]}
    graphs = [graph.value for graph in store.named_graphs() if isinstance(graph, ox.NamedNode)]
    written = []
    for dump in dumps_for(graphs):
        if dump.format not in wanted:
            continue
        path = out_dir / dump.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(write_dump(store, dump))
        written.append(path)
    return written
