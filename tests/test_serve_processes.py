"""``openskies serve --http-processes N``: several web processes on one port.

Started through the real command line on a loopback port, as an operator
would, because the feature is the process layout itself.
"""

from __future__ import annotations

import subprocess
import time

import httpx
import psutil
from conftest_endpoint import DATA, PREFIX
from serve_support import OPENSKIES, clean_env, serving


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


def test_a_missing_data_file_is_a_clear_error_not_a_traceback():
    for extra in ([], ["--http-processes", "2"]):
        result = subprocess.run(
            [OPENSKIES, "serve", "--replace-data", "--data", "/nonexistent/data.nt", *extra],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, extra
        assert "cannot serve: data file not found: /nonexistent/data.nt" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
