"""FastAPI dependencies: the objects the lifespan put on ``app.state``.

They are ``async def`` although nothing in them awaits: FastAPI runs a
plain ``def`` dependency in its thread pool, and that hop (with its GIL
hand-offs) cost more than a whole small query on the request path.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from openskies.server.errors import ProtocolError
from openskies.server.service import SparqlService
from openskies.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def service_of(request: Request) -> SparqlService:
    """The running service, for hot routes that skip dependency injection."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise ProtocolError(503, "The query engine is not running.")
    return service


async def get_service(request: Request) -> SparqlService:
    return service_of(request)


async def require_writer(request: Request) -> None:
    """Allow a write only with ``Authorization: Bearer <update_token>``.

    Without a configured token writes are off (403); a missing token is 401
    with a ``WWW-Authenticate`` challenge, a wrong one 403. The token is
    compared in constant time and never logged or echoed.
    """
    token = request.app.state.settings.update_token
    if not token:
        raise ProtocolError(403, "Writes are disabled on this server (no update token configured).")
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ProtocolError(
            401,
            "Authentication required: send 'Authorization: Bearer <token>'.",
            {"WWW-Authenticate": 'Bearer realm="openskies"'},
        )
    # Fixed-length digests compared in constant time: neither the token's content
    # nor its length can be learned from response times.
    offered = hashlib.sha256(credentials.strip().encode("utf-8", "surrogateescape")).digest()
    expected = hashlib.sha256(token.encode()).digest()
    if not hmac.compare_digest(offered, expected):
        raise ProtocolError(403, "The bearer token is not valid for writes.")


ServiceDep = Annotated[SparqlService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
