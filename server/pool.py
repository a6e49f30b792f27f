"""A pool of worker processes that evaluate SPARQL with hard time limits.

Why processes: pyoxigraph cannot be cancelled from another thread and some
inputs crash it (design.md, "Known engine hazards"). A worker that runs past
the timeout is killed (SIGKILL) and a fresh one is started in the background;
a worker that dies is replaced the same way. The web server only waits on
pipes, from threads, so its event loop keeps serving other requests.

Writes: the single source of truth is one *writer* process (started on the
first write, only when writes are enabled). It applies an update or Graph
Store operation to its own store and, on success, dumps the whole store as an
N-Quads snapshot (``snapshot-<generation>.nq``, atomically renamed into a
private temporary directory) before it answers. The pool then bumps the data
generation; every later request carries the generation and the snapshot
path, and a query worker that holds an older generation reloads the snapshot
before evaluating. So a write is visible to every query that starts after it
returns, a failed or killed write changes nothing (the writer is restarted
from the last snapshot), and replacement workers start from the newest data.
Writes are serialized by a lock. Reloading the whole dataset per write is
cheap for a dataset of this size and keeps the design obviously consistent.
Snapshots live only as long as the server process: the Turtle sources stay
the source of truth for the published dataset.

Over the on-disk store (``disk``, see ``openskies.server.store``) the
writer is started with the pool when writes are enabled: it opens the
primary directory read-write (bulk-loading it the first time), and each
"snapshot" is a RocksDB checkpoint directory that query workers open
read-only. Without writes the query workers open the primary read-only
directly, so a restart costs only opening it. Writes persist.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from openskies.server.worker import worker_main

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
"""Spawned, not forked: the server process runs threads, and fork copies their locks."""

STARTUP_TIMEOUT = 120.0


class PoolError(Exception):
    """A request could not be evaluated; ``status`` and ``message`` go to the client."""

    status = 503

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QueryTimeout(PoolError):
    status = 503


class WorkerCrashed(PoolError):
    status = 500


class PoolBusy(PoolError):
    status = 503


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class WorkerPool:
    """``size`` query workers plus an on-demand writer, all over the same data."""

    def __init__(
        self,
        sources: list[Path],
        prefixes: dict[str, str],
        *,
        size: int,
        timeout: float,
        queue_timeout: float | None = None,
        base_iri: str | None = None,
        disk: Path | None = None,
        writable: bool = True,
    ):
        self.sources = [str(path) for path in sources]
        self.disk = Path(disk) if disk is not None else None
        """The on-disk store's directory (``Settings.store_path``), or None for memory."""
        self.writable = writable
        self.data_id = ""
        """Which data is served, stable across restarts over the same data (set by start)."""
        self.prefixes = prefixes
        self.base_iri = base_iri
        """Base for relative IRIs in requests: the endpoint's URL, as for any retrieved text."""
        self.size = size
        self.timeout = timeout
        # A queued request waits for at most one full evaluation plus a worker restart.
        self.queue_timeout = queue_timeout if queue_timeout is not None else 2 * timeout + 5
        self._data: tuple[int, str | None] = (0, None)
        """(generation, snapshot path): replaced as one object so readers never mix them."""
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer: _Worker | None = None
        self._closing = False
        self._snapshot_dir: Path | None = None
        self.replacements = 0

    @property
    def generation(self) -> int:
        """How many writes the served data has seen since start-up."""
        return self._data[0]

    # --- life cycle --------------------------------------------------------

    def start(self) -> None:
        """Start every query worker and wait until each has loaded the data."""
        from openskies.server import store

        if self.disk is None:
            self._snapshot_dir = Path(tempfile.mkdtemp(prefix="openskies-snapshots-"))
            self.data_id = store.sources_id(self.sources)
        else:
            self._snapshot_dir = self.disk / store.SNAPSHOTS
            shutil.rmtree(self._snapshot_dir, ignore_errors=True)
            self.disk.mkdir(parents=True, exist_ok=True)
            self._snapshot_dir.mkdir()
            if self.writable:
                first = str(self._snapshot_dir / "checkpoint-0")
                self._writer = self._spawn(writer=True, checkpoint=first)
                self._await_ready(self._writer)
                self._data = (0, first)
            elif not store.store_initialized(self.disk):
                loader = _CONTEXT.Process(
                    target=store.prepare_disk_store,
                    args=(str(self.disk / store.PRIMARY), self.sources),
                    name="openskies-loader",
                )
                loader.start()
                loader.join()
                if loader.exitcode != 0:
                    raise RuntimeError(f"could not load the store in {self.disk}")
            self.data_id = store.disk_data_id(self.disk)
        pending = [self._spawn() for _ in range(self.size)]
        for worker in pending:
            self._await_ready(worker)
            self._idle.put(worker)

    def stop(self) -> None:
        """Stop every worker process and remove the snapshots."""
        self._closing = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        deadline = time.monotonic() + 2
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            worker.kill()
        if self._snapshot_dir is not None:
            shutil.rmtree(self._snapshot_dir, ignore_errors=True)

    def _spawn(self, *, writer: bool = False, checkpoint: str | None = None) -> _Worker:
        from openskies.server.store import PRIMARY

        parent_conn, child_conn = _CONTEXT.Pipe()
        generation, snapshot = self._data
        init = {
            "sources": self.sources,
            "prefixes": self.prefixes,
            "base_iri": self.base_iri,
            "generation": generation,
            "snapshot": snapshot,
            "disk": str(self.disk / PRIMARY) if self.disk is not None else None,
            "writer": writer,
            "checkpoint": checkpoint,
        }
        process = _CONTEXT.Process(
            target=worker_main, args=(child_conn, init), daemon=True, name="openskies-worker"
        )
        process.start()
        child_conn.close()
        worker = _Worker(process, parent_conn)
        with self._lock:
            self._all.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        try:
            if not worker.conn.poll(STARTUP_TIMEOUT):
                raise RuntimeError("worker did not load the dataset in time")
            hello = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._forget(worker)
            raise RuntimeError(f"worker exited while loading the dataset: {exc}") from None
        if not hello.get("ready"):
            self._forget(worker)
            raise RuntimeError(f"worker could not load the dataset: {hello.get('error')}")

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def _replace_in_background(self) -> None:
        def replace() -> None:
            try:
                worker = self._spawn()
                self._await_ready(worker)
            except Exception:
                log.exception("could not start a replacement worker")
                return
            if self._closing:
                self._forget(worker)
            else:
                self._idle.put(worker)

        self.replacements += 1
        threading.Thread(target=replace, name="openskies-respawn", daemon=True).start()

    # --- requests ----------------------------------------------------------

    def _exchange(self, worker: _Worker, request: dict) -> dict[str, Any]:
        """Send one request and wait for the reply; raises on timeout or crash."""
        try:
            worker.conn.send(request)
            if not worker.conn.poll(self.timeout):
                worker.kill()
                log.warning("request timed out after %g s; worker killed", self.timeout)
                raise QueryTimeout(
                    f"Query timed out: evaluation exceeded the {self.timeout:g} s limit "
                    "and was stopped."
                )
            return worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            worker.kill()
            code = worker.process.exitcode
            log.warning("worker died while evaluating a request (exit code %s)", code)
            raise WorkerCrashed(
                f"The query engine stopped while evaluating this request (exit code {code}); "
                "it has been restarted. Simplify the request or contact the operator."
            ) from None

    def run(self, request: dict) -> dict[str, Any]:
        """Evaluate a read request on an idle query worker (blocking; call from a thread)."""
        if self._closing:
            raise PoolBusy("The server is shutting down.")
        deadline = time.monotonic() + self.queue_timeout
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise PoolBusy("All query workers are busy; try again shortly.") from None
            if worker.process.is_alive():
                break
            # Died while idle (killed from outside, out of memory): not this request's fault.
            self._forget(worker)
            self._replace_in_background()
        generation, snapshot = self._data
        message = {**request, "generation": generation, "snapshot": snapshot}
        try:
            reply = self._exchange(worker, message)
        except PoolError:
            with self._lock:
                self._all.discard(worker)
            self._replace_in_background()
            raise
        self._idle.put(worker)
        return reply

    def write(self, request: dict) -> dict[str, Any]:
        """Apply a write on the writer process and publish the new snapshot."""
        if self._snapshot_dir is None:
            raise PoolBusy("The worker pool is not running.")
        if not self.writable and self.disk is not None:
            # Readers have the primary open read-only: nobody may write to it now.
            raise PoolBusy("Writes are disabled on this server.")
        with self._write_lock:
            if self._writer is None or not self._writer.process.is_alive():
                self._writer = self._spawn(writer=True)
                self._await_ready(self._writer)
            generation = self._data[0] + 1
            name = f"checkpoint-{generation}" if self.disk else f"snapshot-{generation}.nq"
            out = str(self._snapshot_dir / name)
            message = {
                **request,
                "writer": True,
                "snapshot_out": out,
                "generation_out": generation,
            }
            try:
                reply = self._exchange(self._writer, message)
            except PoolError:
                self._forget(self._writer)
                self._writer = None
                raise
            if reply.get("ok"):
                self._data = (generation, out)
                if generation > 1:
                    # Keep one older snapshot: a worker may be loading it right now.
                    if self.disk is None:
                        stale = self._snapshot_dir / f"snapshot-{generation - 2}.nq"
                        stale.unlink(missing_ok=True)
                    else:
                        stale = self._snapshot_dir / f"checkpoint-{generation - 2}"
                        shutil.rmtree(stale, ignore_errors=True)
            return reply
