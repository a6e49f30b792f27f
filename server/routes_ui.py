"""The analyst's workbench in the browser: everything without writing code.

Pages (server-rendered, each usable without JavaScript, enhanced by scripts
served from ``/static/ui/``; no asset ever comes from another host):

``/``
    The query editor and the question gallery. The editor is CodeMirror 6
    with a SPARQL mode (bundled into ``static/ui/vendor/editor.bundle.js`` by
    ``npm ci && npm run build``); without JavaScript it is a plain form that
    submits to ``/sparql``. ``/?query=...`` opens (and runs) a query,
    ``/?question=NAME&param=...`` a catalog question, so both can be shared.
``/timeline`` and ``/timeline.svg``
    The events from the 1992 signing to the withdrawals taking effect, drawn
    server-side as SVG (an overview time axis, then every event in date order
    with axis breaks over long gaps); each event links to its entity page and
    to its sentence in the article.
``/network``
    States, people, institutions, events and statements as an interactive
    Cytoscape.js network, filterable by type; without JavaScript, the same
    nodes and links as lists.
``/article`` (served by the linked-data router) loads ``article.js``, which
    shows, on hover or click of a highlight, the triples of the nodes the
    span supports; ``/ui/article`` redirects there.

JSON for the scripts (also plain HTTP APIs):

``/ui/api/questions``
    The catalog (``GET /api/queries``'s metadata) with each question's SPARQL.
``/ui/api/questions/{name}/sparql?param=...``
    The question's SPARQL with its parameters bound by a ``VALUES`` clause,
    ready for ``/sparql`` (values are validated and written as RDF terms by
    the catalog's own binding code, never pasted as text).
``/ui/api/network``, ``/ui/api/span?start=&end=``
    The network's nodes and edges; the triples a cited span supports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from openskies.iris import PREFIXES, GraphIRIs
from openskies.queries.binding import ParameterError, bind, to_ntriples
from openskies.queries.catalog import CatalogQuery, load_catalog, query_body
from openskies.queries.projection import _tokens
from openskies.server.deps import ServiceDep
from openskies.server.entity import local_path
from openskies.server.routes_linked_data import TEMPLATES
from openskies.server.service import SparqlService

router = APIRouter(tags=["Workbench"])

STATIC_UI = Path(__file__).with_name("static") / "ui"

DEFAULT_QUERY = """SELECT ?person ?label (COUNT(?statement) AS ?statements)
WHERE {
  ?statement osk:speaker ?person .
  ?person a osk:Person ; rdfs:label ?label .
}
GROUP BY ?person ?label
ORDER BY DESC(?statements)
"""


def prefix_block() -> str:
    """The graph's prefixes as SPARQL PREFIX lines (the endpoint predeclares them too)."""
    width = max(len(name) for name in PREFIXES) + 1
    return "".join(
        f"PREFIX {name + ':':<{width}} <{iri}>\n" for name, iri in sorted(PREFIXES.items())
    )


def starter_query() -> str:
    return prefix_block() + "\n" + DEFAULT_QUERY


# ---------------------------------------------------------------- the question gallery


def question_entry(query: CatalogQuery) -> dict[str, Any]:
    """What the gallery shows of one question: its catalog metadata and its SPARQL."""
    return {**query.as_dict(), "query": query_body(query.text).strip() + "\n"}


def bind_as_values(query: CatalogQuery, values: dict[str, str]) -> str:
    """The question's SPARQL with its parameters bound by a VALUES block.

    The block goes first inside the top-level WHERE group, so it joins the
    whole pattern (a trailing VALUES after GROUP BY would not). Values pass
    through the catalog's binding (``ParameterError`` when invalid) and are
    written as N-Triples terms. Parameters without a value stay unbound.
    """
    text = query_body(query.text).strip() + "\n"
    bound = bind(query.parameters, values)
    if not bound:
        return text
    tokens = list(_tokens(text))
    where = next(
        (k for k, (_, tok, depth) in enumerate(tokens) if tok == "WHERE" and depth == 0), None
    )
    start = where + 1 if where is not None else 0
    brace = next(
        (pos for pos, tok, depth in tokens[start:] if tok == "{" and depth == 0),
        None,
    )
    if brace is None:
        return text
    block = "".join(
        f"\n  VALUES ?{variable} {{ {to_ntriples(term)} }}" for variable, term in bound.items()
    )
    return text[: brace + 1] + block + text[brace + 1 :]


