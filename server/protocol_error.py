"""The endpoint's refusals and their plain-text responses, without FastAPI.

``openskies serve`` answers ``/sparql`` before the FastAPI app is imported
(``openskies.server.staged``), so the errors of that path, and the one
function that turns them into responses, live here; ``errors`` installs the
same function as the FastAPI app's exception handlers.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse

from openskies.server.negotiation import NotAcceptable
from openskies.server.pool import PoolError


class ProtocolError(Exception):
    """A request the endpoint refuses; ``status`` and ``message`` go to the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def plain_text(
    status: int, message: str, headers: dict[str, str] | None = None
) -> PlainTextResponse:
    """An error as clients get it: the message on one line, nothing else."""
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


def error_response(exc: Exception) -> PlainTextResponse | None:
    """The response for a refusal of the query path; None for any other exception."""
    if isinstance(exc, ProtocolError):
        return plain_text(exc.status, exc.message, exc.headers)
    if isinstance(exc, NotAcceptable):
        return plain_text(406, str(exc), {"Vary": "Accept"})
    if isinstance(exc, PoolError):
        return plain_text(exc.status, exc.message)
    return None
