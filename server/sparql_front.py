"""``/sparql`` queries from request bytes to response bytes in one pass.

Profiling the web process under load (py-spy, 1,000 triples, point lookups,
wrk with 4 connections) showed it, not the query workers, to be the wall:
about 0.7 ms of CPU per request, three quarters of it in the framework
around a query (the middleware stack with its per-layer ``send`` wrappers,
routing, ``Request`` and ``Response`` objects, header parsing) rather than in
the query. This ASGI app sits outside FastAPI's middleware stack
(``OpenSkiesApp.build_middleware_stack``) and answers ``GET``, ``HEAD`` and
``POST /sparql`` queries itself, with the same parts the routed path uses:

* the request is read by ``routes_sparql.get_operation`` /
  ``post_operation``, so both paths accept and refuse the same requests;
* the ETag, ``304`` and response cache of ``store_cache`` (the same key,
  version and LRU), checked before the query is even parsed;
* ``SparqlService.evaluate`` for the query itself;
* ``protocol_error.error_response`` for every refusal (the function the
  app's exception handlers call) and a CORS middleware configured as the
  app's (``cors``) for the CORS headers, so errors and headers are the
  routed ones.

Anything else (the service description, OPTIONS preflights, every other
path, or no engine yet) goes to the next app unchanged: the FastAPI app's
middleware stack, or, while ``openskies serve`` is still importing FastAPI,
the staged app that waits for it (``openskies.server.staged``). Nothing here
imports FastAPI. The routes stay registered: they serve the OpenAPI
document, and the app without this front.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openskies.server.body import media_type_in, too_large
from openskies.server.cors import cors_headers_sender
from openskies.server.protocol_error import error_response
from openskies.server.query_string import parse_pairs
from openskies.server.service import QueryRequest, SparqlService
from openskies.server.sparql_request import (
    QUERY_MEDIA_TYPES,
    get_operation,
    post_operation,
    unsupported_media_type,
)
from openskies.server.store_cache import (
    Entry,
    LRUCache,
    data_version,
    etag_for,
    matches,
    request_key,
    send_cached,
    send_not_modified,
)

_METHODS = frozenset(("GET", "HEAD", "POST"))
_HEADERS = frozenset((b"accept", b"content-type", b"content-length", b"if-none-match", b"origin"))
_VARY = (b"vary", b"Accept")
_VARY_ORIGIN = (b"vary", b"Accept, Origin")
_TRUNCATED = (b"x-openskies-truncated", b"true")


class _Gone(Exception):
    """The client disconnected before its request body arrived: nobody to answer."""


def _would_wait(service: SparqlService) -> bool:
    would_wait = getattr(service.pool, "would_wait", None)
    return bool(would_wait and would_wait())


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has closed the connection (the request is already read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


WATCH_AFTER = 0.05
"""Seconds a queued request waits before its connection is watched (see ``_unless_gone``)."""


async def _unless_gone(evaluation: Awaitable[Any], receive: Receive) -> Any:
    """``evaluation``'s result, or ``_Gone`` once the client has gone.

    Only for requests that must queue for a worker: wrk, a browser tab or a
    client that timed out may close the connection while its query waits,
    and evaluating it then (up to the query timeout) only delays the clients
    still waiting. Cancelling takes it out of the queue; one already running
    is finished in the background (``WorkerPool._settle_later``).
    The watcher (a task reading the connection) starts only after
    ``WATCH_AFTER`` seconds: it cost 4% of throughput at 1,000 triples when
    every queued request had one, and a queue that moves that fast wastes
    little on clients that left.
    """
    current = asyncio.current_task()
    assert current is not None
    watchers: list[asyncio.Future[None]] = []
    settled = False

    def client_gone(done: asyncio.Future[None]) -> None:
        if not settled and not done.cancelled() and done.exception() is None:
            current.cancel()

    def watch() -> None:
        watcher = asyncio.ensure_future(_disconnected(receive))
        watcher.add_done_callback(client_gone)
        watchers.append(watcher)

    timer = asyncio.get_running_loop().call_later(WATCH_AFTER, watch)
    try:
        return await evaluation
    except asyncio.CancelledError:
        for watcher in watchers:
            if watcher.done() and not watcher.cancelled() and watcher.exception() is None:
                current.uncancel()
                raise _Gone() from None
        raise
    finally:
        settled = True
        timer.cancel()
        for watcher in watchers:
            watcher.cancel()


async def _vary_origin(message: Message, *, send: Send) -> None:
    """``send`` with ``Origin`` added to the response's ``Vary`` (CORS, no Origin sent)."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", ()))
        for index, (name, value) in enumerate(headers):
            if name.lower() == b"vary":
                headers[index] = (name, value + b", Origin")
                break
        else:
            headers.append((b"vary", b"Origin"))
        message = {**message, "headers": headers}
    await send(message)


