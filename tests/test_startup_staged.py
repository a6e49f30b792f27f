"""``openskies serve`` answers every route from the moment its port opens.

The server answers ``/sparql`` queries while the rest of the web app is
still being built (``openskies.server.staged``); requests for the rest must
wait for it, not fail. Started through the real command line, as a user
would, and hit with every kind of request at once as soon as the port
accepts connections.
"""

from __future__ import annotations

import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from conftest_endpoint import DATA, PREFIX
from serve_support import OPENSKIES, clean_env, free_port, serving

ORIGIN = "http://client.example"


@pytest.fixture(scope="module")
def fresh_server():
    """A server just started: yields (base URL, process) the moment its port opens."""
    env = clean_env(OPENSKIES_CORS_ORIGINS=f'["{ORIGIN}"]')
    arguments = ["--workers", "1", "--replace-data", "--data", str(DATA)]
    with serving(arguments, env) as started:
        yield started


def test_every_route_answers_from_the_first_moment(fresh_server) -> None:
    base, _ = fresh_server
    query = PREFIX + "ASK { ex:alice ex:knows ex:bob }"
    cors = {"Origin": ORIGIN}
    requests = {
        "query": (
            "GET",
            "/sparql",
            {"query": query},
            {"Accept": "application/sparql-results+json", **cors},
        ),
        "post": (
            "POST",
            "/sparql",
            {"query": query},
            {"Accept": "application/sparql-results+json"},
        ),
        "malformed": ("GET", "/sparql", {"query": "SELECT * WHERE {"}, cors),
        "description": ("GET", "/sparql", {}, {"Accept": "text/turtle"}),
        "preflight": (
            "OPTIONS",
            "/sparql",
            {},
            {**cors, "Access-Control-Request-Method": "POST"},
        ),
        "health": ("GET", "/health", {}, {}),
        "catalog": ("GET", "/api/queries", {}, {"Accept": "application/json"}),
        "openapi": ("GET", "/openapi.json", {}, {}),
    }

    def send(item):
        method, path, params, headers = item
        with httpx.Client(base_url=base, timeout=60) as client:
            if method == "POST":
                return client.post(path, data=params, headers=headers)
            return client.request(method, path, params=params, headers=headers)

    with ThreadPoolExecutor(len(requests)) as pool:
        replies = dict(zip(requests, pool.map(send, requests.values()), strict=True))

    assert replies["query"].status_code == 200
    assert replies["query"].json()["boolean"] is True
    assert replies["query"].headers["access-control-allow-origin"] == ORIGIN
    assert replies["post"].json()["boolean"] is True
    malformed = replies["malformed"]
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in malformed.text
    assert malformed.headers["access-control-allow-origin"] == ORIGIN
    assert replies["description"].status_code == 200
    assert "sd:Service" in replies["description"].text
    assert replies["preflight"].status_code == 200
    assert "POST" in replies["preflight"].headers["access-control-allow-methods"]
    assert replies["health"].status_code == 200
    assert replies["catalog"].status_code == 200
    assert replies["openapi"].json()["paths"]["/sparql"]


def test_the_query_cache_is_the_one_the_routes_use(fresh_server) -> None:
    """A repeated query gets the same ETag however it was first answered."""
    base, _ = fresh_server
    query = PREFIX + "SELECT ?p WHERE { ?p a ex:Person } # staged cache"
    with httpx.Client(base_url=base, timeout=30) as client:
        first = client.get("/sparql", params={"query": query})
        again = client.get("/sparql", params={"query": query})
        revalidated = client.get(
            "/sparql", params={"query": query}, headers={"If-None-Match": first.headers["etag"]}
        )
    assert first.status_code == again.status_code == 200
    assert first.headers["etag"] == again.headers["etag"]
    assert again.content == first.content
    assert revalidated.status_code == 304


def test_stopping_stops_the_workers(fresh_server) -> None:
    base, process = fresh_server
    assert httpx.get(base + "/health", timeout=30).status_code == 200
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the query worker runs under the server"
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == []


def test_data_that_does_not_parse_stops_the_server_with_the_reason(tmp_path) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text("<http://example.org/s> <http://example.org/p> \n")
    env = clean_env()
    command = [OPENSKIES, "serve", "--port", str(free_port()), "--workers", "1"]
    command += ["--replace-data", "--data", str(bad)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode != 0
    assert "could not load the dataset" in done.stderr and "bad.nt, line" in done.stderr
    assert "Traceback" not in done.stderr
