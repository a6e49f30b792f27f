"""The benchmark's reference floor (``bench/bare_server.py``) answers like an endpoint.

It is only a measuring stick, but a floor that answered wrongly (or not at
all) would make the benchmark's argument wrong, so its protocol is checked
here over loopback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from serve_support import free_port, port_open, stop

ROOT = Path(__file__).resolve().parent.parent
EX = "http://example.org/"
DATA = "".join(
    f'<{EX}s{i}> <{EX}p> <{EX}o{i % 3}> .\n<{EX}s{i}> <{EX}label> "item {i}" .\n' for i in range(10)
)


@contextmanager
def _bare_serving(data: Path, processes: int, workers: int) -> Iterator[tuple[str, int]]:
    """``bench/bare_server.py`` on a free loopback port; yields (base URL, root pid)."""
    port = free_port()
    server = ROOT / "bench" / "bare_server.py"
    command = [sys.executable, str(server), str(data), str(port), str(processes), str(workers)]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        expected = processes - 1 + processes * workers  # forked after the socket opens
        while not port_open(base) or _descendants(process.pid) < expected:
            assert process.poll() is None, "the bare server exited"
            assert time.monotonic() < deadline, "the bare server did not start"
            time.sleep(0.02)
        yield base, process.pid
    finally:
        stop(process)


@pytest.fixture(scope="module", params=["inline", "workers"])
def bare(request, tmp_path_factory):
    """The floor in both layouts: evaluating in the web process, or in two workers."""
    data = tmp_path_factory.mktemp("bare") / "data.nt"
    data.write_text(DATA)
    with _bare_serving(data, 2, 0 if request.param == "inline" else 2) as (base, pid):
        yield base, request.param, pid


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _descendants(pid: int) -> int:
    children = _children(pid)
    return len(children) + sum(_descendants(child) for child in children)


def _get(base: str, query: str) -> httpx.Response:
    return httpx.get(base + "/sparql", params={"query": query}, timeout=10)


def test_select_and_ask_come_back_as_sparql_json(bare):
    bare, _, _ = bare
    response = _get(bare, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> <{EX}o1> }}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "3"
    assert _get(bare, f'ASK {{ <{EX}s9> <{EX}label> "item 9" }}').json()["boolean"] is True


def test_graphs_come_back_as_n_triples(bare):
    bare, _, _ = bare
    response = _get(bare, f"CONSTRUCT WHERE {{ <{EX}s4> ?p ?o }}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/n-triples"
    assert sorted(response.text.splitlines()) == sorted(
        line for line in DATA.splitlines() if line.startswith(f"<{EX}s4>")
    )


def test_bad_queries_get_400_with_the_engine_message(bare):
    bare, _, _ = bare
    response = _get(bare, "SELEC nothing")
    assert response.status_code == 400 and response.text
    missing = httpx.get(bare + "/sparql", timeout=10)
    assert missing.status_code == 400 and "query" in missing.text


def test_one_connection_carries_many_requests(bare):
    bare, _, _ = bare
    with httpx.Client(base_url=bare, timeout=10) as client:
        answers = [
            client.get("/sparql", params={"query": f"ASK {{ <{EX}s{i}> ?p ?o }}"}).json()
            for i in range(12)
        ]
    assert [answer["boolean"] for answer in answers] == [True] * 10 + [False] * 2


def test_malformed_http_is_refused_and_the_server_goes_on(bare):
    bare, _, _ = bare
    host, port = bare.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = raw.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert json.loads(_get(bare, "ASK {}").text)["boolean"] is True


def test_many_clients_at_once_each_get_their_own_answer(bare):
    """More requests than workers, slow ones among quick ones: none gets another's reply."""
    from concurrent.futures import ThreadPoolExecutor

    bare, _, _ = bare
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

    def count(i: int) -> str:
        query = slow if i % 4 == 0 else f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}s{i}> ?p ?o }}"
        return _get(bare, query).json()["results"]["bindings"][0]["n"]["value"]

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(count, range(24)))
    expected = ["160000" if i % 4 == 0 else ("2" if i < 10 else "0") for i in range(24)]
    assert answers == expected


def test_the_layouts_differ_in_processes(bare):
    """Two web processes; with workers, each has two more (the hop is real)."""
    _, layout, pid = bare
    assert _descendants(pid) == (1 if layout == "inline" else 1 + 2 * 2)


def test_an_engine_crash_costs_a_worker_not_the_server(tmp_path):
    """With workers, a query that kills the engine fails alone; the other worker goes on."""
    data = tmp_path / "data.nt"
    data.write_text(DATA)
    with _bare_serving(data, 1, 2) as (base, pid):
        deep = "SELECT * WHERE " + "{" * 8_000 + "}" * 8_000  # design.md: kills pyoxigraph
        assert _get(base, deep).status_code == 500
        assert _descendants(pid) == 1
        for _ in range(3):
            assert _get(base, "ASK {}").json()["boolean"] is True
        assert _get(base, deep).status_code == 500
        assert _get(base, "ASK {}").status_code == 503


def test_a_worker_killed_while_idle_is_dropped(tmp_path):
    """A worker killed between requests is never asked again; the other goes on."""
    data = tmp_path / "data.nt"
    data.write_text(DATA)
    with _bare_serving(data, 1, 2) as (base, pid):
        first, second = _children(pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while first in _children(pid):
            assert time.monotonic() < deadline, "the killed worker was not reaped"
            time.sleep(0.02)
        for _ in range(6):
            assert _get(base, "ASK {}").json()["boolean"] is True
        os.kill(second, signal.SIGKILL)
        time.sleep(0.2)
        assert _get(base, "ASK {}").status_code == 503
