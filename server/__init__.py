"""The Open Skies web server: SPARQL 1.1 endpoint, Graph Store, self-description.

The endpoint's modules, one job each (linked-data pages, search, dumps and
the question catalog have their own modules and routers):

- ``app``: the application factory ``create_app(settings)`` and its lifespan.
- ``routes_sparql``: ``/sparql`` query operation (GET, POST form, POST direct)
  and the service description.
- ``routes_update``: ``/update`` (SPARQL 1.1 Update, bearer token only).
- ``routes_gsp``: ``/graphs`` (Graph Store HTTP Protocol).
- ``routes_meta``: ``/health`` and ``/.well-known/void``.
- ``service``: policy between routes and engine (limits, negotiation, row cap).
- ``sparql_scan``: lexical checks before any engine sees a request
  (nesting, operator chains, SERVICE/LOAD targets, query form).
- ``negotiation``: Accept / ``format`` parameter to a serialization.
- ``pool``: worker processes with hard timeouts, crash recovery and writes.
- ``worker``: the code that runs inside a worker (all pyoxigraph calls).
- ``results``: SELECT result writers (JSON, XML, CSV, TSV) for capped results.
- ``describe``: SPARQL Service Description and VoID graphs.
- ``body``, ``deps``, ``errors``, ``data``, ``executor``: request bodies,
  FastAPI dependencies and auth, error responses, data files, and the query
  catalog's executor over the pool.
"""
