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

from openskies.server.body import media_type_of, read_body
from openskies.server.deps import service_of
from openskies.server.describe import service_description
from openskies.server.errors import error_responses, media_responses
from openskies.server.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Kind, negotiate
from openskies.server.routing import get_and_head
from openskies.server.service import SparqlService, respond
from openskies.server.sparql_request import (
    QUERY_MEDIA_TYPES,
    format_hint,
    get_operation,
    post_operation,
    unsupported_media_type,
)
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


async def _describe(
    request: Request, service: SparqlService, settings: Settings, format_param: str | None
) -> Response:
    fmt = negotiate(Kind.GRAPH, request.headers.get("accept"), format_param)
    body = service_description(
        settings.public_base_url + "/sparql",
        await service.stats(),
        fmt,
        update_endpoint=settings.public_base_url + "/update" if settings.update_token else None,
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
        return await _describe(request, service, service.settings, format_hint(pairs))
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
