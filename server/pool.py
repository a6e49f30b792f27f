"""A pool of worker processes that evaluate SPARQL with hard time limits.

Why processes: pyoxigraph cannot be cancelled from another thread and some
inputs crash it (design.md, "Known engine hazards"). A worker that runs past
the timeout is killed (SIGKILL) and a fresh one is started in the background;
a worker that dies is replaced the same way. The web server only waits on
the workers' connections (the event loop watches them, or a thread for the
blocking callers), so it keeps serving other requests. Workers are started
by ``openskies.server.worker_process``, not multiprocessing's spawn.

Long-running ("heavy") queries: a request that has used ``heavy_after``
seconds of CPU (wall-clock time where that cannot be read; waiting for a CPU
on a busy machine does not count) is heavy, and at most ``max_heavy`` may be
heavy at once; a heavy worker runs at the lowest CPU priority. When every
worker is busy with a heavy query the pool starts an extra worker, so that
light requests never wait behind heavy ones for more than the threshold plus
a worker start; a query that turns heavy while all the heavy slots are taken
is stopped (its worker killed and replaced) with a 503 that says so. The pool
aims at ``max(size, heavy + 1)`` query workers: a worker finishing while there
are more than that is retired, so the number of query processes never exceeds
``size + max_heavy``. Each query worker runs under an address-space limit
(``memory_mb``, RLIMIT_AS): a query that exhausts it makes the engine abort,
and the client gets a 503 naming the limit.

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

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openskies.server.worker_channel import ParentChannel
from openskies.server.worker_process import WorkerProcess, start_worker

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
"""Spawned, not forked: the server process runs threads, and fork copies their locks."""

STARTUP_TIMEOUT = 120.0
HEAVY_NICE = 19
"""CPU priority (nice value) of a worker while it runs a heavy request."""
_CPU_TICK = 0.02
"""Slack for the kernel's CPU accounting (clock ticks of 10 ms)."""
_RECHECK = 0.05
"""Shortest wait before looking again whether a request has become heavy."""


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process ``pid`` (Linux ``/proc``); None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


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


class TooManyHeavyQueries(PoolError):
    status = 503


class WorkerOutOfMemory(PoolError):
    status = 503


def _dumps(request: dict) -> bytes:
    """A request's pickle (``ParentChannel.send`` without the call in between)."""
    return pickle.dumps(request, pickle.HIGHEST_PROTOCOL)


class _Readiness:
    """A worker's reply arriving, or a timer running out, on the event loop.

    The loop's reader callback fills in the reply (``message``) or marks the
    worker broken (``failed``) before it wakes the waiting task.
    """

    __slots__ = ("loop", "future", "ready", "message", "failed", "watch")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] | None = None
        self.ready = False
        self.message: dict[str, Any] | None = None
        self.failed = False
        self.watch = True
        """Whether the request may still turn heavy (False once it has been counted)."""

    def arrived(self) -> None:
        self.ready = True
        self._wake()

    def _wake(self) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_result(None)

    async def wait(self, seconds: float) -> None:
        """Until the reply arrives or ``seconds`` pass, whichever comes first."""
        self.future = self.loop.create_future()
        timer = self.loop.call_later(max(0.0, seconds), self._wake)
        try:
            await self.future
        finally:
            timer.cancel()
            self.future = None


def _send_request(worker: _Worker, payload: bytes, reply: _Readiness) -> float | None:
    """Send a request's bytes to an idle worker: when it went, or None if the worker is gone.

    ``reply`` is installed first, so that however soon the answer comes the
    loop's reader knows whose it is. A worker that died while idle has
    closed its end of the socket, so the send fails at once (EPIPE): the
    request was not evaluated and can go to another worker. This replaces
    asking the process whether it is alive, a system call per request.
    """
    worker.reply = reply
    try:
        worker.conn.send_bytes(payload)
    except (OSError, ValueError):
        worker.reply = None
        return None
    return time.monotonic()


UNWATCH_WAIT = 5.0
"""Longest a thread waits for the event loop to stop watching a worker it takes over."""


