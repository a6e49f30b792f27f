"""Query workers never outlive the server, even while evaluating a runaway query."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil

LAUNCHER = textwrap.dedent(
    """
    import sys, time
    from openskies.server.worker_process import start_worker

    process, conn = start_worker({
        "sources": [sys.argv[1]], "prefixes": {}, "base_iri": None, "generation": 0,
        "snapshot": None, "disk": None, "writer": False, "checkpoint": None,
    })
    assert conn.recv()["ready"]
    conn.send({
        "op": "query", "format": "json", "max_rows": 10, "union": False,
        "query": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    })
    print(process.pid, flush=True)
    time.sleep(600)
    """
)


def test_a_busy_worker_exits_when_its_server_is_killed(tmp_path):
    data = tmp_path / "data.nt"
    data.write_text("".join(f'<urn:x:s{n}> <urn:x:p> "{n}" .\n' for n in range(300)))
    server = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(data)], stdout=subprocess.PIPE, text=True
    )
    try:
        worker = psutil.Process(int(server.stdout.readline()))
        time.sleep(0.5)
        assert worker.is_running()  # and evaluating the query, which would run for minutes
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        worker.wait(timeout=10)  # raises psutil.TimeoutExpired if it lingers
    finally:
        if server.poll() is None:
            server.kill()


def _worker_environment(tmp_path, env: dict[str, str]) -> str:
    """GLIBC_TUNABLES as ``start_worker`` hands it to a real worker process.

    Read from the launch, not from ``/proc/PID/environ``: glibc rewrites the
    variable in place as it parses it, so the process's copy shows only the
    first setting.
    """
    data = tmp_path / "data.nt"
    data.write_text('<urn:x:s> <urn:x:p> "o" .\n')
    launcher = textwrap.dedent(
        """
        import subprocess, sys
        from openskies.server.worker_process import start_worker

        launched = []
        original = subprocess.Popen

        def recording(*args, **kwargs):
            launched.append(kwargs.get("env"))
            return original(*args, **kwargs)

        subprocess.Popen = recording
        process, conn = start_worker({
            "sources": [sys.argv[1]], "prefixes": {}, "base_iri": None, "generation": 0,
            "snapshot": None, "disk": None, "writer": False, "checkpoint": None,
        })
        assert conn.recv()["ready"]  # the worker runs with that environment
        print((launched[0] or {}).get("GLIBC_TUNABLES", ""), flush=True)
        conn.send(None)
        process.join(10)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", launcher, str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_workers_get_the_allocator_settings_unless_the_operator_chose_some(tmp_path):
    from openskies.server.worker_process import MALLOC_TUNABLES

    env = {key: value for key, value in os.environ.items() if key != "GLIBC_TUNABLES"}
    assert _worker_environment(tmp_path, env) == MALLOC_TUNABLES
    chosen = "glibc.malloc.tcache_count=7"
    assert _worker_environment(tmp_path, {**env, "GLIBC_TUNABLES": chosen}) == chosen
