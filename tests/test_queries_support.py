"""Shared set-up for the query catalog tests: the dataset is built once per run.

A plain module (cached functions, not fixtures) so that the catalog, CLI and
HTTP test modules share one build and one store.
"""

from functools import cache
from pathlib import Path

import pyoxigraph as ox
from shared_build import built_dir

from openskies.graph.build import ensure_built
from openskies.queries.binding import ParameterError  # noqa: F401  (re-exported for tests)
from openskies.queries.catalog import Catalog, load_catalog
from openskies.queries.runner import evaluate, load_store, prepare, solutions_table


def build_dir() -> Path:
    """The run's shared build (with reasoning, as served)."""
    return built_dir()


@cache
def store() -> ox.Store:
    return load_store(ensure_built(build_dir()))


@cache
def catalog() -> Catalog:
    return load_catalog()


def short(term: object | None) -> str | None:
    """A term's value with the project's id namespace cut off, for readable assertions."""
    if term is None:
        return None
    value = term.value
    return value.removeprefix("https://w3id.org/openskies/id/")


def rows(name: str, /, **values: str) -> list[dict[str, str | None]]:
    """Run a catalog question with parameters; rows as dicts of short values."""
    prepared = prepare(catalog()[name], values)
    table = solutions_table(
        evaluate(store(), prepared.text, prepared.substitutions), hide=list(prepared.substitutions)
    )
    return [
        {var: short(term) for var, term in zip(table.variables, row, strict=True)}
        for row in table.rows
    ]


def local_questions() -> list[str]:
    """Catalog questions answerable offline: federated ones need an allow-listed remote endpoint."""
    return [name for name, query in catalog().items() if "federation" not in query.tags]
