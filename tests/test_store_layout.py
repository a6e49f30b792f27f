"""Large data in memory is loaded grouped by predicate: same answers, cached, never fatal."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest_endpoint import TOKEN
from fastapi.testclient import TestClient

from openskies.server.app import create_app
from openskies.server.store_layout import KEEP, write_grouped
from openskies.settings import Settings

EX = "http://example.org/"
EVERY_QUAD = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
GROUPED = 0
NEVER = 10**12


def _write_data(directory: Path, subjects: int = 40) -> list[Path]:
    """A TriG file (named graphs, blank nodes, tagged and typed literals) and a Turtle file."""
    trig = [f"@prefix ex: <{EX}> .", "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> ."]
    for graph in ("one", "two"):
        trig.append(f"<{EX}graph/{graph}> {{")
        for n in range(subjects):
            trig.append(
                f'  ex:s{n} a ex:Thing ; ex:label "thing {n}"@en , "chose {n}"@fr ;'
                f' ex:size "{n}"^^xsd:integer ; ex:next ex:s{n + 1} ;'
                f' ex:part [ ex:label "part of {n} in {graph}" ] .'
            )
        trig.append("}")
    turtle = [f"@prefix ex: <{EX}> ."]
    for n in range(subjects):
        turtle.append(f'ex:s{n} ex:note "default graph {n}" ; ex:next ex:s{n + 2} .')
    first, second = directory / "data.trig", directory / "more.ttl"
    first.write_text("\n".join(trig) + "\n")
    second.write_text("\n".join(turtle) + "\n")
    return [first, second]


def _settings(build: Path, files: list[Path], min_bytes: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "replace_data": True,
        "data_files": tuple(files),
        "build_dir": build,
        "workers": 2,
        "group_by_predicate_min_bytes": min_bytes,
    }
    values.update(overrides)
    return Settings(**values)


def _served(settings: Settings) -> tuple[ox.Dataset, int]:
    """Every quad the server answers with (blank nodes canonicalized), and its predicate runs.

    The runs: how many times the predicate changes in the engine's own order
    over one graph (a query without ORDER BY), which is load order.
    """
    with TestClient(create_app(settings)) as client:
        xml = {"Accept": "application/sparql-results+xml"}
        response = client.get("/sparql", params={"query": EVERY_QUAD}, headers=xml)
        in_order = f"SELECT ?p WHERE {{ GRAPH <{EX}graph/one> {{ ?s ?p ?o }} }}"
        rows = client.get("/sparql", params={"query": in_order}).json()["results"]["bindings"]
    assert response.status_code == 200, response.text
    predicates = [row["p"]["value"] for row in rows]
    runs = sum(1 for n, p in enumerate(predicates) if n == 0 or predicates[n - 1] != p)
    dataset = ox.Dataset()
    solutions = ox.parse_query_results(response.content, ox.QueryResultsFormat.XML)
    for row in solutions:
        graph = row["g"] if row["g"] is not None else ox.DefaultGraph()
        dataset.add(ox.Quad(row["s"], row["p"], row["o"], graph))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset, runs


def _copies(build: Path) -> list[Path]:
    return sorted((build / "layout").glob("grouped-*.nq"))


def test_grouped_data_answers_exactly_as_the_files_do(tmp_path):
    files = _write_data(tmp_path)
    plain, plain_runs = _served(_settings(tmp_path / "plain", files, NEVER, max_result_rows=10_000))
    grouped, grouped_runs = _served(
        _settings(tmp_path / "grouped", files, GROUPED, max_result_rows=10_000)
    )
    assert len(plain) > 40 * 2 * 7  # the named graphs' quads, and the default graph's
    assert set(grouped) == set(plain)
    # rdf:type, ex:label (of things and of parts), ex:size, ex:next, ex:part: one run each
    assert grouped_runs == 5 < plain_runs
    assert _copies(tmp_path / "plain") == []
    assert len(_copies(tmp_path / "grouped")) == 1


def test_small_data_is_loaded_as_it_is(tmp_path):
    files = _write_data(tmp_path, subjects=3)
    settings = _settings(tmp_path / "build", files, 8 * 1024 * 1024)
    with TestClient(create_app(settings)) as client:
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"]
    assert _copies(tmp_path / "build") == []


def test_a_restart_over_unchanged_data_reuses_the_grouped_copy(tmp_path):
    files = _write_data(tmp_path, subjects=5)
    build = tmp_path / "build"
    settings = _settings(build, files, GROUPED)
    with TestClient(create_app(settings)):
        pass
    [copy] = _copies(build)
    inode = copy.stat().st_ino
    with TestClient(create_app(settings)):
        pass
    assert [path.stat().st_ino for path in _copies(build)] == [inode]


def test_changed_data_gets_a_new_copy_and_old_copies_are_dropped(tmp_path):
    files = _write_data(tmp_path, subjects=5)
    build = tmp_path / "build"
    for version in range(KEEP + 2):
        with files[1].open("a") as handle:
            handle.write(f'<{EX}extra> <{EX}version> "{version}" .\n')
        os.utime(files[1], ns=(version * 10**9, (version + 1) * 10**9))  # a distinct mtime
        with TestClient(create_app(_settings(build, files, GROUPED))) as client:
            query = f'ASK {{ <{EX}extra> <{EX}version> "{version}" }}'
            assert client.get("/sparql", params={"query": query}).json()["boolean"]
    assert len(_copies(build)) == KEEP


def test_an_unusable_cache_directory_only_costs_the_grouping(tmp_path, caplog):
    files = _write_data(tmp_path, subjects=5)
    build = tmp_path / "build"
    build.write_text("a file where the build directory should be")
    caplog.set_level(logging.WARNING, logger="openskies.store")
    with TestClient(create_app(_settings(build, files, GROUPED))) as client:
        response = client.get("/sparql", params={"query": f"ASK {{ ?s <{EX}note> ?o }}"})
        assert response.json()["boolean"]
    assert "loading it as it is" in caplog.text


def test_malformed_data_fails_as_it_does_without_grouping(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(f"<{EX}a> <{EX}b> .\n")
    messages = []
    for min_bytes in (NEVER, GROUPED):
        app = create_app(_settings(tmp_path / "build", [bad], min_bytes))
        with pytest.raises(RuntimeError) as failure, TestClient(app):
            pass
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "could not load the dataset" in messages[0]


def test_writes_apply_over_grouped_data(tmp_path):
    files = _write_data(tmp_path, subjects=5)
    settings = _settings(tmp_path / "build", files, GROUPED, update_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        update = f'INSERT DATA {{ <{EX}new> <{EX}label> "new" }}'
        response = client.post(
            "/update",
            content=update,
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": f"Bearer {TOKEN}",
            },
        )
        assert response.status_code in (200, 204), response.text
        count = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}"
        body = client.get("/sparql", params={"query": count}).json()
        # 5 subjects x 2 labels x 2 graphs, 10 blank-node parts, and the new one
        assert body["results"]["bindings"][0]["n"]["value"] == "31"


def test_the_grouped_file_holds_each_predicate_in_one_run(tmp_path):
    files = [str(path) for path in _write_data(tmp_path, subjects=10)]
    out = tmp_path / "grouped.nq"
    write_grouped(files, str(out))
    predicates = [quad.predicate.value for quad in ox.parse(path=out, format=ox.RdfFormat.N_QUADS)]
    runs = [p for n, p in enumerate(predicates) if n == 0 or predicates[n - 1] != p]
    assert len(runs) == len(set(predicates))
    assert runs == sorted(runs)
    loaded = ox.Store()
    for path in files:
        loaded.bulk_load(path=path, format=ox.RdfFormat.from_extension(Path(path).suffix[1:]))
    assert len(predicates) == len(loaded)


def test_blank_nodes_of_different_files_stay_apart(tmp_path):
    first, second = tmp_path / "first.nt", tmp_path / "second.nt"
    first.write_text(f'_:x <{EX}label> "first" .\n')
    second.write_text(f'_:x <{EX}label> "second" .\n')
    query = f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{EX}label> ?o }}"
    for min_bytes in (NEVER, GROUPED):
        settings = _settings(tmp_path / "build", [first, second], min_bytes)
        with TestClient(create_app(settings)) as client:
            body = client.get("/sparql", params={"query": query}).json()
        assert body["results"]["bindings"][0]["n"]["value"] == "2"
