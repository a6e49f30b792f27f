"""The workbench's server side, without a browser (tests/e2e drives the pages in Chromium)."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from openskies.queries.catalog import load_catalog
from openskies.server.routes_ui import bind_as_values, prefix_block
from openskies.vocab import PREFIXES

SVG = "{http://www.w3.org/2000/svg}"
STATIC_UI = Path(__file__).resolve().parents[1] / "server" / "static" / "ui"


@pytest.fixture(scope="module")
def client(real_client):
    return real_client


def test_root_is_the_workbench_with_prefixes_and_every_question(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert '<form action="/sparql" method="get" id="query-form"' in page  # works without JS
    for name, iri in PREFIXES.items():
        assert f"PREFIX {name}:" in page and f"&lt;{iri}&gt;" in page
    for name in load_catalog():
        assert f'data-question="{name}"' in page
    for asset in ("/static/ui/vendor/editor.bundle.js", "/static/ui/workbench.js"):
        assert asset in page
        assert client.get(asset).status_code == 200


def test_pages_reference_only_local_assets(client):
    for path in ("/", "/timeline", "/network", "/article"):
        page = client.get(path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not url.startswith(("http:", "https:", "//")), (path, url)


def test_gallery_endpoint_lists_the_catalog_with_sparql_and_enumerations(client):
    entries = client.get("/ui/api/questions").json()
    catalog = load_catalog()
    assert [entry["name"] for entry in entries] == list(catalog)
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["timeline"]["summary"] == catalog["timeline"].summary
    assert "SELECT ?when ?event" in by_name["timeline"]["query"]
    assert not any(line.startswith("#+") for line in by_name["timeline"]["query"].splitlines())
    (stance,) = by_name["statements_by_stance"]["parameters"]
    assert "https://w3id.org/openskies/stance/criticism" in stance["enum"]


def test_question_sparql_binds_parameters_as_values_and_runs_on_the_endpoint(client):
    response = client.get(
        "/ui/api/questions/statements_by_person/sparql", params={"person": "osd:josep-borrell"}
    )
    assert response.status_code == 200
    text = response.json()["query"]
    assert "VALUES ?_person_iri { <https://w3id.org/openskies/id/josep-borrell> }" in text
    rows = client.get("/sparql", params={"query": text, "format": "json"}).json()
    expected = client.get(
        "/api/queries/statements_by_person", params={"person": "osd:josep-borrell"}
    ).json()
    ours = [row["statement"]["value"] for row in rows["results"]["bindings"]]
    assert ours == [row["statement"]["value"] for row in expected["results"]["bindings"]]
    assert ours and all("borrell" in iri for iri in ours)


def test_question_sparql_rejects_bad_values_and_unknown_questions(client):
    bad = client.get("/ui/api/questions/statements_by_stance/sparql", params={"stance": "nope"})
    assert bad.status_code == 400 and "statements_by_stance" in bad.json()["error"]
    injected = client.get(
        "/ui/api/questions/statements_by_person/sparql", params={"person": "x> } ; DROP ALL #"}
    )
    assert injected.status_code == 400
    assert client.get("/ui/api/questions/nope/sparql").status_code == 404


def test_values_block_goes_inside_the_where_group():
    query = load_catalog()["statements_by_stance"]
    text = bind_as_values(query, {"stance": "https://w3id.org/openskies/stance/criticism"})
    where = text.index("WHERE {")
    assert text.index("VALUES ?_stance_iri") > where
    assert bind_as_values(query, {}) == bind_as_values(query, {})  # unbound: the text itself


def test_question_in_the_url_fills_the_editor_without_javascript(client):
    page = client.get(
        "/", params={"question": "statements_by_person", "person": "osd:nikolai-sokov"}
    )
    assert (
        "VALUES ?_person_iri { &lt;https://w3id.org/openskies/id/nikolai-sokov&gt; }" in page.text
    )
    typed = client.get("/", params={"query": "ASK { ?s ?p ?o }"})
    assert "ASK { ?s ?p ?o }</textarea>" in typed.text


def test_prefix_block_is_valid_sparql(client):
    response = client.get("/sparql", params={"query": prefix_block() + "ASK {}", "format": "json"})
    assert response.status_code == 200 and response.json()["boolean"] is True


def _svg_events(svg_text: str) -> list[ET.Element]:
    root = ET.fromstring(svg_text)
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "event"]


def test_timeline_svg_lists_events_in_date_order_with_links(client):
    response = client.get("/timeline.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    events = _svg_events(response.text)
    dates = [g.get("data-date") for g in events]
    assert dates == sorted(dates) and len(dates) >= 8
    iris = [g.get("data-event") for g in events]
    assert iris[0] == "https://w3id.org/openskies/id/signing-1992"
    assert iris.index(
        "https://w3id.org/openskies/id/us-withdrawal-effective-2020-11-22"
    ) > iris.index("https://w3id.org/openskies/id/us-withdrawal-notice-2020-05-22")
    catalog_order = [
        row["event"]["value"]
        for row in client.get("/api/queries/timeline").json()["results"]["bindings"]
    ]
    assert iris == catalog_order
    links = re.findall(r'href="([^"]+)"', response.text)
    assert "/id/signing-1992" in links
    assert any(link.startswith("/article#chars-") for link in links)
    for link in {link.split("#")[0] for link in links}:
        assert client.get(link, headers={"Accept": "text/html"}).status_code == 200, link


def test_timeline_page_embeds_the_same_svg(client):
    page = client.get("/timeline").text
    assert "<svg" in page and 'href="/timeline.svg"' in page
    assert "24 March 1992" in page  # the exact day from the background source


def test_network_connects_people_statements_and_institutions(client):
    data = client.get("/ui/api/network").json()
    types = {node["type"] for node in data["nodes"]}
    assert types == {"state", "person", "institution", "event", "statement"}
    ids = {node["id"] for node in data["nodes"]}
    assert all(edge["source"] in ids and edge["target"] in ids for edge in data["edges"])
    pairs = {(edge["source"], edge["label"], edge["target"]) for edge in data["edges"]}
    osd = "https://w3id.org/openskies/id/"
    assert (
        osd + "sergei-ryabkov",
        "Deputy Foreign Minister",
        osd + "russian-foreign-ministry",
    ) in pairs
    assert any(s.startswith(osd + "stmt-") and p == "speaker" for s, p, _ in pairs)
    page = client.get("/network").text
    embedded = re.search(r'<script type="application/json" id="network-data">(.*?)</script>', page)
    assert json.loads(embedded.group(1)) == data
    assert "/static/ui/vendor/cytoscape.bundle.js" in page


def test_span_endpoint_returns_the_triples_a_span_supports(client):
    page = client.get("/article").text
    assert "/static/ui/article.js" in page and "<mark" in page
    start, end = re.search(r'data-span="(\d+)-(\d+)"', page).groups()
    data = client.get("/ui/api/span", params={"start": start, "end": end}).json()
    assert data["nodes"] and all(node["triples"] for node in data["nodes"])
    post = client.get("/ui/api/span", params={"start": 575, "end": 616}).json()
    nodes = {node["href"]: node for node in post["nodes"]}
    node = nodes["/id/position-ryabkov-deputy-foreign-minister"]
    objects = [triple["object"] for triple in node["triples"]]
    ryabkov = "https://w3id.org/openskies/id/sergei-ryabkov"
    assert {"text": "Sergei Ryabkov", "iri": ryabkov, "href": "/id/sergei-ryabkov"} in objects
    assert client.get("/ui/api/span", params={"start": -1, "end": 3}).status_code in (400, 422)


def test_built_assets_are_committed_with_their_build_command():
    package = json.loads((STATIC_UI.parents[2] / "package.json").read_text())
    assert "esbuild" in package["scripts"]["build"]
    for bundle in ("editor.bundle.js", "cytoscape.bundle.js"):
        assert (STATIC_UI / "vendor" / bundle).stat().st_size > 10_000
    readme = (STATIC_UI.parents[2] / "README.md").read_text()
    assert "## Web UI assets" in readme and "npm ci && npm run build" in readme
