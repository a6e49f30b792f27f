"""Outbound requests: SERVICE, LOAD, FROM and friends never reach a host off the allowlist.

A plain socket listener on a free loopback port records every connection it
accepts; it is never on the allowlist. Allow-listed are ``allowed.example``
(does not resolve), a *redirector* on another loopback port that answers every
request with a redirect to the listener, and ``www.wikidata.org`` (the host of
the default ``wd:`` prefix, so that a redefined prefix cannot borrow it). Each
request below aims at the listener in a different way (directly, via PREFIX,
BASE, escapes, comments, a redirect, dataset clauses, Graph Store payloads);
the test asserts the listener saw nothing and no local file leaked. A
Hypothesis test then hides an outbound call in random lexical noise, to
check that the server's lexical scan and the engine's parser agree.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from conftest_endpoint import TOKEN, endpoint_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openskies.server.app import create_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "openskies-local-secret-7f3a"


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(0.5)
            try:
                data = conn.recv(2048)
            except OSError:
                data = b""
            self.connections.append(data)
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _redirector(target: str) -> http.server.ThreadingHTTPServer:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def _redirect(self) -> None:
            self.send_response(307)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = _redirect

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    recorder = Listener()
    yield recorder
    recorder.close()


@pytest.fixture(scope="module")
def redirect_port(listener: Listener) -> Iterator[int]:
    server = _redirector(f"http://127.0.0.1:{listener.port}")
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("secret") / "secret.ttl"
    path.write_text(f'<urn:x:s> <urn:x:p> "{SECRET}" .\n')
    return path.as_uri()


@pytest.fixture(scope="module")
def outbound_client(redirect_port: int) -> Iterator[TestClient]:
    allowlist = ("allowed.example", f"127.0.0.1:{redirect_port}", "www.wikidata.org")
    app = create_app(
        endpoint_settings(
            update_token=TOKEN, outbound_allowlist=allowlist, query_timeout=5.0, workers=1
        )
    )
    with TestClient(app) as client:
        yield client


def _escaped(text: str) -> str:
    r"""Every character of ``text`` as a SPARQL ``\uXXXX`` escape."""
    return "".join(f"\\u{ord(char):04X}" for char in text)


def _queries(port: int, redirect: int, secret: str) -> list[tuple[str, str]]:
    target = f"http://127.0.0.1:{port}/sparql"
    esc = _escaped(f"127.0.0.1:{port}")
    return [
        ("direct", f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"),
        ("silent", f"SELECT * {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}"),
        ("lowercase", f"select * {{ service <{target}> {{ ?s ?p ?o }} }}"),
        (
            "prefix",
            f"PREFIX r: <http://127.0.0.1:{port}/> SELECT * {{ SERVICE r:x {{ ?s ?p ?o }} }}",
        ),
        ("base", f"BASE <http://127.0.0.1:{port}/> SELECT * {{ SERVICE <x> {{ ?s ?p ?o }} }}"),
        ("localhost", f"SELECT * {{ SERVICE <http://localhost:{port}/> {{ ?s ?p ?o }} }}"),
        ("other loopback", f"SELECT * {{ SERVICE <http://127.0.0.2:{port}/> {{ ?s ?p ?o }} }}"),
        ("decimal ip", f"SELECT * {{ SERVICE <http://2130706433:{port}/> {{ ?s ?p ?o }} }}"),
        ("ipv6", f"SELECT * {{ SERVICE <http://[::1]:{port}/> {{ ?s ?p ?o }} }}"),
        (
            "userinfo",
            f"SELECT * {{ SERVICE <http://allowed.example@127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        ),
        ("variable", f"SELECT * {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"),
        ("file", f"SELECT * {{ SERVICE <{secret}> {{ ?s ?p ?o }} }}"),
        # A prefix the scan knows (wd:, allow-listed host) redefined relative to the
        # engine's base IRI, or with escapes: the scan must not keep the old namespace.
        (
            "stale prefix, relative",
            f"PREFIX wd: <//127.0.0.1:{port}/> SELECT * {{ SERVICE wd:x {{ ?s ?p ?o }} }}",
        ),
        (
            "stale prefix, escaped",
            f"PREFIX wd: <http://{esc}/> SELECT * {{ SERVICE wd:x {{ ?s ?p ?o }} }}",
        ),
        (
            "stale base, escaped",
            f"BASE <http://allowed.example/> BASE <http://{esc}/> "
            "SELECT * { SERVICE <x> { ?s ?p ?o } }",
        ),
        ("escaped iri", f"SELECT * {{ SERVICE <http://{esc}/> {{ ?s ?p ?o }} }}"),
        # Text the engine reads as code but a loose scanner would read as a comment.
        (
            "blank node then comment",
            f"SELECT * {{ ?s ?p _:b#x '''\nSERVICE <{target}> {{ ?s ?p ?o }} #'''\n}}",
        ),
        (
            "escaped iri then hash",
            f"SELECT * {{ ?s ?p <http://x/\\u0041#> . SERVICE <{target}> {{ ?s ?p ?o }} }}",
        ),
        # The redirector is allow-listed; the engine must not follow it to the listener.
        (
            "redirect",
            f"SELECT * {{ SERVICE <http://127.0.0.1:{redirect}/sparql> {{ ?s ?p ?o }} }}",
        ),
        # Dataset clauses name graphs; they are never fetched.
        ("from", f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}"),
        ("from named", f"SELECT * FROM NAMED <{target}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
        ("from file", f"SELECT * FROM <{secret}> WHERE {{ ?s ?p ?o }}"),
        ("describe", f"DESCRIBE <{target}>"),
    ]


def _updates(port: int, redirect: int, secret: str) -> list[tuple[str, str]]:
    target = f"http://127.0.0.1:{port}/data.ttl"
    return [
        ("load", f"LOAD <{target}>"),
        ("load silent into", f"LOAD SILENT <{target}> INTO GRAPH <urn:x:g>"),
        ("load file", f"LOAD <{secret}>"),
        ("load file prefix", f"PREFIX f: <{secret.rsplit('/', 1)[0]}/> LOAD f:secret.ttl"),
        ("load redirect", f"LOAD <http://127.0.0.1:{redirect}/data.ttl>"),
        (
            "service in update",
            f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        ),
        (
            "second operation",
            f"INSERT DATA {{ <urn:x:a> <urn:x:b> 1 }} ; LOAD <{target}>",
        ),
        ("using", f"INSERT {{ <urn:x:a> <urn:x:b> 1 }} USING <{target}> WHERE {{ ?s ?p ?o }}"),
    ]


def _no_leak(response, listener: Listener, before: int) -> None:
    time.sleep(0.05)
    assert listener.connections[before:] == [], response.text
    assert response.status_code != 500, response.text
    assert SECRET not in response.text


def test_queries_never_reach_the_listener(outbound_client, listener, redirect_port, secret_file):
    statuses = {}
    for name, query in _queries(listener.port, redirect_port, secret_file):
        before = len(listener.connections)
        response = outbound_client.post("/sparql", data={"query": query})
        _no_leak(response, listener, before)
        statuses[name] = response.status_code
    refused = [name for name, status in statuses.items() if status == 403]
    assert statuses["redirect"] == 502  # allowed host, redirect not followed
    for name in ("from", "from named", "from file", "describe"):
        assert statuses[name] == 200, name
    expected_refusals = {
        name
        for name, _ in _queries(0, 0, "")
        if name not in ("redirect", "from", "from named", "from file", "describe")
    }
    assert set(refused) == expected_refusals, statuses


def test_protocol_dataset_parameters_are_not_fetched(outbound_client, listener):
    target = f"http://127.0.0.1:{listener.port}/graph"
    before = len(listener.connections)
    response = outbound_client.get(
        "/sparql",
        params={
            "query": "SELECT * { ?s ?p ?o }",
            "default-graph-uri": target,
            "named-graph-uri": target,
        },
    )
    _no_leak(response, listener, before)
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    response = outbound_client.get("/graphs", params={"graph": target})
    _no_leak(response, listener, before)
    assert response.status_code == 404


def test_updates_never_reach_the_listener(outbound_client, listener, redirect_port, secret_file):
    count = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    start = outbound_client.get("/sparql", params={"query": count}).json()
    for name, update in _updates(listener.port, redirect_port, secret_file):
        before = len(listener.connections)
        response = outbound_client.post("/update", data={"update": update}, headers=AUTH)
        _no_leak(response, listener, before)
        if name == "load redirect":
            assert response.status_code == 502, response.text
        elif name == "using":
            # USING names a graph; pyoxigraph answers a TypeError (reported as 400), no fetch.
            assert response.status_code in (204, 400), response.text
        else:
            assert response.status_code == 403, (name, response.text)
    assert outbound_client.get("/sparql", params={"query": count}).json() == start


def test_graph_store_payloads_fetch_nothing(outbound_client, listener, secret_file):
    target = f"http://127.0.0.1:{listener.port}"
    payloads = {
        "application/ld+json": (
            f'{{"@context": "{target}/context.jsonld", "@id": "urn:x:s", "name": "x"}}'
        ),
        "application/rdf+xml": (
            '<?xml version="1.0"?>\n'
            f'<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "{secret_file}">'
            f'<!ENTITY y SYSTEM "{target}/entity">]>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:e="urn:x:"><rdf:Description rdf:about="urn:x:s">'
            "<e:p>&x;&y;</e:p></rdf:Description></rdf:RDF>"
        ),
        "text/turtle": f"@base <{target}/> . <a> <b> <c> .",
    }
    graph = "urn:x:outbound-scratch"
    try:
        for media_type, body in payloads.items():
            before = len(listener.connections)
            response = outbound_client.put(
                "/graphs",
                params={"graph": graph},
                content=body,
                headers={**AUTH, "Content-Type": media_type},
            )
            _no_leak(response, listener, before)
            assert response.status_code in (201, 204, 400), response.text
            read = outbound_client.get(
                "/graphs", params={"graph": graph}, headers={"Accept": "application/n-triples"}
            )
            assert SECRET not in read.text
    finally:
        outbound_client.delete("/graphs", params={"graph": graph}, headers=AUTH)


# --- differential fuzzing: the scan and the engine must read the text alike ---

_NOISE = st.sampled_from(
    [
        " ",
        "\n",
        "\t",
        "# comment\n",
        "#",
        "'",
        "'''",
        '"',
        '"""',
        "\\",
        "\\u0041",
        "<http://x/\\u0041#>",
        "<http://x/a#>",
        "_:b",
        "_:b#",
        "_:b.",
        "?v",
        "$v",
        "?v#",
        "ex:a",
        "ex:a\\#",
        ":",
        ".",
        ";",
        ",",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "<",
        ">",
        "@en",
        "^^",
        "1.",
        "1.5e3",
        "a",
        "PREFIX",
        "BASE",
        "SILENT",
        "SERVICE",
        "\u3000",
        "\u00b7",
        "\u0300",
        "\u2028",
    ]
)


