"""Caching where it is safe: ETags, 304s and a bounded in-process response cache.

An ASGI middleware in front of the query operations (``/sparql`` GET and
POST, and the question catalog under ``/api/queries``). For each request it
derives a key from what determines the answer, the method class (GET/HEAD
share one), path, query string, ``Accept`` header and, for POST, the body
and its content type, and a *version* from the data being served
(``SparqlService.data_id`` plus the backend's write ``generation``):

* every successful (200) answer carries ``ETag: "<hash of version and key>"``,
  so the tag changes exactly when the data or the request does, and never
  needs the body to be computed first;
* a request whose ``If-None-Match`` lists that tag gets ``304 Not Modified``
  without touching the engine;
* complete 200 answers up to ``cache_max_entry_bytes`` are kept in a
  least-recently-used cache bounded by ``cache_entries`` and
  ``cache_bytes``; an identical request on unchanged data is answered from
  it. Any write bumps the generation, which changes every version: the
  cache is emptied at the first request that sees the new version, and an
  answer is stored only if the version did not change while it was being
  computed.

Errors, timeouts and anything but 200 are never cached or tagged. The cache
is per process and assumes this server sees every write (with a remote
store that others write to, run with ``cache_entries=0``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHED_PATHS = ("/sparql",)
CACHED_PREFIXES = ("/api/queries",)
CACHE_HEADER = b"x-openskies-cache"


@dataclass
class Entry:
    headers: list[tuple[bytes, bytes]]
    body: bytes


class LRUCache:
    """Response bodies by key, bounded in entries and total bytes."""

    def __init__(self, max_entries: int, max_bytes: int, max_entry_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.version: str | None = None
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def sync(self, version: str) -> None:
        """Forget everything when the data's version changes."""
        if version != self.version:
            self._entries.clear()
            self.size = 0
            self.version = version

    def get(self, key: bytes) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: bytes, entry: Entry) -> None:
        size = len(entry.body)
        if size > self.max_entry_bytes or size > self.max_bytes or self.max_entries == 0:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self._entries[key] = entry
        self.size += size
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted.body)


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return b""


def request_key(
    method: str, path: str, query_string: bytes, accept: bytes, content_type: bytes, body: bytes
) -> bytes:
    """What determines an answer: GET and HEAD share one key; POST adds its body."""
    post = method == "POST"
    return b"\0".join(
        (
            b"POST" if post else b"GET",
            path.encode(),
            query_string,
            accept,
            content_type if post else b"",
            body,
        )
    )


def etag_for(version: str, key: bytes) -> bytes:
    """A strong validator that changes exactly when the data or the request does."""
    digest = hashlib.blake2b(version.encode() + b"\0" + key, digest_size=16).hexdigest()
    return f'"{digest}"'.encode()


def matches(if_none_match: bytes, etag: bytes) -> bool:
    """Whether an ``If-None-Match`` value lists ``etag`` (weak comparison, or ``*``)."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(b",")]
    return b"*" in tags or any(tag.removeprefix(b"W/") == etag for tag in tags)


def data_version(fastapi_app: Any) -> str | None:
    """The served data's version (``data_id:generation``), None while the engine is down."""
    service = getattr(fastapi_app.state, "service", None)
    if service is None:
        return None
    return f"{service.data_id}:{service.pool.generation}"


async def send_not_modified(send: Send, etag: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 304,
            "headers": [(b"etag", etag), (b"vary", b"Accept")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def send_cached(send: Send, entry: Entry, *, head: bool) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*entry.headers, (CACHE_HEADER, b"hit")],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else entry.body})


class CacheMiddleware:
    """ETag, 304 and LRU response cache for the read-only query paths of ``fastapi_app``."""

    def __init__(self, app: ASGIApp, *, fastapi_app: Any, cache: LRUCache, max_body: int):
        self.app = app
        self.fastapi_app = fastapi_app
        self.cache = cache
        self.max_body = max_body

    def _version(self) -> str | None:
        return data_version(self.fastapi_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        cacheable_path = path in CACHED_PATHS or path.startswith(CACHED_PREFIXES)
        version = self._version() if cacheable_path else None
        if version is None or method not in ("GET", "HEAD", "POST"):
            await self.app(scope, receive, send)
            return
        body = b""
        if method == "POST":
            if path != "/sparql":
                await self.app(scope, receive, send)
                return
            body, receive = await self._read_body(receive)
            if body is None:  # too large to key on: not cached
                await self.app(scope, receive, send)
                return
        key = request_key(
            method,
            path,
            scope.get("query_string", b""),
            _header(scope, b"accept"),
            _header(scope, b"content-type"),
            body,
        )
        etag = etag_for(version, key)
        if matches(_header(scope, b"if-none-match"), etag):
            await send_not_modified(send, etag)
            return
        cache = self.cache
        cache.sync(version)
        entry = cache.get(key)
        if entry is not None:
            await send_cached(send, entry, head=method == "HEAD")
            return
        await self._forward(scope, receive, send, key, etag, version, store=method != "HEAD")

    async def _read_body(self, receive: Receive) -> tuple[bytes | None, Receive]:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_body:
                break
        body = b"".join(chunks)
        pending = [{"type": "http.request", "body": body, "more_body": more}]

        async def replay() -> Message:
            if pending:
                return pending.pop()
            return await receive()

        return (None if more else body), replay

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: bytes,
        etag: bytes,
        version: str,
        *,
        store: bool,
    ) -> None:
        state: dict[str, Any] = {"ok": False, "headers": [], "parts": [], "size": 0}
        limit = self.cache.max_entry_bytes

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    headers = [(k, v) for k, v in message.get("headers", []) if k != b"etag"]
                    headers.append((b"etag", etag))
                    message = {**message, "headers": headers}
                    state["ok"] = store
                    state["headers"] = headers
            elif message["type"] == "http.response.body" and state["ok"]:
                chunk = message.get("body", b"")
                state["size"] += len(chunk)
                if state["size"] > limit:
                    state["ok"] = False
                    state["parts"] = []
                else:
                    state["parts"].append(chunk)
                complete = not message.get("more_body", False) and state["ok"]
                if complete and self._version() == version:
                    self.cache.put(key, Entry(state["headers"], b"".join(state["parts"])))
            await send(message)

        await self.app(scope, receive, capture)
