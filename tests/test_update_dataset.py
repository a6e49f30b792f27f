"""``using-graph-uri`` / ``using-named-graph-uri`` on ``/update`` (SPARQL 1.1 Protocol 2.2.3).

The parameters set the dataset that an update's WHERE clauses match, as
USING / USING NAMED would; a request that also has USING, USING NAMED or
WITH is refused. The fixture data has an empty default graph and two named
graphs: graph/one (alice, bob: Persons) and graph/two (carol: Person, moscow:
City).
"""

from __future__ import annotations

import doctest

import pytest
from conftest_endpoint import EX, GRAPH_ONE, GRAPH_TWO, PREFIX, TOKEN

from openskies.server import sparql_scan, update_dataset
from openskies.server.update_dataset import DatasetConflict, with_protocol_dataset

SCRATCH = EX + "graph/using-scratch"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DIRECT = {**AUTH, "Content-Type": "application/sparql-update"}


def _update(client, text: str, **params: list[str]):
    query = [(name.replace("_", "-"), value) for name, values in params.items() for value in values]
    return client.post("/update", params=query, content=text, headers=DIRECT)


def _subjects(client, graph: str) -> set[str]:
    query = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return {row["s"]["value"] for row in response.json()["results"]["bindings"]}


def _ask(client, query: str) -> bool:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


@pytest.fixture
def scratch(client):
    """Drops the scratch graph after a test, so other tests see the fixture data only.

    It also puts back the one fixture triple that a failed test here could delete.
    """
    yield SCRATCH
    _update(client, f"DROP SILENT GRAPH <{SCRATCH}>")
    _update(client, PREFIX + f"INSERT DATA {{ GRAPH <{GRAPH_TWO}> {{ ex:moscow a ex:City }} }}")


FOUND_PERSONS = PREFIX + (
    f"INSERT {{ GRAPH <{SCRATCH}> {{ ?s a ex:Found }} }} WHERE {{ ?s a ex:Person }}"
)


def test_using_graph_uri_is_the_default_graph_of_the_where(client, scratch):
    # Without a dataset, an update's WHERE reads the store's default graph: empty here.
    assert _update(client, FOUND_PERSONS).status_code == 204
    assert _subjects(client, SCRATCH) == set()

    assert _update(client, FOUND_PERSONS, using_graph_uri=[GRAPH_TWO]).status_code == 204
    assert _subjects(client, SCRATCH) == {EX + "carol"}

    both = [GRAPH_ONE, GRAPH_TWO]
    assert _update(client, FOUND_PERSONS, using_graph_uri=both).status_code == 204
    assert _subjects(client, SCRATCH) == {EX + "alice", EX + "bob", EX + "carol"}


def test_using_named_graph_uri_limits_graph_patterns(client, scratch):
    update = PREFIX + (
        f"INSERT {{ GRAPH <{SCRATCH}> {{ ?s ex:seenIn ?g }} }} "
        "WHERE { GRAPH ?g { ?s a ex:City } }"
    )
    assert _update(client, update, using_named_graph_uri=[GRAPH_ONE]).status_code == 204
    assert _subjects(client, SCRATCH) == set()
    assert _update(client, update, using_named_graph_uri=[GRAPH_TWO]).status_code == 204
    assert _subjects(client, SCRATCH) == {EX + "moscow"}


def test_form_parameters_set_the_dataset_too(client, scratch):
    response = client.post(
        "/update",
        data={"update": FOUND_PERSONS, "using-graph-uri": GRAPH_ONE},
        headers=AUTH,
    )
    assert response.status_code == 204, response.text
    assert _subjects(client, SCRATCH) == {EX + "alice", EX + "bob"}


def test_delete_where_matches_in_the_given_graphs(client, scratch):
    copy = PREFIX + (
        f"INSERT {{ GRAPH <{SCRATCH}> {{ ?s ?p ?o }} }} WHERE {{ ?s a ex:City ; ?p ?o }}"
    )
    assert _update(client, copy, using_graph_uri=[GRAPH_TWO]).status_code == 204
    city = PREFIX + "ASK { GRAPH <%s> { ex:moscow a ex:City } }"
    assert _ask(client, city % SCRATCH) and _ask(client, city % GRAPH_TWO)
    # DELETE WHERE { P } is DELETE { P } WHERE { P }: P is matched in the
    # protocol's dataset, where GRAPH ?g ranges over the scratch graph only.
    delete = PREFIX + "DELETE WHERE { GRAPH ?g { ?s a ex:City } }"
    assert _update(client, delete, using_named_graph_uri=[SCRATCH]).status_code == 204
    assert not _ask(client, city % SCRATCH)
    assert _ask(client, city % GRAPH_TWO), "graph two is not in the dataset"


def test_where_in_strings_comments_and_subqueries_is_left_alone(client, scratch):
    update = PREFIX + (
        "# WHERE in a comment { }\n"
        f'insert {{ GRAPH <{SCRATCH}> {{ ?s ex:note "WHERE {{" }} }}\n'
        "where { { SELECT ?s WHERE { ?s a ex:Person } } }"
    )
    assert _update(client, update, using_graph_uri=[GRAPH_ONE]).status_code == 204, update
    assert _subjects(client, SCRATCH) == {EX + "alice", EX + "bob"}


def test_every_operation_with_a_where_gets_the_dataset(client, scratch):
    update = PREFIX + (
        f"INSERT DATA {{ GRAPH <{SCRATCH}> {{ ex:marker a ex:Marker }} }} ;\n"
        f"INSERT {{ GRAPH <{SCRATCH}> {{ ?s a ex:Found }} }} WHERE {{ ?s a ex:Person }} ;\n"
        f"DELETE {{ GRAPH <{SCRATCH}> {{ ?s a ex:Found }} }} WHERE {{ ?s a ex:City }}"
    )
    assert _update(client, update, using_graph_uri=[GRAPH_TWO]).status_code == 204
    assert _subjects(client, SCRATCH) == {EX + "marker", EX + "carol"}


