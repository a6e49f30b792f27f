"""Where the dataset comes from and where the build puts it, without rdflib.

The server asks at every start whether the built dataset is current; that
question needs file times only, so it lives here and the server imports
rdflib (about 0.2 s) only when it really has to build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from openskies.iris import GraphIRIs

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"
GRAPH_DIR = Path(__file__).resolve().parent

SOURCE_PATHS: dict[str, tuple[Path, ...]] = {
    GraphIRIs.ONTOLOGY: (ONTOLOGY_DIR / "openskies.ttl", ONTOLOGY_DIR / "stances.ttl"),
    GraphIRIs.ARTICLE: (GRAPH_DIR / "article.ttl",),
    GraphIRIs.BACKGROUND: (GRAPH_DIR / "background.ttl",),
    GraphIRIs.LINKS: (GRAPH_DIR / "links.ttl",),
}
"""Which Turtle files make up each named graph (the inferred graph is computed)."""

DATASET_TRIG = "openskies.trig"
DATASET_NQUADS = "openskies.nq"


def source_files(sources: Mapping[str, Iterable[Path]] = SOURCE_PATHS) -> tuple[Path, ...]:
    """Every file whose change makes a built dataset stale: the Turtle and the build code."""
    files = [path for paths in sources.values() for path in paths]
    files += sorted(ONTOLOGY_DIR.glob("*.py")) + sorted(GRAPH_DIR.glob("*.py"))
    return tuple(files)


def current_dataset(
    out_dir: Path, sources: Mapping[str, Iterable[Path]] = SOURCE_PATHS
) -> Path | None:
    """The built N-Quads in ``out_dir`` if no source is newer, else None."""
    nquads = out_dir / DATASET_NQUADS
    if not nquads.exists():
        return None
    built_at = nquads.stat().st_mtime
    stale = any(path.stat().st_mtime > built_at for path in source_files(sources) if path.exists())
    return None if stale else nquads
