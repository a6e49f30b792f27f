"""One store interface, three backends, chosen by ``Settings.store``.

The service (``openskies.server.service``) talks to a *backend*: an object
with ``start()``, ``stop()``, ``run(request)`` (from a thread) and
``arun(request)`` (from the event loop) for reads, ``write(request)``
for updates and Graph Store writes, and the attributes ``generation`` (how
many writes since start), ``data_id`` (which data, stable across restarts
over the same data) and ``size`` (query workers). Requests and replies are
the plain dicts of ``openskies.server.worker`` (``op`` is ``query``,
``graph_get``, ``stats``, ``dump``, ``update`` or ``graph_write``), so every
backend answers with the same bytes for the same data.

``memory`` (the default)
    ``WorkerPool``: query worker processes, each with an in-memory Oxigraph
    store bulk-loaded from the built N-Quads plus ``data_files``. Oxigraph
    rather than rdflib's in-memory store by measurement: over HTTP on the
    same 1,000 generated triples (``python -m bench``), the Oxigraph server
    answered 18x (three-way join) to 43x (point lookup) more requests per
    second than rdflib-endpoint, and rdflib both accepts invalid queries and
    answers some wrongly (design.md, "Known engine hazards").
``disk``
    The same pool over a persistent pyoxigraph (RocksDB) store in
    ``store_path``. It is bulk-loaded once, the first time the directory is
    used, and reopened on later starts without reparsing anything (the
    built dataset is not even looked at). Query workers open it read-only;
    with writes enabled one writer process owns it read-write, writes
    through, and after each write publishes a checkpoint (hard links) that
    the readers reopen. Writes survive restarts.
``remote``
    ``RemoteStore`` (``openskies.server.store_remote``): every operation is
    forwarded over HTTP to an existing SPARQL 1.1 store (Oxigraph server,
    Fuseki, Virtuoso, QLever, GraphDB), after the same pre-checks, with the
    query timeout as HTTP timeout and the same row cap. No worker processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Protocol

from openskies.settings import Settings

MARKER = "openskies-store.json"
"""In ``store_path``: what the store was loaded from and how many writes it has seen."""
PRIMARY = "oxigraph"
"""In ``store_path``: the RocksDB directory of the primary store."""
SNAPSHOTS = "snapshots"
"""In ``store_path``: read-only checkpoints for the query workers (removed at start)."""


class Backend(Protocol):
    """What the service needs from a store."""

    size: int
    generation: int
    data_id: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def run(self, request: dict) -> dict[str, Any]: ...

    async def arun(self, request: dict) -> dict[str, Any]:
        """``run`` from the event loop, without blocking it."""
        ...

    def write(self, request: dict) -> dict[str, Any]: ...


def sources_id(sources: list[str] | list[Path]) -> str:
    """A short id of a list of files (path, size, mtime): changes when any file does."""
    digest = hashlib.sha256()
    for source in sources:
        stat = os.stat(source)
        digest.update(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:12]


# --- the on-disk store ---------------------------------------------------------


def read_marker(store_path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(store_path) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _write_marker(store_path: Path, marker: dict[str, Any]) -> None:
    path = Path(store_path) / MARKER
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=1))
    os.replace(tmp, path)


def disk_data_id(store_path: Path) -> str:
    """Which data an on-disk store holds: where it was loaded from plus its write count."""
    marker = read_marker(store_path) or {}
    text = f"{marker.get('loaded_from')}\0{marker.get('load_id')}\0{marker.get('writes', 0)}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def open_primary(primary: str | Path, sources: list[str]) -> Any:
    """Open the primary store read-write, bulk-loading ``sources`` if never loaded.

    Runs in a worker process (never in the web server). A directory whose
    marker is missing (new, or a load that was interrupted) is cleared and
    loaded again; one with a marker is opened as it is.
    """
    import pyoxigraph as ox

    from openskies.server.rdf_files import rdf_format

    primary = Path(primary)
    store_path = primary.parent
    store_path.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(primary))
    if read_marker(store_path) is None:
        if not sources:
            raise ValueError(f"the store in {store_path} was never loaded and has no sources")
        store.clear()
        for source in sources:
            store.bulk_load(path=source, format=rdf_format(source))
        store.flush()
        store.optimize()
        _write_marker(
            store_path,
            {
                "loaded_from": sources_id(sources),
                "load_id": os.urandom(6).hex(),
                "sources": [str(source) for source in sources],
                "writes": 0,
            },
        )
    return store


def checkpoint(store: Any, primary: str | Path, target: str, *, wrote: bool) -> None:
    """Flush the primary, count a write in the marker if ``wrote``, checkpoint into ``target``."""
    store.flush()
    if wrote:
        store_path = Path(primary).parent
        marker = read_marker(store_path) or {}
        marker["writes"] = int(marker.get("writes", 0)) + 1
        _write_marker(store_path, marker)
    shutil.rmtree(target, ignore_errors=True)
    store.backup(target)


def prepare_disk_store(primary: str, sources: list[str]) -> None:
    """Process entry point: load the store if it never was, then close it."""
    store = open_primary(primary, sources)
    store.flush()
    del store


def store_initialized(store_path: Path) -> bool:
    return read_marker(store_path) is not None and (Path(store_path) / PRIMARY).is_dir()


# --- the factory --------------------------------------------------------------


class StartingBackend:
    """A backend whose ``start()`` runs in a thread from construction on.

    ``openskies serve`` makes one before it imports the web application, so
    that the query workers load the data while the app is imported and its
    routes are built (both take about half a second): the first query is
    answered that much sooner after a cold start.
    """

    def __init__(self, backend: Backend):
        self.backend = backend
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="openskies-start", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self.backend.start()
        except BaseException as exc:  # re-raised in wait(), on the lifespan's side
            self._error = exc

    def wait(self) -> Backend:
        """The started backend; raises what ``start()`` raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.backend


def make_backend(settings: Settings) -> Backend:
    """The backend ``settings`` ask for, not yet started (blocking: may build the dataset)."""
    from openskies.iris import PREFIXES

    base_iri = settings.public_base_url + "/sparql"
    if settings.store == "remote":
        from openskies.server.store_remote import RemoteStore

        if not settings.remote_query_url:
            raise ValueError("store='remote' needs remote_query_url")
        return RemoteStore(
            settings.remote_query_url,
            settings.remote_update_url,
            auth=settings.remote_auth,
            timeout=settings.query_timeout,
            prefixes=PREFIXES,
            base_iri=base_iri,
        )

    from openskies.server.data import dataset_sources
    from openskies.server.pool import WorkerPool

    disk = None
    sources: list[Path] = []
    if settings.store == "disk":
        disk = settings.store_path.resolve()
        if not store_initialized(disk):
            sources = dataset_sources(settings)
    else:
        sources = dataset_sources(settings)
    return WorkerPool(
        sources,
        PREFIXES,
        size=settings.workers,
        timeout=settings.query_timeout,
        base_iri=base_iri,
        disk=disk,
        writable=bool(settings.update_token),
        heavy_after=settings.heavy_query_after,
        max_heavy=settings.max_heavy_queries,
        memory_mb=settings.worker_memory_mb,
        layout_cache=settings.build_dir.resolve() / "layout",
        group_min_bytes=settings.group_by_predicate_min_bytes,
    )
