"""``/update``: SPARQL 1.1 Update over the protocol, only with the bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from openskies.server.body import decode, media_type_of, parse_form, read_body
from openskies.server.deps import ServiceDep, SettingsDep, require_writer
from openskies.server.errors import ProtocolError, error_responses

router = APIRouter(tags=["SPARQL 1.1 Update"])


@router.post(
    "/update",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "The update was applied"},
        **error_responses(400, 401, 403, 413, 415, 502, 503),
    },
    summary="SPARQL 1.1 Update (form 'update=' or application/sparql-update); needs the token",
    dependencies=[Depends(require_writer)],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "application/sparql-update": {"schema": {"type": "string"}},
            }
        }
    },
)
async def update(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
) -> Response:
    media_type = media_type_of(request)
    url_pairs = request.query_params.multi_items()
    if media_type == "application/x-www-form-urlencoded":
        pairs = url_pairs + parse_form(await read_body(request, settings.max_body_bytes))
        updates = [value for key, value in pairs if key == "update"]
        if len(updates) != 1:
            raise ProtocolError(400, "Bad request: exactly one 'update' parameter is required.")
        text = updates[0]
    elif media_type == "application/sparql-update":
        pairs = url_pairs
        text = decode(await read_body(request, settings.max_body_bytes))
    else:
        raise ProtocolError(
            415,
            f"Unsupported media type {media_type or '(none)'!r}: POST an update as "
            "application/x-www-form-urlencoded or application/sparql-update.",
        )
    if any(key in ("using-graph-uri", "using-named-graph-uri") for key, _ in pairs):
        raise ProtocolError(
            400, "using-graph-uri and using-named-graph-uri are not supported; use USING."
        )
    await service.update(text)
    return Response(status_code=204)
