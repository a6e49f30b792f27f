"""Linked data: every IRI of the graph dereferences, for people and programs.

The stable IRIs (``https://w3id.org/openskies/id/russia``) map onto this
server's paths (``/id/russia``). A GET answers by content negotiation: an
HTML page when the client asks for HTML (browsers do), otherwise the
entity's RDF description in Turtle, N-Triples, JSON-LD or RDF/XML (``*/*``,
as curl sends, gets Turtle). Unknown IRIs get 404. The same module serves
the article with its cited spans highlighted, since entity pages link into it.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from openskies.graph.article import ARTICLE_PATH, article_text
from openskies.iris import BASE
from openskies.server.article_view import CitedSpan, render_article
from openskies.server.deps import ServiceDep
from openskies.server.entity import (
    DESCRIBE_CONSTRUCT,
    INCOMING_SELECT,
    OUTGOING_SELECT,
    SPANS_SELECT,
    STATEMENTS_SELECT,
    build_view,
    local_path,
)
from openskies.server.errors import ProtocolError, error_responses, media_responses
from openskies.server.negotiation import GRAPH_FORMATS, Format, Kind, negotiate, parse_accept
from openskies.server.routing import get_and_head
from openskies.server.service import SparqlService, respond

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates


class LazyTemplates:
    """The site's ``Jinja2Templates``, made on the first page rendered.

    Importing Jinja2 and making its environment cost about 37 ms and 2 MiB,
    which ``openskies serve`` would otherwise spend building the app's routes
    while it answers its first queries; a server that is only queried never
    needs them. Shared by every module that renders a page.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self._templates: Jinja2Templates | None = None
        self._lock = threading.Lock()

    @property
    def templates(self) -> Jinja2Templates:
        templates = self._templates
        if templates is None:
            with self._lock:
                if self._templates is None:
                    from fastapi.templating import Jinja2Templates

                    self._templates = Jinja2Templates(directory=str(self.directory))
                templates = self._templates
        return templates

    def TemplateResponse(self, *args: Any, **kwargs: Any) -> Response:  # Starlette's name
        return self.templates.TemplateResponse(*args, **kwargs)


TEMPLATES = LazyTemplates(Path(__file__).with_name("templates"))

router = APIRouter(tags=["Linked data"])

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$")
FORMAT_LABELS = {
    "turtle": "Turtle",
    "ntriples": "N-Triples",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF/XML",
}

