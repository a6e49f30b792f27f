"""What a cold start of ``openskies serve`` loads, in each process.

Start-up time is mostly imports, so these tests pin down what each process
imports rather than how long it takes (timings are too noisy on a shared
machine to assert): the web process of a real ``openskies serve`` never
imports the build's libraries (rdflib, the reasoner, SHACL) nor libraries
it does not use (pydantic-settings, websockets), nor the page templates
(Jinja2) until a page is asked for, a query worker imports the engine and no
web framework, and a start over a filled on-disk store does
not read, let alone parse, the files it was loaded from.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from conftest_endpoint import DATA
from serve_support import clean_env, free_port, stop
from shared_build import built_dir

OPENSKIES = str(Path(sys.executable).with_name("openskies"))
NEVER_IN_THE_WEB_PROCESS = {"rdflib", "owlready2", "pyshacl", "pydantic_settings", "websockets"}
"""Build-time libraries (loaded only when the dataset must be rebuilt) and unused ones."""
ONLY_FOR_PAGES = {"jinja2"}
"""Loaded when the first HTML page is rendered, not for queries (nor to build the routes)."""
NEVER_IN_A_WORKER = {
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
    "typer",
    "rdflib",
    "jinja2",
    "xml",  # xml.sax.saxutils pulls in urllib.request: ~47 ms and 8 MiB per worker
}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _clean_env(**extra: str) -> dict[str, str]:
    """``serve_support.clean_env`` without an inherited ``-X importtime`` switch."""
    env = clean_env(**extra)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _imported(importtime_log: str) -> set[str]:
    """Top-level packages named in ``python -X importtime`` output."""
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                names.add(name.split(".")[0])
    return names


def _count(base: str) -> int:
    response = httpx.get(
        base + "/sparql",
        params={"query": COUNT},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@contextmanager
def _serve(env: dict[str, str], log: Path) -> Iterator[str]:
    """``openskies serve`` under ``-X importtime`` (web process only); yields its base URL.

    Workers are started without ``-X``, so the log holds the web process's imports.
    """
    port = free_port()
    env = {**env, "OPENSKIES_HOST": "127.0.0.1", "OPENSKIES_PORT": str(port)}
    command = [sys.executable, "-X", "importtime", OPENSKIES, "serve", "--no-access-log"]
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(9000):  # 90 s at most
            assert process.poll() is None, f"serve exited with {process.returncode}"
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        else:
            raise AssertionError("the server did not start")
        yield base
    finally:
        stop(process)


def test_serving_the_article_graph_imports_no_build_library(tmp_path):
    log = tmp_path / "importtime.log"
    env = _clean_env(OPENSKIES_BUILD_DIR=str(built_dir()), OPENSKIES_WORKERS="1")
    with _serve(env, log) as base:
        assert _count(base) > 1000
    imported = _imported(log.read_text())
    assert "fastapi" in imported  # the log is the web process's
    assert imported & NEVER_IN_THE_WEB_PROCESS == set()
    assert imported & ONLY_FOR_PAGES == set()


def test_a_query_worker_imports_the_engine_and_no_web_framework():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import openskies.server.worker"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    imported = _imported(result.stderr)
    assert "pyoxigraph" in imported
    assert imported & NEVER_IN_A_WORKER == set()


def test_a_disk_start_does_not_read_the_files_the_store_was_loaded_from(tmp_path):
    data = tmp_path / "data.trig"
    shutil.copy(DATA, data)
    store = tmp_path / "store"
    subprocess.run(
        [OPENSKIES, "load", "--into", str(store), "--data", str(data)],
        env=_clean_env(),
        check=True,
        capture_output=True,
    )
    marker = json.loads((store / "openskies-store.json").read_text())
    data.unlink()  # nothing left to parse: the start must not need it
    # The environment the benchmark uses for its on-disk runs (bench/systems.py).
    env = _clean_env(
        OPENSKIES_STORE="disk",
        OPENSKIES_STORE_PATH=str(store),
        OPENSKIES_DATA_FILES=json.dumps([str(data)]),
        OPENSKIES_REPLACE_DATA="true",
        OPENSKIES_WORKERS="2",
    )
    log = tmp_path / "importtime.log"
    with _serve(env, log) as base:
        assert _count(base) > 0
    assert json.loads((store / "openskies-store.json").read_text())["load_id"] == marker["load_id"]
    assert _imported(log.read_text()) & NEVER_IN_THE_WEB_PROCESS == set()
