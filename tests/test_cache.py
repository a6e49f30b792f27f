"""ETags, 304 Not Modified and the bounded response cache, through HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest_endpoint import DATA, PREFIX, TOKEN, endpoint_settings
from fastapi.testclient import TestClient

from openskies.server.app import create_app
from openskies.server.store_cache import Entry, LRUCache

AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUERY = PREFIX + "SELECT ?p WHERE { ?p a ex:Person } ORDER BY ?p"


@pytest.fixture
def app_client() -> Iterator[TestClient]:
    """A fresh app per test (writes enabled) so cache counters start at zero."""
    settings = endpoint_settings(update_token=TOKEN, workers=1, cache_entries=8)
    with TestClient(create_app(settings)) as client:
        yield client


def _cache(client) -> LRUCache:
    return client.app.state.response_cache


def test_etag_and_304_without_evaluation(app_client):
    first = app_client.get("/sparql", params={"query": QUERY})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = app_client.get("/sparql", params={"query": QUERY}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = app_client.get("/sparql", params={"query": QUERY}, headers={"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.content == first.content


def test_the_etag_depends_on_the_request(app_client):
    tags = {
        app_client.get("/sparql", params={"query": QUERY}).headers["etag"],
        app_client.get("/sparql", params={"query": QUERY + " "}).headers["etag"],
        app_client.get("/sparql", params={"query": QUERY}, headers={"Accept": "text/csv"}).headers[
            "etag"
        ],
        app_client.post("/sparql", data={"query": QUERY}).headers["etag"],
        app_client.post(
            "/sparql", content=QUERY, headers={"Content-Type": "application/sparql-query"}
        ).headers["etag"],
    }
    assert len(tags) == 5


def test_repeated_queries_are_served_from_the_cache(app_client):
    first = app_client.get("/sparql", params={"query": QUERY})
    assert "x-openskies-cache" not in first.headers
    second = app_client.get("/sparql", params={"query": QUERY})
    assert second.headers["x-openskies-cache"] == "hit"
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["etag"] == first.headers["etag"]
    head = app_client.head("/sparql", params={"query": QUERY})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    form = {"query": QUERY}
    assert app_client.post("/sparql", data=form).status_code == 200
    assert app_client.post("/sparql", data=form).headers["x-openskies-cache"] == "hit"
    assert _cache(app_client).hits == 3


def test_any_write_invalidates(app_client):
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    before = app_client.get("/sparql", params={"query": count})
    assert app_client.get("/sparql", params={"query": count}).headers["x-openskies-cache"] == "hit"
    update = "INSERT DATA { GRAPH <http://example.org/graph/c> { <a:s> <a:p> 1 } }"
    assert app_client.post("/update", data={"update": update}, headers=AUTH).status_code == 204
    after = app_client.get(
        "/sparql", params={"query": count}, headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200  # the old tag no longer matches
    assert "x-openskies-cache" not in after.headers
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json() != before.json()
    headers = {"Content-Type": "text/turtle", **AUTH}
    graph = {"graph": "http://example.org/graph/c"}
    assert app_client.put("/graphs", params=graph, content="<a:s> <a:p> 2, 3 .", headers=headers)
    latest = app_client.get("/sparql", params={"query": count})
    assert latest.headers["etag"] != after.headers["etag"] and latest.json() != after.json()


def test_errors_are_neither_cached_nor_tagged(app_client):
    for _ in range(2):
        response = app_client.get("/sparql", params={"query": "SELECT * WHERE {"})
        assert response.status_code == 400
        assert "etag" not in response.headers and "x-openskies-cache" not in response.headers
    assert len(_cache(app_client)) == 0


def test_truncation_header_is_kept(app_client):
    query = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"
    first = app_client.get("/sparql", params={"query": query})
    second = app_client.get("/sparql", params={"query": query})
    assert second.headers["x-openskies-cache"] == "hit"
    assert first.headers["x-openskies-truncated"] == second.headers["x-openskies-truncated"]


def test_catalog_answers_carry_etags_and_are_cached(real_client):
    listed = real_client.get("/api/queries").json()
    url = f"/api/queries/{listed[0]['name']}"
    first = real_client.get(url)
    assert first.status_code == 200
    assert real_client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    again = real_client.get(url)
    assert again.headers["x-openskies-cache"] == "hit" and again.content == first.content


def test_the_cache_is_bounded_in_entries_and_bytes():
    cache = LRUCache(max_entries=3, max_bytes=100, max_entry_bytes=60)
    cache.sync("v1")
    for index in range(5):
        cache.put(str(index).encode(), Entry([], b"x" * 10))
    assert len(cache) == 3 and cache.get(b"0") is None and cache.get(b"4") is not None
    cache.put(b"big", Entry([], b"x" * 61))  # larger than one entry may be
    assert cache.get(b"big") is None
    cache.put(b"a", Entry([], b"x" * 50))
    cache.put(b"b", Entry([], b"x" * 50))
    assert cache.size <= 100 and len(cache) == 2
    cache.sync("v2")
    assert len(cache) == 0 and cache.size == 0


def test_cache_can_be_turned_off():
    settings = endpoint_settings(workers=1, cache_entries=0, data_files=(DATA,))
    with TestClient(create_app(settings)) as client:
        first = client.get("/sparql", params={"query": QUERY})
        second = client.get("/sparql", params={"query": QUERY})
        assert "x-openskies-cache" not in second.headers
        # ETags and 304 still work without stored bodies.
        assert second.headers["etag"] == first.headers["etag"]
        revalidate = {"If-None-Match": first.headers["etag"]}
        assert client.get("/sparql", params={"query": QUERY}, headers=revalidate).status_code == 304
