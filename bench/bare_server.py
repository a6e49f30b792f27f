"""The least a Python process can do per SPARQL request: a reference floor, not a server.

Why it exists: the small-query targets (1,000 triples, distinct queries)
are decided by CPU per request, not by the engine. This server answers
``GET ?query=`` with pyoxigraph and nothing else: no limits, no checks, no
timeout, no cache, no content negotiation. Whatever it cannot reach, no
Python service over pyoxigraph can; the gap between it and ``ours-*`` is the
price of what ours does per request, and the gap between it and the Oxigraph
server is the price of Python itself.

Two layouts, so that the price of isolation is measured too:

* ``WORKERS`` 0: the process that parsed the HTTP request evaluates the
  query itself (``bare-pyoxigraph``). That is the fast layout, and the one a
  public endpoint cannot use: pyoxigraph cannot stop a running query, so one
  runaway query stops the process for good, and a query nested a few
  thousand groups deep kills it (design.md, "Known engine hazards").
* ``WORKERS`` > 0: each web process hands the request target to one of its
  own worker processes over a socket pair and writes back the answer
  (``bare-pyoxigraph-workers``): the least a design that can kill a runaway
  query pays for that. It kills nothing itself; a worker the engine crashes
  fails its own request with a 500 and is not replaced.

``python bench/bare_server.py DATA PORT PROCESSES [WORKERS]``: loads DATA (any
RDF file the server itself reads; the union of its graphs is the default
graph), then forks into PROCESSES web processes that share one listening
socket on 127.0.0.1:PORT, each with WORKERS workers (default 0). Solutions and
booleans come back as SPARQL JSON, graphs as N-Triples; a query the engine
refuses gets a 400 with the engine's message.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import struct
import sys
from collections import deque
from typing import Any
from urllib.parse import parse_qs

import httptools
import pyoxigraph as ox
import uvloop

from openskies.server.rdf_files import rdf_format

_JSON = b"application/sparql-results+json"
_NTRIPLES = b"application/n-triples"
_LENGTH = struct.Struct("!I")
"""Each message between a web process and a worker: its length, then its pickle."""
Answer = tuple[bytes, bytes, bytes]


def _head(status: bytes, media_type: bytes, length: int, keep_alive: bool) -> bytes:
    connection = b"" if keep_alive else b"Connection: close\r\n"
    return b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
        status,
        media_type,
        length,
        connection,
    )


def answer(store: ox.Store, target: bytes) -> Answer:
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
    """One connection; reading pauses while its request is being answered."""

    def __init__(self, evaluate: Any):
        self.evaluate = evaluate
        """``evaluate(protocol, target)``: calls ``protocol.reply(answer)`` now or later."""
        self.target = b""
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        """uvloop's transport (not an ``asyncio.Transport`` subclass)."""
        self.keep_alive = True

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
        target, self.target = self.target, b""
        self.keep_alive = self.parser.should_keep_alive()
        self.transport.pause_reading()
        self.evaluate(self, target)

    def reply(self, answered: Answer) -> None:
        status, media_type, body = answered
        if self.transport.is_closing():
            return
        self.transport.write(_head(status, media_type, len(body), self.keep_alive) + body)
        if self.keep_alive:
            self.transport.resume_reading()
        else:
            self.transport.close()


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _send(fd: int, message: Any) -> None:
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    os.write(fd, _LENGTH.pack(len(payload)) + payload)


def worker_loop(store: ox.Store, fd: int) -> None:
    """A worker: answer request targets from ``fd`` until the web process goes away."""
    while True:
        try:
            (size,) = _LENGTH.unpack(_read_exact(fd, _LENGTH.size))
            target = pickle.loads(_read_exact(fd, size))
        except EOFError:
            os._exit(0)
        _send(fd, answer(store, target))


class WorkerHandOff:
    """A web process's workers: each request goes to an idle one, or waits for one.

    A worker that dies (the engine crashed, or it was killed) fails its own
    request with a 500, if it had one, and is not replaced; when none is left,
    requests get a 503.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fds: list[int]):
        self.loop = loop
        self.idle: deque[int] = deque(fds)
        self.queued: deque[tuple[BareProtocol, bytes]] = deque()
        self.asked: dict[int, BareProtocol] = {}
        self.buffers = dict.fromkeys(fds, b"")
        for fd in fds:
            loop.add_reader(fd, self._readable, fd)

    def __call__(self, protocol: BareProtocol, target: bytes) -> None:
        if self.idle:
            self._ask(self.idle.popleft(), protocol, target)
        elif self.asked:
            self.queued.append((protocol, target))
        else:
            protocol.reply((b"503 Service Unavailable", b"text/plain", b"No worker is left."))

    def _ask(self, fd: int, protocol: BareProtocol, target: bytes) -> None:
        try:
            _send(fd, target)
        except OSError:  # died before its end-of-file was read: the request was not sent
            self._died(fd)
            self(protocol, target)
            return
        self.asked[fd] = protocol

    def _died(self, fd: int) -> None:
        if fd in self.idle:  # killed from outside while it had nothing to do
            self.idle.remove(fd)
        self.loop.remove_reader(fd)
        os.close(fd)
        self.buffers.pop(fd, None)
        protocol = self.asked.pop(fd, None)
        if protocol is not None:
            body = b"The worker evaluating this query died."
            protocol.reply((b"500 Internal Server Error", b"text/plain", body))
        if not self.asked and not self.idle:
            while self.queued:
                self(*self.queued.popleft())

    def _readable(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            self._died(fd)
            return
        data = self.buffers[fd] + chunk
        end = _LENGTH.size + (_LENGTH.unpack_from(data)[0] if len(data) >= _LENGTH.size else 0)
        if len(data) < _LENGTH.size or len(data) < end:
            self.buffers[fd] = data
            return
        self.buffers[fd] = data[end:]
        answered = pickle.loads(data[_LENGTH.size : end])
        protocol = self.asked.pop(fd)
        if self.queued:
            self._ask(fd, *self.queued.popleft())
        else:
            self.idle.append(fd)
        protocol.reply(answered)


def serve(store: ox.Store, listener: socket.socket, workers: int) -> None:
    """One web process, evaluating in itself (``workers`` 0) or in its own workers."""
    fds = []
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps a worker that dies
    for _ in range(workers):
        mine, theirs = socket.socketpair()
        if os.fork() == 0:  # the worker shares the loaded store copy-on-write
            mine.close()
            listener.close()
            worker_loop(store, theirs.detach())
        theirs.close()
        fds.append(mine.detach())
    loop = uvloop.new_event_loop()
    if workers:
        evaluate: Any = WorkerHandOff(loop, fds)
    else:

        def evaluate(protocol: BareProtocol, target: bytes) -> None:
            protocol.reply(answer(store, target))

    loop.run_until_complete(loop.create_server(lambda: BareProtocol(evaluate), sock=listener))
    loop.run_forever()


def main(argv: list[str]) -> None:
    data, port, processes = argv[0], int(argv[1]), int(argv[2])
    workers = int(argv[3]) if len(argv) > 3 else 0
    store = ox.Store()
    store.bulk_load(path=data, format=rdf_format(data))
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    for _ in range(processes - 1):
        if os.fork() == 0:  # children share the loaded store copy-on-write
            break
    serve(store, listener, workers)


if __name__ == "__main__":
    main(sys.argv[1:])
