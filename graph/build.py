"""Assemble the dataset: every source file into its own named graph.

Turtle is the source of truth; the build reads it, adds what the reasoner
entails as a separate graph, and writes the whole dataset as TriG and
N-Quads so that any store (embedded or remote) loads the same bytes.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDF

from openskies.graph.article import article_text
from openskies.graph.sources import (
    DATASET_NQUADS,
    DATASET_TRIG,
    SOURCE_PATHS,
    current_dataset,
)
from openskies.graph.sources import source_files as _source_files
from openskies.vocab import OSD, OSK, PREFIXES, Graphs

SOURCES: dict[URIRef, tuple[Path, ...]] = {
    URIRef(iri): paths for iri, paths in SOURCE_PATHS.items()
}
"""Which Turtle files make up each named graph (the inferred graph is computed)."""


def load_sources() -> Dataset:
    """The asserted graphs, parsed from the project's Turtle files."""
    dataset = Dataset(default_union=True)
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace, override=True)
    for graph_iri, paths in SOURCES.items():
        graph = dataset.graph(graph_iri)
        for path in paths:
            graph.parse(path, format="turtle")
    # The article's text comes from the stored file itself, never a copy, so
    # SPARQL can check any span with SUBSTR against exactly what spans index.
    dataset.graph(Graphs.ARTICLE).add((OSD.article, OSK.fullText, Literal(article_text())))
    return dataset


def build_dataset(*, reason: bool = True) -> Dataset:
    """The full dataset: asserted graphs plus, unless ``reason`` is off, the inferred graph.

    Raises ``openskies.ontology.reasoning.InconsistentOntologyError`` when the
    ontology and data contradict each other, so that nothing inconsistent is
    ever written or served.
    """
    dataset = load_sources()
    if reason:
        from openskies.ontology.reasoning import infer

        asserted = [dataset.graph(iri) for iri in SOURCES]
        inferred = dataset.graph(Graphs.INFERRED)
        for triple in infer(asserted):
            inferred.add(triple)
    return dataset


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote, for the CLI to print and the tests to check."""

    files: tuple[Path, ...]
    triples_per_graph: dict[str, int]
    instances_per_class: dict[str, int]


def count_triples(dataset: Dataset) -> dict[str, int]:
    """Triples in each non-empty named graph, sorted by graph IRI."""
    counts = {
        str(graph.identifier): len(graph)
        for graph in dataset.graphs()
        if isinstance(graph.identifier, URIRef) and len(graph) > 0
    }
    return dict(sorted(counts.items()))


def count_instances(dataset: Dataset, *, namespace: str | None = None) -> dict[str, int]:
    """Distinct instances per class over the asserted graphs (not the inferred one)."""
    instances: dict[str, set] = {}
    for graph_iri in SOURCES:
        for subject, cls in dataset.graph(graph_iri).subject_objects(RDF.type):
            if namespace is None or str(cls).startswith(namespace):
                instances.setdefault(str(cls), set()).add(subject)
    counts = Counter({cls: len(members) for cls, members in instances.items()})
    return dict(sorted(counts.items()))


def write_dataset(dataset: Dataset, out_dir: Path) -> tuple[Path, ...]:
    """Write the dataset as TriG and N-Quads into ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    trig = out_dir / DATASET_TRIG
    nquads = out_dir / DATASET_NQUADS
    dataset.serialize(destination=trig, format="trig")
    dataset.serialize(destination=nquads, format="nquads")
    return trig, nquads


def build(out_dir: Path, *, reason: bool = True) -> BuildReport:
    """Build, write and count: the work behind ``openskies build``."""
    dataset = build_dataset(reason=reason)
    files = write_dataset(dataset, out_dir)
    return BuildReport(
        files=files,
        triples_per_graph=count_triples(dataset),
        instances_per_class=count_instances(dataset, namespace=str(OSK)),
    )


def source_files() -> tuple[Path, ...]:
    """Every file whose change makes a built dataset stale."""
    return _source_files(SOURCES)


def ensure_built(out_dir: Path, *, reason: bool = True) -> Path:
    """The N-Quads dump in ``out_dir``, rebuilt first if missing or older than a source.

    The server calls this at start-up so a fresh clone serves without a
    separate build step, and an edited Turtle file is never served stale.
    """
    nquads = current_dataset(out_dir, SOURCES)
    if nquads is not None:
        return nquads
    build(out_dir, reason=reason)
    return out_dir / DATASET_NQUADS
