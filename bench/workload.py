"""The benchmark's queries and load generator.

Six shapes (point lookup, three-way join, aggregate with GROUP BY, text
FILTER with OPTIONAL, property path, ORDER BY with LIMIT) over the
generated data, plus the question catalog (``queries/*.rq``, default
parameters bound with a VALUES block, federated questions left out).

Load: ``wrk`` (Debian package) with a Lua script when it is installed, else
an asyncio/httpx client; both run for a fixed time at a fixed number of
connections. "Distinct" runs append a unique comment to every request, so
no request text repeats and no cache can answer; "repeated" runs send the
same texts over and over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.generate import OSD

PREFIXES = """PREFIX osk: <https://w3id.org/openskies/ontology/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

SHAPES = {
    "point": f"SELECT ?p ?o WHERE {{ <{OSD}statement/17> ?p ?o }}",
    "join3": PREFIXES
    + f"""SELECT ?statement ?person ?stance WHERE {{
  ?inst osk:servesState <{OSD}state/3> . ?pos osk:positionAt ?inst .
  ?person osk:holdsPosition ?pos . ?statement osk:speaker ?person ; osk:stance ?stance }}""",
    "aggregate": PREFIXES
    + "SELECT ?stance (COUNT(*) AS ?n) WHERE { ?s osk:stance ?stance } GROUP BY ?stance",
    "text_optional": PREFIXES
    + """SELECT ?s ?content ?date WHERE { ?s osk:content ?content .
  FILTER(CONTAINS(STR(?content), "withdrawal notice"))
  OPTIONAL { ?s osk:occasion ?e . ?e osk:date ?date } }""",
    "path": PREFIXES
    + f"SELECT ?person WHERE {{ ?person osk:holdsPosition/osk:positionAt/osk:servesState "
    f"<{OSD}state/1> }}",
    "order_limit": PREFIXES
    + "SELECT ?event ?date WHERE { ?event osk:date ?date } ORDER BY DESC(?date) ?event LIMIT 10",
}
HEAVY = ("join3", "aggregate", "text_optional", "path", "order_limit")


def catalog_queries() -> dict[str, str]:
    """Every offline catalog question with its default parameters bound."""
    from openskies.queries.catalog import load_catalog
    from openskies.queries.runner import prepare
    from openskies.server.store_remote import bind_variables

    out = {}
    for name, query in load_catalog().items():
        if "federation" in query.tags:
            continue
        prepared = prepare(query, {})
        substitutions = {str(k).lstrip("?"): str(v) for k, v in prepared.substitutions.items()}
        out[name] = bind_variables(prepared.text, substitutions)
    return out


def normalize(body: dict) -> list[str]:
    """SPARQL JSON results as a sorted list of rows (GROUP_CONCAT pieces sorted too)."""
    if "boolean" in body:
        return [str(body["boolean"])]

    def term(value: dict) -> tuple:
        text = value.get("value", "")
        return (value.get("type"), sorted(re.split(r"[;,] ", text)), value.get("xml:lang"))

    rows = body["results"]["bindings"]
    return sorted(json.dumps(sorted((k, term(v)) for k, v in row.items())) for row in rows)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    tool: str

    def as_dict(self) -> dict:
        return asdict(self)


def _urls(path: str, queries: list[str]) -> list[str]:
    return [f"{path}?query={quote(query, safe='')}" for query in queries]


_LUA = """
local paths = {%s}
local distinct = %s
local counter = 0
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function request()
  counter = counter + 1
  local path = paths[(counter %% #paths) + 1]
  if distinct then path = path .. "%%0A%%23%%20" .. tid .. "-" .. counter end
  return wrk.format("GET", path, {["Accept"] = "application/sparql-results+json"})
end
"""


def warm_up(base: str, path: str, queries: list[str], *, timeout: float = 120.0) -> float:
    """Send each query once, as the load tool sends it (same bytes); returns the seconds.

    Before a "repeated" run, for every system alike: the run then measures
    repeated questions in their steady state, which for a server with a
    response cache means answered from it, rather than how many of the
    first answers a short run happens to include (at 1m triples some catalog
    questions take seconds each, longer than a run).
    """
    began = time.perf_counter()
    with httpx.Client(base_url=base, timeout=timeout) as client:
        for url in _urls(path, queries):
            with contextlib.suppress(httpx.HTTPError):
                client.get(url, headers={"Accept": "application/sparql-results+json"})
    return round(time.perf_counter() - began, 2)


def settle(base: str, path: str, *, limit: float = 120.0) -> float:
    """Wait until the system is idle again; returns the seconds waited.

    A load run ends at a fixed time while requests may still be queued or
    running on the server (the load tool just closes its connections), and
    every system evaluates what it has accepted. Without this, the next run
    would be measured against the previous run's backlog.
    """
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        probe = time.perf_counter()
        try:
            response = httpx.get(
                base + path,
                params={"query": "ASK {}"},
                headers={"Accept": "application/sparql-results+json"},
                timeout=limit,
            )
            if response.status_code == 200 and time.perf_counter() - probe < 0.25:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return round(time.perf_counter() - began, 2)


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group())
    unit = text[len(re.match(r"[\d.]+", text).group()) :]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}.get(unit, 1.0)


def run_wrk(
    base: str, path: str, queries: list[str], *, connections: int, seconds: float, distinct: bool
) -> LoadResult:
    urls = _urls(path, queries)
    lua = _LUA % (", ".join(json.dumps(url) for url in urls), "true" if distinct else "false")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    threads = min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    command += ["--latency", "--timeout", "10s", "-s", script.name, base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(script.name).unlink()
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.M))
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sock:
        errors += sum(int(n) for n in sock.groups())
    return LoadResult(total, errors, seconds, rps, _ms(latency["50"]), _ms(latency["99"]), "wrk")


async def _python_load(
    base: str, urls: list[str], connections: int, seconds: float, distinct: bool
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Accept": "application/sparql-results+json"}
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def worker(index: int) -> None:
            nonlocal errors
            counter = 0
            while time.perf_counter() < deadline:
                counter += 1
                url = urls[(counter + index) % len(urls)]
                if distinct:
                    url += f"%0A%23%20{index}-{counter}"
                start = time.perf_counter()
                try:
                    response = await client.get(url, headers=headers)
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0
    return LoadResult(
        len(latencies),
        errors,
        elapsed,
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000 if latencies else 0.0,
        p99 * 1000,
        "python",
    )


def run_load(
    base: str,
    path: str,
    queries: list[str],
    *,
    connections: int,
    seconds: float,
    distinct: bool,
    tool: str = "auto",
) -> LoadResult:
    """Drive ``base + path`` with ``queries`` (cycled) for ``seconds`` at ``connections``."""
    if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
        return run_wrk(
            base, path, queries, connections=connections, seconds=seconds, distinct=distinct
        )
    return asyncio.run(_python_load(base, _urls(path, queries), connections, seconds, distinct))
