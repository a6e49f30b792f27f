"""The worker pool under the event loop the server really runs (uvloop).

The test client runs the app on asyncio's default loop; ``openskies serve``
runs uvicorn on uvloop, which makes a watched descriptor non-blocking. Large
replies (bigger than a socket buffer) arrive in pieces, so this checks that
many concurrent large answers come back whole, and that the thread path
(used by the question catalog) still works on a worker the loop has used.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading

import pytest

from openskies.iris import PREFIXES
from openskies.server.pool import WorkerPool

uvloop = pytest.importorskip("uvloop")


def _on_uvloop(coroutine):
    """Run ``coroutine`` on a fresh uvloop in its own thread (other tests may leave a loop
    running in the main thread)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(uvloop.run(coroutine)))
    thread.start()
    thread.join()
    return result[0]


QUERY = "SELECT ?s ?o WHERE { ?s <urn:x:p> ?o }"
ROWS = 20_000


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    data = tmp_path_factory.mktemp("pool") / "data.nt"
    with data.open("w") as out:
        for number in range(ROWS):
            out.write(f'<urn:x:s{number}> <urn:x:p> "value number {number}" .\n')
    pool = WorkerPool([data], PREFIXES, size=2, timeout=30)
    pool.start()
    yield pool
    pool.stop()


def _request(number: int) -> dict:
    return {
        "op": "query",
        "query": f"{QUERY} # request {number}",
        "format": "json",
        "max_rows": ROWS,
        "union": False,
    }


def test_concurrent_large_replies_arrive_whole_on_uvloop(pool):
    async def ask_all() -> list[dict]:
        return await asyncio.gather(*(pool.arun(_request(n)) for n in range(12)))

    replies = _on_uvloop(ask_all())
    sizes = {len(reply["body"]) for reply in replies}
    assert all(reply["ok"] for reply in replies)
    assert len(sizes) == 1 and sizes.pop() > 1_000_000  # far beyond a socket buffer
    assert pool.replacements == 0


def test_thread_path_after_the_event_loop_used_the_workers(pool):
    _on_uvloop(pool.arun(_request(0)))
    for number in range(4):
        reply = pool.run(_request(number))
        assert reply["ok"] and len(reply["body"]) > 1_000_000
    assert pool.replacements == 0


def _constant(number: int) -> dict:
    return {
        "op": "query",
        "query": f"SELECT ?n WHERE {{ BIND({number} AS ?n) }}",
        "format": "json",
        "max_rows": 10,
        "union": False,
    }


def _answer(reply: dict) -> int:
    return int(json.loads(reply["body"])["results"]["bindings"][0]["n"]["value"])


def test_queued_requests_each_get_their_own_answer(pool):
    """Requests queued behind busy workers are sent by whoever frees a worker (the loop's
    reader callback, or a thread): every caller still gets the answer to its own query."""
    from_threads: list[int] = []

    def thread_caller() -> None:
        for number in range(1000, 1020):
            from_threads.append(_answer(pool.run(_constant(number))))

    async def ask_all() -> list[int]:
        caller = threading.Thread(target=thread_caller)
        caller.start()
        replies = await asyncio.gather(*(pool.arun(_constant(n)) for n in range(60)))
        await asyncio.to_thread(caller.join)
        return [_answer(reply) for reply in replies]

    assert _on_uvloop(ask_all()) == list(range(60))
    assert from_threads == list(range(1000, 1020))
    assert pool._idle.qsize() == pool.size


def test_a_worker_killed_while_idle_costs_no_request_an_error(tmp_path):
    data = tmp_path / "data.nt"
    data.write_text("<urn:x:s> <urn:x:p> <urn:x:o> .\n")
    small = WorkerPool([data], PREFIXES, size=2, timeout=30)
    small.start()
    try:
        victim = next(iter(small._all))
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.join(timeout=5)

        async def ask_all() -> list[int]:
            replies = await asyncio.gather(*(small.arun(_constant(n)) for n in range(6)))
            return [_answer(reply) for reply in replies]

        assert _on_uvloop(ask_all()) == list(range(6))
        assert small.replacements == 1
    finally:
        small.stop()
