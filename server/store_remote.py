"""The remote backend: every operation forwarded to an existing SPARQL 1.1 store.

The server, the catalog, the pages and the UI run unchanged over an
Oxigraph server, Fuseki, Virtuoso, QLever or GraphDB. What stays local:
the pre-checks (``SparqlService.check``: size, nesting, operator chains,
SERVICE/LOAD policy) run before anything is sent; the query timeout is the
HTTP timeout; results come back as SPARQL JSON (solutions, booleans) or
N-Triples (graphs), are parsed here and written by the same code as the
embedded backends (``worker.results_reply``), so formats, bytes and the row
cap are the same whichever store answers.

Expectations of the remote store, documented in the README:

* its default graph is the union of the named graphs, like the embedded
  store's (``oxigraph serve --union-default-graph``; Fuseki
  ``tdb2:unionDefaultGraph true``);
* catalog parameters (SEP-0007 substitutions, which remote engines do not
  support) are sent as a one-row ``VALUES`` block at the start of the
  query's WHERE group (``bind_variables``);
* the project's prefixes and the endpoint's base IRI, which the embedded
  engine applies to every query, are prepended as ``BASE``/``PREFIX``
  declarations;
* writes (SPARQL Update, Graph Store operations translated into Update)
  need ``remote_update_url``; the generation counts writes made through
  this server, so a store also written to behind its back should run with
  the response cache off (``cache_entries=0``).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pyoxigraph as ox
from starlette.concurrency import run_in_threadpool

from openskies.graph.dumps import Dump, write_dump
from openskies.server.pool import PoolBusy, PoolError, QueryTimeout
from openskies.server.sparql_scan import _FORMS, token_regex
from openskies.server.worker import (
    error,
    graph_reply,
    parse_payload,
    parse_term,
    results_reply,
)

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"


class RemoteError(PoolError):
    status = 502


def auth_headers(auth: str | None) -> dict[str, str]:
    """``user:password`` becomes Basic, ``Bearer <token>`` is sent as it is."""
    if not auth:
        return {}
    if auth.lower().startswith("bearer "):
        return {"Authorization": auth}
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


def bind_variables(query: str, substitutions: dict[str, str]) -> str:
    """``query`` with a ``VALUES`` block binding each variable, first in its WHERE group.

    The stand-in for SEP-0007 substitution, which remote engines lack: a
    one-row ``VALUES`` at the start of the outermost group pattern binds the
    variables for every filter, join and grouping of that group. Terms are
    checked to be single N-Triples terms (``worker.parse_term``) and written
    back by pyoxigraph, so nothing else can be smuggled in.
    """
    if not substitutions:
        return query
    for name in substitutions:
        if not name.replace("_", "a").isalnum():
            raise ValueError(f"not a variable name: {name!r}")
    names = " ".join(f"?{name}" for name in substitutions)
    terms = " ".join(str(parse_term(text)) for text in substitutions.values())
    block = f" VALUES ({names}) {{ ({terms}) }} "
    depth, form, skip, previous = 0, None, 0, ""
    for match in token_regex().finditer(query):
        kind, text = match.lastgroup, match.group()
        if kind in ("ws", "comment"):
            continue
        if kind == "word" and form is None and text.upper() in _FORMS:
            form = text.upper()
        elif kind == "punct" and text in "{([":
            if text == "{" and depth == 0 and form is not None:
                if form == "CONSTRUCT" and previous.upper() == "CONSTRUCT":
                    skip = 1  # the template; the WHERE group comes next
                elif skip:
                    skip = 0
                    return query[: match.end()] + block + query[match.end() :]
                else:
                    return query[: match.end()] + block + query[match.end() :]
            depth += 1
        elif kind == "punct" and text in "})]":
            depth = max(0, depth - 1)
        previous = text
    raise ValueError("no WHERE clause to bind parameters in")


def _graph_construct(iri: str) -> str:
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"


class RemoteStore:
    """A backend over a SPARQL 1.1 query (and optionally update) endpoint."""

    size = 0

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        auth: str | None = None,
        timeout: float = 10.0,
        prefixes: dict[str, str] | None = None,
        base_iri: str | None = None,
    ):
        self.query_url = query_url
        self.update_url = update_url
        self.timeout = timeout
        self.prefixes = prefixes or {}
        self._prologue = (f"BASE <{base_iri}>\n" if base_iri else "") + "".join(
            f"PREFIX {name}: <{iri}>\n" for name, iri in self.prefixes.items()
        )
        """What the embedded engine applies implicitly: the endpoint's base, our prefixes."""
        self.generation = 0
        self.data_id = hashlib.sha256(query_url.encode()).hexdigest()[:12]
        self.sources: list[str] = []
        self._headers = auth_headers(auth)
        self._client: httpx.Client | None = None

    # --- life cycle -------------------------------------------------------------

    def start(self) -> None:
        self._client = httpx.Client(
            headers=self._headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        reply = self.run({"op": "query", "query": "ASK {}", "format": "json", "max_rows": 1})
        if not reply.get("ok"):
            raise RuntimeError(f"the remote store at {self.query_url} failed: {reply}")

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- HTTP --------------------------------------------------------------------

    def _post(self, url: str, data: dict[str, Any], accept: str | None = None) -> httpx.Response:
        if self._client is None:
            raise PoolBusy("The remote store client is not running.")
        headers = {"Accept": accept} if accept else {}
        try:
            return self._client.post(url, data=data, headers=headers)
        except httpx.TimeoutException:
            raise QueryTimeout(
                f"Query timed out: the remote store did not answer within {self.timeout:g} s."
            ) from None
        except httpx.HTTPError as exc:
            raise PoolBusy(f"The remote store is unreachable: {type(exc).__name__}") from None

    def _fetch(
        self,
        query: str,
        accept: str,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> httpx.Response | dict[str, Any]:
        data: dict[str, Any] = {"query": query}
        if default_graphs:
            data["default-graph-uri"] = default_graphs
        if named_graphs:
            data["named-graph-uri"] = named_graphs
        response = self._post(self.query_url, data, accept)
        if response.status_code == 400:
            return error(400, f"Malformed query (remote store): {response.text[:500]}")
        if response.status_code >= 400:
            return error(502, f"The remote store failed ({response.status_code}).")
        return response

    def _select(self, query: str) -> list[dict[str, Any]]:
        response = self._fetch(query, _RESULTS_JSON)
        if isinstance(response, dict):
            raise RemoteError(response["message"])
        results = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        names = [variable.value for variable in results.variables]
        return [
            {name: solution[name] for name in names if solution[name] is not None}
            for solution in results
        ]

    def _construct(self, query: str) -> list[Any]:
        response = self._fetch(query, _NTRIPLES)
        if isinstance(response, dict):
            raise RemoteError(response["message"])
        return list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))

    def _graphs(self) -> dict[str, int]:
        rows = self._select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        return {row["g"].value: int(row["n"].value) for row in rows if "g" in row}

    # --- reads -------------------------------------------------------------------

    async def arun(self, request: dict) -> dict[str, Any]:
        """``run`` in a thread: the HTTP client here is synchronous."""
        return await run_in_threadpool(self.run, request)

    def run(self, request: dict) -> dict[str, Any]:
        op = request["op"]
        try:
            if op == "query":
                return self._query(request)
            if op == "graph_get":
                return self._graph_get(request)
            if op == "stats":
                return self._stats()
            if op == "dump":
                return self._dump(request)
        except (SyntaxError, ValueError) as exc:
            return error(502, f"The remote store sent an unreadable answer: {exc}")
        return error(400, f"unknown operation {op!r}")

    def _query(self, request: dict) -> dict[str, Any]:
        fmt = request["format"]
        try:
            query = self._prologue + bind_variables(
                request["query"], request.get("substitutions") or {}
            )
        except ValueError as exc:
            return error(400, f"Bad parameter: {exc}")
        graph_result = fmt in ("turtle", "ntriples", "jsonld", "rdfxml")
        response = self._fetch(
            query,
            _NTRIPLES if graph_result else _RESULTS_JSON,
            request.get("default_graphs"),
            request.get("named_graphs"),
        )
        if isinstance(response, dict):
            return response
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type == _RESULTS_JSON or media_type == "application/json":
            results: Any = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        elif media_type in (_NTRIPLES, "text/plain"):
            results = iter(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
        else:
            fmt_in = ox.RdfFormat.from_media_type(media_type)
            if fmt_in is None:
                return error(502, f"The remote store answered in {media_type!r}.")
            results = iter(ox.parse(response.content, format=fmt_in))
        if not isinstance(results, ox.QueryBoolean | ox.QuerySolutions):
            if not graph_result:
                return error(406, "CONSTRUCT/DESCRIBE results are written as RDF formats only")
            triples = [item.triple if isinstance(item, ox.Quad) else item for item in results]
            return graph_reply(triples, fmt, int(request["max_rows"]), self.prefixes)
        return results_reply(results, fmt, int(request["max_rows"]), self.prefixes)

    def _graph_get(self, request: dict) -> dict[str, Any]:
        iri = request.get("graph")
        if iri is None:
            triples = self._construct("CONSTRUCT WHERE { ?s ?p ?o }")
        else:
            if iri not in self._graphs():
                return error(404, f"No graph named <{iri}> in this dataset")
            triples = self._construct(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
            )
        triples = list(dict.fromkeys(triples))
        return graph_reply(triples, request["format"], int(request["max_rows"]), self.prefixes)

    def _count(self, query: str) -> int:
        return int(self._select(query)[0]["n"].value)

    def _stats(self) -> dict[str, Any]:
        graphs = dict(sorted(self._graphs().items()))
        return {
            "ok": True,
            "triples": self._count(
                "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
            ),
            "quads": sum(graphs.values()),
            "entities": self._count(
                "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o FILTER(isIRI(?s)) }"
            ),
            "classes": self._count("SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }"),
            "properties": self._count("SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }"),
            "graphs": graphs,
        }

    def _dump(self, request: dict) -> dict[str, Any]:
        store = ox.Store()
        wanted = [request["graph"]] if request.get("graph") else list(self._graphs())
        for iri in wanted:
            graph = ox.NamedNode(iri)
            triples = self._construct(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
            )
            store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
        dump = Dump(
            request["filename"],
            request["media_type"],
            ox.RdfFormat.from_media_type(request["media_type"]),
            request.get("graph"),
        )
        return {"ok": True, "body": write_dump(store, dump)}

    # --- writes ------------------------------------------------------------------

    def _update(self, text: str) -> dict[str, Any]:
        if not self.update_url:
            return error(403, "Writes are disabled: the remote store has no update URL.")
        response = self._post(self.update_url, {"update": text})
        if response.status_code == 400:
            return error(400, f"Update failed (remote store): {response.text[:500]}")
        if response.status_code >= 400:
            return error(502, f"The remote store failed the update ({response.status_code}).")
        return {"ok": True, "status": 204}

    def write(self, request: dict) -> dict[str, Any]:
        if request["op"] == "update":
            reply = self._update(request["update"])
        elif request["op"] == "graph_write":
            reply = self._graph_write(request)
        else:
            return error(400, f"unknown operation {request['op']!r}")
        if reply.get("ok"):
            self.generation += 1
        return reply

    def _graph_write(self, request: dict) -> dict[str, Any]:
        method, iri = request["method"], request.get("graph")
        existed = iri is None or iri in self._graphs()
        target = "DEFAULT" if iri is None else f"GRAPH <{iri}>"
        if method == "DELETE":
            if not existed:
                return error(404, f"No graph named <{iri}> in this dataset")
            reply = self._update(f"CLEAR {target}" if iri is None else f"DROP {target}")
            return {**reply, "status": 204} if reply.get("ok") else reply
        try:
            triples = parse_payload(request["data"], request["media_type"], iri)
        except ValueError as exc:
            return error(400, str(exc))
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        insert = body.decode()
        inner = insert if iri is None else f"GRAPH <{iri}> {{ {insert} }}"
        steps = []
        if method == "PUT" and existed:
            steps.append(f"CLEAR SILENT {target}")
        steps.append(f"INSERT DATA {{ {inner} }}")
        reply = self._update(" ;\n".join(steps))
        if reply.get("ok"):
            return {"ok": True, "status": 204 if existed else 201}
        return reply
