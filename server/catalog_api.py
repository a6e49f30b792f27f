"""The question catalog over HTTP: ``GET /api/queries`` and one operation per question.

As grlc does, every ``.rq`` file of the catalog becomes its own operation in
the OpenAPI document (``GET /api/queries/{name}`` for each concrete name),
with its summary, description, tags and query parameters, so the generated
API docs show a form per question. The routes are generated when the router
is made; a new file needs a restart, like any code change.

The router evaluates nothing itself: it validates and binds parameters, then
hands the query to an injected executor (the server's worker pool in
production, ``InProcessExecutor`` in the CLI and tests)::

    executor(query_text, substitutions, accept_format) -> (body, media_type)

``substitutions`` maps variable names (no ``?``) to N-Triples terms, to be
bound with SEP-0007 substitution; ``accept_format`` is the short name of the
negotiated format (``json``, ``xml``, ``csv``, ``tsv``). An executor signals a
failure the client should see by raising an exception with integer
``status`` and text ``message`` attributes (``QueryError``, the pool's
``PoolError``).

Results are negotiated like the SPARQL endpoint: ``Accept`` (q-values
honoured) or a ``format`` parameter; SPARQL JSON by default. Errors are short
plain-text messages: 400 for a missing, unknown, malformed or
non-enumerated parameter, 404 for an unknown question, 406 when no offered
format is acceptable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from openskies.queries.binding import ParameterError, substitutions_as_ntriples
from openskies.queries.catalog import Catalog, CatalogQuery, Parameter, load_catalog
from openskies.queries.runner import SOLUTION_FORMATS, ResultFormat, find_format, prepare
from openskies.server import negotiation

Executor = Callable[[str, Mapping[str, str], str], tuple[bytes, str]]
"""``(query_text, substitutions, accept_format) -> (body, media_type)``."""

RESERVED = ("format", "page")


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


def negotiate(accept: str | None, format_param: str | None) -> ResultFormat | None:
    """The result format to answer with, or ``None`` when nothing offered is acceptable.

    The same rules as the SPARQL endpoint (``openskies.server.negotiation``):
    q-values, wildcards, and ``format`` winning over ``Accept``.
    """
    try:
        chosen = negotiation.negotiate(negotiation.Kind.SOLUTIONS, accept, format_param)
    except negotiation.NotAcceptable:
        return None
    return find_format(chosen.name, SOLUTION_FORMATS)


def _schema(parameter: Parameter) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if parameter.kind == "iri":
        schema["format"] = "iri"
    elif parameter.numeric:
        schema = {"type": "number"}
    elif parameter.datatype:
        schema["x-rdf-datatype"] = parameter.datatype
    if parameter.lang:
        schema["x-rdf-language"] = parameter.lang
    if parameter.enum is not None:
        schema["enum"] = list(parameter.enum)
    if parameter.default is not None:
        schema["default"] = parameter.default
    return schema


def openapi_parameters(query: CatalogQuery) -> list[dict[str, Any]]:
    """The OpenAPI parameter objects of one question (plus ``page`` when it paginates)."""
    params = [
        {
            "name": p.name,
            "in": "query",
            "required": p.needed,
            "description": f"{p.describe()[:1].upper()}{p.describe()[1:]}, bound to ?{p.variable}."
            + (" Project prefixes such as osd: are accepted." if p.kind == "iri" else ""),
            "schema": _schema(p),
        }
        for p in query.parameters
    ]
    if query.pagination:
        params.append(
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": f"Page of {query.pagination} rows.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            }
        )
    params.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "Result format; overrides the Accept header.",
            "schema": {"type": "string", "enum": [f.name for f in SOLUTION_FORMATS]},
        }
    )
    return params


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SPARQL results, as negotiated (SPARQL JSON by default).",
        "content": {fmt.media_type: {} for fmt in SOLUTION_FORMATS},
    },
    400: {"description": "Missing, unknown or malformed parameter."},
    406: {"description": "None of the offered result formats is acceptable."},
    403: {"description": "A SERVICE call to a host not on the outbound allowlist."},
    502: {"description": "An allow-listed remote SPARQL endpoint failed."},
}


def _values(request: Request) -> tuple[dict[str, str], str | None, str | None]:
    """Parameter values, ``format`` and ``page`` from the query string; repeats are errors."""
    values: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in values:
            raise ParameterError(f"parameter {key!r} given more than once")
        values[key] = value
    return values, values.pop("format", None), values.pop("page", None)


def _run(query: CatalogQuery, request: Request, run_query: Executor) -> Response:
    try:
        values, format_param, page_text = _values(request)
        page = None
        if query.pagination:
            if page_text is not None and not (page_text.isdigit() and int(page_text) >= 1):
                raise ParameterError(f"page must be a whole number from 1, not {page_text!r}")
            page = int(page_text or 1)
        elif page_text is not None:
            raise ParameterError(f"{query.name} is not paginated; it takes no page parameter")
        fmt = negotiate(request.headers.get("accept"), format_param)
        if fmt is None:
            offered = ", ".join(f.media_type for f in SOLUTION_FORMATS)
            return _text(406, f"Not Acceptable. Offered media types: {offered}", {"Vary": "Accept"})
        prepared = prepare(query, values, page)
    except ParameterError as error:
        return _text(400, f"{query.name}: {error}")
    try:
        body, media_type = run_query(
            prepared.text, substitutions_as_ntriples(prepared.substitutions), fmt.name
        )
    except Exception as error:
        status = getattr(error, "status", None)
        if not isinstance(status, int):
            raise
        return _text(status, str(getattr(error, "message", error)))
    headers = {"Vary": "Accept"}
    if page is not None:
        headers["Link"] = _links(request, page)
    return Response(body, media_type=media_type, headers=headers)


def _links(request: Request, page: int) -> str:
    """GitHub-style pagination links, as grlc sends them (``next`` is always offered)."""

    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number))

    links = [f'<{url(page + 1)}>; rel="next"', f'<{url(1)}>; rel="first"']
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    return ", ".join(links)


def _endpoint(query: CatalogQuery, run_query: Executor) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        return _run(query, request, run_query)

    endpoint.__name__ = f"query_{query.name}"
    endpoint.__doc__ = query.description or query.summary
    return endpoint


def make_catalog_router(
    run_query: Executor, *, catalog: Catalog | None = None, prefix: str = "/api/queries"
) -> APIRouter:
    """An APIRouter for the catalog, evaluating through ``run_query``.

    ``run_query`` is called from FastAPI's thread pool (the routes are plain
    ``def``), so a blocking executor such as the worker pool is fine.
    """
    catalog = load_catalog() if catalog is None else catalog
    router = APIRouter()

    @router.get(
        prefix,
        summary="List the question catalog",
        description="Every question with its summary, description, tags and parameters.",
        tags=["query catalog"],
        operation_id="list_queries",
    )
    def list_queries(request: Request) -> JSONResponse:
        base = str(request.url).split("?")[0].rstrip("/")
        entries = [{**q.as_dict(), "url": f"{base}/{q.name}"} for q in catalog.values()]
        return JSONResponse(entries)

    for query in catalog.values():
        router.add_api_route(
            f"{prefix}/{query.name}",
            _endpoint(query, run_query),
            methods=["GET"],
            summary=query.summary,
            description=query.description or None,
            tags=list(query.tags) or ["query catalog"],
            operation_id=f"query_{query.name}",
            response_class=Response,
            responses=_RESPONSES,
            openapi_extra={"parameters": openapi_parameters(query)},
        )

    @router.get(f"{prefix}/{{name}}", include_in_schema=False)
    def unknown_query(name: str) -> Response:
        return _text(404, f"No question named {name!r}; GET {prefix} lists the catalog.")

    return router
