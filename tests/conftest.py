"""Shared fixtures: the graph is parsed once per test session."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset
from shared_build import built_dir

from openskies.graph.build import load_sources
from openskies.server.app import create_app
from openskies.settings import Settings


@pytest.fixture(scope="session")
def real_client() -> Iterator[TestClient]:
    """The app over the real built dataset (one worker), started once per session."""
    with TestClient(create_app(Settings(build_dir=built_dir(), workers=1))) as client:
        yield client


@pytest.fixture(scope="session")
def asserted() -> Dataset:
    """The asserted named graphs (ontology, article, background, links), no reasoning."""
    return load_sources()


# ---------------------------------------------------------------- reasoning and validation
# (ontology/reasoning.py, ontology/validation.py; tests/test_reasoning.py, test_validation.py)

from pathlib import Path as _Path  # noqa: E402

from rdflib import Graph as _Graph  # noqa: E402

from openskies.graph.sources import GRAPH_DIR as _GRAPH_DIR  # noqa: E402

TEST_DATA = _Path(__file__).resolve().parent / "data"
"""Small self-contained Turtle fixtures (reasoning_*.ttl, shapes_*.ttl)."""


def require_article_data() -> None:
    """Skip while the instance data has not been written yet."""
    if not (_GRAPH_DIR / "article.ttl").exists():
        pytest.skip("graph/article.ttl does not exist yet (instance data in progress)")


@pytest.fixture(scope="session")
def ontology_graph() -> _Graph:
    """The ontology alone (openskies.ttl and stances.ttl), for small reasoning fixtures."""
    from openskies.graph.sources import ONTOLOGY_DIR

    graph = _Graph()
    for name in ("openskies.ttl", "stances.ttl"):
        graph.parse(ONTOLOGY_DIR / name, format="turtle")
    return graph


@pytest.fixture(scope="session")
def project_inferred() -> _Graph:
    """What the reasoner entails from the project's asserted graphs, computed once."""
    require_article_data()
    from openskies.graph.build import SOURCES, load_sources
    from openskies.ontology.reasoning import infer

    dataset = load_sources()
    return infer([dataset.graph(iri) for iri in SOURCES])


# --- SPARQL endpoint fixtures ------------------------------------------------
# Kept in tests/conftest_endpoint.py (owned by the server work); registered here
# so that every test module can use them.
pytest_plugins = ["conftest_endpoint"]
