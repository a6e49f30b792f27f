"""Limits: timeouts that free the worker, nesting bounds, crashes, outbound policy."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from conftest_endpoint import CLOSED_PORT, PREFIX

SLOW = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . "
    "?j ?k ?l . ?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u }"
)
FAST = PREFIX + "ASK { ex:alice ex:knows ex:bob }"


def _ask(client) -> float:
    started = time.monotonic()
    response = client.get("/sparql", params={"query": FAST})
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True
    return time.monotonic() - started


def test_timeout_stops_the_query_and_frees_the_worker(client):
    started = time.monotonic()
    response = client.get("/sparql", params={"query": SLOW})
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "timed out" in response.text
    assert elapsed < 3
    # The killed worker is replaced; every later query is answered quickly.
    for _ in range(6):
        assert _ask(client) < 0.5
    pool = client.app.state.service.pool
    deadline = time.monotonic() + 20
    while pool._idle.qsize() < pool.size and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool._idle.qsize() == pool.size
    assert sum(worker.process.is_alive() for worker in pool._all) == pool.size


def test_other_requests_are_served_while_a_query_runs(client):
    results: dict[str, int] = {}

    def slow() -> None:
        results["slow"] = client.get("/sparql", params={"query": SLOW}).status_code

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    assert _ask(client) < 0.5
    assert client.get("/health").status_code == 200
    thread.join()
    assert results["slow"] == 503


def test_deep_nesting_is_refused_before_evaluation(client):
    depth = 3000
    query = "SELECT * WHERE " + "{" * depth + "}" * depth
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert "nested too deeply" in response.text
    query = "SELECT * WHERE { FILTER(" + "(" * depth + "true" + ")" * depth + ") }"
    assert client.post("/sparql", data={"query": query}).status_code == 400
    assert _ask(client) < 0.5


def test_moderate_nesting_still_works(client):
    query = "SELECT * WHERE " + "{" * 150 + "}" * 150
    assert client.get("/sparql", params={"query": query}).status_code == 200


def test_worker_killed_from_outside_is_replaced(client):
    pool = client.app.state.service.pool
    victim = next(iter(pool._all))
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.join(timeout=5)
    for _ in range(4):
        assert _ask(client) < 3


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:8/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE <http://127.0.0.1/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <http://evil.example/sparql> { ?s ?p ?o } }",
        "PREFIX e: <http://evil.example/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
        "SELECT * WHERE { BIND(<http://evil.example/> AS ?x) SERVICE ?x { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
        "BASE <http://evil.example/> SELECT * WHERE { service <sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE <file:///etc/passwd> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE <http://allowed.example.evil.example/> { ?s ?p ?o } }",
    ],
)
def test_service_to_unlisted_hosts_is_refused(client, query):
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 403
    assert "SERVICE" in response.text


def test_service_word_in_strings_and_names_is_fine(client):
    query = (
        PREFIX + 'SELECT ?service WHERE { BIND("SERVICE <http://evil.example/>" AS ?service) '
        "# SERVICE <http://evil.example/>\n}"
    )
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200


def test_service_to_allowlisted_host_passes_the_filter(client):
    # Nothing listens there: SILENT turns the refused connection into one empty solution.
    query = f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{CLOSED_PORT}/s> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"] == [{}]
    # Without SILENT the remote failure is a 502 Bad Gateway, not a 500.
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{CLOSED_PORT}/s> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 502
    assert "SERVICE" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { BIND(" + "+".join(["1"] * 3000) + " AS ?x) }",
        "SELECT * WHERE { FILTER(" + "||".join(["?a"] * 1200) + ") }",
        "SELECT * WHERE { FILTER(" + "!" * 3000 + "true) }",
    ],
)
def test_long_operator_chains_are_refused(client, query):
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 400
    assert "too complex" in response.text


def test_a_crashing_worker_is_reported_and_replaced():
    """Through the pool directly: the HTTP checks stop every crash we know of."""
    from conftest_endpoint import DATA

    from openskies.server.pool import WorkerCrashed, WorkerPool

    pool = WorkerPool([DATA], {}, size=1, timeout=10)
    pool.start()
    try:
        crash = "SELECT * WHERE { " + "UNION".join(["{}"] * 12_000) + " }"
        request = {"op": "query", "format": "json", "max_rows": 10}
        with pytest.raises(WorkerCrashed) as failure:
            pool.run({**request, "query": crash})
        assert "restarted" in failure.value.message
        reply = pool.run({**request, "query": "ASK { ?s ?p ?o }"})
        assert reply["ok"] and b"true" in reply["body"]
        assert pool.replacements == 1
    finally:
        pool.stop()


def test_failed_or_slow_writes_change_nothing():
    """Through the pool directly: a write that crashes or times out leaves the data as it was."""
    from conftest_endpoint import DATA

    from openskies.server.pool import QueryTimeout, WorkerCrashed, WorkerPool

    pool = WorkerPool([DATA], {}, size=1, timeout=1)
    pool.start()
    count = {"op": "query", "format": "csv", "max_rows": 10}
    count["query"] = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    try:
        before = pool.run(count)["body"]
        crash = "INSERT { <a:a> <a:b> 1 } WHERE { " + "UNION".join(["{}"] * 12_000) + " }"
        with pytest.raises(WorkerCrashed):
            pool.write({"op": "update", "update": crash})
        patterns = " ".join(f"GRAPH ?g{i} {{ ?s{i} ?p{i} ?o{i} }}" for i in range(7))
        slow = f"INSERT {{ GRAPH <a:g> {{ <a:a> <a:b> ?s0 }} }} WHERE {{ {patterns} }}"
        with pytest.raises(QueryTimeout):
            pool.write({"op": "update", "update": slow})
        assert pool.generation == 0
        assert pool.run(count)["body"] == before
        reply = pool.write(
            {"op": "update", "update": "INSERT DATA { GRAPH <a:g> { <a:a> <a:b> 1 } }"}
        )
        assert reply["ok"] and pool.generation == 1
        assert pool.run(count)["body"] != before
    finally:
        pool.stop()


def test_many_concurrent_requests(client):
    from concurrent.futures import ThreadPoolExecutor

    def one(index: int) -> int:
        query = PREFIX + f"SELECT ?p ({index} AS ?i) WHERE {{ ?p a ex:Person }}"
        return client.get("/sparql", params={"query": query}).status_code

    with ThreadPoolExecutor(max_workers=16) as executor:
        statuses = list(executor.map(one, range(64)))
    assert statuses == [200] * 64
