"""Helpers for running the W3C SPARQL 1.1 query-evaluation tests through ``/sparql``.

The suite (verbatim from w3c/rdf-tests, ``sparql/sparql11``) is read from its
manifests; every data file becomes one named graph, named by the file's IRI
under ``BASE_IRI``, of a single TriG fixture; each test's query is sent with
the dataset given by protocol parameters; and the response is compared with
the expected result file:

* SELECT: multisets of rows, terms compared as RDF terms (lexical form,
  datatype, language tag), blank nodes up to a consistent renaming; for CSV
  only the plain lexical values count; with a top-level ``ORDER BY`` on plain
  variables the sequence of sort keys must match too;
* ASK: the boolean;
* CONSTRUCT: graph isomorphism.

Expected and actual results are parsed by rdflib (never by the engine under
test), with rdflib's literal normalisation switched off so that lexical forms
survive parsing (``"01"^^xsd:integer`` must not turn into ``"1"``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD
from rdflib.query import Result

SUITE_DIR = Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql11"
"""Where CI checks out w3c/rdf-tests (``../shared/w3c-rdf-tests`` from the repo root)."""

BASE_IRI = "https://w3c.github.io/rdf-tests/sparql/sparql11/"
"""Published location of the suite: data graphs and query bases are named under it."""

EMPTY_GRAPH = "urn:x-openskies-test:empty-default-graph"
"""A graph name absent from the fixture: the default graph of tests without qt:data."""

FOLDERS = (
    "aggregates",
    "bind",
    "bindings",
    "cast",
    "construct",
    "exists",
    "functions",
    "grouping",
    "negation",
    "project-expression",
    "property-path",
    "subquery",
    "csv-tsv-res",
    "json-res",
)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

EVALUATION_TYPES = {MF.QueryEvaluationTest, MF.CSVResultFormatTest}
"""CSVResultFormatTest (csv-tsv-res) is a query evaluation checked against a CSV file."""

MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "tsv": "text/tab-separated-values",
    "csv": "text/csv",
    "nt": "application/n-triples",
}
"""What the tests ask the server for, by the name ``parse_solutions``/``parse_graph`` use."""

METHODS = {"json": "post-form", "xml": "get", "tsv": "post-direct", "csv": "post-direct"}
"""Protocol operation per result format, so that the suite goes through all three:
GET with parameters, POST form-encoded, POST application/sparql-query (dataset in the URL)."""

RESULT_EXTENSIONS = {"srx", "srj", "tsv", "csv", "ttl", "nt", "rdf"}

RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")

RDF_FORMATS = {"ttl": "turtle", "nt": "nt", "rdf": "xml"}


@dataclass
class W3CCase:
    """One W3C query-evaluation test, with everything needed to send and check it."""

    folder: str
    name: str
    query_file: Path
    query_iri: str
    result_file: Path
    data: list[str] = field(default_factory=list)
    """Graph IRIs (= data file IRIs) whose merge is the default graph."""
    graph_data: list[str] = field(default_factory=list)
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"

    @property
    def result_ext(self) -> str:
        return self.result_file.suffix.lstrip(".").lower()

    @property
    def result_iri(self) -> str:
        return BASE_IRI + self.result_file.relative_to(SUITE_DIR).as_posix()

    def expected(self) -> Graph | Solutions:
        """The expected result: a graph (CONSTRUCT), or solutions (also from rs:ResultSet)."""
        data = self.result_file.read_bytes()
        ext = self.result_ext
        if ext in RDF_FORMATS:
            graph = parse_graph(data, ext, base=self.result_iri)
            if (None, RDF.type, RS.ResultSet) in graph:
                return result_set_solutions(graph)
            return graph
        return parse_solutions(data, {"srx": "xml", "srj": "json"}.get(ext, ext))

    def formats(self) -> list[str]:
        """Result formats to ask for: N-Triples for graphs; JSON (and XML for .srx
        files, to check the XML writer too) for SELECT/ASK; TSV and CSV as expected."""
        ext = self.result_ext
        if ext in ("tsv", "csv"):
            return [ext]
        if ext == "srx":
            return ["json", "xml"]
        if ext in RDF_FORMATS and isinstance(self.expected(), Graph):
            return ["nt"]
        return ["json"]

    def query_text(self) -> str:
        """The query, with a BASE so that relative IRIs resolve as at its published location."""
        return f"BASE <{self.query_iri}>\n" + self.query_file.read_text(encoding="utf-8")

    def request(self, fmt: str) -> dict:
        """Keyword arguments for ``TestClient.request`` asking for the result in ``fmt``."""
        accept = {"Accept": MEDIA_TYPES[fmt]}
        method = METHODS.get(fmt, "post-direct")
        params = self.request_params()
        if method == "get":
            return {"method": "GET", "url": "/sparql?" + urlencode(params), "headers": accept}
        if method == "post-form":
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            return {
                "method": "POST",
                "url": "/sparql",
                "content": urlencode(params).encode(),
                "headers": accept | form,
            }
        dataset = urlencode([(key, value) for key, value in params if key != "query"])
        return {
            "method": "POST",
            "url": "/sparql" + (f"?{dataset}" if dataset else ""),
            "content": self.query_text().encode(),
            "headers": accept | {"Content-Type": "application/sparql-query"},
        }

    def has_dataset_clause(self) -> bool:
        return bool(
            re.search(r"(?<![?$\w])FROM\b", strip_query(self.query_file.read_text("utf-8")), re.I)
        )

    def request_params(self) -> list[tuple[str, str]]:
        """Form fields: the query and, unless it has FROM clauses, the protocol dataset."""
        params = [("query", self.query_text())]
        if self.has_dataset_clause():
            return params
        for iri in self.data or [EMPTY_GRAPH]:
            params.append(("default-graph-uri", iri))
        for iri in self.graph_data:
            params.append(("named-graph-uri", iri))
        return params


# --------------------------------------------------------------------------- manifests


def _local_path(iri: str) -> Path:
    if not iri.startswith(BASE_IRI):
        raise ValueError(f"IRI outside the suite: {iri}")
    return SUITE_DIR / iri[len(BASE_IRI) :]


def _local_name(node: object) -> str:
    text = str(node)
    return re.split(r"[#/]", text)[-1] or text


def _skip_reason(graph: Graph, test: object, query: str | None) -> str | None:
    approval = graph.value(test, DAWGT.approval)
    if approval is not None and approval != DAWGT.Approved:
        return f"not approved in the manifest (dawgt:approval {_local_name(approval)})"
    action = graph.value(test, MF.action)
    if graph.value(action, QT.serviceData) is not None:
        return "needs SERVICE to other endpoints (qt:serviceData)"
    if graph.value(action, SD.entailmentRegime) is not None or graph.value(
        test, SD.entailmentRegime
    ):
        return "needs an entailment regime"
    if graph.value(action, MF.requires) is not None or graph.value(test, MF.requires):
        return "needs a feature the endpoint does not offer (mf:requires)"
    if query is not None and re.search(r"\bSERVICE\b", strip_query(query), re.I):
        return "uses SERVICE (federation is not served)"
    return None


def collect_cases(folders: Sequence[str] = FOLDERS) -> list[W3CCase]:
    """Every query-evaluation test of ``folders``, in manifest order (mf:entries)."""
    cases: list[W3CCase] = []
    for folder in folders:
        manifest = SUITE_DIR / folder / "manifest.ttl"
        graph = Graph().parse(
            manifest, format="turtle", publicID=f"{BASE_IRI}{folder}/manifest.ttl"
        )
        entries: list = []
        for head in graph.objects(None, MF.entries):
            entries.extend(Collection(graph, head))
        for test in entries:
            if graph.value(test, RDF.type) not in EVALUATION_TYPES:
                continue
            action = graph.value(test, MF.action)
            query_iri = str(graph.value(action, QT.query))
            query_file = _local_path(query_iri)
            case = W3CCase(
                folder=folder,
                name=_local_name(test),
                query_file=query_file,
                query_iri=query_iri,
                result_file=_local_path(str(graph.value(test, MF.result))),
                data=sorted(str(iri) for iri in graph.objects(action, QT.data)),
                graph_data=sorted(str(iri) for iri in graph.objects(action, QT.graphData)),
            )
            query = query_file.read_text(encoding="utf-8") if query_file.exists() else None
            case.skip = _skip_reason(graph, test, query)
            if case.skip is None and case.result_ext not in RESULT_EXTENSIONS:
                case.skip = f"no comparison for .{case.result_ext} results"
            cases.append(case)
    return cases


# --------------------------------------------------------------------------- the dataset


def write_fixture(cases: Sequence[W3CCase], path: Path) -> Path:
    """One TriG file: every data file of ``cases`` as a named graph named by its IRI.

    pyoxigraph parses the files (it keeps lexical forms exactly; rdflib would
    normalise literals) with fresh blank node ids per file, so that graphs never
    share blank nodes.
    """
    quads: list[ox.Quad] = []
    for iri in sorted({iri for case in cases for iri in case.data + case.graph_data}):
        source = _local_path(iri)
        fmt = ox.RdfFormat.from_extension(source.suffix.lstrip(".").lower())
        graph = ox.NamedNode(iri)
        for triple in ox.parse(path=source, format=fmt, base_iri=iri, rename_blank_nodes=True):
            quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
    path.write_bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG) or b"")
    return path


# --------------------------------------------------------------------------- parsing results


@contextlib.contextmanager
def exact_literals() -> Iterator[None]:
    """Keep literals' lexical forms while rdflib parses (it normalises them by default)."""
    previous = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = previous


