"""SHACL validation and text-span checks: broken records fail readably, good ones pass."""

import pytest
from conftest import TEST_DATA, require_article_data
from rdflib import Graph
from typer.testing import CliRunner

from openskies.cli import app
from openskies.ontology.validation import ValidationResult, validate_graph, validate_project

BROKEN = TEST_DATA / "shapes_broken.ttl"
VALID = TEST_DATA / "shapes_valid.ttl"


def _load(path) -> Graph:
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def broken() -> ValidationResult:
    """The broken records validated on their own (no project data needed)."""
    return validate_graph(_load(BROKEN))


def _found(result: ValidationResult, focus: str, path: str) -> list[str]:
    return [v.message for v in result.violations if v.focus == focus and v.path == path]


# ---------------------------------------------------------------- a broken record fails


def test_broken_records_do_not_conform(broken):
    assert not broken.conforms
    assert broken.report.startswith("Does not conform")


@pytest.mark.parametrize(
    ("focus", "path", "words"),
    [
        ("osd:test-statement-without-speaker", "osk:speaker", "speaker"),
        ("osd:test-event-untyped-date", "osk:date", "xsd:date"),
        ("osd:test-event-without-date", "osk:date", "needs a date"),
        ("osd:test-statement-bad-stance", "osk:stance", "stance scheme"),
        ("osd:test-statement-bad-stance", "osk:isDirectQuote", "xsd:boolean"),
        ("osd:test-person", "rdfs:label", "label"),
        ("osd:test-position", "osk:heldOn", "xsd:date"),
        ("osd:test-position", "osk:positionAt", "institution"),
        ("osd:test-span-bad-offsets / oa:hasSelector", "oa:start", "exactly one oa:start"),
        ("osd:test-span-bad-offsets / oa:hasSelector", "oa:end", ">= 0"),
        ("osd:test-span-wrong-quote", "oa:hasSelector / oa:exact", "does not match the article"),
        ("osd:test-event-without-evidence", "", "text span that says it"),
    ],
)
def test_each_broken_rule_is_reported_with_focus_path_and_message(broken, focus, path, words):
    messages = _found(broken, focus, path)
    assert messages, f"no violation for {focus} {path}:\n{broken.report}"
    assert any(words in message for message in messages)


def test_good_records_in_the_broken_file_are_not_flagged(broken):
    flagged = {v.focus for v in broken.violations}
    assert "osd:test-span-good" not in flagged
    assert not any(focus.startswith("osd:test-span-good") for focus in flagged)


def test_report_has_one_readable_line_per_violation(broken):
    lines = broken.report.splitlines()
    assert len(lines) == 1 + len(broken.violations)
    for violation, line in zip(broken.violations, lines[1:], strict=True):
        assert line.startswith("Violation: ")
        assert violation.focus in line and violation.message in line
    # Not pyshacl's raw dump.
    assert "Validation Report" not in broken.report
    assert "sh:" not in broken.report and "Constraint Violation" not in broken.report


# ---------------------------------------------------------------- a good record passes


def test_a_complete_record_conforms_on_its_own():
    result = validate_graph(_load(VALID))
    assert result.conforms, result.report
    assert result.violations == ()
    assert result.report.startswith("Conforms")


def test_subclass_instances_are_checked_as_their_superclass():
    graph = _load(VALID)
    graph.parse(
        data="@prefix osk: <https://w3id.org/openskies/ontology/> .\n"
        "<https://w3id.org/openskies/id/test-signing> a osk:Signing .\n",
        format="turtle",
    )
    result = validate_graph(graph)
    assert _found(result, "osd:test-signing", "osk:date")


# ---------------------------------------------------------------- the project's data


def test_project_data_conforms():
    require_article_data()
    result = validate_project()
    assert result.conforms, result.report


def test_project_data_plus_broken_file_does_not_conform():
    require_article_data()
    result = validate_project(extra_files=(BROKEN,))
    assert not result.conforms
    assert _found(result, "osd:test-statement-without-speaker", "osk:speaker")


def test_missing_extra_file_is_reported_not_raised(tmp_path):
    result = validate_project(extra_files=(tmp_path / "nope.ttl",))
    assert not result.conforms
    assert "file not found" in result.report


# ---------------------------------------------------------------- the command line


def test_validate_command_exits_1_and_prints_the_violations():
    result = CliRunner().invoke(app, ["validate", "--data", str(BROKEN)])
    assert result.exit_code == 1, result.output
    assert "osd:test-statement-without-speaker  osk:speaker  a statement needs a speaker" in (
        result.output
    )
    assert "osd:test-event-untyped-date  osk:date" in result.output


def test_validate_command_passes_on_the_project_data():
    require_article_data()
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Conforms")
