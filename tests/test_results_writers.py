"""The exact bytes of the SELECT writers (server/results.py) and the worker's "prefixes" flag.

The writers assemble text directly and keep each term's text from one call to
the next, so every format is compared byte for byte with a slow, obvious
writer built from the specifications (dicts and ``json.dumps`` for JSON),
over a store that holds every kind of term, and checked against pyoxigraph's
own serializers and parsers for meaning. Each answer is written twice: the
first time the terms are new, the second time they are remembered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
import pytest

from openskies.iris import PREFIXES
from openskies.server.results import WRITERS, write_csv, write_json, write_tsv, write_xml
from openskies.server.worker import Engine

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
OSK = PREFIXES["osk"]

TRICKY_TEXTS = [
    "plain",
    "",
    'say "hi"',
    "back\\slash \\u0041 \\n",
    "controls \x00\x01\x08\x0b\x0c\x1f\x7f end",
    "lines\nand\r\nreturns\ttabs",
    "comma, and ,,",
    "markup <a href='x'>&amp;</a> ]]>",
    "café, naïve, Ελληνικά, 日本語",
    "astral 😀 𝄞 and \u2028\u2029 separators",
    "\ue000 private use",
    "long " + "x" * 300,
    '{"type":"uri","value":"not a term"}',
    "\x00",
]


def _terms() -> list[object]:
    """Every kind of term, each kind with the characters each format must escape."""
    terms: list[object] = [
        ox.NamedNode(EX + "s"),
        ox.NamedNode(EX + "caf%C3%A9?q=1&r=2#frag"),
        ox.NamedNode(EX + "é/😀"),
        ox.NamedNode("urn:uuid:00000000-0000-0000-0000-000000000000"),
        ox.BlankNode("b0"),
        ox.BlankNode("another_blank"),
        ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")),
        ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")),
        ox.Literal("2024-02-29", datatype=ox.NamedNode(XSD + "date")),
        ox.Literal("explicit", datatype=ox.NamedNode(XSD + "string")),
        ox.Literal("odd type", datatype=ox.NamedNode(EX + "type?a=1&b='q'")),
        ox.Literal("hello", language="en"),
        ox.Literal("bonjour", language="fr-BE"),
        ox.Literal("zh", language="zh-Hant-TW"),
        ox.Literal("مرحبا", language="ar", direction=ox.BaseDirection.RTL),
        ox.Literal('left "to" right', language="en", direction=ox.BaseDirection.LTR),
    ]
    terms += [ox.Literal(text) for text in TRICKY_TEXTS]
    terms += [ox.Literal(text, language="en") for text in TRICKY_TEXTS[2:6]]
    terms += [ox.Literal(text, datatype=ox.NamedNode(EX + "dt")) for text in TRICKY_TEXTS[2:6]]
    terms.append(ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "b"), ox.Literal("c")))
    terms.append(
        ox.Triple(
            ox.NamedNode(EX + "a"),
            ox.NamedNode(EX + "b"),
            ox.Literal("שלום", language="he", direction=ox.BaseDirection.RTL),
        )
    )
    terms.append(
        ox.Triple(
            ox.BlankNode("tb"),
            ox.NamedNode(EX + "says"),
            ox.Triple(ox.NamedNode(EX + "x"), ox.NamedNode(EX + "y"), ox.Literal('q"\n')),
        )
    )
    return terms


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """Every term as the object of a statement; a label on half of the subjects."""
    store = ox.Store()
    quads = []
    for index, term in enumerate(_terms()):
        subject = ox.NamedNode(f"{EX}item/{index}") if index % 3 else ox.BlankNode(f"n{index}")
        quads.append(ox.Quad(subject, ox.NamedNode(EX + "value"), term))
        quads.append(ox.Quad(subject, ox.NamedNode(EX + "kind"), ox.Literal(type(term).__name__)))
        if index % 2:
            quads.append(ox.Quad(subject, ox.NamedNode(EX + "label"), ox.Literal(f"label {index}")))
    store.extend(quads)
    return store


QUERIES = {
    "three columns": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "one column": "SELECT ?o WHERE { ?s ?p ?o }",
    "repeats": "SELECT ?p ?k WHERE { ?s ?p ?o ; <http://example.org/kind> ?k }",
    "unbound last": (
        "SELECT ?s ?o ?label WHERE { ?s <http://example.org/value> ?o "
        "OPTIONAL { ?s <http://example.org/label> ?label } }"
    ),
    "unbound first": (
        "SELECT ?label ?o WHERE { ?s <http://example.org/value> ?o "
        "OPTIONAL { ?s <http://example.org/label> ?label } }"
    ),
    "unbound middle": (
        "SELECT ?o ?label ?s WHERE { ?s <http://example.org/value> ?o "
        "OPTIONAL { ?s <http://example.org/label> ?label } }"
    ),
    "all unbound": "SELECT ?x ?y WHERE { OPTIONAL { ?x <http://example.org/none> ?y } }",
    "one unbound column": "SELECT ?x WHERE { OPTIONAL { ?x <http://example.org/none> ?y } }",
    "no variables": "SELECT * WHERE { }",
    "no variables, two rows": "SELECT * WHERE { { } UNION { } }",
    "no rows": "SELECT ?s ?o WHERE { ?s <http://example.org/none> ?o }",
    "odd names": "SELECT ?é ?_x1 ?LONG_name WHERE { ?é ?_x1 ?LONG_name }",
}


def _solutions(store: ox.Store, query: str) -> tuple[list[str], list[tuple]]:
    results = store.query(query)
    variables = [variable.value for variable in results.variables]
    return variables, [tuple(solution) for solution in results]


# --- the slow, obvious writers ---------------------------------------------------------


def _json_term(term: object) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if term.direction is not None:  # RDF 1.2: SPARQL 1.2 Query Results JSON
                out["its:dir"] = str(term.direction)
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    assert isinstance(term, ox.Triple)
    parts = ("subject", "predicate", "object")
    return {"type": "triple", "value": {part: _json_term(getattr(term, part)) for part in parts}}


def reference_json(variables: Sequence[str], rows: Sequence[tuple]) -> bytes:
    bindings = [
        {
            name: _json_term(term)
            for name, term in zip(variables, row, strict=True)
            if term is not None
        }
        for row in rows
    ]
    document = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return "<uri>" + escape(term.value) + "</uri>"
    if isinstance(term, ox.BlankNode):
        return "<bnode>" + escape(term.value) + "</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attributes = " xml:lang=" + quoteattr(term.language)
            if term.direction is not None:  # RDF 1.2, written as pyoxigraph writes it
                attributes += " its:dir=" + quoteattr(str(term.direction))
                attributes += ' xmlns:its="http://www.w3.org/2005/11/its" its:version="2.0"'
        elif term.datatype.value != XSD + "string":
            attributes = " datatype=" + quoteattr(term.datatype.value)
        else:
            attributes = ""
        return "<literal" + attributes + ">" + escape(term.value) + "</literal>"
    assert isinstance(term, ox.Triple)
    return (
        "<triple>"
        + "".join(
            f"<{part}>{_xml_term(getattr(term, part))}</{part}>"
            for part in ("subject", "predicate", "object")
        )
        + "</triple>"
    )


def reference_xml(variables: Sequence[str], rows: Sequence[tuple]) -> bytes:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n'
    text += '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
    for name in variables:
        text += "<variable name=" + quoteattr(name) + "/>"
    text += "</head><results>"
    for row in rows:
        text += "<result>"
        for name, term in zip(variables, row, strict=True):
            if term is not None:
                text += "<binding name=" + quoteattr(name) + ">" + _xml_term(term) + "</binding>"
        text += "</result>"
    return (text + "</results></sparql>\n").encode()


def _csv_field(text: str) -> str:
    if any(character in text for character in '",\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_term(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return _csv_field("_:" + term.value)
    if isinstance(term, ox.NamedNode | ox.Literal):
        return _csv_field(term.value)
    return _csv_field(str(term))


def reference_csv(variables: Sequence[str], rows: Sequence[tuple]) -> bytes:
    lines = [",".join(_csv_field(name) for name in variables)]
    lines += [",".join(_csv_term(term) for term in row) for row in rows]
    return "".join(line + "\r\n" for line in lines).encode()


def _tsv_term(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Triple):  # Turtle 1.2 syntax for a triple term
        parts = (term.subject, term.predicate, term.object)
        return "<<( " + " ".join(_tsv_term(part) for part in parts) + " )>>"
    return str(term)


def reference_tsv(variables: Sequence[str], rows: Sequence[tuple]) -> bytes:
    lines = ["\t".join("?" + name for name in variables)]
    lines += ["\t".join(_tsv_term(term) for term in row) for row in rows]
    return "".join(line + "\n" for line in lines).encode()


REFERENCES: dict[str, Callable[[Sequence[str], Sequence[tuple]], bytes]] = {
    "json": reference_json,
    "xml": reference_xml,
    "csv": reference_csv,
    "tsv": reference_tsv,
}


# --- bytes ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_each_writer_writes_the_bytes_of_the_obvious_writer(store, name, fmt):
    variables, rows = _solutions(store, QUERIES[name])
    expected = REFERENCES[fmt](variables, rows)
    assert WRITERS[fmt](variables, rows) == expected  # terms new to the writer
    assert WRITERS[fmt](variables, rows) == expected  # the same terms, remembered
    again = [tuple(row) for row in _solutions(store, QUERIES[name])[1]]  # new objects, same terms
    assert WRITERS[fmt](variables, again) == REFERENCES[fmt](variables, again)


def test_json_is_what_pyoxigraph_writes(store):
    """Byte for byte, RDF 1.2 terms included (directional literals, triple terms)."""
    query = "SELECT ?s ?o WHERE { ?s <http://example.org/value> ?o } ORDER BY ?s ?o"
    variables, rows = _solutions(store, query)
    directional = [row for row in rows if isinstance(row[1], ox.Literal) and row[1].direction]
    assert len(directional) == 2
    theirs = store.query(query).serialize(format=ox.QueryResultsFormat.JSON)
    assert write_json(variables, rows) == theirs


def test_the_queries_cover_every_case(store):
    """Guards the test data: unbound values in every position, rows with none, no rows."""
    cases = {name: _solutions(store, query) for name, query in QUERIES.items()}
    for name, position in (("unbound first", 0), ("unbound middle", 1), ("unbound last", 2)):
        rows = cases[name][1]
        assert any(row[position] is None for row in rows)
        assert any(row[position] is not None for row in rows)
    assert cases["all unbound"][1] == [(None, None)]
    assert cases["no variables"] == ([], [()])
    assert cases["no variables, two rows"][0] == []
    assert len(cases["no variables, two rows"][1]) == 2
    assert cases["no rows"] == (["s", "o"], [])
    objects = {type(row[2]) for row in cases["three columns"][1]}
    assert objects == {ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_writers_match_for_hand_made_rows(fmt):
    """Rows that did not come from a query: the same term object in several places,
    equal terms that are different objects, and many more terms than the writers keep."""
    shared = ox.Literal('shared, "quoted"\n', language="en")
    many = [ox.Literal(f"value {index}") for index in range(5000)]
    rows = [(shared, ox.NamedNode(EX + "p"), shared)] * 3
    rows += [(ox.Literal('shared, "quoted"\n', language="en"), None, term) for term in many]
    rows += [(None, None, None), (shared, shared, shared)]
    variables = ["a", "b", "c"]
    for _ in range(2):
        assert WRITERS[fmt](variables, rows) == REFERENCES[fmt](variables, rows)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_rows_of_the_wrong_length_are_refused(fmt):
    term = ox.NamedNode(EX + "s")
    with pytest.raises(ValueError):
        WRITERS[fmt](["a", "b"], [(term, term), (term,)])
    with pytest.raises(ValueError):
        WRITERS[fmt](["a", "b"], [(term,), (term,)])


# --- meaning, against pyoxigraph ------------------------------------------------------


def _canonical(bindings: list[dict]) -> list[str]:
    return sorted(json.dumps(binding, sort_keys=True) for binding in bindings)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_json_means_what_pyoxigraph_writes(store, name):
    variables, rows = _solutions(store, QUERIES[name])
    ours = json.loads(write_json(variables, rows))
    theirs = json.loads(store.query(QUERIES[name]).serialize(format=ox.QueryResultsFormat.JSON))
    assert ours["head"] == theirs["head"]
    assert _canonical(ours["results"]["bindings"]) == _canonical(theirs["results"]["bindings"])


def _parsed(data: bytes, fmt: ox.QueryResultsFormat) -> list[tuple]:
    solutions = ox.parse_query_results(data, format=fmt)
    return [tuple(solution) for solution in solutions]


def _xml_safe(term: object) -> bool:
    """What survives pyoxigraph's XML parser as written (raw, as the writer always did).

    XML 1.0 cannot hold most control characters, parsers turn a raw CR into LF,
    and pyoxigraph's parser trims white space around a literal's text.
    """
    if isinstance(term, ox.Triple):
        return all(_xml_safe(part) for part in (term.subject, term.predicate, term.object))
    text = term.value if isinstance(term, ox.Literal) else ""
    if text != text.strip():
        return False
    return not any(ord(c) < 0x20 and c not in "\t\n" or c in "\r\ufffe\uffff" for c in text)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_xml_and_tsv_parse_back_to_the_same_terms(store, name):
    variables, rows = _solutions(store, QUERIES[name])
    safe = [row for row in rows if all(term is None or _xml_safe(term) for term in row)]
    assert sorted(map(repr, _parsed(write_xml(variables, safe), ox.QueryResultsFormat.XML))) == (
        sorted(map(repr, safe))
    )
    assert sorted(map(repr, _parsed(write_tsv(variables, rows), ox.QueryResultsFormat.TSV))) == (
        sorted(map(repr, rows))
    )


def test_csv_is_what_pyoxigraph_writes_for_plain_terms(store):
    """pyoxigraph writes the same CSV except for triple terms (no CSV form is standard)."""
    query = "SELECT ?s ?o WHERE { ?s <http://example.org/value> ?o FILTER(!isTRIPLE(?o)) }"
    variables, rows = _solutions(store, query)
    theirs = store.query(query).serialize(format=ox.QueryResultsFormat.CSV)
    ours = write_csv(variables, rows)
    assert sorted(ours.split(b"\r\n")) == sorted(theirs.split(b"\r\n"))


def test_the_head_is_written_for_no_rows():
    assert write_json(["a", "b"], []) == b'{"head":{"vars":["a","b"]},"results":{"bindings":[]}}'
    assert write_csv(["a", "b"], []) == b"a,b\r\n"
    assert write_tsv(["a", "b"], []) == b"?a\t?b\n"
    assert write_xml([], []).endswith(b"<head></head><results></results></sparql>\n")


# --- the worker: rows, truncation and the "prefixes" flag ----------------------------


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path: Path = tmp_path_factory.mktemp("writers") / "data.nt"
    lines = [
        f'<{OSK}thing/{index}> <{OSK}name> "thing {index}"@en .\n'
        f"<{OSK}thing/{index}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{OSK}Thing> .\n"
        for index in range(6)
    ]
    path.write_text("".join(lines), encoding="utf-8")
    engine = Engine([str(path)], PREFIXES, "http://127.0.0.1:8000/sparql")
    engine.load(0, None)
    return engine


def _request(query: str, fmt: str = "json", **extra: object) -> dict:
    request = {
        "op": "query",
        "query": query,
        "default_graphs": [],
        "named_graphs": [],
        "union": True,
        "format": fmt,
        "max_rows": 10000,
        "generation": 0,
        "snapshot": None,
    }
    request.update(extra)
    return request


UNDECLARED = "SELECT ?s ?name WHERE { ?s a osk:Thing ; osk:name ?name } ORDER BY ?s"
DECLARED = f"PREFIX osk: <{OSK}>\n{UNDECLARED}"


@pytest.mark.parametrize("flag", [{}, {"prefixes": True}])
def test_the_server_prefixes_apply_unless_the_request_says_otherwise(engine, flag):
    reply = engine.handle(_request(UNDECLARED, **flag))
    assert reply["ok"], reply
    assert len(json.loads(reply["body"])["results"]["bindings"]) == 6


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_a_query_that_declares_its_prefixes_answers_the_same_without_them(engine, fmt):
    with_prefixes = engine.handle(_request(DECLARED, fmt))
    without = engine.handle(_request(DECLARED, fmt, prefixes=False))
    assert without == with_prefixes
    assert without == engine.handle(_request(UNDECLARED, fmt))
    assert set(without) == {"ok", "body", "truncated", "kind"}


def test_without_the_server_prefixes_an_undeclared_prefix_is_an_error(engine):
    reply = engine.handle(_request(UNDECLARED, prefixes=False))
    assert reply["ok"] is False
    assert reply["status"] == 400
    assert reply["message"].startswith("Malformed query")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
        "SELECT ?s ?p WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
        "SELECT * WHERE { }",
        "SELECT ?nothing WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
    ],
)
@pytest.mark.parametrize("max_rows", [0, 1, 5, 12, 100])
def test_replies_cut_at_max_rows(engine, query, max_rows):
    reply = engine.handle(_request(query, max_rows=max_rows))
    results = engine.store.query(query, use_default_graph_as_union=True)
    variables = [variable.value for variable in results.variables]
    rows = [tuple(solution) for solution in results]
    assert reply == {
        "ok": True,
        "body": reference_json(variables, rows[:max_rows]),
        "truncated": len(rows) > max_rows,
        "kind": "solutions",
    }


def test_rows_are_read_by_position(engine):
    """The worker reads each solution with ``itemgetter``: the same values as iterating it."""
    query = "SELECT ?o ?s ?p WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    solutions = list(engine.store.query(query))
    assert list(map(itemgetter(0, 1, 2), solutions)) == [tuple(s) for s in solutions]


@pytest.mark.parametrize("width", [1, 2, 65, 70])
def test_any_number_of_variables(engine, width):
    names = " ".join(f"?v{index}" for index in range(width))
    values = " ".join(f'"{index}"' if index % 3 else "UNDEF" for index in range(width))
    query = f"SELECT {names} WHERE {{ VALUES ({names}) {{ ({values}) ({values}) }} }}"
    for fmt in sorted(WRITERS):
        reply = engine.handle(_request(query, fmt))
        variables, rows = _solutions(engine.store, query)
        assert reply["body"] == REFERENCES[fmt](variables, rows)
        assert len(rows) == 2


# --- the engine's own JSON, within the row cap -------------------------------------------


def _unbound_rows(count: int) -> str:
    """``count`` solutions with nothing bound: the fewest bytes a row can take in JSON."""
    return f"SELECT ?x WHERE {{ VALUES ?x {{ {'UNDEF ' * count}}} }}"


@pytest.mark.parametrize("max_rows", [0, 1, 39, 40, 41, 54, 55, 56, 100])
def test_json_answers_are_cut_at_the_cap_whichever_writer_writes_them(engine, max_rows):
    """pyoxigraph writes a JSON answer only when its size proves it within ``max_rows``;
    otherwise the worker reads and counts the rows itself. Either way the bytes are the
    same, and an answer over the cap is cut and flagged."""
    query = _unbound_rows(40)
    reply = engine.handle(_request(query, max_rows=max_rows))
    rows = [(None,)] * 40
    assert reply == {
        "ok": True,
        "body": reference_json(["x"], rows[:max_rows]),
        "truncated": max_rows < 40,
        "kind": "solutions",
    }


def test_the_engine_writes_answers_that_fit_and_declines_the_rest(engine):
    from openskies.server.worker import JSON_ROW_BYTES, engine_json_reply

    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    results = engine.store.query(query, use_default_graph_as_union=True)
    variables = [variable.value for variable in results.variables]
    rows = [tuple(solution) for solution in results]
    expected = reference_json(variables, rows)
    enough = -(-len(expected) // JSON_ROW_BYTES)  # the least cap that proves the size safe
    assert enough > len(rows)
    answer = engine.store.query(query, use_default_graph_as_union=True)
    assert engine_json_reply(answer, enough) == {
        "ok": True,
        "body": expected,
        "truncated": False,
        "kind": "solutions",
    }
    answer = engine.store.query(query, use_default_graph_as_union=True)
    assert engine_json_reply(answer, enough - 1) is None


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_engine_json_is_byte_for_byte_ours(store, name):
    """Whichever writer a JSON answer takes (``engine_json_reply`` or ``write_json``), the
    client gets the same bytes, for every case of the test data."""
    from openskies.server.worker import engine_json_reply

    variables, rows = _solutions(store, QUERIES[name])
    reply = engine_json_reply(store.query(QUERIES[name]), 1_000_000)
    assert reply is not None
    assert reply["body"] == write_json(variables, rows)