def _parameter_values(request: Request) -> dict[str, str]:
    return {
        key: value
        for key, value in request.query_params.items()
        if key not in ("question", "query") and value != ""
    }


@router.get("/ui/api/questions", summary="The question gallery: catalog metadata and SPARQL")
def questions() -> JSONResponse:
    return JSONResponse([question_entry(query) for query in load_catalog().values()])


@router.get(
    "/ui/api/questions/{name}/sparql",
    summary="A catalog question's SPARQL with its parameters bound (for the editor)",
    responses={404: {"description": "No question of that name"}},
)
def question_sparql(name: str, request: Request) -> JSONResponse:
    catalog = load_catalog()
    if name not in catalog:
        return JSONResponse({"error": f"No question named {name!r}."}, status_code=404)
    query = catalog[name]
    try:
        text = bind_as_values(query, _parameter_values(request))
    except ParameterError as error:
        return JSONResponse({"error": f"{name}: {error}"}, status_code=400)
    return JSONResponse({"name": name, "query": text})


@router.get(
    "/", summary="The workbench: query editor and question gallery", response_class=HTMLResponse
)
def workbench(request: Request) -> HTMLResponse:
    catalog = load_catalog()
    text = request.query_params.get("query")
    error = None
    chosen = request.query_params.get("question")
    if text is None and chosen in catalog:
        try:
            text = bind_as_values(catalog[chosen], _parameter_values(request))
        except ParameterError as problem:
            error = str(problem)
    entries = [question_entry(query) for query in catalog.values()]
    return TEMPLATES.TemplateResponse(
        request,
        "ui_workbench.html",
        {
            "questions": entries,
            "query_text": text if text is not None else starter_query(),
            "chosen": chosen if chosen in catalog else None,
            "error": error,
            "prefixes": PREFIXES,
        },
    )


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """No icon: 204, so browsers stop asking and logs stay free of 404s."""
    return Response(status_code=204)


# ---------------------------------------------------------------- the timeline

TIMELINE_SELECT = """
SELECT ?event ?label ?kind ?date ?preciseDate ?earliest ?place ?placeLabel ?start ?end
WHERE {
  ?event a ?class ; rdfs:label ?label ; osk:date ?date .
  ?class rdfs:subClassOf* osk:Event ; rdfs:label ?kind .
  FILTER(LANG(?kind) IN ("en", ""))
  FILTER NOT EXISTS {
    ?event a ?narrower . ?narrower rdfs:subClassOf+ ?class . FILTER(?narrower != ?class)
  }
  OPTIONAL { ?event osk:preciseDate ?preciseDate }
  OPTIONAL { ?event osk:earliestDate ?earliest }
  OPTIONAL { ?event osk:location ?place .
             OPTIONAL { ?place rdfs:label ?placeLabel FILTER(LANG(?placeLabel) IN ("en", "")) } }
  OPTIONAL { ?event osk:evidence/oa:hasSelector ?selector .
             ?selector oa:start ?start ; oa:end ?end }
}
"""

XSD = "http://www.w3.org/2001/XMLSchema#"
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class TimelineEvent:
    iri: str
    label: str
    kind: str
    date: str
    datatype: str
    when: dt.date
    exact: bool
    place: str | None = None
    place_href: str | None = None
    span: tuple[int, int] | None = None

    @property
    def href(self) -> str:
        return local_path(self.iri) or self.iri

    @property
    def article_href(self) -> str | None:
        return f"/article#chars-{self.span[0]}-{self.span[1]}" if self.span else None

    @property
    def shown_date(self) -> str:
        """The exact day when known (from the article or a background source), else the
        month or year the article gives."""
        if self.exact:
            return f"{self.when.day} {MONTHS[self.when.month - 1]} {self.when.year}"
        return self.article_date

    @property
    def article_date(self) -> str:
        """The date as the article gives it: a day, a month or a year."""
        parts = self.date.split("-")
        if self.datatype == XSD + "gYear" or len(parts) == 1:
            return parts[0]
        if self.datatype == XSD + "gYearMonth" or len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
        return f"{int(parts[2][:2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"


