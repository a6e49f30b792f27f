"""Route registration shared by the routers.

FastAPI gives a route registered for several methods one operation id, so
GET and HEAD on one path would appear in OpenAPI as two operations with the
same id (a broken document for generators and fuzzers). HEAD is answered by
the same handler but documented once, under GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response


def get_and_head(router: APIRouter, path: str, **kwargs: Any) -> Callable:
    """Register the decorated handler for GET (documented) and HEAD (not listed again)."""

    def decorator(handler: Callable) -> Callable:
        router.add_api_route(path, handler, methods=["GET"], **kwargs)
        router.add_api_route(
            path,
            handler,
            methods=["HEAD"],
            include_in_schema=False,
            response_class=kwargs.get("response_class", Response),
        )
        return handler

    return decorator