@pytest.mark.parametrize(
    "update",
    [
        f"INSERT {{ GRAPH <{SCRATCH}> {{ ?s a <x:T> }} }} USING <{GRAPH_ONE}> WHERE {{ ?s ?p ?o }}",
        f"INSERT {{ GRAPH <{SCRATCH}> {{ ?s a <x:T> }} }} "
        f"USING NAMED <{GRAPH_ONE}> WHERE {{ ?s ?p ?o }}",
        f"WITH <{GRAPH_ONE}> INSERT {{ ?s a <x:T> }} WHERE {{ ?s ?p ?o }}",
        f"CLEAR SILENT GRAPH <{SCRATCH}> ; "
        f"with <{GRAPH_ONE}> DELETE {{ ?s a <x:T> }} WHERE {{ ?s ?p ?o }}",
    ],
    ids=["USING", "USING NAMED", "WITH", "WITH in a second operation"],
)
@pytest.mark.parametrize("parameter", ["using_graph_uri", "using_named_graph_uri"])
def test_a_dataset_given_both_ways_is_refused(client, scratch, update, parameter):
    response = _update(client, update, **{parameter: [GRAPH_TWO]})
    assert response.status_code == 400
    assert "cannot be used with an update that has its own dataset" in response.text
    assert _subjects(client, SCRATCH) == set()
    assert not _ask(client, "ASK { { ?s a <x:T> } UNION { GRAPH ?g { ?s a <x:T> } } }")


@pytest.mark.parametrize(
    "graph",
    ["graph/two", "", "http://example.org/a b", f"{GRAPH_TWO}> . <x:a> <x:b> <x:c"],
    ids=["relative", "empty", "space", "injection"],
)
def test_graph_parameters_must_be_absolute_iris(client, scratch, graph):
    response = _update(client, FOUND_PERSONS, using_graph_uri=[graph])
    assert response.status_code == 400
    assert "must be an absolute IRI" in response.text
    assert _subjects(client, SCRATCH) == set()


def test_rewriting_keeps_the_text_and_adds_the_clauses():
    text = 'DELETE { ?s <x:p> "WHERE" } WHERE { ?s <x:p> ?o } ; DELETE WHERE { ?s <x:q> ?o }'
    assert with_protocol_dataset(text, ["http://g/1"], ["http://n/1", "http://n/2"]) == (
        'DELETE { ?s <x:p> "WHERE" } '
        "USING <http://g/1> USING NAMED <http://n/1> USING NAMED <http://n/2> "
        "WHERE { ?s <x:p> ?o } ; DELETE { ?s <x:q> ?o } "
        "USING <http://g/1> USING NAMED <http://n/1> USING NAMED <http://n/2> "
        "WHERE { ?s <x:q> ?o }"
    )
    assert with_protocol_dataset(text, [], []) is text
    with pytest.raises(DatasetConflict):
        with_protocol_dataset("INSERT { } USING <http://a> WHERE { }", ["http://g"], [])


def test_the_module_examples_run():
    results = doctest.testmod(update_dataset)
    assert results.attempted >= 2
    assert results.failed == 0


VALID_UPDATES = [
    "INSERT DATA { <x:a> <x:b> <x:c> }",
    "DELETE DATA { GRAPH <x:g> { <x:a> <x:b> 'WHERE' } }",
    "CLEAR SILENT ALL ; DROP SILENT GRAPH <x:g> ; CREATE SILENT GRAPH <x:h>",
    "ADD SILENT <x:g> TO <x:h> ; MOVE SILENT DEFAULT TO <x:h> ; COPY SILENT <x:h> TO DEFAULT",
    "delete where { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/>\nDELETE WHERE { GRAPH ?g { ?s ex:p ?o } }",
    "DELETE WHERE { ?s <x:p> ?o . GRAPH <x:g> { ?o <x:q> 1, 2 ; <x:r> ?o } }",
    "BASE <http://example.org/> DELETE { ?s <p> ?o } INSERT { ?s <q> ?o } WHERE { ?s <p> ?o }",
    "INSERT { ?s <x:p> ?n } WHERE { { SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } "
    "GROUP BY ?s } OPTIONAL { ?s <x:q> ?q FILTER(?q != 'where') } }",
    '# WHERE {\nINSERT { ?s <x:p> """a\nWHERE } b""" } WHERE # }\n{ ?s ?p ?o }',
    "INSERT { GRAPH ?g { ?s a <x:T> } } WHERE { GRAPH ?g { ?s ?p ?o } MINUS { ?s a <x:T> } } ;\n"
    "DELETE { ?s a <x:T> } WHERE { VALUES ?s { <x:a> <x:b> } } ;\n"
    "DELETE WHERE { ?s a <x:U> }",
]


@pytest.mark.parametrize("update", VALID_UPDATES)
def test_every_rewritten_update_is_still_valid(update):
    """The engine accepts what the rewriting writes, for each kind of operation."""
    import pyoxigraph

    pyoxigraph.Store().update(update)  # the example itself is valid
    rewritten = with_protocol_dataset(update, ["http://example.org/g"], ["http://example.org/n"])
    pyoxigraph.Store().update(rewritten)  # raises SyntaxError if the text is broken
    where_count = sum(
        1
        for kind, text, _, _ in sparql_scan.token_spans(update)
        if kind == "word" and text.upper() == "WHERE"
    )
    if where_count == 0:
        assert rewritten == update
    else:
        assert rewritten.count("USING NAMED <http://example.org/n>") >= 1
