"""A standard client unchanged: SPARQLWrapper against the real uvicorn server.

SPARQLWrapper sends ``format``, ``output`` and ``results`` parameters besides
``Accept`` on every request; the endpoint must take them as hints, answer in
the requested format with the right Content-Type, and never trip over them.
"""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

import pytest
from conftest_endpoint import EX, PREFIX
from rdflib import Graph
from SPARQLWrapper import CSV, GET, JSON, JSONLD, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

SELECT = PREFIX + "SELECT ?p WHERE { ?p a ex:Person } ORDER BY ?p"
ASK_TRUE = PREFIX + "ASK { ex:carol ex:knows ex:alice }"
ASK_FALSE = "ASK { ?s ?p ?o FILTER(false) }"
CONSTRUCT = PREFIX + "CONSTRUCT WHERE { ?p a ex:Person }"
PEOPLE = [EX + "alice", EX + "bob", EX + "carol"]
SPARQL_RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"


def _client(live_url: str, query: str, fmt: str, method: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(f"{live_url}/sparql")
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    sparql.setMethod(method)
    return sparql


@pytest.mark.parametrize("method", [GET, POST])
def test_select_in_every_solution_format(live_url, method):
    response = _client(live_url, SELECT, JSON, method).query()
    assert response.info()["content-type"].startswith("application/sparql-results+json")
    rows = json.loads(response.response.read())["results"]["bindings"]
    assert [row["p"]["value"] for row in rows] == PEOPLE

    response = _client(live_url, SELECT, XML, method).query()
    assert response.info()["content-type"].startswith("application/sparql-results+xml")
    tree = ElementTree.fromstring(response.response.read())
    uris = [node.text for node in tree.iter(f"{SPARQL_RESULTS_NS}uri")]
    assert uris == PEOPLE

    response = _client(live_url, SELECT, CSV, method).query()
    assert response.info()["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.response.read().decode())))
    assert table == [["p"], *([person] for person in PEOPLE)]

    response = _client(live_url, SELECT, TSV, method).query()
    assert response.info()["content-type"].startswith("text/tab-separated-values")
    lines = response.response.read().decode().splitlines()
    assert lines == ["?p", *(f"<{person}>" for person in PEOPLE)]


@pytest.mark.parametrize("method", [GET, POST])
def test_ask_answers_true_and_false_correctly(live_url, method):
    assert _client(live_url, ASK_TRUE, JSON, method).queryAndConvert()["boolean"] is True
    # rdflib answers this with true; the endpoint's engine must not.
    assert _client(live_url, ASK_FALSE, JSON, method).queryAndConvert()["boolean"] is False
    tree = _client(live_url, ASK_TRUE, XML, method).queryAndConvert()
    assert tree.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize(
    ("fmt", "media_type", "rdflib_format"),
    [
        (TURTLE, "text/turtle", "turtle"),
        (JSONLD, "application/ld+json", "json-ld"),
        (RDFXML, "application/rdf+xml", "xml"),
    ],
)
def test_construct_in_every_graph_format(live_url, method, fmt, media_type, rdflib_format):
    response = _client(live_url, CONSTRUCT, fmt, method).query()
    assert response.info()["content-type"].startswith(media_type)
    graph = Graph().parse(data=response.response.read(), format=rdflib_format)
    assert {str(s) for s in graph.subjects()} == set(PEOPLE)


def test_invalid_query_is_a_400_with_position(live_url):
    sparql = _client(live_url, "SELECT * { ?s ?p ?o } GROUP BY ?s", JSON, GET)
    with pytest.raises(Exception) as raised:  # SPARQLWrapper raises QueryBadFormed on 400
        sparql.query()
    assert "QueryBadFormed" in type(raised.value).__name__
    assert "1:" in str(raised.value)  # line:column from the parser


def test_cors_lets_other_origins_read_without_credentials(client):
    response = client.get(
        "/sparql", params={"query": ASK_FALSE}, headers={"origin": "https://yasgui.example"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    preflight = client.options(
        "/sparql",
        headers={
            "origin": "https://yasgui.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_repeated_format_hints_are_not_an_error(client):
    response = client.get(
        "/sparql",
        params=[
            ("query", ASK_FALSE),
            ("format", "json"),
            ("format", "json"),
            ("output", "json"),
            ("results", "json"),
        ],
    )
    assert response.status_code == 200
    assert response.json()["boolean"] is False
    twice = client.get("/sparql", params=[("query", ASK_FALSE), ("query", ASK_FALSE)])
    assert twice.status_code == 400
