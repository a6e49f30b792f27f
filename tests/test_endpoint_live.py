"""A real uvicorn server: SPARQLWrapper as a client, and the real Open Skies dataset."""

from __future__ import annotations

from pathlib import Path

from conftest_endpoint import EX, PREFIX
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

ARTICLE_TTL = Path(__file__).resolve().parent.parent / "graph" / "article.ttl"


def test_sparqlwrapper_select_and_ask(live_url):
    sparql = SPARQLWrapper(f"{live_url}/sparql")
    sparql.setQuery(PREFIX + "SELECT ?p WHERE { ?p a ex:Person } ORDER BY ?p")
    sparql.setReturnFormat(JSON)
    rows = sparql.queryAndConvert()["results"]["bindings"]
    assert [row["p"]["value"] for row in rows] == [EX + "alice", EX + "bob", EX + "carol"]
    sparql.setMethod(POST)
    sparql.setQuery(PREFIX + "ASK { ex:carol ex:knows ex:alice }")
    assert sparql.queryAndConvert()["boolean"] is True


def test_sparqlwrapper_construct(live_url):
    sparql = SPARQLWrapper(f"{live_url}/sparql")
    sparql.setQuery(PREFIX + "CONSTRUCT WHERE { ?p a ex:Person }")
    sparql.setReturnFormat(TURTLE)
    graph_bytes = sparql.queryAndConvert()
    assert b"Person" in graph_bytes


def test_real_dataset_smoke(real_client):
    client = real_client
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 0
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    graphs = {
        row["g"]["value"]
        for row in client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    }
    assert "https://w3id.org/openskies/graph/article" in graphs
    assert client.get("/.well-known/void").status_code == 200
    # The question catalog runs on the same worker pool.
    listed = client.get("/api/queries").json()
    assert listed
    response = client.get(f"/api/queries/{listed[0]['name']}")
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"]
