"""Federation: a SERVICE join through our endpoint against a second, real SPARQL server.

The second server is the Oxigraph server from the ``oxigraph`` package, on a
free loopback port, loaded with a small Wikidata-shaped extract written here.
No test reaches the internet.
"""

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from shared_build import built_dir

from openskies.queries.catalog import load_catalog
from openskies.server.app import create_app
from openskies.settings import Settings

OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))

# Wikidata's shape: wd: items, wdt: direct properties, English labels. The
# statements mirror the reference file's evidence (Belgium is a member of
# the Treaty on Open Skies, P463); one item has no counterpart in our links.
WIKIDATA_EXTRACT = """
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
wd:Q31 wdt:P463 wd:Q1928989 ; rdfs:label "Belgium"@en , "Belgique"@fr .
wd:Q159 wdt:P463 wd:Q1928989 ; rdfs:label "Russia"@en .
wd:Q29999 wdt:P463 wd:Q1928989 ; rdfs:label "Kingdom of the Netherlands"@en .
wd:Q99999999 wdt:P463 wd:Q1928989 ; rdfs:label "Test member without a link"@en .
wd:Q40 rdfs:label "Austria"@en .
"""
WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def remote_endpoint(tmp_path_factory) -> Iterator[str]:
    """An Oxigraph server on 127.0.0.1 holding the extract; yields its query URL."""
    if not Path(OXIGRAPH).exists():
        pytest.skip("the oxigraph server binary (pip package 'oxigraph') is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the oxigraph server did not start") from None
                time.sleep(0.1)
        response = httpx.post(
            f"{base}/store?default",
            content=WIKIDATA_EXTRACT.encode(),
            headers={"content-type": "text/turtle"},
        )
        response.raise_for_status()
        yield f"{base}/query"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def federating_client(remote_endpoint) -> Iterator[TestClient]:
    host = remote_endpoint.split("/")[2]
    settings = Settings(build_dir=built_dir(), workers=1, outbound_allowlist=(host,))
    with TestClient(create_app(settings)) as client:
        yield client


def test_catalog_query_joins_our_states_with_the_remote_endpoint(
    federating_client, remote_endpoint
):
    text = load_catalog()["wikidata_treaty_members"].path.read_text(encoding="utf-8")
    assert WIKIDATA_ENDPOINT in text
    query = text.replace(WIKIDATA_ENDPOINT, remote_endpoint)
    response = federating_client.post(
        "/sparql",
        content=query.encode(),
        headers={
            "content-type": "application/sparql-query",
            "accept": "application/sparql-results+json",
        },
    )
    assert response.status_code == 200, response.text
    rows = {
        row["wikidataLabel"]["value"]: row.get("state", {}).get("value")
        for row in response.json()["results"]["bindings"]
    }
    assert rows == {
        "Belgium": "https://w3id.org/openskies/id/belgium",
        "Kingdom of the Netherlands": "https://w3id.org/openskies/id/netherlands",
        "Russia": "https://w3id.org/openskies/id/russia",
        "Test member without a link": None,
    }


def test_service_to_a_host_off_the_allowlist_is_refused(federating_client):
    response = federating_client.get("/api/queries/wikidata_treaty_members")
    assert response.status_code == 403
    assert "query.wikidata.org" in response.text
    assert "allowlist" in response.text
