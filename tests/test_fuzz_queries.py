"""Query fuzzing: malformed, huge, deep and pathological SPARQL never takes the server down.

Every generated query gets a 400 (refused or malformed), 403 (outbound),
413 (too long), 200 (harmless after all) or a 503 timeout within the limit,
never a 500; after each one the same server process answers ``/health`` and a
normal query. Workers are built to be replaced; the web server process is
not: the test runs the app in this very process, so a crash of the engine in
the server process would end the test run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from conftest_endpoint import PREFIX, endpoint_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openskies.server.app import create_app

TIMEOUT = 1.0
FAST = PREFIX + "ASK { ex:alice ex:knows ex:bob }"
PID = os.getpid()


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[TestClient]:
    app = create_app(
        endpoint_settings(
            query_timeout=TIMEOUT,
            max_query_length=100_000,
            max_body_bytes=400_000,
            max_result_rows=1000,
            workers=2,
        )
    )
    with TestClient(app) as client:
        yield client


def _check(client: TestClient, query: str) -> int:
    started = time.monotonic()
    response = client.post("/sparql", data={"query": query})
    elapsed = time.monotonic() - started
    status = response.status_code
    assert status in (200, 400, 403, 413, 503), (status, response.text[:300], query[:200])
    if status == 503:
        assert "timed out" in response.text
    # Within its limit: the evaluation timeout plus a generous margin for a busy machine.
    assert elapsed < TIMEOUT + 10, elapsed
    assert os.getpid() == PID
    assert client.get("/health").status_code == 200
    answer = client.get("/sparql", params={"query": FAST})
    assert answer.status_code == 200 and answer.json()["boolean"] is True
    return status


# Measured crashes of pyoxigraph 0.5.13 (segfault of the evaluating process), each
# under the default 100,000-character limit; the scan must refuse them all (400).
KNOWN_CRASHERS = {
    "nested groups": "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
    "nested parentheses": "SELECT * { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "union chain": "SELECT * { " + "UNION".join(["{}"] * 12_000) + " }",
    "or chain": "SELECT * { FILTER(" + "||".join(["?a"] * 12_000) + ") }",
    "object list": "SELECT * { ?s ?p " + ",".join(["?o"] * 9_000) + " }",
    "graph chain": "SELECT * { " + "GRAPH ?g {} " * 7_500 + " }",
    "collection": "SELECT * { ?s ?p (" + " 1" * 5_000 + ") }",
    "describe list": "DESCRIBE " + " ".join(f"<urn:x:{i}>" for i in range(3_500)),
    "values chain": "SELECT * { " + "VALUES ?x {1} " * 7_000 + " }",
}


@pytest.mark.parametrize("name", sorted(KNOWN_CRASHERS))
def test_known_engine_crashers_are_refused(fuzz_client, name):
    assert _check(fuzz_client, KNOWN_CRASHERS[name]) == 400


PATHOLOGICAL = {
    "cartesian product": "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o }",
    "sorted product": "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?a ?l",
    "distinct product": "SELECT DISTINCT ?a ?l { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "count product": (
        "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?x ?y ?z }"
    ),
    "group_concat product": (
        "SELECT (GROUP_CONCAT(STR(?c)) AS ?g) { ?a ?b ?c . ?d ?e ?f . ?g1 ?h ?i . ?j ?k ?l }"
    ),
    "path closure product": "SELECT * { ?a (<urn:x:p>|!<urn:x:q>)* ?b . ?c ?d ?e . ?f ?g ?h }",
    "regex bomb": 'SELECT * { ?s ?p ?o FILTER(REGEX(STR(?o), "^(a+)+$")) }',
    "huge regex": 'SELECT * { BIND(REGEX("a", "((a{100}){100}){100}") AS ?x) }',
    "string blow-up": (
        'SELECT (STRLEN(?x) AS ?n) { BIND("aaaaaaaaaa" AS ?a) '
        "BIND(CONCAT(?a,?a,?a,?a,?a,?a,?a,?a,?a,?a) AS ?b) "
        "BIND(CONCAT(?b,?b,?b,?b,?b,?b,?b,?b,?b,?b) AS ?c) "
        "BIND(CONCAT(?c,?c,?c,?c,?c,?c,?c,?c,?c,?c) AS ?x) }"
    ),
    "enormous literal": 'SELECT * { BIND("' + "a" * 99_000 + '" AS ?x) }',
    "too long": "SELECT * { " + "?s ?p ?o . " * 12_000 + "}",
    "unclosed braces": "SELECT * { ?s ?p ?o " + "{ " * 150,
    "unclosed string": 'SELECT * { BIND("abc AS ?x) }',
    "unclosed iri": "SELECT * { <http://example.org/ ?p ?o }",
    "nul bytes": "SELECT * { ?s ?p ?o }\x00\x00",
    "not sparql": "DROP TABLE users; --",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_queries(fuzz_client, name):
    _check(fuzz_client, PATHOLOGICAL[name])


# --- generated queries -----------------------------------------------------

_OPENERS = ["{", "(", "[", "{ SELECT * {", "OPTIONAL {", "FILTER(", "{ ?s ?p ", "GRAPH ?g {"]
_REPEATS = [
    "{} UNION ",
    "?o, ",
    "; ?p ?o ",
    "GRAPH ?g {} ",
    "VALUES ?x {1} ",
    "FILTER(true) ",
    "OPTIONAL {} ",
    "MINUS {} ",
    "BIND(1 AS ?b) ",
    " 1",
    "<urn:x:a> ",
    "?s ?p ?o . ",
    "|| ?a ",
    "+ 1 ",
    "! ",
    "- ",
    "/<urn:x:p>",
    "^<urn:x:p>",
    "[] ",
    "SERVICE <http://allowed.example/> {} ",
]
_VALID = [
    PREFIX + "SELECT ?p WHERE { ?p a ex:Person } ORDER BY ?p",
    "SELECT * { ?s ?p ?o FILTER(REGEX(STR(?o), 'a')) } LIMIT 3",
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "ASK { ?s ?p ?o }",
    "DESCRIBE ?s WHERE { ?s ?p ?o }",
]


@st.composite
def _nested(draw) -> str:
    opener = draw(st.sampled_from(_OPENERS))
    depth = draw(st.integers(min_value=1, max_value=12_000))
    closer = {"(": ")", "[": "]", "FILTER(": ")"}.get(opener, "}" * opener.count("{"))
    balanced = draw(st.booleans())
    body = opener * depth + ("1" if "(" in opener else "")
    return "SELECT * { " + body + (closer * depth if balanced else "") + " }"


@st.composite
def _mutated(draw) -> str:
    text = draw(st.sampled_from(_VALID))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            text = (
                text[:position]
                + draw(st.sampled_from(list("{}()[]<>\"'#.;,?$\\@^|")))
                + text[position:]
            )
        else:
            text = text[:position] + text[position:] * draw(st.integers(1, 50))
    return text[:120_000]


_LITERALS = st.builds(
    lambda size, char: 'SELECT * { BIND("' + char * size + '" AS ?x) }',
    st.integers(min_value=0, max_value=120_000),
    st.sampled_from(["a", "\\n", "é", "\U0001f600", '\\"']),
)


def _chained_fixed(draw_piece: str, count: int, wrapper: str) -> str:
    return wrapper.replace("@", draw_piece * count)


_CHAINS = st.builds(
    _chained_fixed,
    st.sampled_from(_REPEATS),
    st.integers(min_value=1, max_value=12_000),
    st.sampled_from(["SELECT * { ?s ?p @ }", "SELECT * { ?s ?p (@) }", "SELECT * { @ }"]),
)

QUERIES = st.one_of(_nested(), _CHAINS, _mutated(), _LITERALS, st.text(max_size=300))


@given(query=QUERIES)
@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_queries_never_crash_the_server(fuzz_client, query):
    _check(fuzz_client, query)


def test_live_server_survives_the_known_crashers(live_url):
    """The same through a real socket: uvicorn's process is this one, and still answers."""
    import httpx

    for name in ("nested groups", "object list", "collection", "describe list"):
        response = httpx.post(f"{live_url}/sparql", data={"query": KNOWN_CRASHERS[name]})
        assert response.status_code in (400, 413), name  # live_url allows 10,000 characters
        assert httpx.get(f"{live_url}/health").status_code == 200
    assert os.getpid() == PID
