"""Pushing the built dataset into a store: ``openskies load --into URL|DIR``.

Into a remote SPARQL 1.1 store, every named graph goes in batches, either
as SPARQL Update ``INSERT DATA`` (``protocol="update"``, the default: every
store has it) or as Graph Store Protocol ``POST ?graph=IRI`` with an
N-Triples body (``protocol="gsp"``). Blank nodes are scoped to one request
in both protocols, so quads that share a blank node always travel in the
same batch (a connected group is never split). Afterwards the triples of
each named graph (and of the default graph) are counted on the store with
SPARQL and compared with the source; any difference is an error.

Into a directory, the files are bulk-loaded into the on-disk store that
``Settings.store = "disk"`` serves (replacing what it held).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from openskies.server.rdf_files import rdf_format
from openskies.server.store_remote import auth_headers

DEFAULT = ""
"""The key of the default graph in per-graph counts."""


@dataclass
class LoadReport:
    """What was sent and what the store holds afterwards."""

    batches: int = 0
    sent: int = 0
    expected: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def read_quads(files: list[Path]) -> dict[str, list[ox.Quad]]:
    """Distinct quads of every file, by graph IRI (``DEFAULT`` for the default graph)."""
    graphs: dict[str, dict[ox.Quad, None]] = {}
    for path in files:
        for item in ox.parse(path=str(path), format=rdf_format(path)):
            quad = item if isinstance(item, ox.Quad) else ox.Quad(*item, ox.DefaultGraph())
            key = DEFAULT if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            graphs.setdefault(key, {})[quad] = None
    return {key: list(quads) for key, quads in graphs.items()}


def batches(quads: list[ox.Quad], size: int) -> Iterator[list[ox.Triple]]:
    """Triples in batches of about ``size``, never splitting quads linked by a blank node."""
    parent: dict[str, str] = {}

    def find(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for quad in quads:
        nodes = [t.value for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)]
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
    groups: dict[object, list[ox.Triple]] = {}
    for index, quad in enumerate(quads):
        blank = next((t for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)), None)
        key: object = find(blank.value) if blank is not None else index
        groups.setdefault(key, []).append(quad.triple)
    batch: list[ox.Triple] = []
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def _ntriples(triples: list[ox.Triple]) -> str:
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def default_query_url(into: str) -> str:
    """Oxigraph's and Fuseki's layouts: ``…/update`` or ``…/store`` → ``…/query``."""
    parts = urlsplit(into)
    head, _, last = parts.path.rstrip("/").rpartition("/")
    if last in ("update", "store", "data", "statements"):
        return urlunsplit(parts._replace(path=f"{head}/query", query=""))
    return into


def count_remote(client: httpx.Client, query_url: str, graphs: list[str]) -> dict[str, int]:
    """Triples per named graph on the store, and in its default graph (outside every graph)."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    counts = {key: 0 for key in graphs}
    for solution in _select(client, query_url, query):
        if solution["g"] is not None and solution["g"].value in counts:
            counts[solution["g"].value] = int(solution["n"].value)
    if DEFAULT in counts:
        query = (
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        )
        counts[DEFAULT] = int(next(iter(_select(client, query_url, query)))["n"].value)
    return counts


def _select(client: httpx.Client, url: str, query: str) -> ox.QuerySolutions:
    response = client.post(
        url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    response.raise_for_status()
    return ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)


def load_remote(
    files: list[Path],
    into: str,
    *,
    protocol: str = "update",
    query_url: str | None = None,
    batch_size: int = 5_000,
    auth: str | None = None,
    replace: bool = False,
    timeout: float = 120.0,
    progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Send every graph of ``files`` to the store at ``into``; count afterwards.

    ``progress(sent, total)`` is called after each batch. With ``replace``
    each named graph is dropped first (``DROP SILENT GRAPH``; the default
    graph is cleared), so loading twice does not add anything.
    """
    graphs = read_quads(files)
    report = LoadReport(expected={key: len(quads) for key, quads in graphs.items()})
    total = sum(report.expected.values())
    query_url = query_url or default_query_url(into)
    with httpx.Client(headers=auth_headers(auth), timeout=timeout) as client:

        def update(text: str) -> None:
            response = client.post(
                into, content=text.encode(), headers={"Content-Type": "application/sparql-update"}
            )
            response.raise_for_status()

        for key, quads in graphs.items():
            params = {"default": ""} if key == DEFAULT else {"graph": key}
            if replace and protocol == "gsp":
                response = client.delete(into, params=params)
                if response.status_code != 404:
                    response.raise_for_status()
            elif replace:
                update("CLEAR SILENT DEFAULT" if key == DEFAULT else f"DROP SILENT GRAPH <{key}>")
            for batch in batches(quads, batch_size):
                body = _ntriples(batch)
                if protocol == "gsp":
                    response = client.post(
                        into,
                        params=params,
                        content=body.encode(),
                        headers={"Content-Type": "application/n-triples"},
                    )
                    response.raise_for_status()
                else:
                    inner = body if key == DEFAULT else f"GRAPH <{key}> {{\n{body}}}"
                    update(f"INSERT DATA {{\n{inner}}}")
                report.batches += 1
                report.sent += len(batch)
                if progress is not None:
                    progress(report.sent, total)
        report.found = count_remote(client, query_url, list(graphs))
    return report


def load_directory(files: list[Path], directory: Path) -> LoadReport:
    """Bulk-load ``files`` into the on-disk store in ``directory`` (replacing it); count."""
    from openskies.server import store as disk

    graphs = read_quads(files)
    report = LoadReport(expected={key: len(quads) for key, quads in graphs.items()})
    shutil.rmtree(directory / disk.PRIMARY, ignore_errors=True)
    (directory / disk.MARKER).unlink(missing_ok=True)
    opened = disk.open_primary(directory / disk.PRIMARY, [str(path) for path in files])
    for key in graphs:
        graph = ox.DefaultGraph() if key == DEFAULT else ox.NamedNode(key)
        report.found[key] = sum(1 for _ in opened.quads_for_pattern(None, None, None, graph))
    report.sent = sum(report.found.values())
    report.batches = 1
    del opened
    return report
