"""Cross-origin access: one configuration for the app and the ``/sparql`` front."""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware

from openskies.settings import Settings


def cors_options(settings: Settings) -> dict[str, Any] | None:
    """``CORSMiddleware`` keywords for ``settings``; None when no origin is allowed.

    Browser clients on other origins (YASGUI, notebooks) may query; cookies and
    other credentials are never honoured, so a wildcard origin stays safe.
    """
    if not settings.cors_origins:
        return None
    return {
        "allow_origins": list(settings.cors_origins),
        "allow_credentials": False,
        "allow_methods": ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        "allow_headers": ["*"],
        "expose_headers": ["ETag", "Last-Modified", "Link", "X-Openskies-Truncated"],
        "max_age": 600,
    }


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("only CORSMiddleware.send is used")  # pragma: no cover


def cors_headers_sender(settings: Settings) -> CORSMiddleware | None:
    """A CORS middleware whose ``send`` adds the headers to a response it did not route.

    The ``/sparql`` front writes its responses itself and wraps ``send`` with
    it; preflight requests still go to the app's own middleware.
    """
    options = cors_options(settings)
    return None if options is None else CORSMiddleware(_no_app, **options)