@dataclass(eq=False)
class _Worker:
    process: WorkerProcess
    conn: ParentChannel
    cpu: float | None = None
    """The process's CPU seconds when it last replied (it says so in each reply)."""
    loop: asyncio.AbstractEventLoop | None = None
    """The event loop whose reader watches the socket. The reader stays between
    requests: adding and removing it cost six ``epoll_ctl`` calls and an
    ``ioctl`` per request in uvloop. A thread that takes the worker over
    (``unwatch``) removes it first, so that only one side ever reads."""
    reply: _Readiness | None = None
    """The loop's request in flight, whose reply the reader fills in."""

    def unwatch(self) -> None:
        """Stop the loop's reader, from any thread (waiting for the loop if need be)."""
        loop = self.loop
        if loop is None:
            return
        self.loop = None
        if loop.is_closed():
            return
        fd = self.conn.fileno()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.remove_reader(fd)
            return
        removed = threading.Event()

        def remove() -> None:
            loop.remove_reader(fd)
            removed.set()

        try:
            loop.call_soon_threadsafe(remove)
        except RuntimeError:  # closed meanwhile
            return
        removed.wait(UNWATCH_WAIT)

    def kill(self) -> None:
        self.unwatch()  # before the socket closes: its descriptor number may be reused
        with contextlib.suppress(Exception):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class _ThreadWaiter:
    """A blocked thread waiting for an idle worker."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.worker: _Worker | None = None

    def offer(self, worker: _Worker) -> bool:
        self.worker = worker
        self.event.set()
        return True


class _TaskWaiter:
    """An asyncio task waiting for an idle worker; the hand-over runs on its loop.

    The waiter carries its request's bytes, and whoever hands it a worker
    sends them at once: usually the reader callback that has just taken the
    worker's previous reply (``WorkerPool._readable``). So a busy worker
    goes from one request to the next without waiting for two task
    resumptions on a loop that also serves HTTP.
    """

    __slots__ = ("loop", "thread", "future", "idle", "payload", "reply", "sent_at")

    def __init__(self, idle: IdleWorkers, payload: bytes, reply: _Readiness) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.future: asyncio.Future[_Worker | None] = self.loop.create_future()
        self.idle = idle
        self.payload = payload
        self.reply = reply
        self.sent_at: float | None = None

    def offer(self, worker: _Worker) -> bool:
        if threading.get_ident() == self.thread:
            # Released on the waiter's own loop (the usual case): no wake-up write.
            if self.future.done():  # timed out or cancelled: the next waiter gets it
                return False
            self._take(worker)
            return True

        def hand_over() -> None:
            if self.future.done():  # timed out or cancelled meanwhile: pass it on
                self.idle.put(worker)
            else:
                self._take(worker)

        try:
            self.loop.call_soon_threadsafe(hand_over)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _take(self, worker: _Worker) -> None:
        self.sent_at = _send_request(worker, self.payload, self.reply)
        self.future.set_result(worker)

    def expire(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class IdleWorkers:
    """Idle query workers, handed out first come first served to threads and tasks.

    Why not ``queue.Queue``: the event loop must be able to wait for a worker
    without a thread, so that the request path has no thread hop (whose GIL
    hand-offs cost more than the query at small sizes).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: deque[_Worker] = deque()
        self._waiters: deque[_ThreadWaiter | _TaskWaiter] = deque()

    def qsize(self) -> int:
        return len(self._free)

    def put(self, worker: _Worker) -> None:
        with self._lock:
            while self._waiters:
                if self._waiters.popleft().offer(worker):
                    return
            self._free.append(worker)

    def get(self, timeout: float) -> _Worker | None:
        """Block the calling thread for up to ``timeout`` s; None if none became idle."""
        with self._lock:
            if self._free:
                return self._free.popleft()
            waiter = _ThreadWaiter()
            self._waiters.append(waiter)
        if waiter.event.wait(timeout):
            return waiter.worker
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return None
        return waiter.worker  # offered just as the wait ended

    async def aget(
        self,
        timeout: float,
        payload: bytes,
        reply: _Readiness,
        abandoned: Callable[[_Worker, float | None], None],
    ) -> tuple[_Worker, float | None] | None:
        """An idle worker with ``payload`` already sent to it, and when it was sent.

        Waits on the event loop for up to ``timeout`` s (None if no worker
        became idle). The time is None when the worker turned out to be dead
        (see ``_send_request``). If the task is cancelled just after a
        worker was handed over, ``abandoned(worker, sent_at)`` gets it.
        """
        with self._lock:
            if self._free:
                worker = self._free.popleft()
                waiter = None
            else:
                waiter = _TaskWaiter(self, payload, reply)
                self._waiters.append(waiter)
        if waiter is None:
            return worker, _send_request(worker, payload, reply)
        timer = waiter.loop.call_later(max(0.0, timeout), waiter.expire)
        try:
            got = await waiter.future
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.result() is not None:
                abandoned(future.result(), waiter.sent_at)  # handed over as we were cancelled
            raise
        finally:
            timer.cancel()
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return None if got is None else (got, waiter.sent_at)