def canonical(term: object) -> object:
    """RDF 1.1 view of an rdflib term: simple literals are xsd:string, language tags lowercase."""
    if isinstance(term, Literal):
        if term.language:
            return Literal(str(term), lang=term.language.lower())
        return Literal(str(term), datatype=term.datatype or XSD.string)
    return term


@dataclass
class Solutions:
    """A parsed result: either rows (SELECT) or a boolean (ASK)."""

    variables: list[str] | None = None
    rows: list[dict[str, object]] | None = None
    boolean: bool | None = None


def parse_solutions(data: bytes, fmt: str) -> Solutions:
    """Parse SPARQL results; ``fmt`` is xml, json, tsv or csv."""
    if fmt == "csv":
        return _parse_csv(data)
    if fmt == "tsv" and data.strip().lower() in (b"true", b"false"):
        return Solutions(boolean=data.strip().lower() == b"true")
    with exact_literals():
        result = Result.parse(io.BytesIO(data), format=fmt)
        if result.type == "ASK":
            return Solutions(boolean=bool(result.askAnswer))
        variables = [str(var) for var in result.vars or []]
        rows = [
            {str(var): canonical(term) for var, term in row.items() if term is not None}
            for row in result.bindings
        ]
    return Solutions(variables=variables, rows=rows)


