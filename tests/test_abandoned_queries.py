"""A query whose client has gone while it waited for a worker is never evaluated.

Load tools, browsers and clients with a timeout close connections while
their queries are still queued; evaluating those anyway kept the workers
busy for nobody and delayed every client still waiting. Checked through a
real server (real disconnects) with one worker: while a slow query runs,
six clients queue slow queries and give up; a simple query sent next must
be answered when the running query ends, not after six more slow ones.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from serve_support import clean_env, serving

SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "ASK { ?s ?p ?o }"


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/sparql", params={"query": SIMPLE}, timeout=2).is_success
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def one_worker_server(tmp_path_factory):
    """A server with one query worker over 150 triples (a 3-way product is ~3.4M rows)."""
    data = tmp_path_factory.mktemp("abandoned") / "data.nt"
    data.write_text(
        "".join(
            f'<http://e.example/s{i}> <http://e.example/p{i % 7}> "v{i}" .\n' for i in range(150)
        )
    )
    # No heavy-query lane: the one worker is the only place a query can run.
    env = clean_env(OPENSKIES_HEAVY_QUERY_AFTER="600", OPENSKIES_QUERY_TIMEOUT="120")
    arguments = ["--workers", "1", "--replace-data", "--data", str(data)]
    with serving(arguments, env, ready=_answers) as (base, _):
        yield base


def _query(base: str, query: str, timeout: float) -> httpx.Response:
    return httpx.get(
        base + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=timeout,
    )


def test_queued_queries_of_clients_that_left_are_dropped(one_worker_server) -> None:
    base = one_worker_server
    began = time.monotonic()
    assert _query(base, SLOW + " # alone", 60).is_success
    slow = time.monotonic() - began  # one slow query, on this machine, now

    running = threading.Thread(target=_query, args=(base, SLOW + " # running", 60))
    running.start()
    time.sleep(min(0.2, slow / 4))  # the worker has it; anything else now queues
    for n in range(6):
        with pytest.raises(httpx.TimeoutException):
            _query(base, f"{SLOW} # abandoned {n}", 0.1)  # gives up while queued

    began = time.monotonic()
    answer = _query(base, SIMPLE, 60)
    waited = time.monotonic() - began
    running.join()
    assert answer.json()["boolean"] is True
    # Behind the running query only: not behind six abandoned slow ones as well.
    assert waited < 2.5 * slow, f"waited {waited:.2f} s; one slow query takes {slow:.2f} s"
