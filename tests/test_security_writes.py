"""Writes without the token: every write path answers 401/403 and no byte of data changes.

Extends tests/test_endpoint_writes.py (which checks counts): here the whole
dataset is compared byte for byte (the N-Quads dump, which has no row cap)
before and after every refused attempt, over every write path and every way
of almost presenting the token. Also: the token is compared in constant time
(``hmac.compare_digest`` over fixed-length digests) and never appears in a
response or a log record.
"""

from __future__ import annotations

import base64
import logging

import pyoxigraph as ox
import pytest
from conftest_endpoint import GRAPH_ONE, TOKEN, endpoint_settings
from fastapi.testclient import TestClient

from openskies.server import deps
from openskies.server.app import create_app

UPDATE = "INSERT DATA { GRAPH <http://example.org/graph/one> { <urn:x:a> <urn:x:b> 1 } }"
TURTLE = "<urn:x:a> <urn:x:b> <urn:x:c> ."

WRONG_CREDENTIALS = {
    "none": {},
    "empty bearer": {"Authorization": "Bearer "},
    "wrong token": {"Authorization": "Bearer wrong-token"},
    "prefix of the token": {"Authorization": f"Bearer {TOKEN[:-1]}"},
    "token plus a character": {"Authorization": f"Bearer {TOKEN}x"},
    "token twice": {"Authorization": f"Bearer {TOKEN} {TOKEN}"},
    "basic with the token": {
        "Authorization": "Basic " + base64.b64encode(f"user:{TOKEN}".encode()).decode()
    },
    "token without scheme": {"Authorization": TOKEN},
    "other scheme": {"Authorization": f"Token {TOKEN}"},
    "other header": {"X-Api-Key": TOKEN, "X-Update-Token": TOKEN},
    "cookie": {"Cookie": f"token={TOKEN}"},
    "non-ascii": {"Authorization": "Bearer t\u00f6ken\u2028".encode()},
}


def _attempts(headers: dict[str, str]):
    """Every write path: SPARQL Update (form, direct, token in the URL) and the Graph Store."""
    yield "POST", "/update", {"data": {"update": UPDATE}}
    yield "POST", "/update", {"data": {"update": UPDATE, "access_token": TOKEN}}
    yield "POST", f"/update?access_token={TOKEN}&token={TOKEN}", {"data": {"update": UPDATE}}
    yield (
        "POST",
        "/update",
        {"content": UPDATE, "headers": {**headers, "Content-Type": "application/sparql-update"}},
    )
    for method in ("PUT", "POST"):
        for params in ({"graph": GRAPH_ONE}, {"default": ""}):
            yield (
                method,
                "/graphs",
                {
                    "params": params,
                    "content": TURTLE,
                    "headers": {**headers, "Content-Type": "text/turtle"},
                },
            )
    yield "DELETE", "/graphs", {"params": {"graph": GRAPH_ONE}}
    yield "DELETE", "/graphs", {"params": {"default": ""}}


def _snapshot(client: TestClient) -> tuple[bytes, int]:
    """The whole dataset as canonical N-Quads (RDFC-1.0, sorted), and the data generation.

    Each worker labels blank nodes its own way, so the raw dump differs between
    workers; the canonical form is identical exactly when the data is.
    """
    response = client.get("/dumps/openskies.nq")
    assert response.status_code == 200
    dataset = ox.Dataset(ox.parse(response.content, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    canonical = b"".join(sorted(f"{quad} .\n".encode() for quad in dataset))
    return canonical, client.get("/health").json()["generation"]


@pytest.mark.parametrize("name", sorted(WRONG_CREDENTIALS))
def test_no_write_without_the_token(client, name):
    headers = WRONG_CREDENTIALS[name]
    before = _snapshot(client)
    for method, url, kwargs in _attempts(headers):
        kwargs = {**kwargs}
        kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
        response = client.request(method, url, **kwargs)
        assert response.status_code in (401, 403), (method, url, response.status_code)
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text
    assert _snapshot(client) == before


def test_read_paths_cannot_write(client):
    before = _snapshot(client)
    attempts = [
        client.get("/sparql", params={"query": UPDATE}),
        client.post("/sparql", data={"query": UPDATE}),
        client.post("/sparql", data={"update": UPDATE}),
        client.post(
            "/sparql", content=UPDATE, headers={"Content-Type": "application/sparql-update"}
        ),
        client.get("/update", params={"update": UPDATE}),
        client.patch("/graphs", params={"graph": GRAPH_ONE}, content=TURTLE),
        client.request("PATCH", "/update", data={"update": UPDATE}),
        client.post(
            "/graphs",
            params={"graph": GRAPH_ONE},
            content=TURTLE,
            headers={"Content-Type": "text/turtle", "X-HTTP-Method-Override": "GET"},
        ),
    ]
    for response in attempts:
        assert response.status_code in (400, 401, 405, 415), response.status_code
    assert _snapshot(client) == before


def test_writes_are_off_with_an_empty_token():
    settings = endpoint_settings(update_token="", workers=1)
    with TestClient(create_app(settings)) as client:
        before = _snapshot(client)
        auth = {"Authorization": "Bearer "}
        assert client.post("/update", data={"update": UPDATE}, headers=auth).status_code == 403
        response = client.delete("/graphs", params={"graph": GRAPH_ONE}, headers=auth)
        assert response.status_code == 403
        assert _snapshot(client) == before


def test_token_is_compared_in_constant_time(client, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = deps.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(deps.hmac, "compare_digest", spy)
    for token in ("x", TOKEN[:-1], TOKEN + "x" * 100):
        response = client.post(
            "/update", data={"update": UPDATE}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 403
    assert len(calls) == 3
    # Digests of equal length: neither the content nor the length of the token leaks.
    assert {len(a) for a, _ in calls} | {len(b) for _, b in calls} == {32}


def test_token_is_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    bad = {"Authorization": f"Bearer {TOKEN}-almost"}
    client.post("/update", data={"update": "INSERT NOTHING"}, headers=auth)
    client.post("/update", data={"update": UPDATE}, headers=bad)
    client.put("/graphs", params={"graph": GRAPH_ONE}, content="not turtle <", headers=auth)
    client.get("/sparql", params={"query": "SELECT * {"}, headers=auth)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert TOKEN not in text
    for record in caplog.records:
        assert TOKEN not in repr(record.__dict__)
