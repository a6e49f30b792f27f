"""The SPARQL 1.1 Protocol query operation, read from a request's parts.

Shared by the ``/sparql`` routes and the front that answers ``/sparql``
before FastAPI is imported (``openskies.server.sparql_front``), so both accept
and refuse exactly the same requests; nothing here imports FastAPI.
"""

from __future__ import annotations

from openskies.server.body import decode, parse_form
from openskies.server.protocol_error import ProtocolError
from openskies.server.service import QueryRequest


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise ProtocolError(400, f"Bad request: the '{name}' parameter is given more than once.")
    return values[0] if values else None


FORMAT_PARAMETERS = ("format", "output", "results")
"""Result-format hints clients send besides Accept: Fuseki's and Virtuoso's ``format``;
SPARQLWrapper adds ``output`` and ``results`` and may repeat ``format``."""


def format_hint(pairs: list[tuple[str, str]]) -> str | None:
    """The first non-empty format hint, ``format`` before ``output`` before ``results``.

    Only a repeated ``query`` is an error (the protocol says so); repeated
    hints are what real clients send, so the first one wins.
    """
    for name in FORMAT_PARAMETERS:
        for key, value in pairs:
            if key == name and value.strip():
                return value
    return None


def _query_request(
    pairs: list[tuple[str, str]], query: str, accept: str | None, *, head: bool = False
) -> QueryRequest:
    return QueryRequest(
        query=query,
        accept=accept,
        format=format_hint(pairs),
        default_graphs=tuple(value for key, value in pairs if key == "default-graph-uri"),
        named_graphs=tuple(value for key, value in pairs if key == "named-graph-uri"),
        head=head,
    )


QUERY_MEDIA_TYPES = ("application/x-www-form-urlencoded", "application/sparql-query")
"""What a query may be POSTed as (SPARQL 1.1 Protocol, 2.1.2 and 2.1.3)."""


def get_operation(
    pairs: list[tuple[str, str]], *, accept: str | None, head: bool = False
) -> QueryRequest | None:
    """The query operation of a GET's parameters; None asks for the service description.

    Shared by the routes and ``openskies.server.sparql_front``, so that both
    refuse and accept exactly the same requests.
    """
    query = _single([value for key, value in pairs if key == "query"], "query")
    if query is None:
        if any(key not in FORMAT_PARAMETERS for key, _ in pairs):
            raise ProtocolError(400, "Bad request: missing 'query' parameter.")
        return None
    return _query_request(pairs, query, accept, head=head)


def unsupported_media_type(media_type: str) -> ProtocolError:
    return ProtocolError(
        415,
        f"Unsupported media type {media_type or '(none)'!r}: POST a query as "
        "application/x-www-form-urlencoded or application/sparql-query.",
    )


def post_operation(
    media_type: str, url_pairs: list[tuple[str, str]], body: bytes, *, accept: str | None
) -> QueryRequest:
    """The query operation of a POST (``media_type`` is one of ``QUERY_MEDIA_TYPES``)."""
    if media_type == "application/x-www-form-urlencoded":
        pairs = url_pairs + parse_form(body)
        if any(key == "update" for key, _ in pairs):
            raise ProtocolError(400, "Bad request: send SPARQL updates to /update.")
        query = _single([value for key, value in pairs if key == "query"], "query")
        if query is None:
            raise ProtocolError(400, "Bad request: missing 'query' parameter.")
        return _query_request(pairs, query, accept)
    if media_type == "application/sparql-query":
        if any(key == "query" for key, _ in url_pairs):
            raise ProtocolError(
                400, "Bad request: the query is in the body; no 'query' parameter is allowed."
            )
        query = decode(body)
        if not query.strip():
            raise ProtocolError(400, "Bad request: missing query (empty body).")
        return _query_request(url_pairs, query, accept)
    raise unsupported_media_type(media_type)
