"""Writes: off without the token, SPARQL Update and the Graph Store Protocol with it."""

from __future__ import annotations

import httpx
import pytest
from conftest_endpoint import EX, GRAPH_ONE, PREFIX, TOKEN
from rdflib import Graph

SCRATCH = EX + "graph/scratch"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _count(client) -> int:
    response = client.get("/sparql", params={"query": COUNT_ALL})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.fixture
def scratch(client):
    """Removes the scratch graph after a test, so other tests see the fixture data only."""
    yield SCRATCH
    client.delete("/graphs", params={"graph": SCRATCH}, headers=AUTH)


def test_update_needs_the_token(client):
    before = _count(client)
    update = "INSERT DATA { GRAPH <http://example.org/graph/x> { <a:b> <a:c> <a:d> } }"
    response = client.post("/update", data={"update": update})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = client.post(
        "/update",
        content=update,
        headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer wrong"},
    )
    assert response.status_code == 403
    assert TOKEN not in response.text
    assert _count(client) == before


def test_graph_store_writes_need_the_token(client):
    before = _count(client)
    turtle = "<a:b> <a:c> <a:d> ."
    headers = {"Content-Type": "text/turtle"}
    assert (
        client.put(
            "/graphs", params={"graph": GRAPH_ONE}, content=turtle, headers=headers
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/graphs", params={"graph": GRAPH_ONE}, content=turtle, headers=headers
        ).status_code
        == 401
    )
    assert client.delete("/graphs", params={"graph": GRAPH_ONE}).status_code == 401
    wrong = {**headers, "Authorization": "Bearer nope"}
    assert client.delete("/graphs", params={"graph": GRAPH_ONE}, headers=wrong).status_code == 403
    assert _count(client) == before


def test_update_with_token(client, scratch):
    before = _count(client)
    update = PREFIX + f"INSERT DATA {{ GRAPH <{scratch}> {{ ex:dave a ex:Person }} }}"
    response = client.post("/update", data={"update": update}, headers=AUTH)
    assert response.status_code == 204, response.text
    assert _count(client) == before + 1
    # Every worker sees the write (two workers, several queries).
    for _ in range(4):
        query = PREFIX + "ASK { ex:dave a ex:Person }"
        assert client.get("/sparql", params={"query": query}).json()["boolean"] is True
    update = PREFIX + f"DELETE WHERE {{ GRAPH <{scratch}> {{ ex:dave ?p ?o }} }}"
    response = client.post(
        "/update", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"}
    )
    assert response.status_code == 204
    assert _count(client) == before


def test_malformed_update(client):
    response = client.post("/update", data={"update": "INSERT NOTHING"}, headers=AUTH)
    assert response.status_code == 400
    assert "1:" in response.text
    response = client.post(
        "/update", content="CLEAR ALL", headers={**AUTH, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert client.get("/update").status_code == 405


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <file:///etc/passwd>",
        "LOAD SILENT <file:///etc/passwd> INTO GRAPH <http://example.org/g>",
        "LOAD <http://127.0.0.1:9/data.ttl>",
        "PREFIX e: <file:///etc/> LOAD e:passwd",
        "INSERT { ?s ?p ?o } WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    ],
)
def test_load_and_service_refused_in_updates(client, update):
    before = _count(client)
    response = client.post("/update", data={"update": update}, headers=AUTH)
    assert response.status_code == 403
    assert _count(client) == before


def test_graph_store_put_get_post_delete(client, scratch):
    turtle = f"@prefix ex: <{EX}> . ex:erin a ex:Person ; ex:age 30 ."
    response = client.put(
        "/graphs",
        params={"graph": scratch},
        content=turtle,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert response.status_code == 201, response.text
    response = client.get(
        "/graphs", params={"graph": scratch}, headers={"Accept": "application/n-triples"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/n-triples; charset=utf-8"
    assert len(Graph().parse(data=response.content, format="nt")) == 2
    response = client.put(
        "/graphs",
        params={"graph": scratch},
        content=f'<{EX}erin> <{EX}age> "31" .',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert response.status_code == 204
    response = client.post(
        "/graphs",
        params={"graph": scratch},
        content=f"<{EX}erin> <{EX}knows> <{EX}alice> .",
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert response.status_code == 204
    graph = Graph().parse(
        data=client.get("/graphs", params={"graph": scratch}).content, format="turtle"
    )
    assert len(graph) == 2
    response = client.delete("/graphs", params={"graph": scratch}, headers=AUTH)
    assert response.status_code == 204
    assert client.get("/graphs", params={"graph": scratch}).status_code == 404
    assert client.delete("/graphs", params={"graph": scratch}, headers=AUTH).status_code == 404


def test_graph_store_errors(client, scratch):
    headers = {**AUTH, "Content-Type": "text/turtle"}
    response = client.put(
        "/graphs", params={"graph": scratch}, content="not turtle <", headers=headers
    )
    assert response.status_code == 400
    response = client.put(
        "/graphs",
        params={"graph": scratch},
        content="x",
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert response.status_code == 415
    assert client.get("/graphs").status_code == 400
    assert client.get("/graphs", params={"graph": GRAPH_ONE, "default": ""}).status_code == 400
    response = client.get("/graphs", params={"default": ""})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"


def test_writes_off_without_a_token(live_url):
    response = httpx.post(f"{live_url}/update", data={"update": "CLEAR ALL"}, headers=AUTH)
    assert response.status_code == 403
    assert "disabled" in response.text
    response = httpx.delete(f"{live_url}/graphs", params={"graph": GRAPH_ONE}, headers=AUTH)
    assert response.status_code == 403
    response = httpx.get(f"{live_url}/graphs", params={"graph": GRAPH_ONE})
    assert response.status_code == 200
