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