def result_set_solutions(graph: Graph) -> Solutions:
    """Solutions from the DAWG result-set vocabulary (rs:ResultSet in Turtle/RDF/XML)."""
    result_set = graph.value(None, RDF.type, RS.ResultSet, any=False)
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return Solutions(boolean=bool(boolean.toPython()))
    variables = sorted(str(v) for v in graph.objects(result_set, RS.resultVariable))
    indexed = []
    for solution in graph.objects(result_set, RS.solution):
        row = {
            str(graph.value(binding, RS.variable)): canonical(graph.value(binding, RS.value))
            for binding in graph.objects(solution, RS.binding)
        }
        index = graph.value(solution, RS.index)
        indexed.append((int(index) if index is not None else 0, row))
    indexed.sort(key=lambda pair: pair[0])
    return Solutions(variables=variables, rows=[row for _, row in indexed])


def _parse_csv(data: bytes) -> Solutions:
    """CSV results as plain lexical values: "" for unbound, BNode for ``_:`` labels."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    lines = list(reader)
    if not lines:
        return Solutions(variables=[], rows=[])
    variables = lines[0]
    rows = []
    for line in lines[1:]:
        row: dict[str, object] = {}
        for name, value in zip(variables, line, strict=False):
            if value.startswith("_:"):
                row[name] = BNode(value[2:])
            elif value:
                row[name] = value
        rows.append(row)
    return Solutions(variables=variables, rows=rows)


def parse_graph(data: bytes, fmt: str, base: str | None = None) -> Graph:
    """An RDF graph with canonical literals (see ``canonical``)."""
    with exact_literals():
        parsed = Graph().parse(data=data, format=RDF_FORMATS.get(fmt, fmt), publicID=base)
        graph = Graph()
        for s, p, o in parsed:
            graph.add((s, p, canonical(o)))
    return graph


# --------------------------------------------------------------------------- comparison


def _bnodes(row: dict[str, object]) -> bool:
    return any(isinstance(term, BNode) for term in row.values())


def _row_key(row: dict[str, object]) -> tuple:
    return tuple(sorted(row.items()))


def match_rows(
    expected: list[dict[str, object]], actual: list[dict[str, object]]
) -> dict[BNode, BNode] | None:
    """A blank-node bijection under which ``actual`` equals ``expected`` as a multiset."""
    if len(expected) != len(actual):
        return None
    plain_expected = Counter(_row_key(row) for row in expected if not _bnodes(row))
    plain_actual = Counter(_row_key(row) for row in actual if not _bnodes(row))
    if plain_expected != plain_actual:
        return None
    todo = [row for row in expected if _bnodes(row)]
    pool = [row for row in actual if _bnodes(row)]
    todo.sort(key=lambda row: -sum(isinstance(t, BNode) for t in row.values()))
    used = [False] * len(pool)
    forward: dict[BNode, BNode] = {}
    backward: dict[BNode, BNode] = {}

    def fits(want: dict, have: dict) -> list[tuple[BNode, BNode]] | None:
        if want.keys() != have.keys():
            return None
        added: list[tuple[BNode, BNode]] = []
        for name, term in want.items():
            other = have[name]
            if isinstance(term, BNode) and isinstance(other, BNode):
                mapped = forward.get(term)
                if mapped is None and other not in backward:
                    forward[term], backward[other] = other, term
                    added.append((term, other))
                elif mapped != other:
                    for a, b in added:
                        del forward[a], backward[b]
                    return None
            elif term != other:
                for a, b in added:
                    del forward[a], backward[b]
                return None
        return added

    def search(index: int) -> bool:
        if index == len(todo):
            return True
        for position, row in enumerate(pool):
            if used[position]:
                continue
            added = fits(todo[index], row)
            if added is None:
                continue
            used[position] = True
            if search(index + 1):
                return True
            used[position] = False
            for a, b in added:
                del forward[a], backward[b]
        return False

    return dict(forward) if search(0) else None


# --------------------------------------------------------------------------- ORDER BY


_STRIP = re.compile(
    r"""'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|<[^<>"{}|^`\\\s]*>|\#[^\n]*""",
    re.S,
)


