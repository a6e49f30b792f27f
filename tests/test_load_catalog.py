"""Load and isolation: the endpoint keeps answering under load and pathological queries.

* A short load test: 32 concurrent clients for 5 s over the question catalog
  against uvicorn in a subprocess over the real dataset (loopback only);
  zero errors is the assertion; p50/p99 and RSS before/after are printed.
  ``bench/load.py`` is the 60-second version.
* Isolation: while four pathological queries run (each until stopped: two
  until the timeout, the others by the heavy-query policy), simple queries
  are still answered, well within the timeout; their latency, the number of
  worker processes and the worker memory are printed, and both stay bounded.
  (``tests/test_isolation.py`` tests the policy and the memory cap in detail.)
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
from conftest_endpoint import DATA, PREFIX, endpoint_settings
from fastapi.testclient import TestClient
from shared_build import built_dir
from test_isolation import app_with_policy, generated_data

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


# Each runs until stopped: a 5-way cartesian product over the ~330 triples of the
# fixture plus generated data (about 4 * 10^12 solutions), CPU-bound, little memory.
FIVE_WAY = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o"
PATHOLOGICAL = [
    f"SELECT (COUNT(*) AS ?n) {{ {FIVE_WAY} }}",
    f"SELECT DISTINCT ?a ?o {{ {FIVE_WAY} }}",
    f"SELECT ?b (COUNT(*) AS ?n) {{ {FIVE_WAY} }} GROUP BY ?b",
    f'ASK {{ {FIVE_WAY} FILTER(CONCAT(STR(?c), STR(?o)) = "never") }}',
]
SIMPLE = PREFIX + "ASK { ex:alice ex:knows ex:bob }"


def _percentile(ordered: list[float], fraction: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000, 1)


def test_simple_queries_answered_while_pathological_ones_run(capsys, tmp_path):
    timeout = 8.0
    settings = endpoint_settings(
        data_files=(DATA, generated_data(tmp_path)),
        query_timeout=timeout,
        workers=2,
        heavy_query_after=0.5,
        max_heavy_queries=2,
        max_result_rows=1000,
    )
    with TestClient(app_with_policy(settings)) as client:
        pool = client.app.state.service.pool
        answers: list[tuple[int, str]] = []
        peak = {"rss": 0, "workers": 0}
        done = threading.Event()

        def heavy(query: str) -> None:
            response = client.post("/sparql", data={"query": query})
            answers.append((response.status_code, response.text))

        def sample() -> None:
            # This pool's worker processes only (other tests' servers and browsers may
            # be children of this process too), including any still exiting.
            seen: dict[int, psutil.Process] = {}
            while not done.is_set():
                for worker in list(pool._all):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        seen.setdefault(worker.process.pid, psutil.Process(worker.process.pid))
                total, count = 0, 0
                for process in seen.values():
                    with contextlib.suppress(psutil.NoSuchProcess):
                        if process.status() != psutil.STATUS_ZOMBIE:
                            total += process.memory_info().rss
                            count += 1
                peak["rss"] = max(peak["rss"], total)
                peak["workers"] = max(peak["workers"], count)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=heavy, args=(q,)) for q in PATHOLOGICAL]
        began = time.monotonic()
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
        pathological_s = time.monotonic() - began
        done.set()
        sampler.join()
        ordered = sorted(latencies)
        reasons = sorted(
            "timed out" if "timed out" in text else "too many" if "long-running" in text else text
            for _, text in answers
        )
        _report(
            capsys,
            f"isolation: 4 pathological queries, 2 workers, {timeout:g} s timeout, "
            "heavy after 0.5 s, 2 heavy slots",
            {
                "simple_queries": len(latencies),
                "p50_ms": _percentile(ordered, 0.5),
                "p99_ms": _percentile(ordered, 0.99),
                "max_ms": round(ordered[-1] * 1000, 1),
                "pathological": [status for status, _ in sorted(answers)],
                "stopped_by": reasons,
                "pathological_s": round(pathological_s, 1),
                "peak_workers": pool.peak_workers,
                "peak_processes": peak["workers"],
                "extra_workers": pool.extra_workers,
                "refused": pool.heavy_refused,
                "replacements": pool.replacements,
                "peak_worker_rss_mb": round(peak["rss"] / 2**20, 1),
            },
        )
        # Every pathological query really ran until stopped: by the timeout (the two
        # heavy slots) or by the heavy policy (the others).
        assert [status for status, _ in answers] == [503] * 4, answers
        assert set(reasons) <= {"timed out", "too many"}, reasons
        assert "timed out" in reasons
        # Generous sanity bounds, not timings: no simple query waited anywhere near the
        # timeout; never more processes than workers + heavy slots; memory bounded.
        assert ordered[-1] < timeout
        assert pool.peak_workers <= pool.size + pool.max_heavy
        assert peak["workers"] <= pool.size + pool.max_heavy + 1  # + one exiting
        assert peak["rss"] < 4 * 2**30
