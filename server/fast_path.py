"""``/sparql`` without the framework's routing: the same handlers, called directly.

Profiling the server under load (py-spy, 1,000 triples, point lookups)
showed about a third of the web process's time in Starlette's routing,
FastAPI's request handling and the exception middleware around the two
``/sparql`` handlers, more than the query itself. This middleware sits
inside the cache and CORS middleware and calls those very handlers
(``routes_sparql.sparql_get`` / ``sparql_post``, which take nothing but the
request) for ``GET``, ``HEAD`` and ``POST /sparql``, and turns the
exceptions they raise into responses with the app's own exception
handlers. So the answers, errors and headers are the routed ones; the
routes stay registered for the OpenAPI document. Anything else passes
through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from openskies.server.routes_sparql import sparql_get, sparql_post

Handler = Callable[[Request], Awaitable[Response]]

_HANDLERS: dict[str, Handler] = {"GET": sparql_get, "HEAD": sparql_get, "POST": sparql_post}


class SparqlFastPath:
    """ASGI middleware: ``/sparql`` requests go straight to their handler."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI, path: str = "/sparql"):
        self.app = app
        self.fastapi_app = fastapi_app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            _HANDLERS.get(scope["method"])
            if scope["type"] == "http" and scope["path"] == self.path
            else None
        )
        if handler is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("app", self.fastapi_app)
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:
            on_error = self._exception_handler(exc)
            if on_error is None:
                raise  # the server error middleware answers 500, as for a routed request
            response = await on_error(request, exc)
        await response(scope, receive, send)

    def _exception_handler(
        self, exc: Exception
    ) -> Callable[[Request, Exception], Awaitable[Response]] | None:
        handlers = self.fastapi_app.exception_handlers
        for kind in type(exc).__mro__:
            if kind in handlers:
                return handlers[kind]
        return None