def _as_date(text: str) -> dt.date:
    parts = (text.split("T")[0].split("-") + ["01", "01"])[:3]
    return dt.date(int(parts[0]), int(parts[1]), int(parts[2][:2]))


def timeline_events(rows: list[dict[str, Any]]) -> list[TimelineEvent]:
    """One event per IRI, in date order (the catalog's ``timeline`` order), earliest span kept."""
    events: dict[str, TimelineEvent] = {}
    for row in rows:
        value = {name: binding["value"] for name, binding in row.items()}
        iri = value["event"]
        precise = value.get("preciseDate") or value.get("earliest")
        event = events.get(iri)
        if event is None:
            event = events[iri] = TimelineEvent(
                iri=iri,
                label=value["label"],
                kind=value["kind"],
                date=value["date"],
                datatype=row["date"].get("datatype", ""),
                when=_as_date(precise or value["date"]),
                exact=bool(value.get("preciseDate")) or row["date"].get("datatype") == XSD + "date",
            )
        if value.get("place") and not event.place:
            event.place = value.get("placeLabel") or value["place"].rsplit("/", 1)[-1]
            event.place_href = local_path(value["place"])
        if "start" in value:
            span = (int(value["start"]), int(value["end"]))
            if event.span is None or span < event.span:
                event.span = span
    return sorted(events.values(), key=lambda event: (event.when.isoformat(), event.label))


