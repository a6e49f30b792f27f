"""Start a query worker as ``python -m openskies.server.worker FD``.

Why not ``multiprocessing`` with the spawn method: spawn re-imports the
parent's main module in every child, and under ``openskies serve`` that is
the console script, so each worker imported the whole CLI (Typer, pydantic,
the settings) for nothing: about 0.35 s of start-up and 13 MiB per worker.
Spawn also starts a resource-tracker process (12 MiB) this pool never
needs. A worker needs pyoxigraph and its own module only.

The parent keeps a ``multiprocessing.connection.Connection`` over one end
of a socket pair, so the message protocol (pickled dicts) is unchanged; the
child gets the other end as an inherited file descriptor and reads its
start-up settings as the first message. A worker whose parent dies sees
end-of-file on its connection and exits.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from multiprocessing.connection import Connection


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
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)


def start_worker(init: dict) -> tuple[WorkerProcess, Connection]:
    """Start a worker process and send it ``init``; returns it and the parent's connection."""
    parent_end, child_end = socket.socketpair()
    child_fd = child_end.detach()
    try:
        popen = subprocess.Popen(
            [sys.executable, "-m", "openskies.server.worker", str(child_fd)],
            pass_fds=(child_fd,),
            stdin=subprocess.DEVNULL,
        )
    finally:
        socket.socket(fileno=child_fd).close()
    conn = Connection(parent_end.detach())
    conn.send(init)
    return WorkerProcess(popen), conn
