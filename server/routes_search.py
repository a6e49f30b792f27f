"""``/api/search`` (JSON) and ``/search`` (HTML): find entities by any of their names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from openskies.server.deps import ServiceDep
from openskies.server.entity import local_path, short_name
from openskies.server.routes_linked_data import TEMPLATES
from openskies.server.search import SEARCH_QUERY, Hit, SearchIndex
from openskies.server.service import SparqlService

router = APIRouter(tags=["Search"])


class SearchHit(BaseModel):
    """One entity found."""

    iri: str
    label: str
    types: list[str]
    matched: str
    field: str
    score: float
    page: str | None


class SearchResults(BaseModel):
    query: str
    count: int
    results: list[SearchHit]


async def search_index(service: SparqlService) -> SearchIndex:
    """The index for the data generation being served, built on first use after a change."""
    generation = service.pool.generation
    cached = getattr(service, "_search_index", None)
    if cached is None or cached[0] != generation:
        rows = await service.select(SEARCH_QUERY, {})
        plain = [{name: binding["value"] for name, binding in row.items()} for row in rows]
        cached = (generation, SearchIndex.from_rows(plain))
        service._search_index = cached
    return cached[1]


def _hit(hit: Hit) -> SearchHit:
    return SearchHit(
        iri=hit.iri,
        label=hit.label,
        types=list(hit.types),
        matched=hit.matched,
        field=hit.field,
        score=round(hit.score, 3),
        page=local_path(hit.iri),
    )


QueryText = Annotated[
    str, Query(min_length=1, max_length=200, description="Words of a name, spelling or quote")
]
Limit = Annotated[int, Query(ge=1, le=100, description="How many entities at most")]


@router.get("/api/search", summary="Find entities by label, alternative label or quoted text")
async def api_search(q: QueryText, service: ServiceDep, limit: Limit = 20) -> SearchResults:
    """Case- and accent-insensitive; every word must match; best matches first."""
    hits = (await search_index(service)).search(q, limit=limit)
    return SearchResults(query=q, count=len(hits), results=[_hit(hit) for hit in hits])


@router.get("/search", summary="Search page", response_class=HTMLResponse, include_in_schema=False)
async def search_page(request: Request, service: ServiceDep, q: str = "") -> HTMLResponse:
    query = q.strip()[:200]
    hits = (await search_index(service)).search(query, limit=50) if query else []
    rows = [
        {
            "href": local_path(hit.iri) or hit.iri,
            "label": hit.label,
            "type_names": [short_name(t) for t in hit.types],
            "field": hit.field,
            "matched": hit.matched,
        }
        for hit in hits
    ]
    return TEMPLATES.TemplateResponse(request, "search.html", {"query": query, "hits": rows})