class SparqlFront:
    """ASGI app: ``/sparql`` queries answered directly, the rest passed to ``app``.

    ``owner`` is what holds the engine: the FastAPI app, or the staged app
    while FastAPI is still being imported. Its ``state`` has ``service``
    (None while the engine is down), ``response_cache`` and ``settings``.
    """

    def __init__(self, app: ASGIApp, *, owner: Any, path: str = "/sparql"):
        self.app = app
        self.owner = owner
        self.path = path
        self.cache: LRUCache = owner.state.response_cache
        self.max_body: int = owner.state.settings.max_body_bytes
        self.cors = cors_headers_sender(owner.state.settings)
        self._content_types: dict[str, bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in _METHODS:
            await self.app(scope, receive, send)
            return
        service: SparqlService | None = self.owner.state.service
        if service is None:
            await self.app(scope, receive, send)  # the routes answer 503
            return
        headers: dict[bytes, bytes] = {}
        for key, value in scope["headers"]:
            if key in _HEADERS and key not in headers:
                headers[key] = value
        reply = send
        vary = _VARY
        if self.cors is not None:
            if b"origin" in headers:
                reply = functools.partial(
                    self.cors.send, send=send, request_headers=Headers(scope=scope)
                )
            else:
                # What the CORS middleware does to a response without an Origin
                # (``Vary: Origin``), at a fraction of its cost: it parses the
                # request's headers and the response's on every request.
                reply = functools.partial(_vary_origin, send=send)
                vary = _VARY_ORIGIN
        try:
            await self._query(scope, receive, send, reply, service, headers, vary)
        except _Gone:
            return
        except Exception as exc:
            response = error_response(exc)
            if response is None:
                raise  # uvicorn answers 500 and logs it, as for any route
            await response(scope, receive, reply)

    async def _query(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        reply: Send,
        service: SparqlService,
        headers: dict[bytes, bytes],
        vary: tuple[bytes, bytes],
    ) -> None:
        """Answers the query; ``reply`` is ``send`` with the CORS headers added."""
        method: str = scope["method"]
        content_type = headers.get(b"content-type", b"")
        body = b""
        media_type = ""
        if method == "POST":
            media_type = media_type_in(content_type.decode("latin-1"))
            if media_type not in QUERY_MEDIA_TYPES:
                raise unsupported_media_type(media_type)
            body = await self._read_body(receive, headers.get(b"content-length", b""))
        query_string: bytes = scope["query_string"]
        accept = headers.get(b"accept", b"")
        version = data_version(self.owner)
        if version is None:  # the engine stopped meanwhile
            await self.app(scope, receive, send)
            return
        key = request_key(method, self.path, query_string, accept, content_type, body)
        etag = etag_for(version, key)
        if matches(headers.get(b"if-none-match", b""), etag):
            await send_not_modified(reply, etag)
            return
        cache = self.cache
        cache.sync(version)
        entry = cache.get(key)
        if entry is not None:
            await send_cached(reply, entry, head=method == "HEAD")
            return
        pairs = parse_pairs(query_string)
        accept_text = accept.decode("latin-1") if accept else None
        operation: QueryRequest | None
        if method == "POST":
            operation = post_operation(media_type, pairs, body, accept=accept_text)
        else:
            operation = get_operation(pairs, accept=accept_text, head=method == "HEAD")
            if operation is None:  # the service description: routed, with its own caching
                await self.app(scope, receive, send)
                return
        evaluation = service.evaluate(operation)
        if _would_wait(service):
            answer, fmt, truncated = await _unless_gone(evaluation, receive)
        else:
            answer, fmt, truncated = await evaluation
        response_headers = [(b"content-length", str(len(answer)).encode()), _VARY]
        if truncated:
            response_headers.append(_TRUNCATED)
        response_headers.append((b"content-type", self._content_type(fmt.content_type)))
        response_headers.append((b"etag", etag))
        if method != "HEAD" and data_version(self.owner) == version:
            cache.put(key, Entry(list(response_headers), answer))
        if vary is _VARY_ORIGIN:
            response_headers[1] = vary  # _vary_origin's work, done in place
            reply = send
        await reply({"type": "http.response.start", "status": 200, "headers": response_headers})
        await reply({"type": "http.response.body", "body": b"" if method == "HEAD" else answer})

    def _content_type(self, value: str) -> bytes:
        encoded = self._content_types.get(value)
        if encoded is None:
            encoded = self._content_types[value] = value.encode("latin-1")
        return encoded

    async def _read_body(self, receive: Receive, declared: bytes) -> bytes:
        """The whole body, or 413 as soon as it exceeds the limit (as ``body.read_body``)."""
        limit = self.max_body
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Gone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
