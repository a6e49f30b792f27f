"""``/sparql``: the SPARQL 1.1 Protocol query operation and the service description.

Parameters are read from the raw request rather than declared as FastAPI
parameters because the protocol needs what FastAPI hides: a repeated
``query`` parameter is an error, and the body may be a form or a bare query
depending on its content type. These are the hottest routes, so they take
the service from ``app.state`` directly instead of through dependency
injection, whose per-request solving cost a fifth of a small query's time.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from openskies.server.body import decode, media_type_of, parse_form, read_body
from openskies.server.deps import service_of
from openskies.server.describe import service_description
from openskies.server.errors import ProtocolError, error_responses, media_responses
from openskies.server.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Kind, negotiate
from openskies.server.routing import get_and_head
from openskies.server.service import QueryRequest, SparqlService, respond
from openskies.settings import Settings

router = APIRouter(tags=["SPARQL 1.1 Protocol"])

_PARAMETERS = [
    {"name": "query", "in": "query", "schema": {"type": "string"}, "description": "SPARQL query"},
    {
        "name": "default-graph-uri",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "Named graph(s) whose merge is the default graph",
    },
    {
        "name": "named-graph-uri",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "Named graph(s) available to GRAPH",
    },
    {
        "name": "format",
        "in": "query",
        "schema": {"type": "string"},
        "description": "json|xml|csv|tsv|turtle|ntriples|jsonld|rdfxml or a media type",
    },
]
_QUERY_FORM = {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
_QUERY_BODY = {"application/sparql-query": {"schema": {"type": "string"}}}
_RESULTS = media_responses(
    "Query results (SELECT/ASK as SPARQL results, CONSTRUCT/DESCRIBE as RDF), "
    "or the service description, in the negotiated format",
    [fmt.media_type for fmt in SOLUTION_FORMATS + GRAPH_FORMATS],
)


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise ProtocolError(400, f"Bad request: the '{name}' parameter is given more than once.")
    return values[0] if values else None


FORMAT_PARAMETERS = ("format", "output", "results")
"""Result-format hints clients send besides Accept: Fuseki's and Virtuoso's ``format``;
SPARQLWrapper adds ``output`` and ``results`` and may repeat ``format``."""


def _format_hint(pairs: list[tuple[str, str]]) -> str | None:
    """The first non-empty format hint, ``format`` before ``output`` before ``results``.

    Only a repeated ``query`` is an error (the protocol says so); repeated
    hints are what real clients send, so the first one wins.
    """
    for name in FORMAT_PARAMETERS:
        for key, value in pairs:
            if key == name and value.strip():
                return value
    return None


def _query_request(
    pairs: list[tuple[str, str]], query: str, accept: str | None, *, head: bool = False
) -> QueryRequest:
    return QueryRequest(
        query=query,
        accept=accept,
        format=_format_hint(pairs),
        default_graphs=tuple(value for key, value in pairs if key == "default-graph-uri"),
        named_graphs=tuple(value for key, value in pairs if key == "named-graph-uri"),
        head=head,
    )


QUERY_MEDIA_TYPES = ("application/x-www-form-urlencoded", "application/sparql-query")
"""What a query may be POSTed as (SPARQL 1.1 Protocol, 2.1.2 and 2.1.3)."""


def get_operation(
    pairs: list[tuple[str, str]], *, accept: str | None, head: bool = False
) -> QueryRequest | None:
    """The query operation of a GET's parameters; None asks for the service description.

    Shared by the routes and ``openskies.server.sparql_front``, so that both
    refuse and accept exactly the same requests.
    """
    query = _single([value for key, value in pairs if key == "query"], "query")
    if query is None:
        if any(key not in FORMAT_PARAMETERS for key, _ in pairs):
            raise ProtocolError(400, "Bad request: missing 'query' parameter.")
        return None
    return _query_request(pairs, query, accept, head=head)


def unsupported_media_type(media_type: str) -> ProtocolError:
    return ProtocolError(
        415,
        f"Unsupported media type {media_type or '(none)'!r}: POST a query as "
        "application/x-www-form-urlencoded or application/sparql-query.",
    )


def post_operation(
    media_type: str, url_pairs: list[tuple[str, str]], body: bytes, *, accept: str | None
) -> QueryRequest:
    """The query operation of a POST (``media_type`` is one of ``QUERY_MEDIA_TYPES``)."""
    if media_type == "application/x-www-form-urlencoded":
        pairs = url_pairs + parse_form(body)
        if any(key == "update" for key, _ in pairs):
            raise ProtocolError(400, "Bad request: send SPARQL updates to /update.")
        query = _single([value for key, value in pairs if key == "query"], "query")
        if query is None:
            raise ProtocolError(400, "Bad request: missing 'query' parameter.")
        return _query_request(pairs, query, accept)
    if media_type == "application/sparql-query":
        if any(key == "query" for key, _ in url_pairs):
            raise ProtocolError(
                400, "Bad request: the query is in the body; no 'query' parameter is allowed."
            )
        query = decode(body)
        if not query.strip():
            raise ProtocolError(400, "Bad request: missing query (empty body).")
        return _query_request(url_pairs, query, accept)
    raise unsupported_media_type(media_type)


async def _describe(
    request: Request, service: SparqlService, settings: Settings, format_param: str | None
) -> Response:
    fmt = negotiate(Kind.GRAPH, request.headers.get("accept"), format_param)
    body = service_description(
        settings.public_base_url + "/sparql",
        await service.stats(),
        fmt,
        writable=bool(settings.update_token),
        federated=bool(settings.outbound_allowlist),
    )
    return respond(body, fmt, head=request.method == "HEAD")


@get_and_head(
    router,
    "/sparql",
    summary="Query (GET), or the service description without a query",
    response_class=Response,
    responses={200: _RESULTS, **error_responses(400, 403, 406, 413, 502, 503)},
    openapi_extra={"parameters": _PARAMETERS},
)
async def sparql_get(request: Request) -> Response:
    service = service_of(request)
    pairs = request.query_params.multi_items()
    operation = get_operation(
        pairs, accept=request.headers.get("accept"), head=request.method == "HEAD"
    )
    if operation is None:
        return await _describe(request, service, service.settings, _format_hint(pairs))
    return await service.query(operation)


@router.post(
    "/sparql",
    summary="Query by POST (form-encoded or application/sparql-query)",
    response_class=Response,
    responses={200: _RESULTS, **error_responses(400, 403, 406, 413, 415, 502, 503)},
    openapi_extra={
        "parameters": _PARAMETERS[1:],
        "requestBody": {"content": {**_QUERY_FORM, **_QUERY_BODY}},
    },
)
async def sparql_post(request: Request) -> Response:
    service = service_of(request)
    media_type = media_type_of(request)
    if media_type not in QUERY_MEDIA_TYPES:
        raise unsupported_media_type(media_type)
    body = await read_body(request, service.settings.max_body_bytes)
    operation = post_operation(
        media_type, request.query_params.multi_items(), body, accept=request.headers.get("accept")
    )
    return await service.query(operation)
