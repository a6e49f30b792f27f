"""``/graphs``: the SPARQL 1.1 Graph Store HTTP Protocol (indirect identification).

``?graph=IRI`` names a graph, ``?default`` the default graph. Reading is
open to anyone; ``?default`` reads the union of all graphs, which is what
queries see as their default graph. PUT, POST and DELETE need the bearer
token; on ``?default`` they act on the store's own default graph (part of
that union).
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, Response

from openskies.server.body import media_type_of, read_body
from openskies.server.deps import ServiceDep, SettingsDep, require_writer
from openskies.server.errors import ProtocolError, error_responses, media_responses
from openskies.server.negotiation import GRAPH_FORMATS, Kind, negotiate
from openskies.server.routing import get_and_head

router = APIRouter(tags=["Graph Store HTTP Protocol"])

_PARAMETERS = [
    {"name": "graph", "in": "query", "schema": {"type": "string"}, "description": "Graph IRI"},
    {
        "name": "default",
        "in": "query",
        "schema": {"type": "string"},
        "allowEmptyValue": True,
        "description": "Present (no value) to address the default graph",
    },
]
_WRITTEN = {
    201: {"description": "The graph did not exist and was created"},
    204: {"description": "The graph was written"},
}
PAYLOAD_TYPES = {
    "text/turtle",
    "application/x-turtle",
    "application/n-triples",
    "text/plain",
    "application/rdf+xml",
    "application/ld+json",
    "text/n3",
}


def _target(request: Request) -> str | None:
    """The graph IRI addressed, or None for the default graph."""
    params = request.query_params
    graphs = params.getlist("graph")
    has_default = "default" in params
    if has_default == bool(graphs) or len(graphs) > 1:
        raise ProtocolError(400, "Bad request: give exactly one of '?graph=IRI' or '?default'.")
    if has_default:
        return None
    try:
        ox.NamedNode(graphs[0])
    except ValueError as exc:
        raise ProtocolError(400, f"Bad request: invalid graph IRI: {exc}") from None
    if ":" not in graphs[0]:
        raise ProtocolError(400, "Bad request: the graph IRI must be absolute.")
    return graphs[0]


@get_and_head(
    router,
    "/graphs",
    summary="Read a graph",
    response_class=Response,
    responses={
        200: media_responses(
            "The graph in the negotiated RDF syntax", [fmt.media_type for fmt in GRAPH_FORMATS]
        ),
        **error_responses(400, 404, 406, 503),
    },
    openapi_extra={"parameters": _PARAMETERS},
)
async def graph_get(request: Request, service: ServiceDep) -> Response:
    graph = _target(request)
    fmt = negotiate(Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format"))
    return await service.graph_get(graph, fmt, head=request.method == "HEAD")


@router.put(
    "/graphs",
    summary="Replace a graph; needs the token",
    response_class=Response,
    responses={**_WRITTEN, **error_responses(400, 401, 403, 413, 415, 503)},
    dependencies=[Depends(require_writer)],
    openapi_extra={"parameters": _PARAMETERS},
)
@router.post(
    "/graphs",
    summary="Add to a graph; needs the token",
    response_class=Response,
    responses={**_WRITTEN, **error_responses(400, 401, 403, 413, 415, 503)},
    dependencies=[Depends(require_writer)],
    openapi_extra={"parameters": _PARAMETERS},
)
async def graph_put_post(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
) -> Response:
    graph = _target(request)
    media_type = media_type_of(request)
    if media_type not in PAYLOAD_TYPES:
        raise ProtocolError(
            415,
            f"Unsupported media type {media_type or '(none)'!r}; send one of: "
            + ", ".join(sorted(PAYLOAD_TYPES)),
        )
    if media_type == "text/plain":
        media_type = "application/n-triples"
    data = await read_body(request, settings.max_body_bytes)
    status = await service.graph_write(request.method, graph, data, media_type)
    return Response(status_code=status)


@router.delete(
    "/graphs",
    summary="Delete a graph; needs the token",
    response_class=Response,
    responses={
        204: {"description": "The graph was deleted"},
        **error_responses(400, 401, 403, 404, 503),
    },
    dependencies=[Depends(require_writer)],
    openapi_extra={"parameters": _PARAMETERS},
)
async def graph_delete(request: Request, service: ServiceDep) -> Response:
    status = await service.graph_write("DELETE", _target(request))
    return Response(status_code=status)
