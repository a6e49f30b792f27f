"""W3C SPARQL 1.1 Protocol tests (sparql11/protocol/manifest.ttl), data-driven.

One test per manifest entry (id = the entry's local name). Each ht:Request is
sent as written (method, headers, body in its cnt:characterEncoding, query
string; no Accept header unless the manifest gives one) with its /sparql/ path
mapped to ``/sparql`` for a query and ``/update`` for an update: a request is
an update when its media type is application/sparql-update or it carries an
``update`` parameter, a query when its media type is application/sparql-query
or it carries ``query``, otherwise it belongs to the operation the test is
named after (bad_update_wrong_media_type). Updates get ``Authorization: Bearer``
(the suite assumes an open endpoint); ``ht:connectionAuthority`` is only a Host
and is ignored. Each response must be in one of the expected status classes;
on 2xx, ``"boolean"`` means SPARQL results (JSON/XML) with that boolean,
``"tabular"`` SPARQL JSON/XML/CSV/TSV results with variables, ``"RDF"`` an RDF
syntax (by Content-Type) that rdflib parses.

Apps: the query tests share one read-only app (no update token) over a TriG
holding data1/2/3.nt as named graphs under their rdfs:label IRIs and an empty
default graph. Every update/bad_update test gets a fresh writable app over the
same TriG, so no write leaks into another test.

Default graph: without dataset parameters this server's default graph is the
union of the named graphs (an allowed choice of default dataset). No expectation
here depends on it: query_post_form, query_get and query_content_type_* name a
default graph (data0.rdf) that does not exist, which is an empty default graph,
and their queries (ASK {}, SELECT (1 AS ?value) {}, DESCRIBE, CONSTRUCT ... WHERE {})
answer the same on any dataset; query_post_direct is ASK {} (true on any
dataset); the dataset tests give the whole dataset by protocol
(query_multiple_dataset checks that the protocol dataset overrides the query's
FROM: with FROM data3 and no named graphs its ASK would be false); the update
tests' checking queries name their graphs with GRAPH <...>. Only the
update_dataset_* tests depend on what an update's default graph is: they set
it with using-graph-uri / using-named-graph-uri, which the server writes into
the update as USING / USING NAMED (server/update_dataset.py).

Which pass
==========

=================================  =============================================================
test                               result
=================================  =============================================================
query_post_form                    pass
query_dataset_default_graphs_get   pass
query_dataset_default_graphs_post  pass
query_dataset_named_graphs_post    pass
query_dataset_named_graphs_get     pass
query_dataset_full                 pass
query_multiple_dataset             pass (protocol dataset overrides FROM)
query_get                          pass
query_content_type_select          pass (application/sparql-results+json)
query_content_type_ask             pass (application/sparql-results+json)
query_content_type_describe        pass (text/turtle, empty graph)
query_content_type_construct       pass (text/turtle)
update_dataset_default_graph       pass (using-graph-uri as USING)
update_dataset_default_graphs      pass (two USING)
update_dataset_named_graphs        pass (using-named-graph-uri as USING NAMED)
update_dataset_full                pass (USING and USING NAMED)
update_post_form                   pass (204)
update_post_direct                 pass (204)
update_base_uri                    pass (relative IRI resolved against <.../sparql>)
query_post_direct                  pass
bad_query_method                   pass (PUT: 405)
bad_multiple_queries               pass (400)
bad_query_wrong_media_type         pass (415)
bad_query_missing_form_type        pass (415, no Content-Type)
bad_query_missing_direct_type      pass (415, no Content-Type)
bad_query_non_utf8                 pass (415, charset=UTF-16)
bad_query_syntax                   pass (400)
bad_update_get                     pass (GET /update: 405; GET /sparql?update=... is 400 too)
bad_multiple_updates               pass (400)
bad_update_wrong_media_type        pass (415)
bad_update_missing_form_type       pass (415, no Content-Type)
bad_update_non_utf8                pass (415, charset=UTF-16)
bad_update_syntax                  pass (400)
bad_update_dataset_conflict        pass (400: using-named-graph-uri with WITH)
=================================  =============================================================

Any expected failure goes in ``XFAIL`` (strict: a fix makes its test fail
until the entry is removed); there are none.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from openskies.server.app import create_app
from openskies.settings import Settings

PROTOCOL_DIR = (
    Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql11" / "protocol"
)
MANIFEST = PROTOCOL_DIR / "manifest.ttl"
if not MANIFEST.is_file():
    pytest.skip(
        f"W3C SPARQL 1.1 Protocol tests not found at {PROTOCOL_DIR}", allow_module_level=True
    )

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SRX = "{http://www.w3.org/2005/sparql-results#}"

TOKEN = "w3c-protocol-token-0123456789"
QUERY_PATH = "/sparql"
UPDATE_PATH = "/update"
MANIFEST_PATH_PREFIX = "/sparql/"

RESULT_JSON = ("application/sparql-results+json", "application/json")
RESULT_XML = ("application/sparql-results+xml", "application/xml", "text/xml")
RESULT_TEXT = {"text/csv": ",", "text/tab-separated-values": "\t"}
RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "nt",
    "text/plain": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-quads": "nquads",
    "application/trig": "trig",
    "text/n3": "n3",
}

XFAIL: dict[str, str] = {}
"""Strict expected failures: manifest entry -> why this server fails it."""


# ---------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class Expected:
    """What a response must be: a status class, and for results a format (and boolean)."""

    status_classes: frozenset[int]
    format: str | None
    boolean: bool | None


@dataclass(frozen=True)
class ProtocolRequest:
    """One ht:Request, as written in the manifest (path still starts with /sparql/)."""

    method: str
    absolute_path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    body_text: str | None
    expected: Expected

    @property
    def media_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";", 1)[0].strip().lower()
        return ""

    @property
    def query_string(self) -> str:
        return urlsplit(self.absolute_path).query


@dataclass(frozen=True)
class ProtocolCase:
    name: str
    title: str
    requests: tuple[ProtocolRequest, ...]
    graph_data: tuple[tuple[Path, str], ...]
    """(data file, graph IRI) pairs of ut:graphData."""

    @property
    def writes(self) -> bool:
        """Update tests get an app of their own, so their writes never leak."""
        return self.name.startswith(("update", "bad_update")) or any(
            is_update(self.name, request) for request in self.requests
        )


def is_update(test_name: str, request: ProtocolRequest) -> bool:
    """Whether a request is an update operation (sent to /update) or a query (/sparql).

    The request says so by its media type or an ``update``/``query`` parameter (in
    the query string or a form body); the rest (a text/plain body, say) belong to
    the operation the test is named after.
    """
    if request.media_type == "application/sparql-update":
        return True
    if request.media_type == "application/sparql-query":
        return False
    keys = {key for key, _ in parse_qsl(request.query_string, keep_blank_values=True)}
    if request.body_text is not None:
        keys |= {key for key, _ in parse_qsl(request.body_text, keep_blank_values=True)}
    if "update" in keys:
        return True
    if "query" in keys:
        return False
    return test_name.startswith(("update", "bad_update"))


def _expected(graph: Graph, node) -> Expected:
    classes = frozenset(
        int(str(status).rsplit("StatusCode", 1)[1][0])
        for status in graph.objects(node, MF.expectedStatus)
    )
    fmt = graph.value(node, MF.expectedFormat)
    boolean = graph.value(node, MF.expectedBoolean)
    return Expected(
        classes, None if fmt is None else str(fmt), None if boolean is None else boolean.toPython()
    )


def _request(graph: Graph, node) -> ProtocolRequest:
    headers: list[tuple[str, str]] = []
    header_list = graph.value(node, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            headers.append(
                (str(graph.value(header, HT.fieldName)), str(graph.value(header, HT.fieldValue)))
            )
    body_node = graph.value(node, HT.body)
    body = body_text = None
    if body_node is not None:
        body_text = str(graph.value(body_node, CNT.chars))
        encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = body_text.encode(encoding)
    return ProtocolRequest(
        method=str(graph.value(node, HT.methodName)),
        absolute_path=str(graph.value(node, HT.absolutePath)),
        headers=tuple(headers),
        body=body,
        body_text=body_text,
        expected=_expected(graph, graph.value(node, HT.resp)),
    )


def load_cases() -> list[ProtocolCase]:
    graph = Graph().parse(MANIFEST, format="turtle")
    cases = []
    for entries in graph.objects(None, MF.entries):
        for test in Collection(graph, entries):
            assert (test, RDF.type, MF.ProtocolTest) in graph, test
            action = graph.value(test, MF.action)
            requests = Collection(graph, graph.value(action, HT.requests))
            graph_data = tuple(
                sorted(
                    (
                        Path(str(graph.value(data, UT.graph)).removeprefix("file://")),
                        str(graph.value(data, RDFS.label)),
                    )
                    for data in graph.objects(test, UT.graphData)
                )
            )
            cases.append(
                ProtocolCase(
                    name=str(test).rsplit("#", 1)[-1],
                    title=str(graph.value(test, MF.name)),
                    requests=tuple(_request(graph, node) for node in requests),
                    graph_data=graph_data,
                )
            )
    return cases


CASES = load_cases()


# ---------------------------------------------------------------- the apps


@pytest.fixture(scope="module")
def protocol_trig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every ut:graphData file as a named graph under its rdfs:label; no default graph."""
    dataset = Dataset()
    for case in CASES:
        for path, iri in case.graph_data:
            named = dataset.graph(URIRef(iri))
            if len(named) == 0:
                named.parse(path, format="nt")
    target = tmp_path_factory.mktemp("w3c_protocol") / "protocol.trig"
    dataset.serialize(target, format="trig")
    return target


