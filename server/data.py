"""Which RDF files the server loads at start-up."""

from __future__ import annotations

from pathlib import Path

from openskies.graph.sources import current_dataset
from openskies.settings import Settings


def dataset_sources(settings: Settings) -> list[Path]:
    """The built dataset (built first if missing or stale) plus ``data_files``.

    With ``replace_data`` only ``data_files`` are served, which is how tests
    and demos run the server on a small fixture without building anything.
    Triple formats (Turtle, N-Triples) load into the store's default graph,
    quad formats (TriG, N-Quads) keep their named graphs.
    """
    sources: list[Path] = []
    if not settings.replace_data:
        built = current_dataset(settings.build_dir)
        if built is None:
            from openskies.graph.build import ensure_built  # rdflib and the reasoner

            built = ensure_built(settings.build_dir)
        sources.append(built)
    for path in settings.data_files:
        if not path.is_file():
            raise FileNotFoundError(f"data file not found: {path}")
        sources.append(path.resolve())
    if not sources:
        raise ValueError("replace_data is set but no data_files are given: nothing to serve")
    return sources
