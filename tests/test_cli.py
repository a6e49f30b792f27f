"""The console command as a new user meets it: help, build, validate."""

from pathlib import Path

import pytest
from rdflib import Dataset
from shared_build import cli_build
from typer.testing import CliRunner

from openskies.cli import app
from openskies.vocab import Graphs

runner = CliRunner()


@pytest.fixture(scope="module")
def build_output() -> tuple[Path, str]:
    return cli_build()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("build", "validate", "serve"):
        assert command in result.output


def test_build_prints_counts_per_graph_and_per_class(build_output):
    _, output = build_output
    for graph in ("osg:ontology", "osg:article", "osg:background", "osg:links", "osg:inferred"):
        assert graph in output
    for cls in ("osk:State", "osk:Person", "osk:Statement", "osk:TextSpan"):
        assert cls in output
    assert "total" in output


def test_build_writes_trig_and_nquads_that_hold_every_named_graph(build_output):
    out, _ = build_output
    for name, fmt in (("openskies.trig", "trig"), ("openskies.nq", "nquads")):
        dataset = Dataset()
        dataset.parse(out / name, format=fmt)
        graphs = {graph.identifier for graph in dataset.graphs() if len(graph)}
        assert {
            Graphs.ONTOLOGY,
            Graphs.ARTICLE,
            Graphs.BACKGROUND,
            Graphs.LINKS,
            Graphs.INFERRED,
        } <= graphs, name


def test_validate_passes_on_the_project_data():
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output


def test_serve_takes_its_settings_from_options_then_environment(monkeypatch):
    import uvicorn

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.update(app=app, **kwargs))
    monkeypatch.setenv("OPENSKIES_WORKERS", "3")
    result = runner.invoke(
        app,
        [
            "serve",
            "--port",
            "8123",
            "--query-timeout",
            "2.5",
            "--allow",
            "query.wikidata.org",
            "--allow",
            "127.0.0.1:7878",
            "--max-result-rows",
            "50",
            "--no-access-log",
        ],
    )
    assert result.exit_code == 0, result.output
    settings = started["app"].state.settings
    assert (started["host"], started["port"]) == ("127.0.0.1", 8123)
    assert settings.query_timeout == 2.5
    assert settings.outbound_allowlist == ("query.wikidata.org", "127.0.0.1:7878")
    assert settings.max_result_rows == 50
    assert settings.workers == 3  # from the environment
    assert started["access_log"] is False


def test_serve_rejects_invalid_settings_with_a_clear_message(monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    result = runner.invoke(app, ["serve", "--query-timeout", "-1"])
    assert result.exit_code == 2
    assert "query_timeout" in result.output
