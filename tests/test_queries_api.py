"""The catalog over HTTP: the router in a small app, evaluating with the in-process executor."""

import csv
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_queries_support import catalog, local_questions, rows, store

from openskies.queries.runner import InProcessExecutor
from openskies.server.catalog_api import make_catalog_router

OSD = "https://w3id.org/openskies/id/"


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(make_catalog_router(InProcessExecutor(store())))
    return TestClient(app)


def bindings(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_list_describes_every_question(client):
    response = client.get("/api/queries")
    assert response.status_code == 200
    listed = {entry["name"]: entry for entry in response.json()}
    assert list(listed) == list(catalog())
    person = listed["statements_by_person"]
    assert person["summary"] == catalog()["statements_by_person"].summary
    assert person["url"].endswith("/api/queries/statements_by_person")
    assert person["parameters"] == [
        {
            "name": "person",
            "variable": "?_person_iri",
            "kind": "iri",
            "required": False,
            "default": OSD + "sergei-ryabkov",
        }
    ]
    assert listed["statements_by_stance"]["parameters"][0]["enum"][0].endswith("/appeal")


@pytest.mark.parametrize("name", local_questions())
def test_every_question_answers_over_http(client, name):
    assert bindings(client.get(f"/api/queries/{name}"))


def test_parameters_come_from_the_query_string(client):
    steps = bindings(client.get("/api/queries/withdrawal_steps", params={"state": OSD + "russia"}))
    assert [row["date"]["value"] for row in steps] == ["2021-06-18", "2021-12-18"]
    assert steps[0]["_state_iri"] == {"type": "uri", "value": OSD + "russia"}  # echoed binding
    regret = bindings(client.get("/api/queries/statements_by_stance?stance=stance:regret"))
    assert len(regret) == 2


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/json", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_result_format_follows_accept(client, accept, media_type):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/api/queries/treaty_dates", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type


def test_csv_rows_and_format_parameter(client):
    response = client.get("/api/queries/timeline", params={"format": "csv"})
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert table[0]["event"] == OSD + "signing-1992"
    assert table[-1]["when"] == "2021-12-18"


def test_unacceptable_format_is_406(client):
    response = client.get("/api/queries/timeline", headers={"Accept": "text/html"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/queries/statement_evidence?statement=stmt-borrell-regret", 400, "absolute IRI"),
        ("/api/queries/statement_evidence?statement=http://a%20b", 400, "not an IRI"),
        ("/api/queries/statements_by_stance?stance=https://example.org/joy", 400, "is not one of"),
        ("/api/queries/timeline?year=2020", 400, "unknown parameter"),
        ("/api/queries/entity_search?name=a&name=b", 400, "more than once"),
        ("/api/queries/text_spans?page=0", 400, "page must be"),
        ("/api/queries/timeline?page=2", 400, "not paginated"),
        ("/api/queries/no_such_question", 404, "No question named"),
    ],
)
def test_bad_requests_are_refused_clearly(client, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    assert message in response.text


def test_an_injection_attempt_is_a_plain_literal(client):
    attack = '" } ; DROP ALL ; #'
    before = len(store())
    assert bindings(client.get("/api/queries/entity_search", params={"name": attack})) == []
    assert bindings(client.get("/api/queries/which_sentence", params={"text": attack})) == []
    assert len(store()) == before


def test_pagination_sends_links(client):
    total = len(rows("text_spans"))
    assert len(bindings(client.get("/api/queries/text_spans"))) == 25  # page 1 by default
    response = client.get("/api/queries/text_spans", params={"page": 2})
    assert len(bindings(response)) == total - 25
    assert 'rel="next"' in response.headers["link"]
    assert "page=1" in response.headers["link"]


def test_openapi_has_one_operation_per_question_with_its_parameters(client):
    spec = client.get("/openapi.json").json()
    for name, query in catalog().items():
        operation = spec["paths"][f"/api/queries/{name}"]["get"]
        assert operation["operationId"] == f"query_{name}"
        assert operation["summary"] == query.summary
        names = [p["name"] for p in operation.get("parameters", [])]
        expected = [p.name for p in query.parameters]
        expected += ["page"] * bool(query.pagination) + ["format"]
        assert names == expected, name
    stance = spec["paths"]["/api/queries/statements_by_stance"]["get"]["parameters"][0]
    assert stance["schema"]["format"] == "iri"
    assert len(stance["schema"]["enum"]) == 11
    assert "/api/queries/{name}" not in spec["paths"]
    assert "/api/queries" in spec["paths"]
