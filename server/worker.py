"""The code that runs inside a query or write worker process.

Every pyoxigraph call happens here, never in the web server process, because
pyoxigraph can neither be interrupted nor survive some inputs (see
design.md, "Known engine hazards"): the parent kills a worker that runs too
long or replaces one that crashed, and goes on serving.

A worker holds an in-memory ``pyoxigraph.Store`` loaded from the dataset
files (or, after a write, from the latest N-Quads snapshot written by the
writer), reads requests (plain dicts) from its pipe, and answers with plain
dicts that carry the serialized bytes, so the parent never touches engine
objects. Each request names the data generation it expects; a worker that
holds an older generation reloads the snapshot first.

With the on-disk store (``Settings.store = "disk"``, see
``openskies.server.store``) the same protocol holds, but a "snapshot" is a
RocksDB checkpoint directory (hard links, made by ``Store.backup``) that
query workers open with ``Store.read_only``: nobody ever writes to what a
reader has open, which is the condition pyoxigraph sets for read-only
opens. The writer alone opens the primary directory read-write.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from itertools import islice
from operator import itemgetter
from typing import Any

import pyoxigraph as ox

from openskies.server.gc_tuning import collect_less_often
from openskies.server.rdf_files import rdf_format
from openskies.server.results import WRITERS
from openskies.server.worker_process import ChildConnection

RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}

Reply = dict[str, Any]


def parse_payload(data: bytes, media_type: str, base_iri: str | None) -> list[ox.Triple]:
    """The triples of a Graph Store payload (quads lose their graph: the request names it).

    Raises ``ValueError`` with a message for the client when the payload is malformed.
    """
    try:
        parsed = list(
            ox.parse(data, format=ox.RdfFormat.from_media_type(media_type), base_iri=base_iri)
        )
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"Malformed RDF payload: {exc}") from None
    return [item.triple if isinstance(item, ox.Quad) else item for item in parsed]


def error(status: int, message: str) -> Reply:
    return {"ok": False, "status": status, "message": message}


def parse_term(text: str) -> Any:
    """One RDF term from its N-Triples form (for SEP-0007 substitutions); ValueError if not."""
    try:
        triples = list(ox.parse(f"<urn:x:s> <urn:x:p> {text} .", format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError as exc:
        raise ValueError(f"not an N-Triples term: {text!r}") from exc
    if len(triples) != 1:
        raise ValueError(f"not a single N-Triples term: {text!r}")
    return triples[0].object


def _substitutions(texts: dict[str, str]) -> dict[ox.Variable, Any]:
    """SEP-0007 substitutions: each variable's value from its N-Triples form."""
    return {ox.Variable(name): parse_term(text) for name, text in texts.items()}


def graph_reply(triples: list, fmt: str, max_rows: int, prefixes: dict[str, str]) -> Reply:
    """Triples serialized in ``fmt`` (a graph format name), cut at ``max_rows``."""
    truncated = len(triples) > max_rows
    body = ox.serialize(
        triples[:max_rows],
        format=RDF_FORMATS[fmt],
        prefixes=prefixes if fmt in ("turtle", "rdfxml") else None,
    )
    return {"ok": True, "body": body or b"", "truncated": truncated, "kind": "graph"}


_ROW_READERS: dict[int, Any] = {0: tuple, 1: tuple}
"""For each number of variables: what reads a solution's values as a tuple.

By position, in the variables' order (None when unbound), which is much
faster than by name; ``itemgetter`` (one C call per solution) is faster
than ``tuple(solution)``, which iterates, but returns a bare value for one.
"""


def _row_reader(width: int) -> Any:
    reader = _ROW_READERS.get(width)
    if reader is None:
        reader = itemgetter(*range(width))
        if width <= 64:  # made once per width: it cost as much as reading 8 rows
            _ROW_READERS[width] = reader
    return reader


def solutions_reply(results: ox.QuerySolutions, fmt: str, max_rows: int) -> Reply:
    """SELECT solutions written in ``fmt``, cut at ``max_rows``."""
    write = WRITERS.get(fmt)
    if write is None:
        return error(406, "SELECT results are written as SPARQL results formats only")
    variables = [variable.value for variable in results.variables]
    rows = list(map(_row_reader(len(variables)), islice(results, max_rows + 1)))
    truncated = len(rows) > max_rows
    if truncated:
        del rows[max_rows:]
    return {"ok": True, "body": write(variables, rows), "truncated": truncated, "kind": "solutions"}


class _Full(Exception):
    """The engine's serialization went past its byte budget."""


