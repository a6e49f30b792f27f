"""``openskies serve --http-processes N``: several web processes on one port, and the default.

Started through the real command line on a loopback port, as an operator
would, because the feature is the process layout itself.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest
from conftest_endpoint import DATA, PREFIX
from serve_support import OPENSKIES, clean_env, serving

from openskies.server.web_processes import LARGE_DATA_BYTES, resolve_web_processes
from openskies.settings import Settings


def _workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "openskies.server.worker" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _health(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_web_processes_share_the_port_and_answer():
    arguments = ["--http-processes", "2", "--workers", "1", "--replace-data", "--data", str(DATA)]
    with serving(arguments, clean_env(), ready=_health) as (base, process):
        query = PREFIX + "ASK { ex:alice ex:knows ex:bob }"
        with httpx.Client(timeout=10) as client:
            answers = [
                client.get(base + "/sparql", params={"query": f"{query} # {n}"}).json()["boolean"]
                for n in range(20)
            ]
        assert answers == [True] * 20
        # uvicorn's supervisor, two web processes, and one query worker under each
        # (the second web process may still be starting when the first one answers).
        deadline = time.monotonic() + 60
        while len(_workers(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_workers(process.pid)) == 2


def test_several_web_processes_refuse_writes_with_a_clear_message():
    result = subprocess.run(
        [OPENSKIES, "serve", "--http-processes", "2", "--replace-data", "--data", str(DATA)],
        env=clean_env(OPENSKIES_UPDATE_TOKEN="secret-token-value"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "http_processes > 1 needs a read-only server" in result.stderr
    assert "secret-token-value" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def large_data(tmp_path_factory) -> Path:
    """An N-Triples file just over ``LARGE_DATA_BYTES``."""
    path = tmp_path_factory.mktemp("large") / "large.nt"
    line = '<http://example.org/s{n}> <http://example.org/p> "a value long enough {n}" .\n'
    with path.open("w") as out:
        n = 0
        while out.tell() < LARGE_DATA_BYTES:
            out.write("".join(line.format(n=n + i) for i in range(1000)))
            n += 1000
    return path


def _settings(data: Path, **values: object) -> Settings:
    return Settings(replace_data=True, data_files=(data,), **values)


def test_by_default_large_read_only_data_gets_two_web_processes(large_data):
    chosen = resolve_web_processes(_settings(large_data), cpus=2)
    assert (chosen.http_processes, chosen.workers) == (2, 1), "the workers are divided"
    chosen = resolve_web_processes(_settings(large_data, workers=4), cpus=2)
    assert (chosen.http_processes, chosen.workers) == (2, 2)


@pytest.mark.parametrize(
    ("values", "cpus", "why"),
    [
        ({}, 1, "one CPU"),
        ({"update_token": "token-0123456789"}, 2, "writes on"),
        ({"store": "remote", "remote_query_url": "http://127.0.0.1:9/q"}, 2, "remote store"),
        ({"store": "disk"}, 2, "on-disk store: restarts stay fast"),
    ],
)
def test_one_web_process_otherwise(large_data, values, cpus, why):
    chosen = resolve_web_processes(_settings(large_data, **values), cpus=cpus)
    assert (chosen.http_processes, chosen.workers) == (1, 2), why


def test_small_data_and_an_explicit_count_are_left_alone(large_data):
    small = resolve_web_processes(_settings(DATA), cpus=2)
    assert (small.http_processes, small.workers) == (1, 2)
    given = resolve_web_processes(_settings(large_data, http_processes=3), cpus=2)
    assert (given.http_processes, given.workers) == (3, 2)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the automatic choice needs two CPUs")
def test_serve_starts_two_web_processes_for_large_data(large_data):
    """The default, through the command line: two web processes, one worker each."""
    arguments = ["--replace-data", "--data", str(large_data)]
    with serving(arguments, clean_env(), ready=_health) as (base, process):
        query = "ASK { <http://example.org/s17> ?p ?o }"
        response = httpx.get(base + "/sparql", params={"query": query}, timeout=10)
        assert response.json()["boolean"] is True
        deadline = time.monotonic() + 60
        while len(_workers(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _workers(process.pid)
        assert len(workers) == 2
        assert len({worker.ppid() for worker in workers}) == 2, "one worker per web process"


def test_a_missing_data_file_is_a_clear_error_not_a_traceback():
    result = subprocess.run(
        [OPENSKIES, "serve", "--replace-data", "--data", "/nonexistent/data.nt"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot serve: data file not found: /nonexistent/data.nt" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
