"""``openskies serve --http-processes N``: several web processes on one port.

Started through the real command line on a loopback port, as an operator
would, because the feature is the process layout itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from conftest_endpoint import DATA, PREFIX

OPENSKIES = str(Path(sys.executable).with_name("openskies"))


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENSKIES_")}
    return {**env, **extra}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "openskies.server.worker" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_two_web_processes_share_the_port_and_answer():
    port = _free_port()
    command = [OPENSKIES, "serve", "--port", str(port), "--no-access-log"]
    command += ["--http-processes", "2", "--workers", "1", "--replace-data", "--data", str(DATA)]
    process = subprocess.Popen(command, env=_clean_env(), start_new_session=True)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(url.replace("/sparql", "/health"), timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        query = PREFIX + "ASK { ex:alice ex:knows ex:bob }"
        with httpx.Client(timeout=10) as client:
            answers = [
                client.get(url, params={"query": f"{query} # {n}"}).json()["boolean"]
                for n in range(20)
            ]
        assert answers == [True] * 20
        # uvicorn's supervisor, two web processes, and one query worker under each
        # (the second web process may still be starting when the first one answers).
        deadline = time.monotonic() + 60
        while len(_workers(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_workers(process.pid)) == 2
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_several_web_processes_refuse_writes_with_a_clear_message():
    result = subprocess.run(
        [OPENSKIES, "serve", "--http-processes", "2", "--replace-data", "--data", str(DATA)],
        env=_clean_env(OPENSKIES_UPDATE_TOKEN="secret-token-value"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "http_processes > 1 needs a read-only server" in result.stderr
    assert "secret-token-value" not in result.stderr + result.stdout
