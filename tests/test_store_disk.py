"""The on-disk store: loaded once, reopened without reparsing, writes survive restarts."""

from __future__ import annotations

import json
import shutil

from conftest_endpoint import DATA, TOKEN
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openskies.cli import app as cli
from openskies.server.app import create_app
from openskies.server.store import MARKER, store_initialized
from openskies.settings import Settings

AUTH = {"Authorization": f"Bearer {TOKEN}"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
SCRATCH = "http://example.org/graph/disk-scratch"


def _count(client, query: str = COUNT) -> int:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _settings(store_path, data, **overrides) -> Settings:
    values = {
        "store": "disk",
        "store_path": store_path,
        "replace_data": True,
        "data_files": (data,),
        "workers": 2,
    }
    values.update(overrides)
    return Settings(**values)


def test_writes_survive_a_restart_and_the_sources_are_not_reread(tmp_path):
    data = tmp_path / "data.trig"
    shutil.copy(DATA, data)
    store_path = tmp_path / "store"
    with TestClient(create_app(_settings(store_path, data, update_token=TOKEN))) as client:
        loaded = _count(client)
        assert loaded > 0
        first_id = client.app.state.service.data_id
        update = f"INSERT DATA {{ GRAPH <{SCRATCH}> {{ <a:s> <a:p> 1, 2, 3 }} }}"
        assert client.post("/update", data={"update": update}, headers=AUTH).status_code == 204
        assert _count(client) == loaded + 3  # both workers see it (checkpoint reopened)
        assert _count(client) == loaded + 3
        graph = client.get("/graphs", params={"graph": SCRATCH}, headers={"Accept": "text/plain"})
        assert len(graph.text.splitlines()) == 3
    assert store_initialized(store_path)
    assert json.loads((store_path / MARKER).read_text())["writes"] == 1
    data.unlink()  # a restart must not need (or parse) the source files
    with TestClient(create_app(_settings(store_path, data, update_token=TOKEN))) as client:
        assert _count(client) == loaded + 3
        # Same generation number, different data: the data id (and so every ETag) differs.
        assert client.app.state.service.data_id != first_id
        delete = client.delete("/graphs", params={"graph": SCRATCH}, headers=AUTH)
        assert delete.status_code == 204
        assert _count(client) == loaded
    with TestClient(create_app(_settings(store_path, data))) as client:  # read-only start
        assert _count(client) == loaded
        assert client.app.state.service.pool.generation == 0
        update = "INSERT DATA { <a:s> <a:p> 1 }"
        assert client.post("/update", data={"update": update}, headers=AUTH).status_code == 403


def test_read_only_server_loads_a_new_directory_once(tmp_path):
    store_path = tmp_path / "store"
    with TestClient(create_app(_settings(store_path, DATA))) as client:
        loaded = _count(client)
        assert client.get("/health").json()["workers"] == 2
    marker = json.loads((store_path / MARKER).read_text())
    assert marker["writes"] == 0 and marker["sources"] == [str(DATA.resolve())]
    with TestClient(create_app(_settings(store_path, DATA, workers=1))) as client:
        assert _count(client) == loaded
    assert json.loads((store_path / MARKER).read_text())["load_id"] == marker["load_id"]


def test_many_writes_with_concurrent_readers(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    settings = _settings(tmp_path / "store", DATA, update_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        base = _count(client)

        def read(_: int) -> int:
            return _count(client)

        for index in range(5):
            update = f"INSERT DATA {{ GRAPH <{SCRATCH}> {{ <a:s> <a:p> {index} }} }}"
            assert client.post("/update", data={"update": update}, headers=AUTH).status_code == 204
            with ThreadPoolExecutor(4) as pool:
                assert set(pool.map(read, range(8))) == {base + index + 1}
        snapshots = sorted(path.name for path in (tmp_path / "store" / "snapshots").iterdir())
        assert len(snapshots) <= 3  # old checkpoints are removed


def test_load_command_fills_a_store_directory(tmp_path):
    store_path = tmp_path / "loaded"
    result = CliRunner().invoke(cli, ["load", "--into", str(store_path), "--data", str(DATA)])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.output and "MISMATCH" not in result.output
    settings = Settings(store="disk", store_path=store_path, replace_data=True, workers=1)
    with TestClient(create_app(settings)) as client:  # no data files: the store is enough
        assert _count(client) > 0
