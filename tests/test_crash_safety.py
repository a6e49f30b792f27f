"""Crash safety of the persistent store: no acknowledged update is lost to SIGKILL.

uvicorn runs as a subprocess over ``store="disk"`` with writes enabled. A
writer thread sends numbered ``INSERT DATA`` updates with the token and
records each one the server acknowledged (204). Mid-stream the server's whole
process group (uvicorn and its workers) is killed with SIGKILL; the server is
started again over the same directory, and every acknowledged update must be
there (unacknowledged ones may or may not be: the client never learned).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest_endpoint import DATA, TOKEN

from openskies.settings import Settings

if "store" not in Settings.model_fields:
    pytest.skip(
        "no persistent store: Settings has no 'store' field (store='disk')",
        allow_module_level=True,
    )

LOAD_PY = Path(__file__).resolve().parents[1] / "bench" / "load.py"
_spec = importlib.util.spec_from_file_location("openskies_bench_load_crash", LOAD_PY)
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRAPH = "urn:openskies:crash-test"


def _start(store: Path) -> tuple[subprocess.Popen, str]:
    port = load.free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("OPENSKIES_")},
        "OPENSKIES_STORE": "disk",
        "OPENSKIES_STORE_PATH": str(store),
        "OPENSKIES_REPLACE_DATA": "true",
        "OPENSKIES_DATA_FILES": f'["{DATA}"]',
        "OPENSKIES_UPDATE_TOKEN": TOKEN,
        "OPENSKIES_WORKERS": "1",
        "OPENSKIES_PORT": str(port),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "openskies.server.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    # Its own process group, so SIGKILL reaches uvicorn and every worker at once.
    process = subprocess.Popen(command, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("server did not start")


@pytest.mark.slow
def test_acknowledged_updates_survive_sigkill(tmp_path, capsys):
    store = tmp_path / "store"
    process, url = _start(store)
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        number = 0
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                update = (
                    f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <urn:n:{number}> <urn:p> {number} }} }}"
                )
                try:
                    response = client.post("/update", data={"update": update}, headers=AUTH)
                except httpx.HTTPError:
                    return  # the server is gone: this one was never acknowledged
                if response.status_code == 204:
                    acknowledged.append(number)
                number += 1

    thread = threading.Thread(target=writer)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        stop.set()
        thread.join(timeout=30)
    finally:
        stop.set()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert len(acknowledged) >= 20, "the writer did not get going"

    process, url = _start(store)
    try:
        query = f"SELECT ?n WHERE {{ GRAPH <{GRAPH}> {{ ?s <urn:p> ?n }} }}"
        response = httpx.get(
            url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"}, timeout=30
        )
        assert response.status_code == 200, response.text
        present = {int(line) for line in response.text.splitlines()[1:] if line.strip()}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    with capsys.disabled():
        print(
            f"\n[crash] acknowledged={len(acknowledged)} present after restart={len(present)} "
            f"lost={len(set(acknowledged) - present)}"
        )
    assert set(acknowledged) <= present
