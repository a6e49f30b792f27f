"""``/dumps``: the whole dataset as files, with validators for caches and mirrors.

Each file is written by the query worker from the data being served, so a
dump always matches what the endpoint answers, writes included. ``ETag``
names the data generation and the file; ``Last-Modified`` is when that
generation began, so ``If-None-Match`` / ``If-Modified-Since`` get a 304.
"""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, Request, Response

from openskies.graph.dumps import dumps_for
from openskies.server.deps import ServiceDep
from openskies.server.errors import ProtocolError, error_responses, media_responses
from openskies.server.routes_linked_data import TEMPLATES
from openskies.server.routing import get_and_head

router = APIRouter(tags=["Dumps"])


def _not_modified(request: Request, etag: str, last_modified) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


@router.get(
    "/dumps",
    summary="List the downloadable files (HTML for browsers, else one line per file)",
    response_class=Response,
    responses={200: media_responses("The list of dump files", ["text/html", "text/plain"])},
)
async def list_dumps(request: Request, service: ServiceDep) -> Response:
    stats = await service.stats()
    files = dumps_for(list(stats["graphs"]))
    if "text/html" not in (request.headers.get("accept") or ""):
        return Response(
            "".join(
                f"/dumps/{dump.filename}\t{dump.media_type}\t{dump.description}\n" for dump in files
            ),
            media_type="text/plain; charset=utf-8",
            headers={"Vary": "Accept"},
        )
    return TEMPLATES.TemplateResponse(
        request, "dumps.html", {"files": files}, headers={"Vary": "Accept"}
    )


@get_and_head(
    router,
    "/dumps/{filename:path}",
    summary="One dump file: TriG, N-Quads, Turtle (union), or one named graph in Turtle",
    response_class=Response,
    responses={
        200: media_responses(
            "The file", ["application/trig", "application/n-quads", "text/turtle"]
        ),
        304: {"description": "Not modified since the ETag or date the client holds"},
        **error_responses(404),
    },
)
async def dump_file(filename: str, request: Request, service: ServiceDep) -> Response:
    stats = await service.stats()
    by_name = {dump.filename: dump for dump in dumps_for(list(stats["graphs"]))}
    dump = by_name.get(filename)
    if dump is None:
        raise ProtocolError(404, f"Not found: no dump named {filename!r}; see /dumps.")
    generation, modified = service.data_version()
    etag = f'"{service.data_id}-{generation}-{filename}"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "no-cache",
    }
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    body = await service.dump(dump)
    headers["Content-Length"] = str(len(body))
    headers["Content-Disposition"] = f'attachment; filename="{filename.replace("/", "-")}"'
    content = b"" if request.method == "HEAD" else body
    return Response(content, media_type=f"{dump.media_type}; charset=utf-8", headers=headers)