@st.composite
def _hidden_service(draw, port: int) -> str:
    esc = _escaped(f"127.0.0.1:{port}")
    # (prologue, target): each target aims at the listener once the prologue is
    # read as the engine reads it (never at a real host: no DNS look-ups either).
    prologue, target = draw(
        st.sampled_from(
            [
                ("", f"<http://127.0.0.1:{port}/s>"),
                ("", f"<http://{esc}/s>"),
                (f"PREFIX r: <http://127.0.0.1:{port}/> ", "r:s"),
                (f"PREFIX wd: <//127.0.0.1:{port}/> ", "wd:s"),
                (f"PREFIX wd: <http://{esc}/> ", "wd:s"),
                (f"BASE <http://127.0.0.1:{port}/> ", "<s>"),
                (f"BASE <http://allowed.example/> BASE <http://{esc}/> ", "<s>"),
            ]
        )
    )
    before = "".join(draw(st.lists(_NOISE, max_size=6)))
    between = "".join(draw(st.lists(_NOISE, max_size=2)))
    after = "".join(draw(st.lists(_NOISE, max_size=4)))
    silent = draw(st.sampled_from(["", "SILENT "]))
    return (
        f"{prologue}SELECT * {{ ?s ?p ?o {before}\nSERVICE {silent}{between}{target} "
        f"{{ ?s ?p ?o }} {after}\n}}"
    )


@given(data=st.data())
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_fuzzed_service_calls_never_connect(outbound_client, listener, data):
    query = data.draw(_hidden_service(listener.port))
    before = len(listener.connections)
    response = outbound_client.post("/sparql", data={"query": query})
    _no_leak(response, listener, before)
    assert response.status_code in (200, 400, 403), (query, response.text)