def strip_query(text: str) -> str:
    """Query text with strings, IRIs and comments blanked out (for keyword searches)."""
    return _STRIP.sub(" ", text)


def order_keys(query: str) -> list[str] | None:
    """Variables of a top-level ``ORDER BY ?a DESC(?b) ...``; None if absent or not plain."""
    text = strip_query(query)
    depth, top = 0, []
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        else:
            top.append(char if depth == 0 else " ")
    outer = "".join(top)
    match = re.search(
        r"\bORDER\s+BY\b(.*?)(?:\bLIMIT\b|\bOFFSET\b|\bVALUES\b|$)", outer, re.I | re.S
    )
    if not match:
        return None
    keys = []
    rest = match.group(1).strip()
    condition = re.compile(r"(?:(?:ASC|DESC)\s*\(\s*([?$]\w+)\s*\)|([?$]\w+))\s*", re.I)
    while rest:
        found = condition.match(rest)
        if not found:
            return None
        keys.append((found.group(1) or found.group(2))[1:])
        rest = rest[found.end() :]
    return keys or None


def key_sequence(rows: list[dict[str, object]], keys: list[str]) -> list[tuple]:
    """The sort keys of ``rows`` in order; blank nodes all look alike (their order is arbitrary)."""
    return [
        tuple("_:" if isinstance(row.get(k), BNode) else row.get(k) for k in keys) for row in rows
    ]


