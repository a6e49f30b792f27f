"""Start a query worker as ``python -m openskies.server.worker FD``.

Why not ``multiprocessing`` with the spawn method: spawn re-imports the
parent's main module in every child, and under ``openskies serve`` that is
the console script, so each worker imported the whole CLI (Typer, pydantic,
the settings) for nothing: about 0.35 s of start-up and 13 MiB per worker.
Spawn also starts a resource-tracker process (12 MiB) this pool never
needs. A worker needs pyoxigraph and its own module only.

The parent keeps a ``worker_channel.ParentChannel`` over one end of a
socket pair (``multiprocessing.connection``'s framing of pickled dicts); the
child gets the other end as an inherited file descriptor and reads its
start-up settings as the first message. A worker whose parent dies sees
end-of-file on its connection and exits.

The child's end is ``ChildConnection``: the same wire format without
importing ``multiprocessing`` (its package pulls in sockets, subprocess,
tempfile and more: about 26 ms of CPU and 1.8 MiB in every worker, which
start while the web process imports the app and compete with it for the
CPU). This module imports nothing at the top that a worker would not, so
that the worker can import ``ChildConnection`` from here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

    from openskies.server.worker_channel import ParentChannel

_SIZE = struct.Struct("!i")
"""A message's length, big-endian, as ``multiprocessing.connection`` frames it."""
_LARGE_SIZE = struct.Struct("!Q")
"""After a length of -1: the real length of a message over 2 GiB."""
_HUGE = _SIZE.pack(-1)
_FIRST_READ = 65536
"""Bytes asked for by the first read of a message: most requests fit whole."""


class ChildConnection:
    """The worker's end of the parent's ``multiprocessing.connection.Connection``.

    Same framing (a 4-byte signed length, or -1 and an 8-byte length past
    2 GiB, then a pickle) and the same errors: ``EOFError`` when the parent
    has closed its end between messages, ``OSError`` when it did so mid-message.
    """

    def __init__(self, fd: int):
        self._fd = fd
        self._pending = b""
        """Bytes read past the end of the last message (the parent never sends any today)."""

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        os.close(self._fd)

    def send(self, obj: Any) -> None:
        data = pickle.dumps(obj)
        size = len(data)
        head = _SIZE.pack(size) if size <= 0x7FFFFFFF else _HUGE + _LARGE_SIZE.pack(size)
        # Length and message in one system call, without joining them.
        sent = os.writev(self._fd, (head, data))
        if sent < len(head) + size:
            self._write(memoryview(head + data)[sent:])

    def recv(self) -> Any:
        # One read usually brings the whole request (the parent writes it at once).
        data = self._pending or os.read(self._fd, _FIRST_READ)
        self._pending = b""
        if not data:
            raise EOFError
        while len(data) < _SIZE.size + (_LARGE_SIZE.size if data[:4] == _HUGE else 0):
            data += self._more()
        (size,) = _SIZE.unpack_from(data)
        start = _SIZE.size
        if size == -1:
            (size,) = _LARGE_SIZE.unpack_from(data, _SIZE.size)
            start += _LARGE_SIZE.size
        end = start + size
        if len(data) < end:
            data = data[start:] + self._read(end - len(data))
            return pickle.loads(data)
        self._pending = data[end:]
        return pickle.loads(data[start:end])

    def _more(self) -> bytes:
        chunk = os.read(self._fd, _FIRST_READ)
        if not chunk:
            raise OSError("got end of file during message")
        return chunk

    def _write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def _read(self, size: int) -> bytes:
        chunks = []
        remaining = size
        while remaining:
            chunk = os.read(self._fd, remaining)
            if not chunk:
                raise OSError("got end of file during message")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


class WorkerProcess:
    """The parts of ``multiprocessing.Process`` the pool uses, over ``subprocess.Popen``."""

    def __init__(self, popen: subprocess.Popen):
        self._popen = popen

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def exitcode(self) -> int | None:
        """None while running; negative signal number if killed (as multiprocessing reports)."""
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._popen.kill()

    def join(self, timeout: float | None = None) -> None:
        import subprocess

        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)


MALLOC_TUNABLES = (
    "glibc.malloc.tcache_count=100:glibc.malloc.top_pad=67108864"
    ":glibc.malloc.trim_threshold=268435456:glibc.malloc.hugetlb=1"
)
"""glibc's allocator settings for query workers, unless ``GLIBC_TUNABLES`` is set already.

The engine allocates and frees its working memory on every query. With
glibc's defaults a worker spent about a third of an aggregate's CPU inside
glibc's internal malloc and free (py-spy --native, 100k triples), and the
same query ran 30% faster in a process whose heap happened to be laid out
otherwise. A deeper per-thread cache of freed blocks (``tcache_count``,
default 7), a 64 MiB margin at the top of the heap (``top_pad``) and keeping
freed memory below 256 MiB (``trim_threshold``) cut a worker's CPU per
query (100k triples, one worker, medians of 100): aggregate 4.56 -> 3.07 ms,
ORDER BY + LIMIT 17.6 -> 15.8 ms, text filter 6.90 -> 6.41 ms, point lookup
0.20 -> 0.16 ms (with ``tcache_count=1000``).

The cache depth is 100, not 1,000: the peak resident memory of a worker on
the article graph after the benchmark's catalog runs was 28 MiB with
glibc's defaults, 41.5 MiB with 1,000 cached blocks per size and 30.5 MiB
with 100 (``VmHWM``); 1,000 put the server over its 150 MiB budget. At
100k triples 100 keeps most of the gain (aggregate 3.00 ms with 1,000,
3.19 ms with 100, 3.82 ms with no deeper cache; ORDER BY 16.2 / 16.7 / 16.8).
Transparent huge pages for the heap (``hugetlb=1``: glibc asks for them
with ``madvise``, which is what this kernel's THP mode honours) took another
5-9% off a heavy query. They were left out while the deeper cache left no
room in the 150 MiB budget; with 100 cached blocks the article graph's
server peaks at 141 MiB with them and 136 MiB without (web 76 MiB, workers
32.4 / 30.0 MiB each, after the benchmark's catalog runs at 4 and 32
connections). In-process at 100k triples, 5 starts each: aggregate 2.78 ->
2.68 ms, text filter 8.17 -> 7.25 ms, three-way join 0.278 -> 0.259 ms.
Set ``GLIBC_TUNABLES`` to choose otherwise.
"""


def start_worker(init: dict) -> tuple[WorkerProcess, ParentChannel]:
    """Start a worker process and send it ``init``; returns it and the parent's channel."""
    import socket
    import subprocess

    from openskies.server.worker_channel import ParentChannel

    parent_end, child_end = socket.socketpair()
    child_fd = child_end.detach()
    try:
        popen = subprocess.Popen(
            [sys.executable, "-m", "openskies.server.worker", str(child_fd)],
            pass_fds=(child_fd,),
            stdin=subprocess.DEVNULL,
            env=_worker_environment(),
        )
    finally:
        socket.socket(fileno=child_fd).close()
    conn = ParentChannel(parent_end)
    conn.send(init)
    return WorkerProcess(popen), conn


def _worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)
    return env