def _run_grouping(sources: list[str], out: str) -> bool:
    """``store_layout.main`` in a child process; True if it wrote ``out``.

    A plain ``python -m`` child: a ``multiprocessing`` spawn would first
    import the ``openskies`` command's own modules again.
    """
    import subprocess
    import sys

    command = [sys.executable, "-m", "openskies.server.store_layout", out, *sources]
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=STARTUP_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


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
        heavy_after: float = 0.5,
        max_heavy: int = 2,
        memory_mb: int = 2048,
        layout_cache: Path | None = None,
        group_min_bytes: int = 8 * 1024 * 1024,
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
        self._idle = IdleWorkers()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer: _Worker | None = None
        self._closing = False
        self._snapshot_dir: Path | None = None
        self.heavy_after = heavy_after
        """CPU seconds after which a running request is heavy (``Settings.heavy_query_after``)."""
        self.max_heavy = max_heavy
        """Most heavy requests at once (``Settings.max_heavy_queries``)."""
        self.memory_mb = memory_mb
        """Address-space limit of each query worker in MiB, 0 for none."""
        self.layout_cache = layout_cache
        """Where grouped copies of the data are cached (``store_layout``); None never groups."""
        self.group_min_bytes = group_min_bytes
        """In memory, data files of this many bytes or more load grouped by predicate."""
        # Query workers alive or starting, those starting, and those running a heavy
        # request: guarded by ``_lock``, like ``_all``.
        self._count = 0
        self._starting = 0
        self._heavy: set[_Worker] = set()
        self.replacements = 0
        """Workers started to replace one that was killed or died."""
        self.extra_workers = 0
        """Workers started because every worker was busy with a heavy request."""
        self.heavy_refused = 0
        """Queries stopped because every heavy slot was taken."""
        self.peak_workers = 0
        """The most query workers alive or starting at once."""
        self._settling: set[asyncio.Task[None]] = set()
        """Tasks finishing requests whose clients have gone (kept from the garbage collector)."""

    @property
    def heavy_running(self) -> int:
        """How many requests are running past ``heavy_after`` right now."""
        return len(self._heavy)

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
            self._group_by_predicate()
        else:
            self._snapshot_dir = self.disk / store.SNAPSHOTS
            shutil.rmtree(self._snapshot_dir, ignore_errors=True)
            self.disk.mkdir(parents=True, exist_ok=True)
            self._snapshot_dir.mkdir(exist_ok=True)  # several web processes may share it
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
        with self._lock:
            self._count = self.peak_workers = self.size
        pending = [self._spawn() for _ in range(self.size)]
        for worker in pending:
            self._await_ready(worker)
            self._idle.put(worker)

    def _group_by_predicate(self) -> None:
        """Have the workers load the data grouped by predicate, when it is large enough."""
        from openskies.server import store_layout

        if self.layout_cache is None or self._snapshot_dir is None:
            return
        size = sum(os.path.getsize(source) for source in self.sources)
        if size < self.group_min_bytes:
            return
        first = self._snapshot_dir / "snapshot-0.nq"
        if store_layout.place_grouped(self.sources, self.layout_cache, first, _run_grouping):
            self._data = (0, str(first))

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
            "memory_mb": 0 if writer else self.memory_mb,
        }
        process, conn = start_worker(init)
        worker = _Worker(process, conn)
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
            hint = self._memory_hint(worker)
            raise RuntimeError(f"worker exited while loading the dataset: {exc}{hint}") from None
        worker.cpu = hello.get("cpu")
        if not hello.get("ready"):
            self._forget(worker)
            hint = self._memory_hint(worker) if "MemoryError" in str(hello.get("error")) else ""
            raise RuntimeError(f"worker could not load the dataset: {hello.get('error')}{hint}")

    def _memory_hint(self, worker: _Worker) -> str:
        aborted = worker.process.exitcode in (None, -signal.SIGABRT)
        if not self.memory_mb or worker is self._writer or not aborted:
            return ""
        return (
            f" (it may have run out of its {self.memory_mb} MiB address-space limit: "
            "raise worker_memory_mb, or set it to 0)"
        )

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    # --- how many query workers -------------------------------------------
    #
    # Every change of ``_count``, ``_starting`` and ``_heavy`` happens under
    # ``_lock``, in the methods below; a worker is in ``_idle`` only when no
    # request holds it, and a retired or lost worker is never put back.

    def _target(self) -> int:
        """How many query workers the pool wants now (call under ``_lock``)."""
        return max(self.size, len(self._heavy) + 1)

    def _reserve_start(self) -> bool:
        """Count one more worker if the pool wants one (call under ``_lock``)."""
        if self._closing or self._count >= self._target():
            return False
        self._count += 1
        self._starting += 1
        self.peak_workers = max(self.peak_workers, self._count)
        return True

    def _replace_in_background(self) -> None:
        """Start a query worker already counted by ``_reserve_start``; idle once loaded."""

        def replace() -> None:
            try:
                worker = self._spawn()
                self._await_ready(worker)
            except Exception:
                log.exception("could not start a query worker")
                with self._lock:
                    self._count -= 1
                    self._starting -= 1
                return
            with self._lock:
                self._starting -= 1
                surplus = self._closing or self._count > self._target()
                if surplus:
                    self._count -= 1
                    self._all.discard(worker)
            if surplus:  # the heavy request that asked for it has ended meanwhile
                self._retire(worker)
            else:
                self._idle.put(worker)

        threading.Thread(target=replace, name="openskies-respawn", daemon=True).start()

    def _retire(self, worker: _Worker) -> None:
        """Stop a surplus idle worker (already uncounted), in the background."""

        def close() -> None:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
            worker.process.join(timeout=2)
            worker.kill()

        threading.Thread(target=close, name="openskies-retire", daemon=True).start()

    def _release(self, worker: _Worker) -> None:
        """A worker answered: idle again, or retired if the pool has more than it wants."""
        with self._lock:
            was_heavy = worker in self._heavy
            self._heavy.discard(worker)
            surplus = self._count - self._starting > self._target()
            if surplus:
                self._count -= 1
                self._all.discard(worker)
        if surplus:
            self._retire(worker)
        elif was_heavy and not self._normal_priority(worker):
            # Raising a priority again may need privileges: a fresh worker instead.
            self._retire(worker)
            with self._lock:
                self._all.discard(worker)
                self._count -= 1
                replace = self._reserve_start()
            if replace:
                self._replace_in_background()
        else:
            self._idle.put(worker)

    @staticmethod
    def _normal_priority(worker: _Worker) -> bool:
        try:
            os.setpriority(os.PRIO_PROCESS, worker.process.pid, 0)
        except OSError:
            return False
        return True

    def _lost(self, worker: _Worker) -> None:
        """A worker was killed or died: forget it and start another if the pool wants one."""
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            self._heavy.discard(worker)
            self._count -= 1
            replace = self._reserve_start()
            if replace:
                self.replacements += 1
        if replace:
            self._replace_in_background()

    def _turned_heavy(self, worker: _Worker, stoppable: bool) -> bool:
        """The request on ``worker`` ran past ``heavy_after``; False: stop it.

        Only queries are stopped; other reads (dumps, statistics, graphs) are
        bounded by the data, so past a full set of heavy slots they run on
        uncounted.
        """
        with self._lock:
            if len(self._heavy) >= self.max_heavy:
                if stoppable:
                    self.heavy_refused += 1
                    return False
                return True
            self._heavy.add(worker)
            extra = self._reserve_start()
            if extra:
                self.extra_workers += 1
        # The lowest CPU priority: light queries and worker starts go first on a busy machine.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, worker.process.pid, HEAVY_NICE)
        if extra:
            self._replace_in_background()
        return True

    # --- requests ----------------------------------------------------------

    def _timed_out(self) -> QueryTimeout:
        log.warning("request timed out after %g s; worker killed", self.timeout)
        return QueryTimeout(
            f"Query timed out: evaluation exceeded the {self.timeout:g} s limit and was stopped."
        )

    def _too_many_heavy(self) -> TooManyHeavyQueries:
        log.warning(
            "query stopped after %g s: %d heavy slots taken", self.heavy_after, self.max_heavy
        )
        return TooManyHeavyQueries(
            "Too many long-running queries are running at once (at most "
            f"{self.max_heavy} may run longer than {self.heavy_after:g} s), so this one was "
            f"stopped after {self.heavy_after:g} s. Please retry later, or simplify the query."
        )

    def _crashed(self, worker: _Worker) -> PoolError:
        code = worker.process.exitcode
        log.warning("worker died while evaluating a request (exit code %s)", code)
        if code == -signal.SIGABRT and self.memory_mb and worker is not self._writer:
            # The engine aborts when an allocation fails, and the limit makes that likely
            # first; other crashes we know of (deep recursion) end with SIGSEGV.
            return WorkerOutOfMemory(
                "The query needed more memory than a query worker may use "
                f"({self.memory_mb} MiB) and was stopped; the engine has been restarted. "
                "Simplify the query (fewer rows to sort, group or concatenate) and retry."
            )
        return WorkerCrashed(
            f"The query engine stopped while evaluating this request (exit code {code}); "
            "it has been restarted. Simplify the request or contact the operator."
        )

    def _exchange(self, worker: _Worker, request: dict, *, query_worker: bool = True) -> dict:
        """Send one request and wait for the reply; raises on timeout, crash or heavy refusal.

        The worker is killed before any of those is raised.
        """
        began = time.monotonic()
        try:
            worker.conn.send(request)
        except OSError:
            worker.kill()
            raise self._crashed(worker) from None
        return self._wait_reply(worker, began, query_worker, request.get("op") == "query")

    def _wait_reply(self, worker: _Worker, began: float, watch: bool, stoppable: bool) -> dict:
        """Block until ``worker`` answers the request it got at ``began`` (see ``_exchange``)."""
        deadline = began + self.timeout
        check_at = began + self.heavy_after if watch else deadline
        try:
            while check_at < deadline:
                if worker.conn.poll(max(0.0, check_at - time.monotonic())):
                    break
                again = self._heavy_recheck(worker)
                if again is None:
                    if not self._turned_heavy(worker, stoppable):
                        worker.kill()
                        raise self._too_many_heavy()
                    break
                check_at = time.monotonic() + again
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                worker.kill()
                raise self._timed_out()
            return self._receive(worker)
        except (EOFError, OSError):
            worker.kill()
            raise self._crashed(worker) from None

    @staticmethod
    def _receive(worker: _Worker) -> dict:
        reply = worker.conn.recv()
        worker.cpu = reply.pop("cpu", None)
        return reply

    def _heavy_recheck(self, worker: _Worker) -> float | None:
        """None if the request on ``worker`` is heavy now, else when to look again (s).

        Heavy means ``heavy_after`` seconds of CPU since the worker's last reply,
        not of wall-clock time: waiting for a CPU on a busy machine does not
        make an ordinary query heavy (and stopped). Where the CPU time cannot
        be read, wall-clock time counts.
        """
        now = _cpu_seconds(worker.process.pid)
        if worker.cpu is None or now is None:
            return None
        used = now - worker.cpu
        if used >= self.heavy_after - _CPU_TICK:
            return None
        return max(_RECHECK, self.heavy_after - used)

    def _usable(self, worker: _Worker | None) -> bool:
        if worker is None:
            raise PoolBusy("All query workers are busy; try again shortly.")
        if worker.process.is_alive():
            return True
        # Died while idle (killed from outside, out of memory): not this request's fault.
        self._lost(worker)
        return False

    def _message(self, request: dict) -> dict:
        generation, snapshot = self._data
        return {**request, "generation": generation, "snapshot": snapshot}

    def run(self, request: dict) -> dict[str, Any]:
        """Evaluate a read request on an idle query worker (blocking; call from a thread)."""
        if self._closing:
            raise PoolBusy("The server is shutting down.")
        deadline = time.monotonic() + self.queue_timeout
        while not self._usable(worker := self._idle.get(max(0.0, deadline - time.monotonic()))):
            pass
        worker.unwatch()  # this thread reads the reply, not the loop
        try:
            reply = self._exchange(worker, self._message(request))
        except PoolError:
            self._lost(worker)
            raise
        self._release(worker)
        return reply

    def would_wait(self) -> bool:
        """True when no query worker is idle: a request now would wait in the queue."""
        return self._idle.qsize() == 0

    async def arun(self, request: dict) -> dict[str, Any]:
        """``run`` for the event loop: no thread, the loop waits on the worker's socket."""
        if self._closing:
            raise PoolBusy("The server is shutting down.")
        loop = asyncio.get_running_loop()
        payload = _dumps(self._message(request))
        stoppable = request.get("op") == "query"
        reply = _Readiness(loop)

        def abandoned(worker: _Worker, sent_at: float | None) -> None:
            if sent_at is None:
                self._lost(worker)
            else:
                self._settle_later(worker, reply, sent_at, stoppable)

        deadline = time.monotonic() + self.queue_timeout
        while True:
            got = await self._idle.aget(
                max(0.0, deadline - time.monotonic()), payload, reply, abandoned
            )
            if got is None:
                raise PoolBusy("All query workers are busy; try again shortly.")
            worker, sent_at = got
            if sent_at is not None:
                break
            # Died while idle (killed from outside, out of memory): not this request's fault.
            self._lost(worker)
        try:
            return await self._await_reply(worker, reply, sent_at, stoppable)
        except asyncio.CancelledError:
            if not reply.ready:
                # The client went away mid-evaluation: the reply must still be read
                # before the worker serves anyone else, under the same limits.
                self._settle_later(worker, reply, sent_at, stoppable)
            elif reply.failed:
                self._lost(worker)
            raise
        except PoolError:
            self._lost(worker)
            raise

    def _readable(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        """The loop's reader for ``worker``: takes a whole reply and releases the worker.

        Releasing it here sends the next queued request at once (see
        ``_TaskWaiter``), before the task that waits for this reply resumes.
        """
        fd = worker.conn.fileno()
        reply = worker.reply
        if worker.loop is not loop or reply is None:
            # Not ours any more, or readable with nothing asked (the worker closed
            # its end while idle): stop watching. The next send finds it gone.
            if worker.loop is loop:
                worker.loop = None
            loop.remove_reader(fd)
            return
        if not worker.conn.read_available():
            return
        worker.reply = None
        try:
            message: dict[str, Any] = worker.conn.take()
        except (EOFError, OSError):
            reply.failed = True
            worker.loop = None
            loop.remove_reader(fd)
        else:
            worker.cpu = message.pop("cpu", None)
            reply.message = message
            try:
                self._release(worker)
            except Exception:  # a callback must not raise; the reply stands
                log.exception("could not release a query worker")
        reply.arrived()

    async def _await_reply(
        self, worker: _Worker, reply: _Readiness, began: float, stoppable: bool
    ) -> dict[str, Any]:
        """The reply to the request sent to ``worker`` at ``began``, under the time limits.

        One future, woken by the reader or a timer (``asyncio.wait`` and
        ``wait_for`` cost several futures and callbacks per call, a
        measurable share of a small query's time). The worker is killed
        before a timeout, a heavy refusal or a crash is raised.
        """
        loop = reply.loop
        if worker.loop is not loop and not reply.ready:
            worker.unwatch()  # another loop's (a closed one, in tests)
            loop.add_reader(worker.conn.fileno(), self._readable, worker, loop)
            worker.loop = loop
        deadline = began + self.timeout
        check_at = began + self.heavy_after
        while not reply.ready:
            now = time.monotonic()
            if now >= deadline:
                worker.reply = None
                worker.kill()
                raise self._timed_out()
            if reply.watch and now >= check_at:
                again = self._heavy_recheck(worker)
                if again is None:
                    reply.watch = False  # counted: a settling task must not count it again
                    if not self._turned_heavy(worker, stoppable):
                        worker.reply = None
                        worker.kill()
                        raise self._too_many_heavy()
                else:
                    check_at = now + again
            wake_at = min(check_at, deadline) if reply.watch else deadline
            await reply.wait(wake_at - now)
        if reply.failed:
            worker.kill()
            raise self._crashed(worker)
        assert reply.message is not None
        return reply.message

    def _settle_later(
        self, worker: _Worker, reply: _Readiness, began: float, stoppable: bool
    ) -> None:
        """Let the loop finish a request whose client has gone (the reader releases it)."""

        async def settle() -> None:
            try:
                await self._await_reply(worker, reply, began, stoppable)
            except PoolError:
                self._lost(worker)

        task = reply.loop.create_task(settle())
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

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
                reply = self._exchange(self._writer, message, query_worker=False)
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
