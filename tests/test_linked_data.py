"""Linked data over the real dataset: IRIs dereference, pages read well, dumps and search work."""

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from openskies.vocab import BASE

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(real_client):
    return real_client


def _triples(body: bytes, fmt: ox.RdfFormat) -> set[tuple[str, str, str]]:
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in ox.parse(body, format=fmt)}


@pytest.mark.parametrize(
    ("accept", "media_type", "fmt"),
    [
        ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
        ("*/*", "text/turtle", ox.RdfFormat.TURTLE),
    ],
)
def test_entity_iri_dereferences_to_rdf_by_accept(client, accept, media_type, fmt):
    response = client.get("/id/sergei-ryabkov", headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert "Accept" in response.headers["vary"]
    triples = _triples(response.content, fmt)
    ryabkov = f"<{BASE}id/sergei-ryabkov>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    assert (ryabkov, label, '"Sergei Ryabkov"@en') in triples
    assert (ryabkov, "<http://www.w3.org/2004/02/skos/core#altLabel>", '"Libuyakov"@en') in triples
    # Incoming links: the statements he made point at him.
    speaker = f"<{BASE}ontology/speaker>"
    assert any(p == speaker and o == ryabkov for _, p, o in triples)
    # Labels of what it points to come along, so a client needs no second request.
    post = f"<{BASE}id/position-ryabkov-deputy-foreign-minister>"
    assert any(s == post and p == label for s, p, _ in triples)


def test_browsers_get_a_readable_entity_page(client):
    response = client.get("/id/sergei-ryabkov", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1>Sergei Ryabkov</h1>" in page
    assert "Libuyakov" in page  # the article's spelling as an alternative label
    assert "Statements by or about Sergei Ryabkov" in page
    assert "strive to maintain" in page  # a quote, with its place in the article
    assert 'href="/article#chars-' in page
    assert 'href="/id/position-ryabkov-deputy-foreign-minister"' in page
    assert "<script" not in page  # works without JavaScript
    assert "http" not in page.split("<body>")[0].replace('href="/', "")  # no external assets


def test_entity_page_lists_links_out(client):
    page = client.get("/id/russia", headers=HTML).text
    assert 'href="http://www.wikidata.org/entity/Q159"' in page
    assert 'href="http://dbpedia.org/resource/Russia"' in page


def test_unknown_iris_get_404_for_programs_and_people(client):
    assert client.get("/id/no-such-entity").status_code == 404
    response = client.get("/id/no-such-entity", headers=HTML)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert client.get("/id/bad%20name").status_code == 404


def test_ontology_terms_and_stances_dereference(client):
    response = client.get("/ontology/Statement", headers={"accept": "text/turtle"})
    assert response.status_code == 200
    triples = _triples(response.content, ox.RdfFormat.TURTLE)
    assert (
        f"<{BASE}ontology/Statement>",
        "<http://www.w3.org/2000/01/rdf-schema#subClassOf>",
        "<https://schema.org/CreativeWork>",
    ) in triples
    assert client.get("/stance/regret", headers=HTML).status_code == 200
    whole = client.get("/ontology", headers={"accept": "text/turtle"})
    assert whole.status_code == 200
    classes = _triples(whole.content, ox.RdfFormat.TURTLE)
    assert len(classes) > 300


def test_head_on_an_entity_has_headers_and_no_body(client):
    response = client.head("/id/russia", headers={"accept": "text/turtle"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/turtle")


def test_article_page_highlights_every_cited_span(client):
    response = client.get("/article")
    assert response.status_code == 200
    page = response.text
    assert page.count("<mark") >= 30
    assert 'id="chars-575-616"' in page  # "Russian Deputy Foreign Minister Libuyakov"


def test_dumps_are_listed_and_carry_validators(client):
    listing = client.get("/dumps").text
    for name in ("openskies.trig", "openskies.nq", "openskies.ttl", "graph/article.ttl"):
        assert f"/dumps/{name}" in listing
    response = client.get("/dumps/openskies.nq")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/n-quads")
    quads = list(ox.parse(response.content, format=ox.RdfFormat.N_QUADS))
    graphs = {quad.graph_name.value for quad in quads}
    assert {BASE + "graph/article", BASE + "graph/links", BASE + "graph/inferred"} <= graphs
    etag = response.headers["etag"]
    assert client.get("/dumps/openskies.nq", headers={"if-none-match": etag}).status_code == 304
    since = response.headers["last-modified"]
    assert (
        client.get("/dumps/openskies.nq", headers={"if-modified-since": since}).status_code == 304
    )
    assert client.get("/dumps/nothing.ttl").status_code == 404


def test_per_graph_dump_holds_only_that_graph(client):
    links = client.get("/dumps/graph/links.ttl")
    triples = _triples(links.content, ox.RdfFormat.TURTLE)
    assert triples
    assert {p for _, p, _ in triples} == {"<http://www.w3.org/2002/07/owl#sameAs>"} | {
        p for _, p, _ in triples if "rdf-schema#label" in p or "dc/terms/source" in p
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Libuyakov", "sergei-ryabkov"),
        ("libuyakov", "sergei-ryabkov"),
        ("Borelli", "josep-borrell"),
        ("dmitry treinen", "dmitri-trenin"),
        ("AUSWARTIGES amt", "mfa-germany"),
        ("Sokov", "nikolai-sokov"),
    ],
)
def test_search_finds_entities_by_any_spelling(client, query, expected):
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results, query
    assert results[0]["iri"] == f"{BASE}id/{expected}"
    assert results[0]["page"] == f"/id/{expected}"
    assert results[0]["types"]


def test_search_finds_quoted_text_and_rejects_empty_queries(client):
    results = client.get("/api/search", params={"q": "totally unacceptable"}).json()["results"]
    assert f"{BASE}id/stmt-ryabkov-us-conditions-unacceptable" in [r["iri"] for r in results]
    assert client.get("/api/search", params={"q": ""}).status_code == 400
    assert client.get("/api/search").status_code == 400
    assert client.get("/search", params={"q": "Libuyakov"}).status_code == 200


def test_export_command_writes_the_same_files_as_the_server(client, tmp_path):
    from shared_build import built_dir
    from typer.testing import CliRunner

    from openskies.cli import app

    result = CliRunner().invoke(
        app, ["export", "--build-dir", str(built_dir()), "--out", str(tmp_path), "-f", "turtle"]
    )
    assert result.exit_code == 0, result.output
    # Without blank nodes the files are byte for byte the same ...
    assert (tmp_path / "graph/links.ttl").read_bytes() == client.get(
        "/dumps/graph/links.ttl"
    ).content
    # ... with them (span selectors), the same graph up to blank node labels.
    for name in ("openskies.ttl", "graph/article.ttl"):
        exported = Graph().parse(tmp_path / name, format="turtle")
        served = Graph().parse(data=client.get(f"/dumps/{name}").content, format="turtle")
        assert isomorphic(exported, served), name
    assert not (tmp_path / "openskies.trig").exists()


@pytest.mark.parametrize(("dump", "fmt"), [("openskies.trig", "trig"), ("openskies.nq", "nquads")])
def test_dataset_dumps_parse_back_isomorphic_to_the_served_graphs(client, dump, fmt):
    from rdflib import Dataset

    dataset = Dataset()
    dataset.parse(data=client.get(f"/dumps/{dump}").content, format=fmt)
    dumped = {str(g.identifier): g for g in dataset.graphs() if len(g)}
    served_names = client.get("/health").json()["graphs"]
    assert len(dumped) == served_names
    for name, graph in dumped.items():
        served = client.get("/graphs", params={"graph": name}, headers={"accept": "text/turtle"})
        assert served.status_code == 200
        assert isomorphic(graph, Graph().parse(data=served.content, format="turtle")), name
