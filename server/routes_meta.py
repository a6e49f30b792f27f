"""``/health`` for load balancers and ``/.well-known/void`` for dataset catalogues."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from openskies.graph.dumps import dumps_for
from openskies.server.deps import ServiceDep, SettingsDep
from openskies.server.describe import LINKSET_COUNTS, void_description
from openskies.server.errors import error_responses, media_responses
from openskies.server.negotiation import GRAPH_FORMATS, Kind, negotiate
from openskies.server.pool import PoolError
from openskies.server.routing import get_and_head
from openskies.server.service import respond

router = APIRouter(tags=["Service"])


@get_and_head(router, "/health", summary="Liveness and size of the served dataset")
async def health(service: ServiceDep) -> JSONResponse:
    try:
        stats = await service.stats()
    except PoolError as exc:
        return JSONResponse({"status": "unavailable", "detail": exc.message}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "triples": stats["triples"],
            "quads": stats["quads"],
            "graphs": len(stats["graphs"]),
            "workers": service.pool.size,
            "generation": service.pool.generation,
        }
    )


@get_and_head(
    router,
    "/.well-known/void",
    summary="VoID description of the dataset",
    response_class=Response,
    responses={
        200: media_responses(
            "The VoID description in the negotiated RDF syntax",
            [fmt.media_type for fmt in GRAPH_FORMATS],
        ),
        **error_responses(406),
    },
)
async def void(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
) -> Response:
    fmt = negotiate(Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format"))
    stats = await service.stats()
    linksets = {
        row["target"]["value"]: int(row["links"]["value"])
        for row in await service.select(LINKSET_COUNTS)
    }
    dump_paths = [f"/dumps/{dump.filename}" for dump in dumps_for(list(stats["graphs"]))]
    body = void_description(
        settings.public_base_url, stats, fmt, linksets=linksets, dump_paths=dump_paths
    )
    return respond(body, fmt, head=request.method == "HEAD")