class _CappedBuffer(io.BytesIO):
    """A buffer that refuses to grow past ``limit`` bytes (raises ``_Full``)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.limit:
            raise _Full
        return super().write(data)


JSON_ROW_BYTES = 3
"""The fewest bytes a solution takes in SPARQL JSON: ``{}`` and a comma."""


def engine_json_reply(results: ox.QuerySolutions, max_rows: int) -> Reply | None:
    """SELECT solutions as SPARQL JSON written by pyoxigraph, or None if they may exceed the cap.

    pyoxigraph writes JSON byte for byte as ``results.write_json`` does
    (``tests/test_results_writers.py``) in a fraction of the time, because no
    Python object is made per value (380 rows of a three-way join at 1m
    triples: about 0.1 ms against 2.3 ms); but it cannot stop at ``max_rows``. A
    document of at most ``JSON_ROW_BYTES * max_rows`` bytes cannot hold more
    than ``max_rows`` rows, so the engine writes into a buffer of that size
    and the caller falls back to reading the rows itself (evaluating the
    query again) only when the answer is larger. At the default cap
    (100,000 rows) that is any answer up to 300 kB.
    """
    buffer = _CappedBuffer(JSON_ROW_BYTES * max_rows)
    try:
        results.serialize(buffer, format=ox.QueryResultsFormat.JSON)
    except _Full:
        return None
    return {"ok": True, "body": buffer.getvalue(), "truncated": False, "kind": "solutions"}


def _evaluation_error(exc: Exception) -> Reply:
    if isinstance(exc, OSError):
        # The in-memory store does no I/O: this is a SERVICE call that failed.
        return error(502, f"A remote SERVICE call failed: {exc}")
    return error(400, f"Query evaluation failed: {exc}")


def results_reply(results: Any, fmt: str, max_rows: int, prefixes: dict[str, str]) -> Reply:
    """A query's results (boolean, solutions or triples) as the reply for format ``fmt``.

    Shared by the workers and the remote backend, so that both write the same bytes.
    """
    try:
        if isinstance(results, ox.QuerySolutions):  # the common case first
            return solutions_reply(results, fmt, max_rows)
        if isinstance(results, ox.QueryBoolean):
            if fmt not in RESULT_FORMATS:
                return error(406, "ASK results are written as SPARQL results formats only")
            body = results.serialize(format=RESULT_FORMATS[fmt])
            return {"ok": True, "body": body, "truncated": False, "kind": "boolean"}
        if fmt not in RDF_FORMATS:
            return error(406, "CONSTRUCT/DESCRIBE results are written as RDF formats only")
        triples = list(islice(results, max_rows + 1))
        return graph_reply(triples, fmt, max_rows, prefixes)
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        return _evaluation_error(exc)


class Engine:
    """One worker's store plus the operations the parent may ask for.

    ``disk`` is the primary directory of an on-disk store (None: in memory).
    A query worker over a disk store opens a checkpoint (or, when the server
    has no writer, the primary itself) read-only; the writer (``writer``)
    opens the primary read-write and writes through.
    """

    def __init__(
        self,
        sources: list[str],
        prefixes: dict[str, str],
        base_iri: str | None = None,
        *,
        disk: str | None = None,
        writer: bool = False,
    ):
        self.sources = sources
        self.prefixes = prefixes
        self.base_iri = base_iri
        self.disk = disk
        self.writer = writer
        self.generation = -1
        self.store = ox.Store()

    def load(self, generation: int, snapshot: str | None) -> None:
        """(Re)load the data of ``generation``: the snapshot if any, else the sources."""
        if self.disk is not None:
            if self.writer:
                from openskies.server.store import open_primary

                self.store = open_primary(self.disk, self.sources)
            else:
                self.store = ox.Store.read_only(snapshot or self.disk)
            self.generation = generation
            return
        store = ox.Store()
        paths = [snapshot] if snapshot else self.sources
        for path in paths:
            store.bulk_load(path=path, format=rdf_format(path))
        self.store = store
        self.generation = generation

    # --- queries -----------------------------------------------------------

    def _query(self, request: dict) -> Any:
        """Evaluate the request's query (lazily: the solutions come as they are read).

        Every option is passed by keyword, None or False meaning pyoxigraph's
        default: a ``**kwargs`` dict cost 1.5 us more per call. ``prefixes`` is
        False when the web process saw the query declare every prefix it uses:
        pyoxigraph converts the prefix dict on every call (15 us for 19 prefixes).
        """
        default_graphs = request.get("default_graphs")
        named_graphs = request.get("named_graphs")
        dataset = bool(default_graphs or named_graphs)
        substitutions = request.get("substitutions")
        return self.store.query(
            request["query"],
            base_iri=self.base_iri,
            prefixes=None if request.get("prefixes") is False else self.prefixes,
            use_default_graph_as_union=not dataset and bool(request.get("union", True)),
            default_graph=[ox.NamedNode(iri) for iri in default_graphs or ()] if dataset else None,
            named_graphs=[ox.NamedNode(iri) for iri in named_graphs or ()] if dataset else None,
            substitutions=_substitutions(substitutions) if substitutions else None,
        )

    def query(self, request: dict) -> Reply:
        try:
            results = self._query(request)
        except SyntaxError as exc:
            return error(400, f"Malformed query: {exc}")
        except (ValueError, TypeError, RuntimeError) as exc:
            # RuntimeError: an unsupported custom function, for example.
            return error(400, f"Query could not be evaluated: {exc}")
        fmt, max_rows = request["format"], int(request["max_rows"])
        if fmt == "json" and isinstance(results, ox.QuerySolutions):
            try:
                reply = engine_json_reply(results, max_rows)
            except (ValueError, TypeError, RuntimeError, OSError) as exc:
                return _evaluation_error(exc)
            if reply is not None:
                return reply
            results = self._query(request)  # too large to be sure of the cap: count the rows
        return results_reply(results, fmt, max_rows, self.prefixes)

    def _graph_reply(self, triples: list, fmt: str, max_rows: int) -> Reply:
        return graph_reply(triples, fmt, max_rows, self.prefixes)

    # --- graph store protocol ----------------------------------------------

    def graph_get(self, request: dict) -> Reply:
        iri = request.get("graph")
        max_rows = int(request["max_rows"])
        if iri is None:
            quads = self.store.query(
                "CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True
            )
            triples = list(islice(dict.fromkeys(quads), max_rows + 1))
        else:
            graph = ox.NamedNode(iri)
            if not self.store.contains_named_graph(graph):
                return error(404, f"No graph named <{iri}> in this dataset")
            pattern = self.store.quads_for_pattern(None, None, None, graph)
            triples = [quad.triple for quad in islice(pattern, max_rows + 1)]
        return self._graph_reply(triples, request["format"], max_rows)

    def graph_write(self, request: dict) -> Reply:
        method = request["method"]
        iri = request.get("graph")
        graph = ox.DefaultGraph() if iri is None else ox.NamedNode(iri)
        existed = iri is None or self.store.contains_named_graph(graph)
        if method == "DELETE":
            if not existed:
                return error(404, f"No graph named <{iri}> in this dataset")
            if iri is None:
                self.store.clear_graph(graph)
            else:
                self.store.remove_graph(graph)
            return {"ok": True, "status": 204}
        try:
            triples = parse_payload(request["data"], request["media_type"], iri)
        except ValueError as exc:
            return error(400, str(exc))
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
        if method == "PUT" and existed:
            if iri is None:
                self.store.clear_graph(graph)
            else:
                self.store.remove_graph(graph)
        if iri is not None:
            self.store.add_graph(graph)
        self.store.extend(quads)
        return {"ok": True, "status": 204 if existed else 201}

    # --- updates -----------------------------------------------------------

    def update(self, request: dict) -> Reply:
        try:
            self.store.update(request["update"], prefixes=self.prefixes, base_iri=self.base_iri)
        except SyntaxError as exc:
            return error(400, f"Malformed update: {exc}")
        except (ValueError, TypeError, RuntimeError) as exc:
            return error(400, f"Update failed: {exc}")
        except OSError as exc:
            return error(502, f"Update failed while fetching a remote resource: {exc}")
        return {"ok": True, "status": 204}

    def snapshot(self, path: str) -> None:
        """Write the whole store as N-Quads, atomically, for the query workers to load.

        On disk: flush, record the write in the store's marker file, then
        checkpoint the primary into ``path`` for the readers to open.
        """
        if self.disk is not None:
            from openskies.server.store import checkpoint

            checkpoint(self.store, self.disk, path, wrote=True)
            return
        tmp = f"{path}.tmp"
        self.store.dump(tmp, format=ox.RdfFormat.N_QUADS)
        os.replace(tmp, path)

    # --- description -------------------------------------------------------

    def stats(self, request: dict) -> Reply:
        def count(query: str, **kwargs: Any) -> int:
            solution = next(iter(self.store.query(query, **kwargs)))
            return int(solution["n"].value)

        union = {"use_default_graph_as_union": True}
        graphs = sorted(graph.value for graph in self.store.named_graphs())
        per_graph = {
            graph: count(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
            for graph in graphs
        }
        return {
            "ok": True,
            "triples": count(
                "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }", **union
            ),
            "quads": len(self.store),
            "entities": count(
                "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o FILTER(isIRI(?s)) }", **union
            ),
            "classes": count("SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }", **union),
            "properties": count("SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }", **union),
            "graphs": per_graph,
        }

    def dump(self, request: dict) -> Reply:
        """One downloadable file of the data being served (see ``openskies.graph.dumps``)."""
        from openskies.graph.dumps import Dump, write_dump  # only for downloads

        dump = Dump(
            request["filename"],
            request["media_type"],
            ox.RdfFormat.from_media_type(request["media_type"]),
            request.get("graph"),
        )
        return {"ok": True, "body": write_dump(self.store, dump)}

    # --- dispatch ----------------------------------------------------------

    def handle(self, request: dict) -> Reply:
        generation = request.get("generation")
        if generation is not None and generation > self.generation and not request.get("writer"):
            self.load(generation, request.get("snapshot"))
        op = request["op"]
        if op == "query":
            return self.query(request)
        if op == "graph_get":
            return self.graph_get(request)
        if op == "stats":
            return self.stats(request)
        if op == "dump":
            return self.dump(request)
        if op in ("update", "graph_write"):
            reply = self.update(request) if op == "update" else self.graph_write(request)
            if reply["ok"]:
                self.snapshot(request["snapshot_out"])
                self.generation = request["generation_out"]
            return reply
        return error(400, f"unknown operation {op!r}")


def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space (RLIMIT_AS) at ``megabytes`` MiB; 0: no cap.

    A query that needs more fails an allocation: in the engine (Rust) that
    aborts the process (SIGABRT), which the pool reports as the memory limit;
    in Python it is a ``MemoryError``, answered as such.
    """
    if megabytes <= 0:
        return
    import resource

    limit = megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _out_of_memory(megabytes: int) -> Reply:
    limit = f"a query worker may use ({megabytes} MiB)" if megabytes else "there is"
    return error(
        503,
        f"The query needed more memory than {limit} and was stopped. "
        "Simplify the query (fewer rows to sort, group or concatenate) and retry.",
    )


