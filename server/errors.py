"""Protocol errors and how they reach the client.

Every error is a short plain-text message with the right status code: never
a stack trace, never a 500 for input the client can fix.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openskies.server.negotiation import NotAcceptable
from openskies.server.pool import PoolError
from openskies.server.protocol_error import ProtocolError, error_response
from openskies.server.protocol_error import plain_text as _text

__all__ = ["ProtocolError", "error_responses", "install_error_handlers", "media_responses"]


ERROR_DESCRIPTIONS = {
    400: "Bad request: a missing, repeated or malformed parameter, a malformed query, "
    "or one refused before evaluation (nested too deeply, too complex)",
    401: "Authentication required (send 'Authorization: Bearer <token>')",
    403: "Forbidden: writes disabled or a wrong token, or an outbound call "
    "(SERVICE, LOAD) to a host not on the allowlist",
    404: "Not found",
    406: "None of the offered media types is acceptable",
    413: "The query, update or body is larger than the configured limit",
    415: "Unsupported media type or charset",
    502: "A remote SERVICE or LOAD on the allowlist failed",
    503: "The engine is not running, every worker is busy, or the evaluation timed out",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the plain-text errors a route may answer."""
    return {
        code: {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
        for code in codes
    }


def media_responses(description: str, media_types: list[str]) -> dict[str, Any]:
    """An OpenAPI response whose body is one of ``media_types`` (any content)."""
    return {
        "description": description,
        "content": {media_type: {"schema": {}} for media_type in media_types},
    }


def _document_plain_text_errors(app: FastAPI) -> None:
    """Make the OpenAPI document say what the handlers below really answer.

    FastAPI documents a 422 JSON body for every operation with parameters;
    this app answers those failures with a plain-text 400, and any operation
    may answer 503 when the engine is not running or busy.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", error_responses(400)[400])
                responses.setdefault("503", error_responses(503)[503])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Turn every known failure into a plain-text response with the protocol's status."""
    _document_plain_text_errors(app)

    async def refusal(_: Request, exc: Exception) -> PlainTextResponse:
        response = error_response(exc)
        assert response is not None  # registered only for the classes it knows
        return response

    for kind in (ProtocolError, NotAcceptable, PoolError):
        app.add_exception_handler(kind, refusal)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> PlainTextResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        return _text(400, f"Bad request: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> PlainTextResponse:
        return _text(exc.status_code, str(exc.detail), dict(exc.headers or {}))
