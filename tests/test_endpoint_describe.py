"""Service description, VoID, health and API docs."""

from __future__ import annotations

import httpx
from conftest_endpoint import DATA, GRAPH_ONE, GRAPH_TWO
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DATASET = URIRef("https://w3id.org/openskies/dataset")


def _graph(response, fmt: str = "turtle") -> Graph:
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format=fmt)


def test_service_description(client):
    response = client.get("/sparql")
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = _graph(response)
    service = graph.value(predicate=SD.endpoint, object=URIRef("http://127.0.0.1:8000/sparql"))
    assert (service, RDF.type, SD.Service) in graph
    assert set(graph.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}
    assert SD.UnionDefaultGraph in set(graph.objects(service, SD.feature))
    formats = set(graph.objects(service, SD.resultFormat))
    assert len(formats) == 8
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    dataset = graph.value(service, SD.defaultDataset)
    names = {graph.value(named, SD.name) for named in graph.objects(dataset, SD.namedGraph)}
    assert names == {URIRef(GRAPH_ONE), URIRef(GRAPH_TWO)}


def test_updates_are_described_at_their_own_endpoint(client, live_url):
    """/sparql refuses updates; the writable server describes /update as a second service."""
    graph = _graph(client.get("/sparql"))
    updates = graph.value(predicate=SD.endpoint, object=URIRef("http://127.0.0.1:8000/update"))
    assert (updates, RDF.type, SD.Service) in graph
    assert set(graph.objects(updates, SD.supportedLanguage)) == {SD.SPARQL11Update}
    assert (updates, SD.feature, SD.UnionDefaultGraph) not in graph
    read_only = Graph().parse(data=httpx.get(live_url + "/sparql").content, format="turtle")
    assert set(read_only.objects(None, SD.supportedLanguage)) == {SD.SPARQL11Query}
    assert len(set(read_only.subjects(RDF.type, SD.Service))) == 1


def test_service_description_by_accept_and_head(client):
    graph = _graph(client.get("/sparql", headers={"Accept": "application/ld+json"}), "json-ld")
    assert (None, RDF.type, SD.Service) in graph
    graph = _graph(client.get("/sparql", params={"format": "rdfxml"}), "xml")
    assert (None, RDF.type, SD.Service) in graph
    head = client.head("/sparql")
    assert head.status_code == 200 and head.content == b""


def test_void_counts_match_the_data(client):
    source = Dataset()
    source.parse(DATA, format="trig")
    union = Graph()
    for subject, predicate, obj, _ in source.quads((None, None, None, None)):
        union.add((subject, predicate, obj))
    graph = _graph(client.get("/.well-known/void"))
    assert graph.value(DATASET, VOID.triples) == Literal(len(union), datatype=XSD.integer)
    subjects = {s for s in union.subjects() if isinstance(s, URIRef)}
    assert graph.value(DATASET, VOID.entities).toPython() == len(subjects)
    assert graph.value(DATASET, VOID.classes).toPython() == len(set(union.objects(None, RDF.type)))
    assert graph.value(DATASET, VOID.properties).toPython() == len(set(union.predicates()))
    subsets = {
        subset: graph.value(subset, VOID.triples).toPython()
        for subset in graph.objects(DATASET, VOID.subset)
    }
    assert subsets == {
        URIRef(GRAPH_ONE): len(source.graph(URIRef(GRAPH_ONE))),
        URIRef(GRAPH_TWO): len(source.graph(URIRef(GRAPH_TWO))),
    }
    assert graph.value(DATASET, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert graph.value(DATASET, VOID.sparqlEndpoint) == URIRef("http://127.0.0.1:8000/sparql")
    dumps = {str(dump) for dump in graph.objects(DATASET, VOID.dataDump)}
    assert "http://127.0.0.1:8000/dumps/openskies.trig" in dumps


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["triples"] >= 18


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/sparql", "/update", "/graphs", "/health", "/.well-known/void"} <= set(paths)