def worker_main(conn: ChildConnection, init: dict) -> None:
    """Entry point of a worker process: load, say ready, then serve requests until EOF.

    Every reply carries ``cpu``, the process's CPU time so far, so that the
    pool can tell how much CPU a request has used while it runs.
    """
    from time import process_time

    memory_mb = int(init.get("memory_mb") or 0)
    _limit_memory(memory_mb)
    engine = Engine(
        init["sources"],
        init["prefixes"],
        init.get("base_iri"),
        disk=init.get("disk"),
        writer=bool(init.get("writer")),
    )
    hello: dict[str, Any] = {"ready": True}
    try:
        engine.load(init["generation"], init.get("snapshot"))
        if engine.writer and engine.disk is not None and init.get("checkpoint"):
            # The readers' first view of the data: a checkpoint nobody writes to.
            from openskies.server.store import checkpoint

            checkpoint(engine.store, engine.disk, init["checkpoint"], wrote=False)
            hello["snapshot"] = init["checkpoint"]
    except Exception as exc:  # report any load failure to the parent, then stop
        conn.send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    hello["generation"] = engine.generation
    collect_less_often()
    hello["cpu"] = process_time()  # the pool measures each request's CPU time from here
    conn.send(hello)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            reply = engine.handle(request)
        except MemoryError:
            reply = _out_of_memory(memory_mb)
        except Exception as exc:  # an engine failure is reported, never a crash
            reply = error(500, f"Internal engine error: {type(exc).__name__}: {exc}")
        reply["cpu"] = process_time()
        conn.send(reply)


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Exit as soon as the server process is gone, even in the middle of a query.

    A server killed with SIGKILL cannot stop its workers; a worker that is
    idle notices the closed connection, but one evaluating a runaway query
    would go on for ever. pyoxigraph releases the GIL while it evaluates, so
    this thread runs meanwhile. (``PR_SET_PDEATHSIG`` would fire when the
    thread that started the worker ends, which for replacements is at once.)
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="openskies-parent-watch", daemon=True).start()


def main() -> None:
    """``python -m openskies.server.worker FD``: serve the connection on inherited ``FD``.

    The first message is the start-up settings (see ``openskies.server.worker_process``).
    """
    _exit_with_parent(os.getppid())
    # The parent's multiprocessing framing without importing multiprocessing,
    # and ``send`` pickles with ``pickle.dumps`` (4.5 us less per reply).
    conn = ChildConnection(int(sys.argv[1]))
    try:
        init = conn.recv()
    except (EOFError, OSError):
        return
    worker_main(conn, init)


if __name__ == "__main__":
    main()
