"""The web process's end of a query worker's socket.

It speaks ``multiprocessing.connection``'s framing (a 4-byte signed length,
or -1 and an 8-byte length past 2 GiB, then a pickle), as the worker's
``ChildConnection`` does, but is made for a socket that an event loop watches
between requests:

* The descriptor stays non-blocking for good. ``multiprocessing``'s
  ``Connection`` needs a blocking descriptor, and uvloop makes a watched one
  non-blocking, so every request cost four ``fcntl`` calls to switch back
  and forth. Here the thread path's blocking reads and writes go through a
  socket timeout instead (Python waits with ``poll`` inside the call).
* A reply can be read piecewise from the loop's reader callback
  (``read_available``, one ``recv`` per call, never blocking), and the rest of
  it by a thread (``recv``) if the request is abandoned half-way: the frame
  being assembled lives here, not in either caller.
* A message goes out in one ``writev`` (length and pickle without joining
  them) and a small reply usually arrives in one ``read``: per request two
  system calls where ``Connection`` made three or four. (The loop's path
  uses ``os`` calls on the descriptor: a socket object with a timeout polls
  before every call.)
"""

from __future__ import annotations

import os
import pickle
import select
import socket
import struct
from typing import Any

_SIZE = struct.Struct("!i")
_LARGE_SIZE = struct.Struct("!Q")
_FIRST_READ = 65536
"""Bytes asked for by the first read of a reply: most replies fit whole."""
BLOCKING_TIMEOUT = 3600.0
"""Longest a blocking call waits for the rest of a message that has begun arriving."""


class ParentChannel:
    """Messages to and from one worker process over ``sock`` (see the module docstring).

    One message is in flight at a time: the pool sends a request and reads
    its reply before it sends the next, so the framing never has to keep the
    bytes of a second message.
    """

    def __init__(self, sock: socket.socket):
        sock.settimeout(BLOCKING_TIMEOUT)  # non-blocking descriptor, blocking calls
        self._sock = sock
        self._fd = sock.fileno()
        self._head = b""
        self._body: bytearray | None = None
        self._filled = 0
        self._message: bytes | None = None
        self._error: BaseException | None = None

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        self._sock.close()

    # --- sending -------------------------------------------------------------

    def send(self, obj: Any) -> None:
        self.send_bytes(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))

    def send_bytes(self, data: bytes) -> None:
        """Send one message; blocks (up to the timeout) only while the worker's buffer is full."""
        size = len(data)
        head = _SIZE.pack(size) if size <= 0x7FFFFFFF else _SIZE.pack(-1) + _LARGE_SIZE.pack(size)
        try:
            sent = os.writev(self._fd, (head, data))
        except BlockingIOError:
            sent = 0
        if sent < len(head) + size:
            self._sock.sendall((head + data)[sent:])

    # --- receiving -----------------------------------------------------------

    def poll(self, timeout: float) -> bool:
        """Whether a message (or end of file) can be read now, waiting up to ``timeout`` s."""
        if self._message is not None or self._error is not None:
            return True
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))

    def read_available(self) -> bool:
        """Read what has arrived, without blocking; True once a whole message (or EOF) is in.

        For an event loop's reader callback: it calls this when the socket is
        readable, so the single ``recv`` here never waits.
        """
        if self._message is not None or self._error is not None:
            return True
        try:
            self._read_once(block=False)
        except (EOFError, OSError) as exc:
            self._error = exc
            return True
        return self._message is not None

    def take(self) -> Any:
        """The message ``read_available`` completed; raises as ``recv`` would on EOF."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        message, self._message = self._message, None
        assert message is not None, "take() before read_available() returned True"
        return pickle.loads(message)

    def recv(self) -> Any:
        """Block until the next message is whole (``EOFError`` if the worker has closed)."""
        while self._message is None and self._error is None:
            try:
                self._read_once(block=True)
            except (EOFError, OSError) as exc:
                self._error = exc
        return self.take()

    def _read_once(self, *, block: bool) -> None:
        """One ``recv`` towards the current message."""
        sock = self._sock
        if self._body is None:
            if block:
                chunk = sock.recv(_FIRST_READ)
            else:
                try:
                    chunk = os.read(self._fd, _FIRST_READ)
                except BlockingIOError:
                    return
            if not chunk:
                if self._head:
                    raise OSError("got end of file during message")
                raise EOFError
            self._start(self._head + chunk if self._head else chunk)
            return
        view = memoryview(self._body)[self._filled :]
        if block:
            got = sock.recv_into(view)
        else:
            try:
                got = os.readv(self._fd, (view,))
            except BlockingIOError:
                return
        if not got:
            raise OSError("got end of file during message")
        self._filled += got
        if self._filled == len(self._body):
            self._message = bytes(self._body)
            self._body = None

    def _start(self, data: bytes) -> None:
        """The first bytes of a message: its length, and perhaps all of it."""
        if len(data) < _SIZE.size:
            self._head = data
            return
        (size,) = _SIZE.unpack_from(data)
        start = _SIZE.size
        if size == -1:
            if len(data) < _SIZE.size + _LARGE_SIZE.size:
                self._head = data
                return
            (size,) = _LARGE_SIZE.unpack_from(data, _SIZE.size)
            start += _LARGE_SIZE.size
        self._head = b""
        end = start + size
        if len(data) >= end:
            self._message = data[start:end]
            return
        self._body = bytearray(size)
        got = len(data) - start
        self._body[:got] = data[start:]
        self._filled = got
