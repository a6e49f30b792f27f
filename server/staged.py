"""``openskies serve``'s ASGI app: queries first, the rest of the site moments later.

Importing FastAPI and building the app's routes take about half a second
(pydantic builds the OpenAPI models at import), more than the query workers
need to load the article graph. A cold start (process start to first answered
query) waited for both. This app starts serving as soon as the engine is up,
with only what answering ``/sparql`` needs (the ``sparql_front``, which
imports no FastAPI), and builds the full app (``app.create_app``) in a thread
meanwhile; every other request, and the ``/sparql`` requests the front passes
on (the service description, CORS preflights), waits for that build.

It owns the engine (the lifespan waits for the starting backend and stops it)
and shares the response cache with the full app, whose own lifespan never
runs. ``create_app`` stays the one app factory: this only stages it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import traceback
from typing import Any

from starlette.datastructures import State
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from openskies.server.gc_tuning import collect_less_often
from openskies.server.service import SparqlService
from openskies.server.sparql_front import SparqlFront
from openskies.server.store import StartingBackend, make_backend
from openskies.server.store_cache import LRUCache
from openskies.settings import Settings

log = logging.getLogger("openskies.server")


class StagedApp:
    """ASGI app answering ``/sparql`` queries before the full FastAPI app exists.

    ``starting`` is the backend ``openskies serve`` started before importing
    anything of the web app; the lifespan waits for it.
    """

    def __init__(self, settings: Settings, starting: StartingBackend):
        self.settings = settings
        self.starting = starting
        self.state = State()
        self.state.settings = settings
        self.state.service = None
        self.state.response_cache = LRUCache(
            settings.cache_entries, settings.cache_bytes, settings.cache_max_entry_bytes
        )
        self.full: Any = None
        """The FastAPI app once built (None before, and if the build failed)."""
        self._built = asyncio.Event()
        self._front = SparqlFront(self._rest, owner=self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._front(scope, receive, send)

    async def _rest(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Everything the front does not answer: the full app's, once it is built."""
        if self.full is None:
            await self._built.wait()
        full: ASGIApp | None = self.full
        if full is None:
            response = PlainTextResponse(
                "The server could not build its routes; only /sparql queries are answered.\n",
                status_code=503,
            )
            await response(scope, receive, send)
            return
        await full(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        loop = asyncio.get_running_loop()
        try:
            pool = await loop.run_in_executor(None, self.starting.wait)
        except (OSError, RuntimeError, ValueError) as exc:
            # Data that does not parse, a store directory that cannot be used: say so.
            await send({"type": "lifespan.startup.failed", "message": f"{exc}"})
            return
        except BaseException:
            await send({"type": "lifespan.startup.failed", "message": traceback.format_exc()})
            return
        self.state.service = SparqlService(self.settings, pool)
        threading.Thread(
            target=self._build, args=(loop,), name="openskies-build-app", daemon=True
        ).start()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await self._built.wait()  # the build hands the service to the full app: not after this
        self.state.service = None
        if self.full is not None:
            self.full.state.service = None
        await loop.run_in_executor(None, pool.stop)
        await send({"type": "lifespan.shutdown.complete"})

    def _build(self, loop: asyncio.AbstractEventLoop) -> None:
        """Import and build the full app (in a thread: the front serves meanwhile)."""
        try:
            from openskies.server.app import create_app

            app = create_app(self.settings, response_cache=self.state.response_cache)
            app.state.service = self.state.service
            app.middleware_stack = app.build_middleware_stack()
            self.full = app
            collect_less_often()
        except Exception:
            log.exception("building the web app failed; only /sparql queries are answered")
        finally:
            loop.call_soon_threadsafe(self._built.set)


SETTINGS_ENV = "OPENSKIES_SETTINGS_JSON"
"""How ``openskies serve`` hands its settings to the web processes it starts."""


def app_from_environment() -> StagedApp:
    """The uvicorn factory of each web process when ``http_processes`` > 1.

    The settings the command line resolved travel as JSON in the
    environment, since uvicorn starts these processes from an import string.
    Each process starts its own workers, then stages its app as ``serve`` does.
    """
    raw = os.environ.get(SETTINGS_ENV)
    settings = Settings.model_validate_json(raw) if raw else Settings()
    return StagedApp(settings, StartingBackend(make_backend(settings)))
