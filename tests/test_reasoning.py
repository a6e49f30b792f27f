"""OWL reasoning with owlready2 and HermiT: what it entails, and how it reports contradictions."""

import owlready2
import pytest
from conftest import TEST_DATA
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF
from typer.testing import CliRunner

from openskies.cli import app
from openskies.graph import build as build_module
from openskies.ontology.reasoning import (
    InconsistentOntologyError,
    ReasonerUnavailableError,
    infer,
)
from openskies.vocab import OSD, OSK, PROV, SCHEMA, WD, Graphs

FOAF_PERSON = URIRef("http://xmlns.com/foaf/0.1/Person")


def _load(name: str) -> Graph:
    graph = Graph()
    graph.parse(TEST_DATA / name, format="turtle")
    return graph


@pytest.fixture(scope="module")
def positions_inferred(ontology_graph) -> tuple[Graph, Graph]:
    data = _load("reasoning_positions.ttl")
    return data, infer([ontology_graph, data])


# ---------------------------------------------------------------- entailments on a small record


def test_property_chain_entails_affiliation(positions_inferred):
    _data, inferred = positions_inferred
    assert (OSD["test-person"], OSK.affiliatedWith, OSD["test-ministry"]) in inferred


def test_inverse_entails_the_holder(positions_inferred):
    _data, inferred = positions_inferred
    assert (OSD["test-position"], OSK.holder, OSD["test-person"]) in inferred


def test_superclass_types_include_external_vocabularies(positions_inferred):
    _data, inferred = positions_inferred
    person = OSD["test-person"]
    for cls in (SCHEMA.Person, FOAF_PERSON, PROV.Agent):
        assert (person, RDF.type, cls) in inferred
    meeting = OSD["test-meeting"]
    for cls in (OSK.Meeting, OSK.Event, SCHEMA.Event, PROV.Activity):
        assert (meeting, RDF.type, cls) in inferred


def test_super_property_values_are_materialised(positions_inferred):
    _data, inferred = positions_inferred
    statement, person = OSD["test-statement"], OSD["test-person"]
    assert (statement, PROV.wasAttributedTo, person) in inferred
    assert (statement, SCHEMA.creator, person) in inferred
    assert (OSD["test-person"], SCHEMA.affiliation, OSD["test-ministry"]) in inferred
    # Literal-valued super-properties keep the input's own literal.
    dates = list(inferred.objects(OSD["test-meeting"], SCHEMA.startDate))
    assert [str(d) for d in dates] == ["2020-10"]


def test_only_new_non_trivial_triples_are_returned(positions_inferred):
    data, inferred = positions_inferred
    assert len(inferred) > 0
    for s, p, o in inferred:
        assert (s, p, o) not in data, "asserted triple repeated"
        assert not isinstance(s, BNode) and not isinstance(o, BNode)
        assert not (p == RDF.type and o in (OWL.Thing, OWL.NamedIndividual))
        assert not (p == OWL.sameAs and s == o)
        assert "anonymous" not in str(s) and "inferrences" not in str(s)
        assert not str(s).startswith("urn:openskies:reasoning")


def test_facts_are_not_copied_onto_external_aliases(positions_inferred):
    _data, inferred = positions_inferred
    alias = WD.Q999999999
    assert (OSD["test-state"], RDF.type, SCHEMA.Country) in inferred
    assert not list(inferred.triples((alias, None, None)))


def test_each_call_uses_a_fresh_world(ontology_graph):
    first = infer([ontology_graph, _load("reasoning_positions.ttl")])
    assert (OSD["test-person"], RDF.type, SCHEMA.Person) in first
    second = infer([ontology_graph])
    assert not list(second.triples((OSD["test-person"], None, None)))


def test_reasoning_prints_nothing_on_stdout(ontology_graph, capfd):
    infer([ontology_graph, _load("reasoning_positions.ttl")])
    out, _err = capfd.readouterr()
    assert out == ""


# ---------------------------------------------------------------- inconsistency


def test_person_typed_as_state_is_reported_as_inconsistent(ontology_graph):
    with pytest.raises(InconsistentOntologyError) as caught:
        infer([ontology_graph, _load("reasoning_inconsistent.ttl")])
    error = caught.value
    message = str(error)
    assert "HermiT" in message
    assert "osd:test-person-state" in message
    assert "disjoint" in message
    assert str(OSD["test-person-state"]) in error.individuals
    assert {str(OSK.Person), str(OSK.State)} <= set(error.classes)


def test_two_values_of_a_functional_property_are_reported(ontology_graph):
    with pytest.raises(InconsistentOntologyError) as caught:
        infer([ontology_graph, _load("reasoning_functional.ttl")])
    assert "osk:isDirectQuote" in str(caught.value)
    assert "functional" in str(caught.value)


def test_build_command_reports_inconsistency_and_exits_1(monkeypatch, tmp_path):
    sources = {
        Graphs.ONTOLOGY: build_module.SOURCES[Graphs.ONTOLOGY],
        Graphs.ARTICLE: (TEST_DATA / "reasoning_inconsistent.ttl",),
    }
    monkeypatch.setattr(build_module, "SOURCES", sources)
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "inconsistent" in result.output
    assert "osd:test-person-state" in result.output
    assert not (tmp_path / build_module.DATASET_NQUADS).exists()


def test_missing_java_is_a_clear_error(ontology_graph, monkeypatch):
    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/bin/java")
    with pytest.raises(ReasonerUnavailableError, match="Java"):
        infer([ontology_graph])


# ---------------------------------------------------------------- the project's data


def test_project_data_is_consistent_and_entails_affiliations(project_inferred):
    expected = {
        ("sergei-ryabkov", "russian-foreign-ministry"),
        ("josep-borrell", "european-union"),
        ("dmitri-trenin", "carnegie-moscow-center"),
        ("nikolai-sokov", "vcdnp"),
    }
    found = {
        (str(s).removeprefix(str(OSD)), str(o).removeprefix(str(OSD)))
        for s, o in project_inferred.subject_objects(OSK.affiliatedWith)
    }
    assert expected <= found


def test_project_people_get_schema_org_types(project_inferred):
    people = set(project_inferred.subjects(RDF.type, SCHEMA.Person))
    assert OSD["sergei-ryabkov"] in people
    assert all(str(person).startswith(str(OSD)) for person in people)


def test_project_inferred_graph_describes_only_our_own_nodes(project_inferred):
    aliases = ("http://www.wikidata.org/", "http://dbpedia.org/")
    assert not [s for s in project_inferred.subjects() if str(s).startswith(aliases)]
