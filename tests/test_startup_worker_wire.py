"""The worker's end of the pool connection speaks multiprocessing's wire format.

``ChildConnection`` lets a query worker talk to the parent's
``multiprocessing.connection.Connection`` without importing
``multiprocessing``; these tests run both ends over a socket pair.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

import pytest

from openskies.server.worker_process import ChildConnection


@pytest.fixture
def ends():
    parent_sock, child_sock = socket.socketpair()
    parent = Connection(parent_sock.detach())
    child = ChildConnection(child_sock.detach())
    yield parent, child
    parent.close()
    with contextlib.suppress(OSError):
        child.close()


def test_messages_cross_in_both_directions(ends):
    parent, child = ends
    parent.send({"op": "query", "query": "ASK {}", "generation": 0})
    assert child.recv() == {"op": "query", "query": "ASK {}", "generation": 0}
    child.send({"ok": True, "body": b'{"boolean": true}', "cpu": 0.25})
    assert parent.recv() == {"ok": True, "body": b'{"boolean": true}', "cpu": 0.25}


def test_large_messages_arrive_whole(ends):
    parent, child = ends
    body = bytes(range(256)) * 20_000  # 5 MB: more than a socket buffer holds
    received = {}

    def read() -> None:
        received["reply"] = parent.recv()

    reader = threading.Thread(target=read)
    reader.start()
    child.send({"ok": True, "body": body})
    reader.join(timeout=30)
    assert received["reply"]["body"] == body
    writer = threading.Thread(target=parent.send, args=({"data": body},))
    writer.start()
    assert child.recv()["data"] == body
    writer.join(timeout=30)


def test_end_of_file_between_messages_is_eoferror(ends):
    parent, child = ends
    parent.send(None)
    assert child.recv() is None
    parent.close()
    with pytest.raises(EOFError):
        child.recv()


def test_importing_it_does_not_import_multiprocessing():
    code = (
        "import sys\n"
        "from openskies.server.worker_process import ChildConnection\n"
        "print(sorted(m for m in ('multiprocessing', 'subprocess', 'socket') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
