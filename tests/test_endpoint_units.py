"""Unit checks of the endpoint's pure parts: the SPARQL scan and content negotiation."""

from __future__ import annotations

import pytest

from openskies.server.negotiation import Kind, NotAcceptable, negotiate, parse_accept
from openskies.server.sparql_scan import outbound_violations, scan


def test_scan_finds_form_dataset_and_depth():
    result = scan("PREFIX a: <http://a/> # SELECT\n ASK FROM <http://g> { { ?s a:p '}' } }")
    assert result.form == "ASK"
    assert result.has_dataset_clause
    assert result.max_depth == 2


def test_scan_ignores_strings_comments_and_iris():
    text = (
        "SELECT ?service WHERE { ?s <http://x/SERVICE> '''SERVICE <http://e/> ''' . "
        '?s ?p "SERVICE \\" <http://e/>" # SERVICE <http://e/>\n ?service a <x:SERVICE> }'
    )
    assert scan(text).outbound == []


def test_scan_resolves_prefixes_and_base():
    text = (
        "BASE <http://b.example/dir/> PREFIX e: <sub/> "
        "SELECT * { SERVICE e:x {} SERVICE <../y> {} SERVICE ?v {} SERVICE undeclared:z {} }"
    )
    assert scan(text).outbound == [
        ("SERVICE", "http://b.example/dir/sub/x"),
        ("SERVICE", "http://b.example/y"),
        ("SERVICE", None),
        ("SERVICE", None),
    ]


@pytest.mark.parametrize(
    ("iri", "allowed"),
    [
        ("http://ok.example/sparql", True),
        ("https://ok.example:8443/sparql", True),
        ("http://ok.example.evil/sparql", False),
        ("http://evil@ok.example/sparql", True),
        ("http://ok.example@evil/sparql", False),
        ("file:///etc/passwd", False),
        ("ftp://ok.example/", False),
        ("http://port.example:80/", True),
        ("http://port.example:81/", False),
    ],
)
def test_outbound_allowlist(iri, allowed):
    result = scan(f"SELECT * {{ SERVICE <{iri}> {{}} }}")
    violations = outbound_violations(result, ("ok.example", "port.example:80"))
    assert (violations == []) is allowed


def test_parse_accept():
    assert parse_accept("text/csv;q=0.5, */*;q=bogus, application/json") == [
        ("text/csv", 0.5),
        ("*/*", 0.0),
        ("application/json", 1.0),
    ]


def test_negotiate():
    assert negotiate(Kind.SOLUTIONS, None).name == "json"
    assert negotiate(Kind.GRAPH, "*/*").name == "turtle"
    assert negotiate(Kind.GRAPH, "application/json").name == "jsonld"
    assert negotiate(Kind.SOLUTIONS, "application/json").name == "json"
    assert negotiate(Kind.SOLUTIONS, "text/*").name == "csv"
    assert negotiate(Kind.SOLUTIONS, "application/*;q=0.1, text/tab-separated-values").name == "tsv"
    assert negotiate(Kind.GRAPH, "text/turtle", "application/rdf+xml").name == "rdfxml"
    with pytest.raises(NotAcceptable):
        negotiate(Kind.GRAPH, "text/csv")
    with pytest.raises(NotAcceptable):
        negotiate(Kind.SOLUTIONS, "application/json;q=0")
