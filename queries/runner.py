"""Run catalog queries in-process on an embedded pyoxigraph store, and format results.

The executor protocol is the seam between the catalog (CLI, HTTP router) and
whatever evaluates SPARQL (this module's in-process store for the CLI and
tests, the server's worker pool in production)::

    Executor = Callable[[str, Mapping[str, str], str], tuple[bytes, str]]
    executor(query_text, substitutions, accept_format) -> (body, media_type)

``substitutions`` maps variable names (without ``?``) to RDF terms in
N-Triples syntax, bound with SEP-0007 substitution, never pasted into the
text. ``accept_format`` is a media type the router negotiated (or a short
name: json, xml, csv, tsv, turtle, ntriples). An executor raises an exception
with an integer ``status`` attribute (such as ``QueryError``) for failures the
client should see.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from openskies.iris import PREFIXES
from openskies.queries.binding import Term, bind, from_ntriples
from openskies.queries.catalog import CatalogQuery
from openskies.queries.projection import project_parameters

Executor = Callable[[str, Mapping[str, str], str], tuple[bytes, str]]
"""``(query_text, substitutions, accept_format) -> (body, media_type)``."""


@dataclass(frozen=True)
class ResultFormat:
    """A serialization of query results: short name, media type, pyoxigraph format."""

    name: str
    media_type: str
    results: ox.QueryResultsFormat | None = None
    graph: ox.RdfFormat | None = None


SOLUTION_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", results=ox.QueryResultsFormat.JSON),
    ResultFormat("xml", "application/sparql-results+xml", results=ox.QueryResultsFormat.XML),
    ResultFormat("csv", "text/csv", results=ox.QueryResultsFormat.CSV),
    ResultFormat("tsv", "text/tab-separated-values", results=ox.QueryResultsFormat.TSV),
)
"""The four SPARQL 1.1 result formats, preferred first (JSON is the default)."""

GRAPH_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("turtle", "text/turtle", graph=ox.RdfFormat.TURTLE),
    ResultFormat("ntriples", "application/n-triples", graph=ox.RdfFormat.N_TRIPLES),
    ResultFormat("rdfxml", "application/rdf+xml", graph=ox.RdfFormat.RDF_XML),
)
"""For CONSTRUCT and DESCRIBE results (Turtle is the default)."""

_ALIASES = {"application/json": "json", "application/xml": "xml", "text/xml": "xml"}


class QueryError(Exception):
    """A query that cannot be evaluated; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def find_format(wanted: str, offered: Sequence[ResultFormat]) -> ResultFormat | None:
    """The offered format named by a short name or media type (parameters ignored)."""
    key = wanted.split(";")[0].strip().lower()
    key = _ALIASES.get(key, key)
    return next((f for f in offered if key in (f.name, f.media_type)), None)


def load_store(nquads: Path) -> ox.Store:
    """An in-memory store holding the dataset dump (a few thousand quads: instant)."""
    store = ox.Store()
    store.load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    return store


def open_store(build_dir: Path) -> ox.Store:
    """The built dataset of ``build_dir`` (built first if missing or stale), in a store.

    Raises ``QueryError`` (status 500) when the dataset cannot be built, so the
    CLI reports a build problem instead of a traceback.
    """
    from openskies.graph.build import ensure_built

    try:
        nquads = ensure_built(build_dir)
    except Exception as error:  # the build's own errors vary (reasoner, parser, I/O)
        raise QueryError(f"cannot build the dataset in {build_dir}: {error}", 500) from error
    return load_store(nquads)


def evaluate(store: ox.Store, query_text: str, substitutions: Mapping[str, Term]):
    """Evaluate over the union of the named graphs with the given bindings."""
    try:
        return store.query(
            query_text,
            use_default_graph_as_union=True,
            substitutions={ox.Variable(name): term for name, term in substitutions.items()},
        )
    except SyntaxError as error:
        raise QueryError(f"SPARQL syntax error: {error}") from None
    except OSError as error:
        raise QueryError(f"the store failed: {error}", 500) from None


