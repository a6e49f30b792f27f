"""Isolation policy of the worker pool: heavy queries, extra workers, the memory cap.

* Through the pool directly (the thread path ``run`` and the event-loop path
  ``arun``): a query that has used ``heavy_after`` seconds of CPU is heavy; while every worker
  runs one an extra worker answers light queries; one heavy query too many is
  stopped with a 503 that says why; afterwards the pool is back to ``size``
  workers, none lost and none left over, and never more than
  ``size + max_heavy`` existed.
* Through HTTP: a query that exhausts ``worker_memory_mb`` gets a clean 503
  naming the limit, quickly, and the next simple query is answered.

The "pathological" queries are 5-way cartesian products over a few hundred
generated triples (about 10^12 solutions): they run until stopped.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest_endpoint import DATA, PREFIX, endpoint_settings
from fastapi.testclient import TestClient

from openskies.server.app import create_app
from openskies.server.pool import QueryTimeout, TooManyHeavyQueries, WorkerPool
from openskies.server.store import StartingBackend, make_backend
from openskies.settings import Settings

FIVE_WAY = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o"
ENDLESS = f"SELECT (COUNT(*) AS ?n) {{ {FIVE_WAY} }}"
SIMPLE = PREFIX + "ASK { ex:alice ex:knows ex:bob }"


def generated_data(directory: Path, triples: int = 300) -> Path:
    """``triples`` N-Triples lines (distinct subjects, seven predicates)."""
    path = directory / "generated.nt"
    lines = (
        f'<http://example.org/gen/s{i}> <http://example.org/gen/p{i % 7}> "v{i}" .\n'
        for i in range(triples)
    )
    path.write_text("".join(lines))
    return path


def app_with_policy(settings: Settings):
    """The app over ``settings``, its pool given the heavy-query and memory settings.

    (Set here as well as by the backend factory, so this test does not depend on it.)
    """
    backend = make_backend(settings)
    backend.heavy_after = settings.heavy_query_after
    backend.max_heavy = settings.max_heavy_queries
    backend.memory_mb = settings.worker_memory_mb
    return create_app(settings, starting=StartingBackend(backend))


def _request(query: str) -> dict:
    return {"op": "query", "query": query, "format": "json", "max_rows": 10}


def _settled(pool: WorkerPool, deadline: float = 20.0) -> None:
    """Wait until the pool is back to ``size`` idle workers; then check nothing was lost."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if pool._idle.qsize() == pool.size and len(pool._all) == pool.size:
            break
        time.sleep(0.05)
    assert pool._idle.qsize() == pool.size
    assert len(pool._all) == pool.size
    assert all(worker.process.is_alive() for worker in pool._all)
    assert pool.heavy_running == 0
    assert pool._count == pool.size and pool._starting == 0


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> list[Path]:
    return [DATA, generated_data(tmp_path_factory.mktemp("isolation"))]


def test_heavy_queries_get_an_extra_worker_and_one_too_many_is_stopped(data):
    """Thread path: size 1, one heavy slot."""
    pool = WorkerPool(data, {}, size=1, timeout=4, heavy_after=0.3, max_heavy=1)
    pool.start()
    try:
        outcome: dict[str, BaseException | dict] = {}

        def endless() -> None:
            try:
                outcome["first"] = pool.run(_request(ENDLESS))
            except Exception as exc:
                outcome["first"] = exc

        first = threading.Thread(target=endless)
        first.start()
        time.sleep(0.1)
        # The only worker is busy, not yet heavy: a simple query waits for the
        # threshold plus the extra worker's start, no longer.
        started = time.monotonic()
        reply = pool.run(_request(SIMPLE))
        waited = time.monotonic() - started
        assert reply["ok"] and b"true" in reply["body"]
        assert pool.heavy_running == 1 and pool.extra_workers == 1
        # The heavy slot is taken: a second endless query is stopped at the threshold.
        started = time.monotonic()
        with pytest.raises(TooManyHeavyQueries) as refused:
            pool.run(_request(ENDLESS))
        refused_after = time.monotonic() - started
        assert "long-running" in refused.value.message and refused.value.status == 503
        assert pool.heavy_refused == 1
        for _ in range(5):  # the light lane keeps answering meanwhile
            assert pool.run(_request(SIMPLE))["ok"]
        first.join()
        assert isinstance(outcome["first"], QueryTimeout)
        print(
            f"\n[heavy policy, thread path] simple waited {waited * 1000:.0f} ms, "
            f"refused after {refused_after * 1000:.0f} ms, peak workers {pool.peak_workers}, "
            f"extra {pool.extra_workers}, replacements {pool.replacements}"
        )
        assert waited < pool.timeout  # generous: it is the threshold plus a worker start
        assert pool.peak_workers <= pool.size + pool.max_heavy
        _settled(pool)
    finally:
        pool.stop()


