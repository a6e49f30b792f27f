"""Reading request bodies and parameters within the configured limits."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from openskies.server.protocol_error import ProtocolError
from openskies.server.query_string import parse_pairs


def media_type_of(request: Request) -> str:
    """The request's media type without parameters, lower-cased ('' when absent).

    A ``charset`` other than UTF-8 is refused (415): the protocol's bodies are UTF-8.
    """
    return media_type_in(request.headers.get("content-type", ""))


def media_type_in(content_type: str) -> str:
    """``media_type_of`` for a ``Content-Type`` value already read from the headers."""
    media_type, *params = content_type.split(";")
    for param in params:
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"Unsupported charset {charset!r}: send UTF-8.")
    return media_type.strip().lower()


def too_large(limit: int) -> ProtocolError:
    return ProtocolError(413, f"Request body too large: the limit is {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "The request body is not valid UTF-8.") from None


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded pairs, in order, duplicates kept."""
    text = decode(body)
    if body.isascii():
        return parse_pairs(body)
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise ProtocolError(400, f"Malformed form body: {exc}") from None
