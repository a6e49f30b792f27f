"""``/update``: SPARQL 1.1 Update over the protocol, only with the bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from openskies.server.body import decode, media_type_of, parse_form, read_body
from openskies.server.deps import ServiceDep, SettingsDep, require_writer
from openskies.server.errors import ProtocolError, error_responses
from openskies.server.update_dataset import (
    USING_DEFAULT,
    USING_NAMED,
    DatasetConflict,
    with_protocol_dataset,
)

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
        "parameters": [
            {
                "name": USING_DEFAULT,
                "in": "query",
                "schema": {"type": "array", "items": {"type": "string"}},
                "description": "Graph(s) whose merge is the default graph of every WHERE "
                "(as USING); not with USING, USING NAMED or WITH in the update",
            },
            {
                "name": USING_NAMED,
                "in": "query",
                "schema": {"type": "array", "items": {"type": "string"}},
                "description": "Graph(s) available to GRAPH in every WHERE (as USING NAMED)",
            },
        ],
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "application/sparql-update": {"schema": {"type": "string"}},
            }
        },
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
    try:
        text = with_protocol_dataset(
            text,
            [value for key, value in pairs if key == USING_DEFAULT],
            [value for key, value in pairs if key == USING_NAMED],
        )
    except DatasetConflict as conflict:
        raise ProtocolError(400, f"Bad request: {conflict}") from None
    await service.update(text)
    return Response(status_code=204)