def test_event_loop_path_and_a_client_that_goes_away(data):
    """arun: the same policy; a cancelled request still counts, and its worker comes back."""
    pool = WorkerPool(data, {}, size=2, timeout=4, heavy_after=0.3, max_heavy=2)
    pool.start()

    async def scenario() -> dict:
        # A client that gives up after 0.1 s: its query runs on, becomes heavy, times out.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pool.arun(_request(ENDLESS)), 0.1)
        second = asyncio.create_task(pool.arun(_request(ENDLESS)))
        deadline = time.monotonic() + 3  # 0.3 s of CPU each, later on a busy machine
        while pool.heavy_running < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert pool.heavy_running == 2  # both heavy: every worker busy, an extra started
        third = asyncio.create_task(pool.arun(_request(ENDLESS)))
        latencies = []
        for _ in range(10):
            started = time.monotonic()
            reply = await pool.arun(_request(SIMPLE))
            latencies.append(time.monotonic() - started)
            assert reply["ok"]
        results = await asyncio.gather(second, third, return_exceptions=True)
        return {"latencies": latencies, "results": results}

    try:
        # A thread of its own: an earlier test may leave an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as executor:
            outcome = executor.submit(asyncio.run, scenario()).result(timeout=60)
        second, third = outcome["results"]
        assert isinstance(second, QueryTimeout), second
        assert isinstance(third, TooManyHeavyQueries), third
        print(
            f"\n[heavy policy, event loop] simple max {max(outcome['latencies']) * 1000:.0f} ms, "
            f"peak workers {pool.peak_workers}, extra {pool.extra_workers}, "
            f"refused {pool.heavy_refused}, replacements {pool.replacements}"
        )
        assert max(outcome["latencies"]) < pool.timeout
        assert pool.peak_workers <= pool.size + pool.max_heavy
        _settled(pool)
    finally:
        pool.stop()


def test_no_heavy_slots_means_long_queries_are_stopped_at_the_threshold(data):
    pool = WorkerPool(data, {}, size=1, timeout=5, heavy_after=0.2, max_heavy=0)
    pool.start()
    try:
        with pytest.raises(TooManyHeavyQueries):  # not QueryTimeout
            pool.run(_request(ENDLESS))
        assert pool.run(_request(SIMPLE))["ok"]
        assert pool.peak_workers == 1
        _settled(pool)
    finally:
        pool.stop()


# 2^31 characters by doubling a string: gigabytes within a second or two.
DOUBLING = (
    'SELECT (STRLEN(?x31) AS ?n) { BIND("ab" AS ?x0) '
    + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(31))
    + " }"
)
SORTED_PRODUCT = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?a ?l"


@pytest.mark.parametrize(
    ("store", "limit_mb", "query"),
    [
        ("memory", 400, DOUBLING),
        ("memory", 400, SORTED_PRODUCT),
        # RocksDB reserves about 0.5 GiB of address space when the store is opened.
        ("disk", 1024, DOUBLING),
    ],
    ids=["doubling", "sorted-product", "disk-doubling"],
)
def test_a_query_over_the_memory_limit_gets_a_clean_503(
    data, store, limit_mb, query, tmp_path, capsys
):
    timeout = 30.0
    settings = endpoint_settings(
        data_files=tuple(data),
        query_timeout=timeout,
        worker_memory_mb=limit_mb,
        workers=1,
        store=store,
        store_path=tmp_path / "store",
    )
    with TestClient(app_with_policy(settings)) as client:
        pool = client.app.state.service.pool
        assert client.get("/sparql", params={"query": SIMPLE}).status_code == 200
        started = time.monotonic()
        response = client.post("/sparql", data={"query": query})
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("text/plain")
        assert "memory" in response.text and f"{limit_mb} MiB" in response.text
        assert elapsed < timeout / 2  # the limit stopped it, not the timeout
        simple = client.get("/sparql", params={"query": SIMPLE})
        assert simple.status_code == 200 and simple.json()["boolean"] is True
        with capsys.disabled():
            print(
                f"\n[memory cap {limit_mb} MiB, {store}] 503 after {elapsed:.2f} s, workers "
                f"started {pool.replacements + pool.extra_workers}: {response.text.strip()}"
            )
