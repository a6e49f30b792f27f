"""Shared fixtures: the graph is parsed once per test session."""

import pytest
from rdflib import Dataset

from openskies.graph.build import load_sources


@pytest.fixture(scope="session")
def asserted() -> Dataset:
    """The asserted named graphs (ontology, article, background, links), no reasoning."""
    return load_sources()
