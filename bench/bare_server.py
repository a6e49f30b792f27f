"""The least a Python process can do per SPARQL request: a reference floor, not a server.

Why it exists: the small-query targets (1,000 triples, distinct queries)
are decided by CPU per request, not by the engine. This server answers
``GET ?query=`` by evaluating with pyoxigraph in the process that parsed the
HTTP request (httptools, uvloop), with nothing else: no limits, no checks, no
timeout, no cache, no content negotiation, no isolation. Whatever it cannot
reach, no Python service over pyoxigraph can; the gap between it and
``ours-*`` is the price of what ours does per request, and the gap between
it and the Oxigraph server is the price of Python itself.

Do not deploy it: one runaway query stops a process for good, and a query
nested a few thousand groups deep kills it (design.md, "Known engine hazards").

``python -m bench.bare_server DATA PORT PROCESSES``: loads DATA (N-Triples or
N-Quads, the union of its graphs as the default graph), then forks into
PROCESSES processes that share one listening socket on 127.0.0.1:PORT.
Solutions and booleans come back as SPARQL JSON, graphs as N-Triples; a query
the engine refuses gets a 400 with the engine's message.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import Any
from urllib.parse import parse_qs

import httptools
import pyoxigraph as ox
import uvloop

_JSON = b"application/sparql-results+json"
_NTRIPLES = b"application/n-triples"


def _head(status: bytes, media_type: bytes, length: int, keep_alive: bool) -> bytes:
    connection = b"" if keep_alive else b"Connection: close\r\n"
    return b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
        status,
        media_type,
        length,
        connection,
    )


def answer(store: ox.Store, target: bytes) -> tuple[bytes, bytes, bytes]:
    """(status, media type, body) for a request target such as ``/sparql?query=...``."""
    try:
        raw = httptools.parse_url(target).query or b""
    except httptools.HttpParserInvalidURLError:
        return b"400 Bad Request", b"text/plain", b"Malformed request target."
    query = parse_qs(raw.decode("utf-8", "replace")).get("query")
    if not query:
        return b"400 Bad Request", b"text/plain", b"Missing query parameter."
    try:
        results = store.query(query[0], use_default_graph_as_union=True)
        if isinstance(results, ox.QueryTriples):
            return b"200 OK", _NTRIPLES, results.serialize(format=ox.RdfFormat.N_TRIPLES)
        return b"200 OK", _JSON, results.serialize(format=ox.QueryResultsFormat.JSON)
    except (SyntaxError, ValueError, TypeError, RuntimeError, OSError) as exc:
        return b"400 Bad Request", b"text/plain", str(exc).encode()


class BareProtocol(asyncio.Protocol):
    """One connection: each complete request is answered before the next byte is read."""

    def __init__(self, store: ox.Store):
        self.store = store
        self.target = b""
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        """uvloop's transport (not an ``asyncio.Transport`` subclass)."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:  # answer, then hang up
                body = b"Malformed HTTP request."
                self.transport.write(
                    _head(b"400 Bad Request", b"text/plain", len(body), False) + body
                )
                self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.target += url

    def on_message_complete(self) -> None:
        status, media_type, body = answer(self.store, self.target)
        self.target = b""
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(_head(status, media_type, len(body), keep_alive) + body)
        if not keep_alive:
            self.transport.close()


def serve(store: ox.Store, listener: socket.socket) -> None:
    loop = uvloop.new_event_loop()
    loop.run_until_complete(loop.create_server(lambda: BareProtocol(store), sock=listener))
    loop.run_forever()


def main(argv: list[str]) -> None:
    data, port, processes = argv[0], int(argv[1]), int(argv[2])
    store = ox.Store()
    rdf_format = ox.RdfFormat.N_QUADS if data.endswith(".nq") else ox.RdfFormat.N_TRIPLES
    store.bulk_load(path=data, format=rdf_format)
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    for _ in range(processes - 1):
        if os.fork() == 0:  # children share the loaded store copy-on-write
            break
    serve(store, listener)


if __name__ == "__main__":
    main(sys.argv[1:])
