"""Load test: N concurrent clients over the question catalog, loopback only.

    .venv/bin/python bench/load.py                  # 32 clients, 60 s, own server
    .venv/bin/python bench/load.py --duration 10 --clients 8
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000   # an already running server

Without ``--url`` it starts ``uvicorn`` (the app factory, 2 workers, the
built dataset in ``build/``) as a subprocess on a free loopback port, so the
server's RSS (with its worker processes) can be measured before and after.
Each client loops over every catalog question that needs no parameter
(``GET /api/queries/{name}``), plus ``/health``. Prints requests, errors,
throughput, p50/p95/p99/max latency and RSS, and exits 1 on any error.
The test suite runs a short version (tests/test_load_catalog.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its children (the query workers)."""
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


def start_server(env: dict[str, str], timeout: float = 180.0) -> tuple[subprocess.Popen, str]:
    """uvicorn over the app factory on a free loopback port; returns (process, base URL)."""
    port = free_port()
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
        "--no-access-log",
        # As ``openskies serve`` runs it: each response's head and body in one write.
        "--http",
        "openskies.server.http_protocol:CoalescingHttpToolsProtocol",
    ]
    # Only the settings given here: nothing inherited from the caller's OPENSKIES_* variables.
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith("OPENSKIES_")
    }
    full_env = {**inherited, "OPENSKIES_PORT": str(port), **env}
    log = tempfile.TemporaryFile()  # noqa: SIM115 (outlives this function with the server)
    process = subprocess.Popen(
        command, env=full_env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
    )

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-2000:]

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout  # a cold start may build the dataset first
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{output()}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start in {timeout:g} s:\n{output()}")


def catalog_paths(url: str) -> list[str]:
    entries = httpx.get(url + "/api/queries", timeout=30).json()
    paths = [
        f"/api/queries/{entry['name']}"
        for entry in entries
        if not any(p.get("required") or p.get("needed") for p in entry.get("parameters", []))
        and "SERVICE" not in entry.get("query", "").upper()
        and entry["name"] != "wikidata_treaty_members"
    ]
    return paths + ["/health"]


async def run_load(url: str, paths: list[str], clients: int, duration: float) -> dict:
    """``clients`` concurrent loops over ``paths`` for ``duration`` seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as session:

        async def client(index: int) -> None:
            turn = index
            while time.monotonic() < stop:
                path = paths[turn % len(paths)]
                turn += 1
                started = time.monotonic()
                try:
                    response = await session.get(path)
                    if response.status_code != 200:
                        errors.append(f"{path}: {response.status_code} {response.text[:100]}")
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                latencies.append(time.monotonic() - started)

        began = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.monotonic() - began
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "throughput_rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(0.50) * 1000, 1),
        "p95_ms": round(percentile(0.95) * 1000, 1),
        "p99_ms": round(percentile(0.99) * 1000, 1),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server (loopback)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    process = None
    url = args.url
    if url is None:
        process, url = start_server(
            {
                "OPENSKIES_BUILD_DIR": str(Path(args.build_dir).resolve()),
                "OPENSKIES_WORKERS": str(args.workers),
            }
        )
    host = httpx.URL(url).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("load tests run against loopback only")
    try:
        paths = catalog_paths(url)
        before = rss_bytes(process.pid) if process else None
        report = asyncio.run(run_load(url, paths, args.clients, args.duration))
        after = rss_bytes(process.pid) if process else None
        report["operations"] = len(paths)
        if before is not None:
            report["rss_before_mb"] = round(before / 2**20, 1)
            report["rss_after_mb"] = round(after / 2**20, 1)
        print(json.dumps(report, indent=2))
        return 1 if report["errors"] else 0
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