def _x(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def timeline_svg(events: list[TimelineEvent], *, standalone: bool = False) -> str:
    """The timeline as one SVG document: an overview axis, then each event on its own row."""
    width, left, right = 980, 40, 940
    row_height, gap_height = 58, 40
    overview_y = 70
    first_year = min((event.when.year for event in events), default=1992)
    last_year = max((event.when.year for event in events), default=2021) + 1

    def overview_x(day: dt.date) -> float:
        span = (dt.date(last_year, 1, 1) - dt.date(first_year, 1, 1)).days
        return left + (right - left) * (day - dt.date(first_year, 1, 1)).days / span

    out: list[str] = []
    # Overview: a proportional time axis with a tick every year and a label every five.
    out.append(f'<g class="overview" aria-label="Time axis {first_year} to {last_year}">')
    out.append(f'<line x1="{left}" y1="{overview_y}" x2="{right}" y2="{overview_y}" class="axis"/>')
    for year in range(first_year, last_year + 1):
        x = _x(overview_x(dt.date(year, 1, 1)))
        labelled = (year - first_year) % 5 == 0 or year == last_year
        tick = 8 if labelled else 4
        out.append(
            f'<line x1="{x}" y1="{overview_y - tick}" x2="{x}" y2="{overview_y + tick}" '
            f'class="tick"/>'
        )
        if labelled:
            out.append(
                f'<text x="{x}" y="{overview_y + 24}" text-anchor="middle" class="year">'
                f"{year}</text>"
            )
    for index, event in enumerate(events, start=1):
        x = _x(overview_x(event.when))
        out.append(
            f'<a href="{escape(event.href)}"><circle cx="{x}" cy="{overview_y}" r="6" '
            f'class="dot {"exact" if event.exact else "vague"}">'
            f"<title>{index}. {escape(event.shown_date)}: {escape(event.label)}</title>"
            f"</circle></a>"
        )
    out.append("</g>")

    # The events, one row each, in date order; long gaps become axis breaks.
    axis_x, text_x = 190, 214
    y = overview_y + 70
    rows: list[str] = []
    segments: list[tuple[float, float, bool]] = []
    previous: TimelineEvent | None = None
    for index, event in enumerate(events, start=1):
        if previous is not None:
            years = (event.when - previous.when).days / 365.25
            if years >= 1:
                segments.append((y - row_height + 26, y + 10, True))
                rows.append(
                    f'<text x="{axis_x + 14}" y="{y + 10}" class="gap">'
                    f"… {round(years)} year{'s' if round(years) != 1 else ''} later</text>"
                )
                y += gap_height
            else:
                segments.append((y - row_height + 26, y + 10, False))
        date_attr = escape(event.when.isoformat())
        precision = "exact" if event.exact else "vague"
        rows.append(
            f'<g class="event" data-event="{escape(event.iri)}" data-date="{date_attr}" '
            f'data-index="{index}">'
        )
        rows.append(
            f'<text x="{axis_x - 16}" y="{y + 5}" text-anchor="end" class="date">'
            f"{escape(event.shown_date)}</text>"
        )
        rows.append(
            f'<circle cx="{axis_x}" cy="{y}" r="7" class="dot {precision}">'
            f"<title>{'exact day' if event.exact else 'the article gives only '}"
            f"{'' if event.exact else escape(event.shown_date)}</title></circle>"
        )
        rows.append(
            f'<a href="{escape(event.href)}" class="event-link"><text x="{text_x}" y="{y + 5}" '
            f'class="label">{escape(event.label)}</text></a>'
        )
        details = [escape(event.kind)]
        if event.place:
            details.append(escape(event.place))
        if event.exact and event.when.isoformat() != event.date:
            details.append(f"the article says {escape(event.article_date)}")
        elif event.when != _as_date(event.date):
            earliest = f"{event.when.day} {MONTHS[event.when.month - 1]}"
            details.append(f"earliest {earliest}")
        line = " · ".join(details)
        rows.append(f'<text x="{text_x}" y="{y + 25}" class="detail">{line}')
        if event.article_href:
            rows.append(
                f' · <a href="{escape(event.article_href)}" class="article-link">'
                f'<tspan class="link">sentence in the article</tspan></a>'
            )
        rows.append("</text></g>")
        previous = event
        y += row_height
    height = y + 10
    axis = [
        f'<line x1="{axis_x}" y1="{_x(top)}" x2="{axis_x}" y2="{_x(bottom)}" '
        f'class="{"axis-break" if broken else "axis"}"/>'
        for top, bottom, broken in segments
    ]
    style = (
        "text{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;fill:#1b1f24}"
        ".axis,.tick{stroke:#59636e;stroke-width:2}"
        ".axis-break{stroke:#59636e;stroke-width:2;stroke-dasharray:3 5}"
        ".dot{stroke:#0b5cad;stroke-width:2}.dot.exact{fill:#0b5cad}.dot.vague{fill:#fff}"
        ".year,.detail,.gap{font-size:13px;fill:#59636e}.gap{font-style:italic}"
        ".date{font-size:14px;font-weight:600}.label{font-size:15px;fill:#0b5cad}"
        ".link{fill:#0b5cad;text-decoration:underline}a:hover .label{text-decoration:underline}"
        ".title{font-size:18px;font-weight:600}"
    )
    first = events[0].shown_date if events else ""
    last = events[-1].shown_date if events else ""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="timeline-title" '
        f'class="timeline">'
        f'<title id="timeline-title">Timeline of the Treaty on Open Skies, {escape(first)} to '
        f"{escape(last)}</title>"
        f"<desc>{len(events)} events in date order; filled dots have an exact day, hollow dots "
        f"only the month or year the article gives.</desc>"
        f"<style>{style}</style>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="{left}" y="30" class="title">Treaty on Open Skies: {len(events)} events, '
        f"{escape(first)} to {escape(last)}</text>"
    )
    prolog = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    return prolog + head + "".join(out) + "".join(axis) + "".join(rows) + "</svg>\n"


async def load_timeline(service: SparqlService) -> list[TimelineEvent]:
    return timeline_events(await service.select(TIMELINE_SELECT, {}))


@router.get(
    "/timeline", summary="The events on a time axis (SVG in a page)", response_class=HTMLResponse
)
async def timeline_page(request: Request, service: ServiceDep) -> HTMLResponse:
    events = await load_timeline(service)
    return TEMPLATES.TemplateResponse(
        request, "ui_timeline.html", {"svg": timeline_svg(events), "events": events}
    )


