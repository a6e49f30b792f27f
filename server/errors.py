"""Protocol errors and how they reach the client.

Every error is a short plain-text message with the right status code: never
a stack trace, never a 500 for input the client can fix.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openskies.server.negotiation import NotAcceptable
from openskies.server.pool import PoolError


class ProtocolError(Exception):
    """A request the endpoint refuses; ``status`` and ``message`` go to the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> PlainTextResponse:
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Turn every known failure into a plain-text response with the protocol's status."""

    @app.exception_handler(ProtocolError)
    async def protocol_error(_: Request, exc: ProtocolError) -> PlainTextResponse:
        return _text(exc.status, exc.message, exc.headers)

    @app.exception_handler(NotAcceptable)
    async def not_acceptable(_: Request, exc: NotAcceptable) -> PlainTextResponse:
        return _text(406, str(exc), {"Vary": "Accept"})

    @app.exception_handler(PoolError)
    async def pool_error(_: Request, exc: PoolError) -> PlainTextResponse:
        return _text(exc.status, exc.message)

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
