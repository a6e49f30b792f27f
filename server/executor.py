"""The query catalog's executor over the running server's worker pool.

The catalog router (``openskies.server.catalog_api``) is built when the app
is made, before the lifespan starts the pool, so this executor looks the
service up on every call instead of holding it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from openskies.server.errors import ProtocolError


class PoolExecutor:
    """``executor(query_text, substitutions, accept_format) -> (body, media_type)``."""

    def __init__(self, app: FastAPI):
        self.app = app

    def __call__(
        self, query_text: str, substitutions: Mapping[str, str], accept_format: str
    ) -> tuple[bytes, str]:
        service = getattr(self.app.state, "service", None)
        if service is None:
            raise ProtocolError(503, "The query engine is not running.")
        return service.execute_blocking(query_text, substitutions, accept_format)
