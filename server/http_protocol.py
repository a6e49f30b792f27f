"""uvicorn's httptools protocol, sending each response's head and body together.

uvicorn writes a response's status line and headers as soon as the app
sends ``http.response.start``, and the body when it sends
``http.response.body``; uvloop sends each write at once, so every response
cost two ``send`` system calls and, on the client's side, two wake-ups and
two reads. On loopback the first send also runs the client's TCP receive
path inside the server's process: the head's write alone was a fifth of the
web process's CPU in a py-spy profile (100k triples, text filter).

``CoalescingTransport`` holds a response's head until the next write (the
body, usually in the same step of the same task) and sends both in one
``writelines`` (one ``writev``). Whatever else happens first (the end of
the loop's current iteration, a close, another write) sends the held head
first, so bytes never change order and a response without a body (HEAD,
304, an empty body) waits only until the loop's current iteration ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_STATUS_LINE = b"HTTP/1.1 "


class CoalescingTransport:
    """A transport that sends a response head together with what follows it."""

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))
        elif data.startswith(_STATUS_LINE):
            # A head (holding anything else would do no harm either: the order stays).
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def writelines(self, chunks: Any) -> None:
        self._flush()
        self._transport.writelines(chunks)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
