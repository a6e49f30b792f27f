"""Fixtures for the SPARQL endpoint tests (tests/test_endpoint*.py).

The app is built once per session over the small TriG fixture in
tests/data/endpoint.trig, with the lifespan running, so every test goes
through real worker processes. A second app runs under uvicorn on a free
port for clients that need a real socket (SPARQLWrapper); it has no update
token, so it also shows that writes are off by default.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from openskies.server.app import create_app
from openskies.settings import Settings

DATA = Path(__file__).parent / "data" / "endpoint.trig"
TOKEN = "test-token-0123456789"
EX = "http://example.org/"
GRAPH_ONE = EX + "graph/one"
GRAPH_TWO = EX + "graph/two"
PREFIX = f"PREFIX ex: <{EX}>\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLOSED_PORT = _free_port()
"""A port nothing listens on, allow-listed so that SERVICE calls to it pass the filter."""


def endpoint_settings(**overrides: object) -> Settings:
    """Settings for a test server over the fixture data, with small limits."""
    values: dict[str, object] = {
        "replace_data": True,
        "data_files": (DATA,),
        "query_timeout": 1.0,
        "max_result_rows": 12,
        "max_query_length": 10_000,
        "max_body_bytes": 20_000,
        "workers": 2,
        "outbound_allowlist": ("allowed.example", f"127.0.0.1:{CLOSED_PORT}"),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """A TestClient over the session's app, writes enabled with ``TOKEN``."""
    app = create_app(endpoint_settings(update_token=TOKEN))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    """Base URL of a real uvicorn server on 127.0.0.1 (read-only: no token)."""
    port = _free_port()
    settings = endpoint_settings(port=port, workers=1)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
