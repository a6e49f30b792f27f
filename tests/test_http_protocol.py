"""Each response's head and body leave in one write (``server/http_protocol.py``).

A fake transport records what reaches the socket; a real event loop runs the
deferred flush. The live-server tests (``openskies serve``) exercise the same
protocol end to end.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import httpx
import pytest
from serve_support import clean_env, serving

from openskies.server.http_protocol import CoalescingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[bytes, ...]]] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", (data,)))

    def writelines(self, chunks) -> None:
        self.calls.append(("writelines", tuple(chunks)))

    def close(self) -> None:
        self.calls.append(("close", ()))
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 1)}.get(name, default)

    def pause_reading(self) -> None:
        self.calls.append(("pause_reading", ()))


def _run(coroutine):
    """``asyncio.run`` in a thread of its own (other tests may leave a loop running here)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(coroutine)))
    thread.start()
    thread.join()
    return result[0]


def _sent(transport: RecordingTransport) -> bytes:
    return b"".join(b"".join(chunks) for name, chunks in transport.calls if name != "close")


def test_head_and_body_go_out_in_one_call():
    async def scenario() -> RecordingTransport:
        raw = RecordingTransport()
        coalescing = CoalescingTransport(raw, asyncio.get_running_loop())
        coalescing.write(HEAD)
        assert raw.calls == []  # held for the body
        coalescing.write(b"hello")
        await asyncio.sleep(0)
        return raw

    raw = _run(scenario())
    assert raw.calls == [("writelines", (HEAD, b"hello"))]


def test_a_head_without_body_leaves_when_the_loop_turns():
    async def scenario() -> RecordingTransport:
        raw = RecordingTransport()
        coalescing = CoalescingTransport(raw, asyncio.get_running_loop())
        coalescing.write(b"HTTP/1.1 304 Not Modified\r\netag: x\r\n\r\n")
        await asyncio.sleep(0)
        assert raw.calls == [("write", (b"HTTP/1.1 304 Not Modified\r\netag: x\r\n\r\n",))]
        coalescing.write(HEAD)  # the next response on the connection
        coalescing.write(b"hello")
        return raw

    raw = _run(scenario())
    assert _sent(raw) == b"HTTP/1.1 304 Not Modified\r\netag: x\r\n\r\n" + HEAD + b"hello"


def test_close_sends_a_held_head_first_and_order_never_changes():
    async def scenario() -> RecordingTransport:
        raw = RecordingTransport()
        coalescing = CoalescingTransport(raw, asyncio.get_running_loop())
        coalescing.write(HEAD)
        coalescing.writelines([b"he", b"llo"])
        coalescing.write(b"HTTP/1.1 200 OK\r\n\r\n")
        coalescing.close()
        await asyncio.sleep(0)
        return raw

    raw = _run(scenario())
    assert _sent(raw) == HEAD + b"hello" + b"HTTP/1.1 200 OK\r\n\r\n"
    assert raw.calls[-1] == ("close", ())


def test_everything_else_is_the_transport_s():
    raw = RecordingTransport()
    loop = asyncio.new_event_loop()
    try:
        coalescing = CoalescingTransport(raw, loop)
        assert coalescing.get_extra_info("peername") == ("127.0.0.1", 1)
        coalescing.pause_reading()
        assert raw.calls == [("pause_reading", ())]
        assert coalescing.is_closing() is False
    finally:
        loop.close()


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/sparql", params={"query": "ASK {}"}, timeout=2).is_success
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def live_url(tmp_path_factory):
    """``openskies serve`` (uvicorn with this protocol) over a few triples."""
    data = tmp_path_factory.mktemp("coalesce") / "data.nt"
    data.write_text("".join(f"<urn:x:s{i}> <urn:x:p> <urn:x:o{i}> .\n" for i in range(5)))
    arguments = ["--workers", "1", "--replace-data", "--data", str(data)]
    with serving(arguments, clean_env(), ready=_answers) as (base, _):
        yield base


def test_responses_with_and_without_bodies_arrive_whole_over_keep_alive(live_url):
    """One connection: a body, a HEAD (no body), a 304 and a body again, in turn."""
    query = {"query": "ASK { ?s ?p ?o }"}
    with httpx.Client(base_url=live_url, timeout=10) as client:
        first = client.get("/sparql", params=query)
        assert first.status_code == 200 and first.json()["boolean"] is True
        head = client.head("/sparql", params=query)
        assert head.status_code == 200 and head.content == b""
        etag = first.headers["etag"]
        again = client.get("/sparql", params=query, headers={"If-None-Match": etag})
        assert again.status_code == 304
        last = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
        assert last.status_code == 200 and len(last.json()["results"]["bindings"]) == 3


def test_a_raw_client_gets_whole_answers_over_keep_alive(live_url):
    """Head and body, with the declared length, answer after answer on one socket."""
    host, port = live_url.removeprefix("http://").split(":")
    request = (
        "GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\n"
        f"Host: {host}\r\nAccept: application/sparql-results+json\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(request)
            data = sock.recv(65536)
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            while len(body) < length:
                body += sock.recv(65536)
            assert len(body) == length and body.startswith(b"{")