ARTICLE_SPANS_SELECT = """
SELECT ?node ?label ?start ?end WHERE {
  ?node osk:evidence ?span .
  ?span oa:hasSelector ?selector . ?selector oa:start ?start ; oa:end ?end .
  OPTIONAL { ?node rdfs:label|skos:prefLabel ?label }
}
"""


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML to every RDF syntax we offer.

    Only an explicit ``text/html`` (or XHTML) counts: a bare ``*/*`` is what
    programs send, and they are better served by Turtle.
    """
    format_param = request.query_params.get("format")
    if format_param:
        return format_param.strip().lower() in ("html", "text/html")
    ranges = parse_accept(request.headers.get("accept") or "")
    html_q = max(
        (q for media, q in ranges if media in ("text/html", "application/xhtml+xml")), default=0.0
    )
    if html_q == 0.0:
        return False
    explicit_rdf = [
        q
        for media, q in ranges
        for fmt in GRAPH_FORMATS
        if media == fmt.media_type or (media in fmt.aliases and media not in ("application/xml",))
    ]
    return html_q >= max(explicit_rdf, default=0.0)


def _alternates() -> list[dict[str, str]]:
    return [
        {"name": fmt.name, "media_type": fmt.media_type, "label": FORMAT_LABELS[fmt.name]}
        for fmt in GRAPH_FORMATS
    ]


def _substitution(iri: str) -> dict[str, str]:
    return {"entity": f"<{iri}>"}


async def _exists(service: SparqlService, iri: str) -> bool:
    rows = await service.select(
        "SELECT ?entity ?x WHERE { { ?entity ?p ?x } UNION { ?x ?p ?entity } } LIMIT 1",
        _substitution(iri),
    )
    return bool(rows)


def html_error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
    )


async def dereference(request: Request, service: SparqlService, iri: str) -> Response:
    """The HTML page or RDF description of ``iri``, or 404 when the graph does not know it."""
    html = wants_html(request)
    fmt: Format | None = None
    if not html:
        fmt = negotiate(
            Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format")
        )
    if not await _exists(service, iri):
        if html:
            return html_error(request, 404, "Not found", f"The graph says nothing about <{iri}>.")
        raise ProtocolError(404, f"Not found: the graph says nothing about <{iri}>.")
    head = request.method == "HEAD"
    if fmt is not None:
        body = await service.construct(DESCRIBE_CONSTRUCT, _substitution(iri), fmt)
        response = respond(body, fmt, head=head)
        response.headers["Link"] = f'<{iri}>; rel="describes"'
        return response
    substitutions = _substitution(iri)
    view = build_view(
        iri,
        await service.select(OUTGOING_SELECT, substitutions),
        await service.select(INCOMING_SELECT, substitutions),
        await service.select(STATEMENTS_SELECT, substitutions),
        await service.select(SPANS_SELECT, substitutions),
    )
    response = TEMPLATES.TemplateResponse(
        request,
        "entity.html",
        {"view": view, "path": request.url.path, "alternates": _alternates()},
        headers={"Vary": "Accept"},
    )
    if head:
        return Response(status_code=200, headers=dict(response.headers))
    return response


def _iri_for(namespace: str, name: str) -> str:
    if not _NAME.match(name):
        raise ProtocolError(404, f"Not found: {name!r} is not a name this server mints.")
    return f"{BASE}{namespace}/{name}"


_DEREF_RESPONSES = {
    200: {
        "description": "The entity as an HTML page or as RDF, by content negotiation",
        "content": {
            "text/html": {},
            **{fmt.media_type: {"schema": {"type": "string"}} for fmt in GRAPH_FORMATS},
        },
    },
    404: {"description": "The graph says nothing about this IRI"},
    406: {"description": "None of the offered media types is acceptable"},
}


@get_and_head(
    router,
    "/id/{name}",
    summary="Dereference an entity (state, person, institution, event, statement, span)",
    responses=_DEREF_RESPONSES,
    response_class=Response,
)
async def entity(name: str, request: Request, service: ServiceDep) -> Response:
    return await dereference(request, service, _iri_for("id", name))


@get_and_head(
    router,
    "/ontology/{term}",
    summary="Dereference an ontology class or property",
    responses=_DEREF_RESPONSES,
    response_class=Response,
)
async def ontology_term(term: str, request: Request, service: ServiceDep) -> Response:
    return await dereference(request, service, _iri_for("ontology", term))


@get_and_head(
    router,
    "/stance/{name}",
    summary="Dereference a stance concept",
    responses=_DEREF_RESPONSES,
    response_class=Response,
)
async def stance(name: str, request: Request, service: ServiceDep) -> Response:
    return await dereference(request, service, _iri_for("stance", name))


@get_and_head(
    router,
    "/ontology",
    summary="The ontology: its description as a page, or the whole ontology graph as RDF",
    responses=_DEREF_RESPONSES,
    response_class=Response,
)
async def ontology_document(request: Request, service: ServiceDep) -> Response:
    iri = BASE + "ontology"
    if wants_html(request):
        return await dereference(request, service, iri)
    fmt = negotiate(Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format"))
    return await service.graph_get(BASE + "graph/ontology", fmt, head=request.method == "HEAD")


@get_and_head(
    router,
    "/graph/{name}",
    summary="Dereference a named graph: its content as RDF",
    response_class=Response,
    responses={
        200: media_responses(
            "The graph in the negotiated RDF syntax", [fmt.media_type for fmt in GRAPH_FORMATS]
        ),
        **error_responses(404, 406),
    },
)
async def named_graph(name: str, request: Request, service: ServiceDep) -> Response:
    iri = _iri_for("graph", name)
    stats = await service.stats()
    if iri not in stats["graphs"]:
        raise ProtocolError(404, f"Not found: no named graph <{iri}>.")
    fmt = negotiate(Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format"))
    return await service.graph_get(iri, fmt, head=request.method == "HEAD")


@router.get(
    "/article",
    summary="The source article with every span the graph cites highlighted",
    response_class=HTMLResponse,
)
async def article(request: Request, service: ServiceDep) -> HTMLResponse:
    rows = await service.select(ARTICLE_SPANS_SELECT, {})
    supports: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for row in rows:
        key = (int(row["start"]["value"]), int(row["end"]["value"]))
        node = row["node"]["value"]
        label = row["label"]["value"] if row.get("label") else node
        supports.setdefault(key, []).append((label, local_path(node) or node))
    spans = [
        CitedSpan(start, end, tuple(sorted(set(nodes))))
        for (start, end), nodes in sorted(supports.items())
    ]
    return TEMPLATES.TemplateResponse(
        request,
        "article.html",
        {"body": render_article(article_text(), spans), "filename": ARTICLE_PATH.name},
    )
