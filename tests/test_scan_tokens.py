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
from collections.abc import Iterator  # noqa: E402
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


def _mutations(seed: int, count: int, alphabet: str) -> Iterator[str]:
    """Real queries with a few characters of ``alphabet`` dropped in or characters taken out."""
    rng = random.Random(seed)
    corpus = [text for text in _corpus() if len(text) < 2_000]
    for _ in range(count):
        chars = list(rng.choice(corpus))
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(chars) + 1)
            if chars and rng.random() < 0.3:
                del chars[min(position, len(chars) - 1)]
            else:
                chars.insert(position, rng.choice(alphabet))
        yield "".join(chars)


def test_tokens_equal_the_grammar_patterns_on_mutated_queries() -> None:
    """Characters that end, continue or escape names, dropped into real queries."""
    for text in _mutations(20261129, 3_000, _TRICKY):
        assert tokenize(text) == _grammar_tokens(text), text


# ---------------------------------------------------------------- the quick scan agrees
# ``quick_scan`` decides plain queries without tokenizing them; where it
# answers, every verdict must be the full scan's, and its depth and operator
# figures must bound the full scan's (they are only compared with the limits).

from openskies.server.sparql_scan import ScanResult, quick_scan  # noqa: E402

_LIMITS = {"max_depth": 200, "max_operators": 2_000}


def _assert_agrees(text: str, quick: ScanResult) -> None:
    full = scan(text, PREFIXES)
    assert (quick.form, quick.has_dataset_clause, quick.outbound, quick.needs_prefixes) == (
        full.form,
        full.has_dataset_clause,
        full.outbound,
        full.needs_prefixes,
    ), text
    assert quick.max_depth >= full.max_depth and quick.operators >= full.operators, text


def test_the_quick_scan_agrees_with_the_full_scan_on_every_suite_and_catalog_query() -> None:
    answered = 0
    for text in _corpus():
        quick = quick_scan(text, PREFIXES, **_LIMITS)
        if quick is not None:
            answered += 1
            _assert_agrees(text, quick)
    assert answered > 250  # most real queries take the quick path


def test_the_quick_scan_agrees_on_mutated_queries() -> None:
    # Keyword and prologue characters, and letters and blanks that fold or look like ASCII.
    tricky = _TRICKY + "#:<>PREFIXBASEselect\u017f\u212a\u0130\u3000"
    answered = 0
    for text in _mutations(20261130, 4_000, tricky):
        quick = quick_scan(text, PREFIXES, **_LIMITS)
        if quick is not None:
            answered += 1
            _assert_agrees(text, quick)
    assert answered > 1_000


def test_the_quick_scan_leaves_to_the_full_scan_what_it_cannot_decide() -> None:
    def quick(text: str, **limits: int) -> ScanResult | None:
        return quick_scan(text, PREFIXES, **{**_LIMITS, **limits})

    plain = "PREFIX osk: <https://w3id.org/openskies/ontology/>\nSELECT * { ?s osk:date ?d }"
    assert quick(plain) is not None
    assert quick(plain, max_depth=0) is None  # a bracket more than the depth limit allows
    assert quick(plain, max_operators=len(plain) - 1) is None
    for text in (
        "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * FROM <http://example.org/g> { ?s ?p ?o }",
        "LOAD <file:///etc/passwd>",
        "PREFIX e: <http://e/\\u0041> SELECT * { ?s ?p ?o }",  # an escape in a declared IRI
        "PREFIXosk: <http://e/> SELECT * { ?s osk:p ?o }",  # one pname, not a declaration
        "PREFIX osk:x <http://e/> SELECT * { ?s ?p ?o }",
        "SELECT:x * { ?s ?p ?o }",  # a prefixed name, not the keyword
        "INSERT DATA { <http://e/s> <http://e/p> 1 }",
        "\u017fELECT * { ?s ?p ?o }",  # a long s folds to S, but is no keyword to the tokenizer
        "PREFIX \u212a: <http://e/> SELECT * { ?s ?p ?o }",  # a Kelvin sign folds to k
        "SELECT\u3000* { ?s ?p ?o }",  # a blank outside ASCII
    ):
        assert quick(text) is None, text
    # What looks like a declaration in a comment is the full scan's to judge.
    commented = "# PREFIX osk: <https://w3id.org/openskies/ontology/>\nSELECT * { ?s osk:date ?d }"
    assert quick(commented) is None
    assert scan(commented, PREFIXES).needs_prefixes is True
    lower = (
        "prefix osk: <https://w3id.org/openskies/ontology/>\n"
        "construct { ?s ?p ?o } where { ?s osk:date ?o }"
    )
    result = quick(lower)
    assert result is not None and result.form == "CONSTRUCT" and result.needs_prefixes is False
