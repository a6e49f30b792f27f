"""Starting and stopping the systems under test, each on a free loopback port.

``ours-memory`` / ``ours-disk``: ``openskies serve`` over the generated file
(``data_files`` with ``replace_data``), in memory (large data grouped by
predicate anew at every start, in the cold start) or from a persistent store
filled beforehand by ``openskies load --into DIR``; ``oxigraph-memory`` /
``oxigraph-disk``: ``oxigraph serve`` (PyPI ``oxigraph``) loaded over HTTP,
or from a directory filled by ``oxigraph load``; ``rdflib-endpoint`` (PyPI).
Each system reports its cold start (process start to the first answered
query over the loaded data), load time and, at the end, the peak RSS summed
over its process tree (``VmHWM`` of every process).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
SYSTEMS = ("ours-memory", "ours-disk", "oxigraph-memory", "oxigraph-disk", "rdflib-endpoint")
REFERENCES = ("bare-pyoxigraph", "bare-pyoxigraph-workers")
"""Systems run only when asked for (``--systems``): floors for the argument, not peers."""
BASELINE = {
    "ours-memory": "oxigraph-memory",
    "bare-pyoxigraph": "oxigraph-memory",
    "bare-pyoxigraph-workers": "oxigraph-memory",
    "ours-disk": "oxigraph-disk",
    "rdflib-endpoint": "oxigraph-memory",
}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed (pip install -e '.[bench]')")
    return found


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def peak_rss_mib(pid: int) -> float:
    """Sum of the peak resident set (VmHWM) of ``pid`` and its descendants, in MiB."""
    total = 0
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass
class Running:
    name: str
    base: str
    path: str
    process: subprocess.Popen
    cold_start_s: float
    load_s: float
    workdir: Path
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.base + self.path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _wait(url: str, process: subprocess.Popen, timeout: float, expect: int | None) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Accept": "application/sparql-results+json"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            response = httpx.get(url, params={"query": COUNT}, headers=headers, timeout=30)
            if response.status_code == 200:
                n = int(response.json()["results"]["bindings"][0]["n"]["value"])
                if expect is None or n >= expect:
                    return
        except (httpx.HTTPError, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def _popen(command: list[str], env: dict | None = None, log: Path | None = None):
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def start(
    name: str,
    data: Path,
    triples: int,
    workdir: Path,
    *,
    workers: int = 2,
    http_processes: int | None = None,
) -> Running:
    """Start ``name`` over ``data`` (N-Triples with ``triples`` triples) and wait for it."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / f"{name}.log"
    load_s = 0.0
    timeout = 60 + triples / 2_000
    media_type = "application/n-quads" if data.suffix == ".nq" else "application/n-triples"
    if data.suffix == ".nq":
        triples = 1  # quads may repeat a triple across graphs: any answer over data will do
    if name.startswith("ours"):
        env = {
            **os.environ,
            "OPENSKIES_HOST": "127.0.0.1",
            "OPENSKIES_PORT": str(port),
            "OPENSKIES_DATA_FILES": json.dumps([str(data)]),
            "OPENSKIES_REPLACE_DATA": "true",
            "OPENSKIES_WORKERS": str(workers),
            "OPENSKIES_QUERY_TIMEOUT": "60",
            "OPENSKIES_MAX_RESULT_ROWS": "1000000",
            "OPENSKIES_STORE": "memory",
            # Its own build directory, emptied at every start: the grouped copy of large
            # data (server/store_layout.py) is made anew, so cold start counts it.
            "OPENSKIES_BUILD_DIR": str(workdir / "ours-build"),
        }
        shutil.rmtree(workdir / "ours-build", ignore_errors=True)
        if http_processes is not None:  # else the server's own choice
            env["OPENSKIES_HTTP_PROCESSES"] = str(http_processes)
        if name == "ours-disk":
            store = workdir / "ours-store"
            shutil.rmtree(store, ignore_errors=True)
            began = time.perf_counter()
            subprocess.run(
                [_tool("openskies"), "load", "--into", str(store), "--data", str(data)],
                check=True,
                capture_output=True,
            )
            load_s = time.perf_counter() - began
            env.update({"OPENSKIES_STORE": "disk", "OPENSKIES_STORE_PATH": str(store)})
        began = time.perf_counter()
        process = _popen([_tool("openskies"), "serve", "--no-access-log"], env, log)
        _wait(base + "/sparql", process, timeout, triples)
        cold = time.perf_counter() - began
        return Running(name, base, "/sparql", process, cold, load_s or cold, workdir)
    if name.startswith("oxigraph"):
        command = [_tool("oxigraph"), "serve", "--bind", f"127.0.0.1:{port}"]
        command.append("--union-default-graph")
        if name == "oxigraph-disk":
            location = workdir / "oxigraph-store"
            shutil.rmtree(location, ignore_errors=True)
            began = time.perf_counter()
            subprocess.run(
                [_tool("oxigraph"), "load", "--location", str(location), "--file", str(data)],
                check=True,
                capture_output=True,
            )
            load_s = time.perf_counter() - began
            command += ["--location", str(location)]
            began = time.perf_counter()
            process = _popen(command, None, log)
            _wait(base + "/query", process, timeout, triples)
            cold = time.perf_counter() - began
            return Running(name, base, "/query", process, cold, load_s, workdir)
        began = time.perf_counter()
        process = _popen(command, None, log)
        _wait(base + "/query", process, timeout, None)
        loading = time.perf_counter()
        with open(data, "rb") as body:
            response = httpx.post(
                base + ("/store" if data.suffix == ".nq" else "/store?default"),
                content=body.read(),
                headers={"Content-Type": media_type},
                timeout=600,
            )
        response.raise_for_status()
        load_s = time.perf_counter() - loading
        _wait(base + "/query", process, timeout, triples)
        cold = time.perf_counter() - began
        return Running(name, base, "/query", process, cold, load_s, workdir)
    if name == "rdflib-endpoint":
        command = [_tool("rdflib-endpoint"), "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), str(data)]
        began = time.perf_counter()
        process = _popen(command, None, log)
        _wait(base + "/", process, timeout * 5, triples)  # rdflib-endpoint 0.6 serves at /
        cold = time.perf_counter() - began
        return Running(name, base, "/", process, cold, cold, workdir)
    if name.startswith("bare-pyoxigraph"):
        # Inline: two web processes (both cores). With workers: ours' default layout,
        # one web process handing queries to two worker processes.
        layout = ["1", "2"] if name.endswith("-workers") else ["2", "0"]
        server = Path(__file__).with_name("bare_server.py")
        command = [sys.executable, str(server), str(data), str(port), *layout]
        began = time.perf_counter()
        process = _popen(command, None, log)
        _wait(base + "/sparql", process, timeout, triples)
        cold = time.perf_counter() - began
        return Running(name, base, "/sparql", process, cold, cold, workdir)
    choices = ", ".join(SYSTEMS + REFERENCES)
    raise ValueError(f"unknown system {name!r}; choose from {choices}")
