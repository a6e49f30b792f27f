"""Which RDF syntax a data file is in, by its extension.

A module of its own so that query workers, the disk loader, ``openskies
load`` and the layout child share one rule without importing each other's
dependencies (the worker starts on the way to the first answer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def rdf_format(path: str | Path) -> Any:
    """The ``pyoxigraph.RdfFormat`` that ``path``'s extension names; ``ValueError`` if none."""
    import pyoxigraph as ox

    fmt = ox.RdfFormat.from_extension(Path(path).suffix.lstrip(".").lower())
    if fmt is None:
        raise ValueError(f"unknown RDF format for {path}")
    return fmt
