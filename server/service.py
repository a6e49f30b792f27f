"""The endpoint's operations, between the HTTP routes and the worker pool.

Routes parse HTTP; this module applies the policy (size, nesting and
outbound limits, content negotiation, row cap) and talks to the pool from a
thread so that the event loop never blocks on an engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from openskies.iris import PREFIXES
from openskies.server.negotiation import Format, Kind, NotAcceptable, negotiate
from openskies.server.protocol_error import ProtocolError
from openskies.server.sparql_scan import ScanResult, outbound_violations, quick_scan, scan
from openskies.server.store import Backend, sources_id
from openskies.settings import Settings

if TYPE_CHECKING:
    from openskies.graph.dumps import Dump

TRUNCATED_HEADER = "X-Openskies-Truncated"
"""Set to ``true`` when a result was cut at ``Settings.max_result_rows`` rows/triples."""


@dataclass(frozen=True)
class QueryRequest:
    """A SPARQL protocol query operation, as the routes extracted it."""

    query: str
    accept: str | None = None
    format: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    head: bool = False


def respond(
    body: bytes, fmt: Format, *, head: bool, truncated: bool = False, vary: bool = True
) -> Response:
    """A negotiated response; HEAD gets the same headers and no body."""
    headers = {"Content-Length": str(len(body))}
    if vary:
        headers["Vary"] = "Accept"
    if truncated:
        headers[TRUNCATED_HEADER] = "true"
    return Response(b"" if head else body, media_type=fmt.content_type, headers=headers)


class SparqlService:
    """Query, update, Graph Store and statistics operations over one store backend.

    ``pool`` is the backend (``openskies.server.store``): the worker pool
    over the memory or disk store, or the remote store; the attribute keeps
    its historical name.
    """

    def __init__(self, settings: Settings, pool: Backend):
        self.settings = settings
        self.pool = pool
        self._stats: tuple[int, dict[str, Any]] | None = None
        self._version: tuple[int, datetime] = (pool.generation, datetime.now(UTC))
        self.data_id = pool.data_id or sources_id(getattr(pool, "sources", []))
        """Changes when the served data changes, so ETags never outlive a restart on new data."""

    def check(self, text: str, what: str = "query") -> ScanResult:
        """Refuse, before any engine sees it, what is too long, too deep or reaches out."""
        if not text.strip():
            raise ProtocolError(400, f"Missing {what}: the '{what}' parameter is empty.")
        settings = self.settings
        if len(text) > settings.max_query_length:
            raise ProtocolError(
                413,
                f"The {what} is too long: {len(text)} characters, "
                f"the limit is {settings.max_query_length}.",
            )
        result = quick_scan(
            text,
            PREFIXES,
            max_depth=settings.max_query_depth,
            max_operators=settings.max_query_operators,
        ) or scan(text, PREFIXES)
        if result.max_depth > settings.max_query_depth:
            raise ProtocolError(
                400,
                f"The {what} is nested too deeply: {result.max_depth} levels of brackets, "
                f"the limit is {settings.max_query_depth}.",
            )
        if result.operators > settings.max_query_operators:
            raise ProtocolError(
                400,
                f"The {what} is too complex: {result.operators} chained operators "
                "(UNION, OPTIONAL, MINUS, BIND and operator characters), "
                f"the limit is {settings.max_query_operators}.",
            )
        violations = outbound_violations(result, settings.outbound_allowlist)
        if violations:
            raise ProtocolError(403, "Refused: " + "; ".join(violations) + ".")
        return result

    async def _run(self, request: dict) -> dict[str, Any]:
        reply = await self.pool.arun(request)
        if not reply.get("ok"):
            raise ProtocolError(reply.get("status", 500), reply.get("message", "Query failed."))
        return reply

    async def query(self, request: QueryRequest) -> Response:
        """Run a query operation and answer in the negotiated format."""
        body, fmt, truncated = await self.evaluate(request)
        return respond(body, fmt, head=request.head, truncated=truncated)

    async def evaluate(self, request: QueryRequest) -> tuple[bytes, Format, bool]:
        """A query operation's answer: (body, negotiated format, whether rows were cut).

        ``query`` wraps it in a response; the ``/sparql`` front
        (``openskies.server.sparql_front``) writes the bytes to the socket itself.
        """
        checked = self.check(request.query)
        kind = Kind.GRAPH if checked.form in ("CONSTRUCT", "DESCRIBE") else Kind.SOLUTIONS
        if checked.form is None:
            # Not a query the scan recognises: the engine will report the syntax error.
            fmt = negotiate(kind, None, None)
        else:
            fmt = negotiate(kind, request.accept, request.format)
        for iri in request.default_graphs + request.named_graphs:
            if ":" not in iri:
                raise ProtocolError(400, f"Graph IRIs must be absolute: {iri!r}")
        reply = await self._run(
            {
                "op": "query",
                "query": request.query,
                "default_graphs": list(request.default_graphs),
                "named_graphs": list(request.named_graphs),
                "prefixes": checked.needs_prefixes,
                "union": not checked.has_dataset_clause,
                "format": fmt.name,
                "max_rows": self.settings.max_result_rows,
            }
        )
        return reply["body"], fmt, reply["truncated"]

    def execute_blocking(
        self, query: str, substitutions: Mapping[str, str], accept_format: str
    ) -> tuple[bytes, str]:
        """The query catalog's executor protocol (see ``openskies.queries.runner``).

        Blocking: the catalog routes are plain ``def`` and run in FastAPI's
        thread pool. ``substitutions`` are N-Triples terms bound by SEP-0007
        substitution in the worker; ``accept_format`` is a short name or a
        media type. Failures raise ``ProtocolError`` or ``PoolError`` (both
        carry ``status`` and ``message``).
        """
        checked = self.check(query)
        kind = Kind.GRAPH if checked.form in ("CONSTRUCT", "DESCRIBE") else Kind.SOLUTIONS
        try:
            fmt = negotiate(kind, None, accept_format)
        except NotAcceptable as exc:
            raise ProtocolError(406, str(exc)) from None
        reply = self.pool.run(
            {
                "op": "query",
                "query": query,
                "substitutions": dict(substitutions),
                "prefixes": checked.needs_prefixes,
                "union": not checked.has_dataset_clause,
                "format": fmt.name,
                "max_rows": self.settings.max_result_rows,
            }
        )
        if not reply.get("ok"):
            raise ProtocolError(reply.get("status", 500), reply.get("message", "Query failed."))
        return reply["body"], fmt.content_type

    async def select(
        self, query: str, substitutions: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of a server-side SELECT as SPARQL JSON bindings (for pages built from queries).

        ``substitutions`` map variable names to N-Triples terms, bound with
        SEP-0007 in the worker; pyoxigraph requires every substituted
        variable to be in the SELECT projection. Rows are capped at
        ``max_result_rows`` like any query.
        """
        body = await self._evaluate(query, substitutions, "json")
        return json.loads(body)["results"]["bindings"]

    async def construct(
        self, query: str, substitutions: Mapping[str, str] | None, fmt: Format
    ) -> bytes:
        """A server-side CONSTRUCT/DESCRIBE serialized in ``fmt`` (a graph format)."""
        return await self._evaluate(query, substitutions, fmt.name)

    async def _evaluate(
        self, query: str, substitutions: Mapping[str, str] | None, format_name: str
    ) -> bytes:
        checked = self.check(query)
        reply = await self._run(
            {
                "op": "query",
                "query": query,
                "substitutions": dict(substitutions or {}),
                "prefixes": checked.needs_prefixes,
                "union": not checked.has_dataset_clause,
                "format": format_name,
                "max_rows": self.settings.max_result_rows,
            }
        )
        return reply["body"]

    def data_version(self) -> tuple[int, datetime]:
        """The data generation being served and when it began (for ETag and Last-Modified)."""
        generation = self.pool.generation
        if self._version[0] != generation:
            self._version = (generation, datetime.now(UTC))
        return self._version

    async def dump(self, dump: Dump) -> bytes:
        """One dump file, written by a worker from the data it serves (no row cap)."""
        reply = await self._run(
            {
                "op": "dump",
                "filename": dump.filename,
                "media_type": dump.media_type,
                "graph": dump.graph,
            }
        )
        return reply["body"]

    async def stats(self) -> dict[str, Any]:
        """Counts for VoID, the service description and /health, cached per data generation."""
        generation = self.pool.generation
        if self._stats is None or self._stats[0] != generation:
            reply = await self._run({"op": "stats"})
            self._stats = (generation, reply)
        return self._stats[1]

    async def update(self, text: str) -> None:
        """Apply a SPARQL 1.1 Update on the writer; visible to every later query."""
        self.check(text, "update")
        await self._write({"op": "update", "update": text})

    async def graph_get(self, graph: str | None, fmt: Format, *, head: bool) -> Response:
        reply = await self._run(
            {
                "op": "graph_get",
                "graph": graph,
                "format": fmt.name,
                "max_rows": self.settings.max_result_rows,
            }
        )
        return respond(reply["body"], fmt, head=head, truncated=reply["truncated"])

    async def graph_write(
        self, method: str, graph: str | None, data: bytes = b"", media_type: str = ""
    ) -> int:
        """PUT/POST/DELETE a graph; returns the status code (201 created, 204 otherwise)."""
        reply = await self._write(
            {
                "op": "graph_write",
                "method": method,
                "graph": graph,
                "data": data,
                "media_type": media_type,
            }
        )
        return int(reply.get("status", 204))

    async def _write(self, request: dict) -> dict[str, Any]:
        reply = await run_in_threadpool(self.pool.write, request)
        if not reply.get("ok"):
            raise ProtocolError(reply.get("status", 500), reply.get("message", "Write failed."))
        return reply
