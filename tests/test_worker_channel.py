"""The web process's end of a worker socket: whole messages, whichever side reads them.

The pool reads a reply from the event loop's reader callback, and finishes
reading it on a thread when the client goes away half-way; both must see
the worker's messages intact, and a worker that dies mid-message must be an
error, never a truncated reply.
"""

import os
import pickle
import socket
import threading

import pytest

from openskies.server.worker_channel import ParentChannel
from openskies.server.worker_process import ChildConnection


def _pair() -> tuple[ParentChannel, ChildConnection]:
    parent, child = socket.socketpair()
    return ParentChannel(parent), ChildConnection(child.detach())


def _read_nonblocking_until_done(channel: ParentChannel) -> int:
    """What an event loop does: read whenever readable; returns how many reads it took."""
    reads = 0
    while not channel.read_available():
        channel.poll(5)
        reads += 1
    return reads


@pytest.mark.parametrize("size", [0, 10, 70_000, 3_000_000])
def test_messages_of_any_size_arrive_whole_both_ways(size: int) -> None:
    parent, child = _pair()
    payload = {"body": b"x" * size, "n": size}
    sender = threading.Thread(target=child.send, args=(payload,))
    sender.start()
    _read_nonblocking_until_done(parent)
    assert parent.take() == payload
    sender.join()
    received: list[object] = []
    receiver = threading.Thread(target=lambda: received.append(child.recv()))
    receiver.start()  # a message larger than the socket's buffer needs a reader meanwhile
    parent.send({"op": "query", "query": "q" * size})
    receiver.join(10)
    assert received == [{"op": "query", "query": "q" * size}]


def test_a_reply_begun_on_the_loop_is_finished_by_a_blocking_read() -> None:
    parent, child = _pair()
    payload = {"body": b"y" * 2_000_000}
    data = pickle.dumps(payload)
    head = len(data).to_bytes(4, "big")
    child_fd = child.fileno()
    os.write(child_fd, head + data[:1000])
    assert parent.poll(5)
    assert parent.read_available() is False  # a part of it only
    finisher = threading.Thread(target=lambda: os.write(child_fd, data[1000:]))
    finisher.start()
    assert parent.recv() == payload
    finisher.join()


def test_end_of_file_between_messages_and_in_the_middle_of_one() -> None:
    parent, child = _pair()
    child.close()
    assert parent.poll(1)
    assert parent.read_available()
    with pytest.raises(EOFError):
        parent.take()

    parent, child = _pair()
    os.write(child.fileno(), (1000).to_bytes(4, "big") + b"partial")
    child.close()
    with pytest.raises(OSError, match="end of file during message"):
        parent.recv()


def test_two_messages_in_a_row_on_a_worker_connection() -> None:
    parent, child = _pair()
    parent.send({"first": 1})
    parent.send(None)
    assert child.recv() == {"first": 1}
    assert child.recv() is None
