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


# ---------------------------------------------------------------- the fast tokenizer is exact
# ``tokenize`` tries all-ASCII keywords, prefixed names and variables first
# (a speed-up); it must give exactly the tokens of the grammar's own pattern,
# ``token_regex()``, which the remote store's substitution also uses.

import random  # noqa: E402
from pathlib import Path  # noqa: E402

from openskies.server.sparql_scan import token_regex  # noqa: E402

_SUITE = Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql11"
_QUERIES = Path(__file__).resolve().parents[1] / "queries"
_TRICKY = ".:-_%\\·é\u0300?$#<>\"'{}()0123456789 \n\tab"


def _grammar_tokens(text: str) -> list[Token]:
    tokens = []
    for match in token_regex().finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, match.group(kind)))
    return tokens


def _corpus() -> list[str]:
    files = [*sorted(_SUITE.rglob("*.r[qu]")), *sorted(_QUERIES.glob("*.rq"))]
    return [path.read_text(encoding="utf-8", errors="replace") for path in files]


def test_tokens_equal_the_grammar_patterns_on_every_suite_and_catalog_query() -> None:
    corpus = _corpus()
    assert len(corpus) > 300
    for text in corpus:
        assert tokenize(text) == _grammar_tokens(text), text


def test_tokens_equal_the_grammar_patterns_on_mutated_queries() -> None:
    """Characters that end, continue or escape names, dropped into real queries."""
    rng = random.Random(20261129)
    corpus = [text for text in _corpus() if len(text) < 2_000]
    for _ in range(3_000):
        chars = list(rng.choice(corpus))
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(chars) + 1)
            if chars and rng.random() < 0.3:
                del chars[min(position, len(chars) - 1)]
            else:
                chars.insert(position, rng.choice(_TRICKY))
        text = "".join(chars)
        assert tokenize(text) == _grammar_tokens(text), text
