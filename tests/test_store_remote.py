"""The remote backend over a real Oxigraph server, and ``openskies load --into``.

A session's Oxigraph server (``oxigraph serve`` from PyPI, in memory, on a
free loopback port) is loaded with the built dataset by the ``load``
command, then the app runs over it with ``store="remote"``: every catalog
question and a set of protocol requests must answer exactly as the embedded
store does (``real_client``), and the same protections apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from shared_build import built_dir
from store_support import OxigraphServer
from test_queries_support import local_questions
from typer.testing import CliRunner

from openskies.cli import app as cli
from openskies.server.app import create_app
from openskies.settings import Settings

pytestmark = pytest.mark.slow
TOKEN = "remote-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def oxigraph() -> Iterator[OxigraphServer]:
    server = OxigraphServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def loaded(oxigraph) -> str:
    """The ``load`` command's output after pushing the built dataset (small batches)."""
    result = CliRunner().invoke(
        cli,
        [
            "load",
            "--into",
            oxigraph.update_url,
            "--build-dir",
            str(built_dir()),
            "--batch-size",
            "500",
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def remote_client(oxigraph, loaded) -> Iterator[TestClient]:
    settings = Settings(
        store="remote",
        remote_query_url=oxigraph.query_url,
        remote_update_url=oxigraph.update_url,
        build_dir=built_dir(),
        update_token=TOKEN,
        cache_entries=0,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_load_reports_batches_and_matching_counts(loaded):
    assert "MISMATCH" not in loaded
    assert "osg:article" in loaded
    sent = int(loaded.split("sent ", 1)[1].split()[0])
    batches = int(loaded.split(" in ", 1)[1].split()[0])
    assert sent > 2000 and batches > 4
    assert loaded.strip().splitlines()[-1].startswith(f"ok: {sent} triples")


def test_load_by_graph_store_protocol_replaces_and_counts(tmp_path):
    server = OxigraphServer()
    try:
        data = tmp_path / "small.trig"
        data.write_text(
            "<http://ex/g1> { <http://ex/a> <http://ex/p> _:b . _:b <http://ex/q> 1 . }\n"
            "<http://ex/g2> { <http://ex/c> <http://ex/p> 2 . }\n"
            "<http://ex/d> <http://ex/p> 3 .\n"
        )
        args = ["load", "--into", server.store_url, "--data", str(data)]
        args += ["--protocol", "gsp", "--query-url", server.query_url, "--batch-size", "1"]
        for _ in range(2):  # twice, with --replace: nothing is doubled
            result = CliRunner().invoke(cli, [*args, "--replace"])
            assert result.exit_code == 0, result.output
        assert "ok: 4 triples in 3 graphs" in result.output
        # The blank node stayed one node although the batch size is one triple.
        query = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { <http://ex/a> <http://ex/p> ?b . ?b ?q 1 } }"
        response = httpx.post(
            server.query_url,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert response.json()["results"]["bindings"][0]["n"]["value"] == "1"
        # Loading without --replace doubles nothing visible but a count check still passes.
        result = CliRunner().invoke(cli, ["load", "--into", "http://127.0.0.1:9/update"] + args[3:])
        assert result.exit_code == 1
    finally:
        server.stop()


def normalized(rows: list[dict]) -> list[str]:
    """Rows in a canonical order; GROUP_CONCAT lists (their order is the engine's) sorted."""

    def value(term: dict) -> dict:
        return {**term, "value": sorted(re.split(r"[;,] ", term["value"]))}

    return sorted(repr(sorted((k, value(v)) for k, v in row.items())) for row in rows)


@pytest.mark.parametrize("name", local_questions())
def test_every_catalog_question_answers_as_on_the_embedded_store(remote_client, real_client, name):
    for fmt in ("json", "csv"):
        remote = remote_client.get(f"/api/queries/{name}", params={"format": fmt})
        local = real_client.get(f"/api/queries/{name}", params={"format": fmt})
        assert remote.status_code == local.status_code == 200, remote.text
        if fmt == "json":
            rows = remote.json()["results"]["bindings"]
            assert normalized(rows) == normalized(local.json()["results"]["bindings"])
        else:
            assert len(remote.text.splitlines()) == len(local.text.splitlines())


PROTOCOL_CASES = [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "application/sparql-results+json"),
    (
        "SELECT ?s ?label WHERE { ?s a <https://w3id.org/openskies/ontology/State> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s",
        "text/csv",
    ),
    ("ASK { ?s a <https://w3id.org/openskies/ontology/Person> }", "application/sparql-results+xml"),
    (
        "CONSTRUCT { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE "
        "{ ?s a <https://w3id.org/openskies/ontology/Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l }",
        "application/n-triples",
    ),
    (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
        "text/tab-separated-values",
    ),
]


@pytest.mark.parametrize(("query", "accept"), PROTOCOL_CASES)
def test_protocol_answers_match_the_embedded_store(remote_client, real_client, query, accept):
    remote = remote_client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    local = real_client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert remote.status_code == local.status_code == 200, remote.text
    assert remote.headers["content-type"] == local.headers["content-type"]
    assert sorted(remote.content.splitlines()) == sorted(local.content.splitlines())


def test_dataset_parameters_reach_the_remote_store(remote_client):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    graph = "https://w3id.org/openskies/graph/links"
    response = remote_client.get("/sparql", params={"query": query, "default-graph-uri": graph})
    links = int(response.json()["results"]["bindings"][0]["n"]["value"])
    everything = remote_client.get("/sparql", params={"query": query})
    assert 0 < links < int(everything.json()["results"]["bindings"][0]["n"]["value"])


def test_the_same_protections_apply(remote_client):
    deep = "SELECT * WHERE " + "{" * 300 + "}" * 300
    assert remote_client.get("/sparql", params={"query": deep}).status_code == 400
    service = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    assert remote_client.get("/sparql", params={"query": service}).status_code == 403
    bad = remote_client.get("/sparql", params={"query": "SELECT WHERE {"})
    assert bad.status_code == 400


def test_row_cap_applies_to_remote_results(oxigraph, loaded):
    settings = Settings(
        store="remote", remote_query_url=oxigraph.query_url, max_result_rows=5, cache_entries=0
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert response.status_code == 200
        assert len(response.json()["results"]["bindings"]) == 5
        assert response.headers["x-openskies-truncated"] == "true"
        assert client.get("/health").json()["status"] == "ok"


def test_pages_void_health_and_graph_store_read(remote_client, real_client):
    assert (
        remote_client.get("/health").json()["triples"]
        == real_client.get("/health").json()["triples"]
    )
    assert remote_client.get("/.well-known/void").status_code == 200
    graph = "https://w3id.org/openskies/graph/links"
    remote = remote_client.get("/graphs", params={"graph": graph}, headers={"Accept": "text/plain"})
    local = real_client.get("/graphs", params={"graph": graph}, headers={"Accept": "text/plain"})
    assert remote.status_code == 200
    assert sorted(remote.text.splitlines()) == sorted(local.text.splitlines())
    missing = remote_client.get("/graphs", params={"graph": "http://example.org/none"})
    assert missing.status_code == 404


def test_writes_go_through_to_the_remote_store(remote_client, oxigraph):
    scratch = "http://example.org/graph/remote-scratch"
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{scratch}> {{ ?s ?p ?o }} }}"

    def n() -> int:
        response = remote_client.get("/sparql", params={"query": count})
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    update = f"INSERT DATA {{ GRAPH <{scratch}> {{ <a:s> <a:p> 1, 2 }} }}"
    assert remote_client.post("/update", data={"update": update}).status_code == 401
    assert remote_client.post("/update", data={"update": update}, headers=AUTH).status_code == 204
    assert n() == 2
    turtle = {"Content-Type": "text/turtle", **AUTH}
    put = remote_client.put(
        "/graphs", params={"graph": scratch}, content="<a:s> <a:p> 3 .", headers=turtle
    )
    assert put.status_code == 204
    assert n() == 1
    delete = remote_client.delete("/graphs", params={"graph": scratch}, headers=AUTH)
    assert delete.status_code == 204
    assert n() == 0
    assert (
        remote_client.delete("/graphs", params={"graph": scratch}, headers=AUTH).status_code == 404
    )
