"""W3C SPARQL 1.1 syntax tests through the endpoint: valid queries pass every
pre-check and are not called malformed, invalid ones get 400 (never a 500).

A valid query may still be refused by the engine (syntax-select-expr-04 calls
an unknown extension function): that is a 400 that is not "Malformed"."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF

SUITE = (
    Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql11" / "syntax-query"
)
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")


def _cases() -> list[tuple[str, str, bool]]:
    manifest = SUITE / "manifest.ttl"
    if not manifest.exists():
        return []
    graph = Graph().parse(manifest, format="turtle")
    cases = []
    for entries in graph.objects(None, MF.entries):
        for test in Collection(graph, entries):
            kind = str(graph.value(test, RDF.type)).rsplit("#", 1)[-1]
            action = Path(str(graph.value(test, MF.action)).removeprefix("file://"))
            positive = kind == "PositiveSyntaxTest11"
            if kind in ("PositiveSyntaxTest11", "NegativeSyntaxTest11"):
                cases.append((action.name, action.read_text(encoding="utf-8"), positive))
    return cases


CASES = _cases()


@pytest.mark.skipif(not CASES, reason="W3C test suite not available at " + str(SUITE))
def test_w3c_syntax_suite(client):
    wrong = []
    for name, query, positive in CASES:
        response = client.post("/sparql", data={"query": query})
        if positive:
            ok = response.status_code == 200 or (
                response.status_code == 400 and not response.text.startswith("Malformed")
            )
        else:
            ok = response.status_code == 400 and response.text.startswith("Malformed")
        if not ok:
            wrong.append(f"{name}: {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)