@router.get(
    "/timeline.svg",
    summary="The timeline as an SVG picture",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def timeline_picture(service: ServiceDep) -> Response:
    svg = timeline_svg(await load_timeline(service), standalone=True)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": 'inline; filename="openskies-timeline.svg"'},
    )


# ---------------------------------------------------------------- the entity network

NODE_TYPES = {
    "statement": "https://w3id.org/openskies/ontology/Statement",
    "event": "https://w3id.org/openskies/ontology/Event",
    "person": "https://w3id.org/openskies/ontology/Person",
    "institution": "https://w3id.org/openskies/ontology/Institution",
    "state": "https://w3id.org/openskies/ontology/State",
}
"""Network node types, most specific first (a node gets the first type it has)."""

NETWORK_NODES_SELECT = """
SELECT DISTINCT ?node ?class ?label WHERE {
  VALUES ?class { osk:Statement osk:Event osk:Person osk:Institution osk:State }
  ?node a/rdfs:subClassOf* ?class .
  FILTER(isIRI(?node))
  OPTIONAL { ?node rdfs:label ?label FILTER(LANG(?label) IN ("en", "")) }
}
"""

NETWORK_EDGES_SELECT = f"""
SELECT DISTINCT ?s ?p ?plabel ?o WHERE {{
  GRAPH ?g {{ ?s ?p ?o }}
  FILTER(?g != <{GraphIRIs.INFERRED}> && isIRI(?o) && STRSTARTS(STR(?p), STR(osk:)))
  OPTIONAL {{ ?p rdfs:label ?plabel FILTER(LANG(?plabel) IN ("en", "")) }}
}}
"""

NETWORK_POSITIONS_SELECT = """
SELECT ?person ?institution ?role WHERE {
  ?position osk:holder ?person ; osk:positionAt ?institution .
  OPTIONAL { ?position osk:roleName ?role }
}
"""


