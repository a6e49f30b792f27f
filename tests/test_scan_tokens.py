"""The pre-scan's tokens: what the refusal and outbound checks are computed from."""

from openskies.iris import PREFIXES
from openskies.server.sparql_scan import Token, scan, tokenize


def test_whitespace_and_comments_are_dropped_everywhere() -> None:
    assert tokenize("  SELECT\t?s # note\n{ ?s ?p ?o }   \n ") == [
        Token("word", "SELECT"),
        Token("var", "?s"),
        Token("punct", "{"),
        Token("var", "?s"),
        Token("var", "?p"),
        Token("var", "?o"),
        Token("punct", "}"),
    ]
    assert tokenize("") == []
    assert tokenize(" \n\u3000 ") == []


def test_an_unterminated_string_runs_to_the_end_blanks_included() -> None:
    assert tokenize('SELECT """open  \n ') == [
        Token("word", "SELECT"),
        Token("string", '"""open  \n '),
    ]


def test_iris_with_escapes_and_a_service_after_a_long_run_of_blanks() -> None:
    text = "SELECT * { SERVICE <http://evil.example/\\u0041> { ?s ?p ?o } }" + " " * 50_000
    result = scan(text, PREFIXES)
    assert result.outbound == [("SERVICE", "http://evil.example/A")]
    assert tokenize("<a\\u00>")[0] == Token("punct", "<")


def test_predeclared_prefixes_are_skipped_only_when_the_text_declares_what_it_uses() -> None:
    declared = "PREFIX osk: <https://w3id.org/openskies/ontology/>\nSELECT * { ?s osk:date ?d }"
    assert scan(declared, PREFIXES).needs_prefixes is False
    assert scan("SELECT * { <http://example.org/s> ?p ?o }", PREFIXES).needs_prefixes is False
    assert scan("SELECT * { ?s osk:date ?d }", PREFIXES).needs_prefixes is True
    half = "PREFIX osk: <https://w3id.org/openskies/ontology/>\nSELECT * { ?s rdfs:label ?d }"
    assert scan(half, PREFIXES).needs_prefixes is True
    # A declaration the scan cannot read: the engine gets the predeclared prefixes.
    assert scan("PREFIX 1x <http://e/> SELECT * { ?s ?p ?o }", PREFIXES).needs_prefixes is True
    # Where the scan reads an IRI the engine may read as "<" then a prefixed name.
    odd = "SELECT * { ?a ?p ?b FILTER(?a<osk:b&&?b>?a) }"
    assert scan(odd, PREFIXES).needs_prefixes is True
