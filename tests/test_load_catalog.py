"""Load and isolation: the endpoint keeps answering under load and pathological queries.

* A short load test: 32 concurrent clients for 5 s over the question catalog
  against uvicorn in a subprocess over the real dataset (loopback only);
  zero errors is the assertion; p50/p99 and RSS before/after are printed.
  ``bench/load.py`` is the 60-second version.
* Isolation: while four pathological queries run (each until the timeout),
  simple queries are still answered; their latency and the worker memory are
  printed, and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from conftest_endpoint import PREFIX, endpoint_settings
from fastapi.testclient import TestClient
from shared_build import built_dir

from openskies.server.app import create_app

LOAD_PY = Path(__file__).resolve().parents[1] / "bench" / "load.py"
_spec = importlib.util.spec_from_file_location("openskies_bench_load", LOAD_PY)
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)


def _report(capsys, title: str, values: dict) -> None:
    with capsys.disabled():
        print(f"\n[{title}] " + ", ".join(f"{key}={value}" for key, value in values.items()))


@pytest.mark.slow
def test_short_load_over_the_catalog(capsys):
    process, url = load.start_server(
        {"OPENSKIES_BUILD_DIR": str(built_dir()), "OPENSKIES_WORKERS": "2"}
    )
    try:
        paths = load.catalog_paths(url)
        assert len(paths) > 10
        before = load.rss_bytes(process.pid)
        # A thread of its own: an earlier test may leave an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as executor:
            job = executor.submit(asyncio.run, load.run_load(url, paths, clients=32, duration=5.0))
            report = job.result(timeout=120)
        after = load.rss_bytes(process.pid)
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=15)
    report.pop("error_samples") if not report["errors"] else None
    report["rss_before_mb"] = round(before / 2**20, 1)
    report["rss_after_mb"] = round(after / 2**20, 1)
    _report(capsys, "load 32 clients x 5 s", report)
    assert report["errors"] == 0, report
    assert report["requests"] > 32


PATHOLOGICAL = [
    "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?a ?l",
    "SELECT DISTINCT ?a ?l { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o }",
    "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }",
    "SELECT (GROUP_CONCAT(STR(?c)) AS ?x) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
]
SIMPLE = PREFIX + "ASK { ex:alice ex:knows ex:bob }"


def test_simple_queries_answered_while_pathological_ones_run(capsys):
    timeout = 2.0
    settings = endpoint_settings(query_timeout=timeout, workers=2, max_result_rows=1000)
    with TestClient(create_app(settings)) as client:
        pool = client.app.state.service.pool
        server = psutil.Process()
        statuses: list[int] = []
        peak_rss = [0]
        done = threading.Event()

        def heavy(query: str) -> None:
            statuses.append(client.post("/sparql", data={"query": query}).status_code)

        def sample() -> None:
            while not done.is_set():
                total = 0
                for child in server.children(recursive=True):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += child.memory_info().rss
                peak_rss[0] = max(peak_rss[0], total)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=heavy, args=(q,)) for q in PATHOLOGICAL]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        latencies = []
        while any(thread.is_alive() for thread in threads):
            started = time.monotonic()
            response = client.get("/sparql", params={"query": SIMPLE})
            latencies.append(time.monotonic() - started)
            assert response.status_code == 200, response.text
            assert response.json()["boolean"] is True
        for thread in threads:
            thread.join()
        done.set()
        sampler.join()
        assert all(status in (200, 503) for status in statuses), statuses
        ordered = sorted(latencies)
        _report(
            capsys,
            "isolation: 4 pathological queries, 2 workers, 2 s timeout",
            {
                "simple_queries": len(latencies),
                "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
                "max_ms": round(ordered[-1] * 1000, 1),
                "pathological_statuses": sorted(statuses),
                "peak_worker_rss_mb": round(peak_rss[0] / 2**20, 1),
                "workers_replaced": pool.replacements,
            },
        )
        # Generous sanity bounds, not timings: queued behind at most the pathological
        # queries' timeouts plus worker restarts; memory of the workers stays bounded.
        assert ordered[-1] < 4 * timeout + 10
        assert peak_rss[0] < 4 * 2**30