def _settings(trig: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "replace_data": True,
        "data_files": (trig,),
        "workers": 1,
        "cache_entries": 0,
    }
    values.update(overrides)
    return Settings(**values)


def _start(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as client:
        # Send the manifest's requests as written: no Accept header unless it has one.
        del client.headers["accept"]
        yield client


@pytest.fixture(scope="module")
def query_client(protocol_trig: Path) -> Iterator[TestClient]:
    """The read-only app shared by the query tests (no update token: writes are off)."""
    yield from _start(_settings(protocol_trig))


@pytest.fixture
def update_client(protocol_trig: Path) -> Iterator[TestClient]:
    """A fresh writable app for one update test."""
    yield from _start(_settings(protocol_trig, update_token=TOKEN))


# ---------------------------------------------------------------- checking responses


def _result_boolean_or_table(media_type: str, body: bytes) -> tuple[bool | None, list[str]]:
    """(boolean, variables) of a SPARQL results document; raises if it is not one."""
    if media_type in RESULT_JSON:
        document = json.loads(body)
        if "boolean" in document:
            assert isinstance(document["boolean"], bool), document
            return document["boolean"], []
        variables = document["head"]["vars"]
        assert isinstance(document["results"]["bindings"], list), document
        return None, variables
    if media_type in RESULT_XML:
        root = ET.fromstring(body)
        assert root.tag == SRX + "sparql", root.tag
        boolean = root.find(SRX + "boolean")
        if boolean is not None:
            assert boolean.text in ("true", "false"), boolean.text
            return boolean.text == "true", []
        assert root.find(SRX + "results") is not None, body
        return None, [v.get("name") for v in root.iter(SRX + "variable")]
    if media_type in RESULT_TEXT:
        rows = list(
            csv.reader(io.StringIO(body.decode("utf-8")), delimiter=RESULT_TEXT[media_type])
        )
        assert rows, "empty CSV/TSV results"
        return None, [name.removeprefix("?") for name in rows[0]]
    raise AssertionError(f"{media_type!r} is not a SPARQL results format")


def check_response(response, expected: Expected, where: str) -> None:
    status_class = response.status_code // 100
    assert status_class in expected.status_classes, (
        f"{where}: status {response.status_code}, expected "
        f"{sorted(f'{c}xx' for c in expected.status_classes)}: {response.text[:300]}"
    )
    if status_class != 2 or expected.format is None:
        return
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if expected.format == "RDF":
        assert media_type in RDF_SYNTAXES, f"{where}: {media_type!r} is not an RDF syntax"
        Graph().parse(data=response.content, format=RDF_SYNTAXES[media_type])
        return
    boolean, variables = _result_boolean_or_table(media_type, response.content)
    if expected.format == "boolean":
        assert boolean is not None, f"{where}: {media_type} results without a boolean"
        if expected.boolean is not None:
            assert boolean is expected.boolean, f"{where}: ASK answered {boolean}"
    elif expected.format == "tabular":
        assert boolean is None and variables, f"{where}: {media_type} is not tabular results"
    else:
        raise AssertionError(f"unknown mf:expectedFormat {expected.format!r}")


def run_case(case: ProtocolCase, client: TestClient) -> None:
    for number, request in enumerate(case.requests, 1):
        update = is_update(case.name, request)
        assert request.absolute_path.startswith(MANIFEST_PATH_PREFIX), request.absolute_path
        path = UPDATE_PATH if update else QUERY_PATH
        if request.query_string:
            path += "?" + request.query_string
        headers = dict(request.headers)
        if update:
            headers["Authorization"] = f"Bearer {TOKEN}"
        response = client.request(request.method, path, content=request.body, headers=headers)
        where = f"{case.name} request {number} ({request.method} {path})"
        check_response(response, request.expected, where)


def _param(case: ProtocolCase):
    marks = []
    if case.name in XFAIL:
        marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[case.name]))
    return pytest.param(case, id=case.name, marks=marks)


def test_manifest_parsed():
    assert len(CASES) == 34
    assert len({case.name for case in CASES}) == 34
    for case in CASES:
        assert case.requests, case.name
        for request in case.requests:
            assert request.expected.status_classes, (case.name, request)
        for path, _ in case.graph_data:
            assert path.is_file(), path


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_w3c_protocol(case: ProtocolCase, request: pytest.FixtureRequest) -> None:
    client = request.getfixturevalue("update_client" if case.writes else "query_client")
    run_case(case, client)