def network_data(
    node_rows: list[dict[str, Any]],
    edge_rows: list[dict[str, Any]],
    position_rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """Nodes (with type, label, page) and the osk: links between them; isolated nodes dropped.

    A person's post (person → position → institution) becomes one edge
    labelled with the role, so "who belongs where" reads directly.
    """
    order = list(NODE_TYPES.values())
    types: dict[str, str] = {}
    labels: dict[str, str] = {}
    for row in node_rows:
        iri, cls = row["node"]["value"], row["class"]["value"]
        current = types.get(iri)
        if current is None or order.index(cls) < order.index(current):
            types[iri] = cls
        if row.get("label"):
            labels.setdefault(iri, row["label"]["value"])
    edges: dict[tuple[str, str, str], dict[str, str]] = {}
    for row in edge_rows:
        s, o = row["s"]["value"], row["o"]["value"]
        if s in types and o in types and s != o:
            p = row["p"]["value"]
            label = row["plabel"]["value"] if row.get("plabel") else p.rsplit("/", 1)[-1]
            edges.setdefault((s, p, o), {"source": s, "target": o, "label": label})
    for row in position_rows:
        person, institution = row["person"]["value"], row["institution"]["value"]
        if person in types and institution in types:
            role = row["role"]["value"] if row.get("role") else "holds a position at"
            edges.setdefault(
                (person, "position", institution),
                {"source": person, "target": institution, "label": role},
            )
    linked = {end for edge in edges.values() for end in (edge["source"], edge["target"])}
    kind = {iri: name for name, iri in NODE_TYPES.items()}
    nodes = [
        {
            "id": iri,
            "label": labels.get(iri, iri.rsplit("/", 1)[-1]),
            "type": kind[types[iri]],
            "href": local_path(iri) or iri,
        }
        for iri in sorted(linked)
    ]
    edge_list = [
        {**edge, "id": f"e{index}"} for index, edge in enumerate(sorted(edges.values(), key=str))
    ]
    return {"types": list(NODE_TYPES), "nodes": nodes, "edges": edge_list}


async def load_network(service: SparqlService) -> dict[str, Any]:
    return network_data(
        await service.select(NETWORK_NODES_SELECT, {}),
        await service.select(NETWORK_EDGES_SELECT, {}),
        await service.select(NETWORK_POSITIONS_SELECT, {}),
    )


@router.get("/ui/api/network", summary="The entity network: nodes and links as JSON")
async def network_json(service: ServiceDep) -> JSONResponse:
    return JSONResponse(await load_network(service))


@router.get("/network", summary="The entity network page", response_class=HTMLResponse)
async def network_page(request: Request, service: ServiceDep) -> HTMLResponse:
    data = await load_network(service)
    labels = {node["id"]: node for node in data["nodes"]}
    return TEMPLATES.TemplateResponse(
        request, "ui_network.html", {"data": data, "by_id": labels, "types": data["types"]}
    )


# ---------------------------------------------------------------- the article, explained

SPAN_TRIPLES_SELECT = f"""
SELECT ?start ?end ?node ?nlabel ?p ?plabel ?o ?olabel WHERE {{
  ?node osk:evidence/oa:hasSelector ?selector .
  ?selector oa:start ?start ; oa:end ?end .
  OPTIONAL {{ ?node rdfs:label ?nlabel FILTER(LANG(?nlabel) IN ("en", "")) }}
  GRAPH ?g {{ ?node ?p ?o }}
  FILTER(?g != <{GraphIRIs.INFERRED}>)
  OPTIONAL {{ ?p rdfs:label ?plabel FILTER(LANG(?plabel) IN ("en", "")) }}
  OPTIONAL {{ ?o rdfs:label|skos:prefLabel ?olabel FILTER(LANG(?olabel) IN ("en", "")) }}
}}
"""


def prefixed(iri: str) -> str:
    """``osk:date`` for an IRI in a known namespace, else the IRI itself."""
    for name, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if iri.startswith(namespace) and iri[len(namespace) :].replace("-", "").isalnum():
            return f"{name}:{iri[len(namespace) :]}"
    return iri


def _term(binding: dict[str, str], label: dict[str, str] | None) -> dict[str, str | None]:
    value = binding["value"]
    if binding["type"] == "uri":
        return {
            "text": label["value"] if label else prefixed(value),
            "iri": value,
            "href": local_path(value) or value,
        }
    return {"text": value, "iri": None, "href": None}


def span_nodes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes citing one span, each with its triples (predicate and object, labelled)."""
    nodes: dict[str, dict[str, Any]] = {}
    for row in rows:
        iri = row["node"]["value"]
        node = nodes.setdefault(
            iri,
            {
                "iri": iri,
                "label": row["nlabel"]["value"] if row.get("nlabel") else iri,
                "href": local_path(iri) or iri,
                "triples": [],
            },
        )
        triple = {
            "predicate": _term(row["p"], row.get("plabel")),
            "object": _term(row["o"], row.get("olabel")),
        }
        if triple not in node["triples"] and row["o"]["type"] != "bnode":
            node["triples"].append(triple)
    for node in nodes.values():
        node["triples"].sort(key=lambda t: (t["predicate"]["text"], t["object"]["text"]))
    return sorted(nodes.values(), key=lambda node: node["label"])


Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/ui/api/span", summary="The triples of the nodes a cited article span supports")
async def span(start: Offset, end: Offset, service: ServiceDep) -> JSONResponse:
    # The offsets are bound as typed RDF terms (SEP-0007 substitution), not pasted in.
    integer = "<http://www.w3.org/2001/XMLSchema#integer>"
    rows = await service.select(
        SPAN_TRIPLES_SELECT, {"start": f'"{start}"^^{integer}', "end": f'"{end}"^^{integer}'}
    )
    return JSONResponse({"start": start, "end": end, "nodes": span_nodes(rows)})


@router.get("/ui/article", include_in_schema=False)
async def article_explained() -> RedirectResponse:
    """The article page itself now shows each highlight's triples; keep old links working."""
    return RedirectResponse("/article", status_code=308)