class InProcessExecutor:
    """The executor protocol over one embedded pyoxigraph store (CLI and tests).

    Not for a public endpoint with arbitrary queries: it evaluates in this
    process without a time limit (see design.md, "Known engine hazards"). The
    catalog's own queries are known to be small and quick.
    """

    def __init__(self, store: ox.Store):
        self.store = store

    def __call__(
        self, query_text: str, substitutions: Mapping[str, str], accept_format: str
    ) -> tuple[bytes, str]:
        terms = {name: from_ntriples(text) for name, text in substitutions.items()}
        result = evaluate(self.store, query_text, terms)
        if isinstance(result, ox.QueryTriples):
            fmt = find_format(accept_format, GRAPH_FORMATS) or GRAPH_FORMATS[0]
            return ox.serialize(result, format=fmt.graph, prefixes=PREFIXES), fmt.media_type
        fmt = find_format(accept_format, SOLUTION_FORMATS)
        if fmt is None:
            raise QueryError(f"unsupported result format {accept_format!r}", 406)
        return result.serialize(format=fmt.results), fmt.media_type


def paginate(query_text: str, page: int, size: int) -> str:
    """The query restricted to one page, as grlc does it (LIMIT/OFFSET appended).

    Catalog queries that declare ``#+ pagination`` end with their solution
    modifiers and no LIMIT of their own (the tests check this).
    """
    if page < 1:
        raise QueryError("page must be 1 or more")
    return f"{query_text.rstrip()}\nLIMIT {size} OFFSET {(page - 1) * size}\n"


@dataclass(frozen=True)
class Prepared:
    """A catalog query ready for an executor: final text plus bound terms."""

    text: str
    substitutions: dict[str, Term]


def prepare(query: CatalogQuery, values: Mapping[str, str], page: int | None = None) -> Prepared:
    """Validate and bind ``values``, expose the bound variables, and apply pagination.

    ``page`` only applies to queries that declare ``#+ pagination``; ``None``
    means every row (the CLI's default), the HTTP API passes 1 when absent,
    as grlc does. Raises ``binding.ParameterError`` for bad values.
    """
    substitutions = bind(query.parameters, values)
    text = project_parameters(query.text, substitutions)
    if page is not None and query.pagination:
        text = paginate(text, page, query.pagination)
    return Prepared(text, substitutions)


# ---------------------------------------------------------------- readable tables


@dataclass(frozen=True)
class Table:
    """Solutions materialized for display: variable names and rows of terms."""

    variables: tuple[str, ...]
    rows: tuple[tuple[object | None, ...], ...]


def solutions_table(result, hide: Sequence[str] = ()) -> Table:
    """SELECT solutions (or an ASK answer, as one ``result`` column) as a ``Table``.

    ``hide`` names columns to leave out, such as the echoed parameters.
    """
    if isinstance(result, ox.QueryBoolean):
        return Table(("result",), ((ox.Literal("true" if bool(result) else "false"),),))
    variables = tuple(v.value for v in result.variables if v.value not in hide)
    rows = tuple(tuple(solution[name] for name in variables) for solution in result)
    return Table(variables, rows)


def short_iri(iri: str) -> str:
    """A prefixed name where a known prefix fits, so tables stay narrow."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            local = iri[len(namespace) :]
            if "/" not in local and "#" not in local:
                return f"{prefix}:{local}"
    return f"<{iri}>"


def display(term: object | None) -> str:
    """A term as a person reads it: prefixed IRIs, bare literal values."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return short_iri(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return " ".join(term.value.split())
    return str(term)


def format_table(table: Table, max_width: int = 60) -> str:
    """A plain-text table with a header rule; long cells wrap within ``max_width`` (0: no limit)."""
    headers = list(table.variables)
    cells = [[display(term) for term in row] for row in table.rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    if max_width > 0:
        widths = [min(w, max(max_width, len(h))) for w, h in zip(widths, headers, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        wrapped = [
            textwrap.wrap(cell, width=w, break_long_words=True) or [""]
            for cell, w in zip(row, widths, strict=True)
        ]
        for line_no in range(max(len(parts) for parts in wrapped)):
            parts = [p[line_no] if line_no < len(p) else "" for p in wrapped]
            lines.append("  ".join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip())
    count = len(table.rows)
    lines.append(f"({count} row{'s' if count != 1 else ''})")
    return "\n".join(lines) + "\n"
