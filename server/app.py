"""The application factory: one FastAPI app for the CLI, the tests and uvicorn.

``create_app(settings)`` reads settings once; the lifespan makes the store
backend that ``Settings.store`` names (``openskies.server.store``: worker
processes over an in-memory or on-disk store, building the dataset if
needed, or a remote SPARQL store), starts it and stops it on shutdown.
``uvicorn --factory openskies.server.app:create_app`` works too,
with settings from ``OPENSKIES_*`` environment variables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from openskies.server import (
    routes_dumps,
    routes_gsp,
    routes_linked_data,
    routes_meta,
    routes_search,
    routes_sparql,
    routes_ui,
    routes_update,
)
from openskies.server.catalog_api import make_catalog_router
from openskies.server.cors import cors_options
from openskies.server.errors import install_error_handlers
from openskies.server.executor import PoolExecutor
from openskies.server.service import SparqlService
from openskies.server.sparql_front import SparqlFront
from openskies.server.store import StartingBackend, make_backend
from openskies.server.store_cache import CacheMiddleware, LRUCache
from openskies.settings import Settings

STATIC_DIR = Path(__file__).with_name("static")


class OpenSkiesApp(FastAPI):
    """FastAPI with the ``/sparql`` front (``sparql_front``) outside its middleware.

    Everything but ``/sparql`` queries goes through the stack FastAPI builds.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return SparqlFront(super().build_middleware_stack(), owner=self)


def create_app(
    settings: Settings | None = None,
    *,
    starting: StartingBackend | None = None,
    response_cache: LRUCache | None = None,
) -> FastAPI:
    """Build the app; worker processes start with the lifespan, not here.

    ``starting``: a backend already starting; the lifespan waits for it and
    stops it. ``response_cache``: one shared with the app that serves
    ``/sparql`` while this one is built (``openskies.server.staged``), which
    runs the engine itself and never starts this app's lifespan.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if starting is not None:
            pool = await run_in_threadpool(starting.wait)
        else:
            pool = await run_in_threadpool(make_backend, settings)
            await run_in_threadpool(pool.start)
        app.state.service = SparqlService(settings, pool)
        try:
            yield
        finally:
            app.state.service = None
            await run_in_threadpool(pool.stop)

    app = OpenSkiesApp(
        title="Open Skies SPARQL endpoint",
        description=(
            "SPARQL 1.1 Protocol (query, update, Graph Store) over the Open Skies Treaty "
            "knowledge graph. The default graph of a query is the union of all named graphs."
        ),
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        telemetry=None
        if settings.opentelemetry
        else {"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.service = None
    install_error_handlers(app)
    # ETags, 304 and the response cache for /sparql and the catalog (inside CORS).
    if response_cache is None:
        response_cache = LRUCache(
            settings.cache_entries, settings.cache_bytes, settings.cache_max_entry_bytes
        )
    app.state.response_cache = response_cache
    app.add_middleware(
        CacheMiddleware,
        fastapi_app=app,
        cache=app.state.response_cache,
        max_body=settings.max_body_bytes,
    )
    cors = cors_options(settings)
    if cors is not None:
        app.add_middleware(CORSMiddleware, **cors)
    for module in (
        routes_sparql,
        routes_update,
        routes_gsp,
        routes_meta,
        routes_linked_data,
        routes_search,
        routes_dumps,
        routes_ui,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # The question catalog (queries/*.rq) evaluates on the same worker pool.
    app.include_router(make_catalog_router(PoolExecutor(app)))
    return app
