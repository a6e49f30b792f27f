"""A real Oxigraph server (the ``oxigraph`` package from PyPI) for the store tests.

Started on a free loopback port, in memory, with the union default graph
(what the embedded store serves), and stopped at the end of the session.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_binary() -> str:
    """The ``oxigraph`` CLI installed next to this Python, or on PATH; skip if neither."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.exists():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        pytest.skip("the oxigraph server (pip install oxigraph) is not installed")
    return found


class OxigraphServer:
    """``oxigraph serve`` as a child process; ``url`` is its base URL."""

    def __init__(self, location: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [oxigraph_binary(), "serve", "--bind", f"127.0.0.1:{self.port}"]
        command.append("--union-default-graph")
        if location is not None:
            command += ["--location", str(location)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("oxigraph serve did not start") from None
                time.sleep(0.05)

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def update_url(self) -> str:
        return self.url + "/update"

    @property
    def store_url(self) -> str:
        return self.url + "/store"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
