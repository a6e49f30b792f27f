"""`openskies query` as a user meets it: list, run by name, file or inline text, errors."""

import json

import pytest
from test_queries_support import build_dir, catalog
from typer.testing import CliRunner

from openskies.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def built_dataset(monkeypatch):
    """Point Settings().build_dir at the session's build, as OPENSKIES_BUILD_DIR would."""
    monkeypatch.setenv("OPENSKIES_BUILD_DIR", str(build_dir()))


def query(*args: str):
    return runner.invoke(app, ["query", *args])


def test_list_shows_every_question_with_its_summary():
    result = query("list")
    assert result.exit_code == 0, result.output
    for name, entry in catalog().items():
        assert name in result.output
        assert entry.summary in result.output
    listed = json.loads(query("list", "--format", "json").stdout)
    assert [entry["name"] for entry in listed] == list(catalog())


def test_run_prints_a_readable_table_by_default():
    result = query("run", "timeline")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["when", "event", "label"]
    assert set(lines[1]) <= {"-", " "}
    assert "osd:signing-1992" in lines[2]
    assert lines[-1] == "(10 rows)"


def test_run_with_parameters_and_machine_formats():
    result = query(
        "run", "statements_by_person", "--param", "person=osd:josep-borrell", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    bindings = json.loads(result.stdout)["results"]["bindings"]
    assert {b["statement"]["value"].rsplit("/", 1)[-1] for b in bindings} == {
        "stmt-borrell-call-to-reconsider",
        "stmt-borrell-regret",
        "stmt-borrell-treaty-value",
    }
    csv = query("run", "treaty_dates", "--format", "csv")
    assert csv.exit_code == 0
    assert csv.stdout.splitlines()[0] == "event,kind,articleDate,preciseDate,placeLabel,evidence"
    tsv = query("run", "treaty_dates", "--format", "tsv")
    assert tsv.stdout.splitlines()[0].startswith("?event\t?kind")


def test_run_a_file_or_inline_text(tmp_path):
    path = catalog()["treaty_dates"].path
    result = query("run", str(path))
    assert result.exit_code == 0, result.output
    assert "1992-03-24" in result.stdout
    inline = query(
        "run",
        "--query",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/openskies/ontology/Person> }",
    )
    assert inline.exit_code == 0, inline.output
    assert inline.stdout.splitlines()[2].strip() == "4"
    own = tmp_path / "mine.rq"
    own.write_text(
        "#+ summary: labels of a thing\n"
        "SELECT ?label WHERE { ?_thing_iri <http://www.w3.org/2000/01/rdf-schema#label> ?label }\n"
    )
    labelled = query("run", str(own), "-p", "thing=osd:russia")
    assert labelled.exit_code == 0, labelled.output
    assert "Russia" in labelled.stdout


def test_paginated_question_by_page():
    first = query("run", "text_spans", "--page", "1")
    assert first.exit_code == 0
    assert first.stdout.splitlines()[-1] == "(25 rows)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "no_such_question"], "unknown query 'no_such_question'"),
        (["run", "missing.rq"], "no such query file"),
        (["run", "statement_evidence", "-p", "statement=just-a-name"], "not an absolute IRI"),
        (["run", "statements_by_stance", "-p", "stance=stance:joy"], "is not one of"),
        (["run", "timeline", "-p", "when=2020"], "unknown parameter(s) when"),
        (["run", "timeline", "-p", "novalue"], "expected name=value"),
        (["run", "timeline", "--format", "yaml"], "--format must be one of"),
        (["run", "--query", "SELECT ?s { ?s ?p ?_x }"], "missing required parameter(s): x"),
        (["run", "--query", "SELEKT nothing"], "SPARQL syntax error"),
        (["run"], "give a query NAME"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(args, message):
    result = query(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_injection_attempt_is_a_plain_literal_that_matches_nothing():
    result = query("run", "entity_search", "-p", 'name=" } ; DROP ALL ; #')
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "(0 rows)"