# --------------------------------------------------------------------------- one test


def check(case: W3CCase, fmt: str, status: int, content_type: str, body: bytes) -> None:
    """Assert that the server's answer to ``case``, asked for in ``fmt``, is the expected one."""
    text = body[:500].decode("utf-8", "replace")
    assert status == 200, f"[{fmt}] HTTP {status}: {text}"
    assert content_type.split(";")[0].strip() == MEDIA_TYPES[fmt], (
        f"[{fmt}] asked for {MEDIA_TYPES[fmt]}, got Content-Type {content_type!r}"
    )
    expected = case.expected()
    if isinstance(expected, Graph):
        actual_graph = parse_graph(body, "nt")
        assert isomorphic(expected, actual_graph), _graph_diff(expected, actual_graph)
        return
    try:
        actual = parse_solutions(body, fmt)
    except Exception as exc:
        raise AssertionError(f"[{fmt}] unparsable response ({exc}): {text}") from exc
    if expected.boolean is not None:
        assert actual.boolean == expected.boolean, (
            f"[{fmt}] ASK: expected {expected.boolean}, got {text}"
        )
        return
    assert actual.rows is not None, f"[{fmt}] expected solutions, got {text}"
    assert set(actual.variables or []) == set(expected.variables or []), (
        f"[{fmt}] variables: expected {expected.variables}, got {actual.variables}"
    )
    assert expected.rows is not None
    mapping = match_rows(expected.rows, actual.rows)
    assert mapping is not None, f"[{fmt}] " + _rows_diff(expected.rows, actual.rows)
    keys = order_keys(case.query_file.read_text(encoding="utf-8"))
    if keys and fmt != "csv" and all(k in (expected.variables or []) for k in keys):
        assert key_sequence(actual.rows, keys) == key_sequence(expected.rows, keys), (
            f"[{fmt}] ORDER BY {keys}: rows are in the wrong order\n"
            f"expected {key_sequence(expected.rows, keys)}\n"
            f"actual   {key_sequence(actual.rows, keys)}"
        )


def _show(row: dict[str, object]) -> str:
    return "{" + ", ".join(f"{k}={term_n3(v)}" for k, v in sorted(row.items())) + "}"


def term_n3(term: object) -> str:
    return term.n3() if hasattr(term, "n3") else json.dumps(term)


def _rows_diff(expected: list[dict], actual: list[dict]) -> str:
    missing = Counter(map(_show, expected)) - Counter(map(_show, actual))
    extra = Counter(map(_show, actual)) - Counter(map(_show, expected))
    lines = [f"rows differ: expected {len(expected)}, got {len(actual)}"]
    lines += [f"  missing {row}" for row in list(missing.elements())[:20]]
    lines += [f"  unexpected {row}" for row in list(extra.elements())[:20]]
    if not missing and not extra:
        lines.append("  (same rows up to blank node labels, but no consistent renaming)")
    return "\n".join(lines)


def _graph_diff(expected: Graph, actual: Graph) -> str:
    missing = sorted(" ".join(t.n3() for t in triple) for triple in expected - actual)
    extra = sorted(" ".join(t.n3() for t in triple) for triple in actual - expected)
    lines = [f"graphs not isomorphic: expected {len(expected)} triples, got {len(actual)}"]
    lines += [f"  missing {t}" for t in missing[:20]]
    lines += [f"  unexpected {t}" for t in extra[:20]]
    return "\n".join(lines)
