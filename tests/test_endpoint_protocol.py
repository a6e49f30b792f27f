"""SPARQL 1.1 Protocol query operation: methods, formats, negotiation, errors, datasets."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from conftest_endpoint import EX, GRAPH_ONE, GRAPH_TWO, PREFIX
from rdflib import Graph

PEOPLE = PREFIX + "SELECT ?p WHERE { ?p a ex:Person } ORDER BY ?p"
PEOPLE_IRIS = [EX + "alice", EX + "bob", EX + "carol"]
CONSTRUCT = PREFIX + "CONSTRUCT { ?p a ex:Person } WHERE { ?p a ex:Person }"


def _people(response) -> list[str]:
    data = response.json()
    return [row["p"]["value"] for row in data["results"]["bindings"]]


def test_get(client):
    response = client.get("/sparql", params={"query": PEOPLE})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json; charset=utf-8"
    assert "Accept" in response.headers["vary"]
    assert _people(response) == PEOPLE_IRIS


def test_post_form(client):
    response = client.post("/sparql", data={"query": PEOPLE})
    assert response.status_code == 200
    assert _people(response) == PEOPLE_IRIS


def test_post_direct(client):
    response = client.post(
        "/sparql", content=PEOPLE, headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 200
    assert _people(response) == PEOPLE_IRIS


def test_select_xml(client):
    response = client.get(
        "/sparql", params={"query": PEOPLE}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert response.headers["content-type"] == "application/sparql-results+xml; charset=utf-8"
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    root = ET.fromstring(response.content)
    assert [uri.text for uri in root.findall(".//r:uri", ns)] == PEOPLE_IRIS


def test_select_csv_escapes_and_tsv_terms(client):
    query = PREFIX + "SELECT ?s ?note WHERE { ?s ex:note ?note }"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [["s", "note"], [EX + "bob", 'tab\there, "quoted", comma']]
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"}
    )
    assert response.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    header, row = response.text.splitlines()
    assert header == "?s\t?note"
    assert row == f'<{EX}bob>\t"tab\\there, \\"quoted\\", comma"'


def test_select_json_terms(client):
    query = (
        PREFIX
        + "SELECT ?label ?age WHERE { ex:alice rdfs:label ?label ; ex:age ?age } ORDER BY ?label"
    )
    bindings = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert bindings[0]["label"] == {"type": "literal", "value": "Alice", "xml:lang": "en"}
    assert bindings[0]["age"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"


def test_ask_formats(client):
    query = PREFIX + "ASK { ex:alice ex:knows ex:bob }"
    assert client.get("/sparql", params={"query": query}).json()["boolean"] is True
    response = client.get("/sparql", params={"query": query, "format": "xml"})
    assert response.headers["content-type"].startswith("application/sparql-results+xml")
    assert b"<boolean>true</boolean>" in response.content


@pytest.mark.parametrize(
    ("accept", "content_type", "rdflib_format"),
    [
        ("text/turtle", "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
    ],
)
def test_construct_formats(client, accept, content_type, rdflib_format):
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{content_type}; charset=utf-8"
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert len(graph) == 3


def test_describe_defaults_to_turtle(client):
    response = client.get("/sparql", params={"query": PREFIX + "DESCRIBE ex:treaty"})
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert len(Graph().parse(data=response.content, format="turtle")) == 2


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("text/csv", "text/csv"),
    ],
)
def test_format_parameter_beats_accept(client, fmt, content_type):
    response = client.get(
        "/sparql", params={"query": PEOPLE, "format": fmt}, headers={"Accept": "application/json"}
    )
    assert response.headers["content-type"] == f"{content_type}; charset=utf-8"


def test_format_parameter_for_graphs(client):
    response = client.get("/sparql", params={"query": CONSTRUCT, "format": "ntriples"})
    assert response.headers["content-type"] == "application/n-triples; charset=utf-8"


def test_q_values(client):
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, */*;q=0.1"
    response = client.get("/sparql", params={"query": PEOPLE}, headers={"Accept": accept})
    assert response.headers["content-type"].startswith("text/csv")
    accept = "text/turtle;q=0.2, application/ld+json"
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.headers["content-type"].startswith("application/ld+json")
    accept = "text/*;q=0.3, application/sparql-results+xml;q=0"
    response = client.get("/sparql", params={"query": PEOPLE}, headers={"Accept": accept})
    assert response.headers["content-type"].startswith("text/csv")


def test_browser_accept_gets_something(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/sparql", params={"query": PEOPLE}, headers={"Accept": accept})
    assert response.status_code == 200


def test_not_acceptable_lists_offers(client):
    response = client.get("/sparql", params={"query": PEOPLE}, headers={"Accept": "text/turtle"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text
    assert "text/csv" in response.text
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "text/turtle" in response.text
    response = client.get("/sparql", params={"query": PEOPLE, "format": "bogus"})
    assert response.status_code == 406


def test_head_like_get_without_body(client):
    get = client.get("/sparql", params={"query": PEOPLE})
    head = client.head("/sparql", params={"query": PEOPLE})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    assert client.head("/sparql", params={"query": "SELECT"}).status_code == 400


def test_malformed_query_has_line_and_column(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "3:1" in response.text or "2:" in response.text
    assert "Traceback" not in response.text


def test_missing_and_duplicate_query(client):
    assert client.get("/sparql", params={"default-graph-uri": GRAPH_ONE}).status_code == 400
    assert client.post("/sparql", data={"format": "json"}).status_code == 400
    response = client.get("/sparql", params=[("query", PEOPLE), ("query", PEOPLE)])
    assert response.status_code == 400
    assert "more than once" in response.text
    response = client.post("/sparql", data={"query": [PEOPLE, PEOPLE]})
    assert response.status_code == 400
    response = client.post(
        "/sparql",
        params={"query": PEOPLE},
        content=PEOPLE,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 400
    response = client.post(
        "/sparql", content="", headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 400


def test_update_is_not_a_query(client):
    response = client.get("/sparql", params={"query": "INSERT DATA { <a:b> <a:c> <a:d> }"})
    assert response.status_code == 400
    assert client.post("/sparql", data={"update": "CLEAR ALL"}).status_code == 400


def test_unsupported_media_type(client):
    response = client.post("/sparql", content=PEOPLE, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    response = client.post("/sparql", content=PEOPLE, headers={"Content-Type": ""})
    assert response.status_code == 415


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods(client, method):
    response = client.request(method, "/sparql", params={"query": PEOPLE})
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


def test_body_and_query_length_limits(client):
    response = client.post("/sparql", data={"query": PEOPLE + "#" * 30_000})
    assert response.status_code == 413
    response = client.get("/sparql", params={"query": PEOPLE + "\n#" + "x" * 10_000})
    assert response.status_code == 413


def test_default_graph_is_union(client):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }"
    bindings = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert bindings[0]["n"]["value"] == "5"


def test_default_graph_uri_selects(client):
    response = client.get("/sparql", params={"query": PEOPLE, "default-graph-uri": GRAPH_TWO})
    assert _people(response) == [EX + "carol"]
    response = client.post(
        "/sparql",
        params=[("default-graph-uri", GRAPH_ONE), ("default-graph-uri", GRAPH_TWO)],
        content=PEOPLE,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert _people(response) == PEOPLE_IRIS
    response = client.post("/sparql", data={"query": PEOPLE, "default-graph-uri": GRAPH_ONE})
    assert _people(response) == [EX + "alice", EX + "bob"]


def test_named_graph_uri_selects(client):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    rows = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert [row["g"]["value"] for row in rows] == [GRAPH_ONE, GRAPH_TWO]
    response = client.get("/sparql", params={"query": query, "named-graph-uri": GRAPH_TWO})
    rows = response.json()["results"]["bindings"]
    assert [row["g"]["value"] for row in rows] == [GRAPH_TWO]
    # Only named graphs given: the default graph is empty, as the protocol says.
    response = client.get("/sparql", params={"query": PEOPLE, "named-graph-uri": GRAPH_TWO})
    assert _people(response) == []


def test_from_clause_is_honoured(client):
    query = PREFIX + f"SELECT ?p FROM <{GRAPH_TWO}> WHERE {{ ?p a ex:Person }}"
    assert _people(client.get("/sparql", params={"query": query})) == [EX + "carol"]


def test_row_cap_truncates(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers["x-openskies-truncated"] == "true"
    assert len(response.json()["results"]["bindings"]) == 12
    response = client.get("/sparql", params={"query": PEOPLE})
    assert "x-openskies-truncated" not in response.headers


def test_json_is_valid_utf8(client):
    query = 'SELECT ?x WHERE { BIND("Ryabkov – Рябков" AS ?x) }'
    response = client.get("/sparql", params={"query": query})
    assert (
        json.loads(response.content)["results"]["bindings"][0]["x"]["value"] == "Ryabkov – Рябков"
    )


def test_catalog_executor_binds_substitutions(client):
    from openskies.server.errors import ProtocolError
    from openskies.server.executor import PoolExecutor

    executor = PoolExecutor(client.app)
    query = "SELECT ?x ?label WHERE { ?x rdfs:label ?label }"
    body, media_type = executor(query, {"x": f"<{EX}bob>"}, "json")
    assert media_type == "application/sparql-results+json; charset=utf-8"
    assert b'"Bob"' in body
    body, media_type = executor(query, {"x": f"<{EX}bob>"}, "text/csv")
    assert media_type.startswith("text/csv") and b"Bob" in body
    with pytest.raises(ProtocolError) as failure:
        executor(query, {"x": f"<{EX}bob> . <{EX}a> <{EX}b> <{EX}c>"}, "json")
    assert failure.value.status == 400


def test_service_select_and_construct_for_pages(client):
    from openskies.server.negotiation import FORMATS_BY_NAME

    service = client.app.state.service
    portal = client.portal
    query = "SELECT ?x ?label WHERE { ?x rdfs:label ?label }"
    rows = portal.call(service.select, query, {"x": f"<{EX}carol>"})
    assert rows == [
        {
            "x": {"type": "uri", "value": EX + "carol"},
            "label": {"type": "literal", "value": "Carol"},
        }
    ]
    construct = "CONSTRUCT WHERE { ?x rdfs:label ?label }"
    body = portal.call(
        service.construct, construct, {"x": f"<{EX}bob>"}, FORMATS_BY_NAME["ntriples"]
    )
    assert (
        body.decode().strip() == f'<{EX}bob> <http://www.w3.org/2000/01/rdf-schema#label> "Bob" .'
    )


def test_content_type_parameters_are_ignored(client):
    response = client.post(
        "/sparql",
        content=PEOPLE.encode(),
        headers={"Content-Type": "application/sparql-query; charset=UTF-8"},
    )
    assert _people(response) == PEOPLE_IRIS
    from urllib.parse import urlencode

    response = client.post(
        "/sparql",
        content=urlencode({"query": PEOPLE}),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    assert _people(response) == PEOPLE_IRIS


def test_non_utf8_bodies_are_refused(client):
    response = client.post(
        "/sparql",
        content="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
    )
    assert response.status_code == 415
    response = client.post(
        "/sparql",
        content=b"ASK { FILTER(\xff) }",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 400
    assert "UTF-8" in response.text


@pytest.mark.parametrize(
    "prologue",
    [
        "",
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n",
        "PREFIX rdfs: <http://example.org/not-rdfs#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n",
    ],
)
def test_own_and_predeclared_prefixes_give_the_same_answer(client, prologue):
    query = prologue + "SELECT (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l }"
    response = client.get("/sparql", params={"query": query, "format": "json"})
    assert response.status_code == 200, response.text
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_cors_headers_are_those_of_the_app_with_and_without_an_origin(client):
    """The /sparql front adds CORS headers itself; they match the app's middleware's."""
    plain = client.get("/sparql", params={"query": PEOPLE + " # plain"})
    assert plain.headers["vary"] == "Accept, Origin"
    assert "access-control-allow-origin" not in plain.headers
    cached = client.get("/sparql", params={"query": PEOPLE + " # plain"})
    assert cached.headers["x-openskies-cache"] == "hit"
    assert cached.headers["vary"] == "Accept, Origin"
    browser = client.get(
        "/sparql",
        params={"query": PEOPLE + " # plain"},
        headers={"Origin": "https://yasgui.example"},
    )
    assert browser.headers["vary"] == "Accept, Origin"
    assert browser.headers["access-control-allow-origin"] == "*"
    refused = client.get("/sparql", params={"query": "SELECT"})
    assert refused.status_code == 400
    assert refused.headers["vary"].endswith("Origin")
    routed = client.get("/void")
    assert "Origin" in routed.headers["vary"]
