"""All runtime settings in one place, read once at start-up.

Values come from keyword arguments, or from ``OPENSKIES_*`` environment
variables (for example ``OPENSKIES_QUERY_TIMEOUT=5``), so the CLI, the tests
and a bare ``uvicorn`` all configure the same object.

Why a plain pydantic model and not pydantic-settings' ``BaseSettings``: the
environment is read by the few lines of ``_from_environment`` with the same
rules (prefix, names in any case, JSON for tuple fields), and importing
pydantic-settings cost the web process about 30 ms of CPU and 1.3 MiB at
every start (it pulls in python-dotenv and argparse), for one feature.
"""

import json
import os
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENV_PREFIX = "OPENSKIES_"
"""Every setting ``name`` can be given as the environment variable ``OPENSKIES_NAME``."""

_JSON_TYPES = (tuple, list, set, frozenset, dict)
"""Field types whose environment value is JSON (``OPENSKIES_DATA_FILES='["a.nq"]'``)."""


def _json_kind(annotation: Any) -> str | None:
    """``"json"`` for a container field, ``"maybe"`` for a union with one, else None."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        kinds = {_json_kind(arg) for arg in get_args(annotation)}
        return "maybe" if kinds - {None} else None
    if origin in _JSON_TYPES or annotation in _JSON_TYPES:
        return "json"
    return None


def _from_environment(model: type[BaseModel]) -> dict[str, Any]:
    """The fields of ``model`` set by ``OPENSKIES_*`` variables, as pydantic-settings read them.

    Names match in any case; container fields are decoded from JSON (a union
    with a container keeps the text when it is not JSON); everything else is
    left as text for the model's own validation ("5" to 5, "true" to True).
    """
    environ = {key.lower(): value for key, value in os.environ.items()}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        variable = f"{ENV_PREFIX}{name}".upper()
        raw = environ.get(variable.lower())
        if raw is None:
            continue
        kind = _json_kind(field.annotation)
        if kind is None:
            values[name] = raw
            continue
        try:
            values[name] = json.loads(raw)
        except ValueError as error:
            if kind == "json":
                raise ValueError(f"{variable} must be JSON (for {name}): {error}") from None
            values[name] = raw
    return values


class Settings(BaseModel):
    """Server and build settings; immutable once created.

    ``Settings(**values)`` takes ``values`` first, then the environment,
    then the defaults; ``Settings.model_validate_json(text)`` takes only what
    it is given (how ``serve`` hands its settings to other web processes).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(type(self)), **values})

    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = Field(
        default=None,
        description="Public URL of the server; defaults to http://{host}:{port}.",
    )
    build_dir: Path = Field(
        default=Path("build"),
        description="Where `openskies build` writes the assembled dataset.",
    )
    data_files: tuple[Path, ...] = Field(
        default=(),
        description="Extra RDF files (TriG, N-Quads, Turtle, N-Triples) served with the graph.",
    )
    replace_data: bool = Field(
        default=False,
        description="Serve only data_files, not the built Open Skies dataset.",
    )
    query_timeout: float = Field(default=10.0, gt=0, description="Seconds per query.")
    max_query_length: int = Field(default=100_000, gt=0, description="Characters.")
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    max_result_rows: int = Field(default=100_000, gt=0)
    max_query_depth: int = Field(
        default=200,
        gt=0,
        description="Deepest nesting of { ( [ accepted in a query or update before evaluation.",
    )
    max_query_operators: int = Field(
        default=2_000,
        gt=0,
        description="Most chained operators (UNION, OPTIONAL, MINUS, BIND, || + = ...) per query.",
    )
    workers: int = Field(default=2, ge=1, description="Query worker processes (per web process).")
    heavy_query_after: float = Field(
        default=0.5,
        gt=0,
        description="CPU seconds after which a running query counts as long-running (heavy).",
    )
    max_heavy_queries: int = Field(
        default=2,
        ge=0,
        description="Most long-running queries at once; one more is stopped (503). While every "
        "worker runs one, an extra worker serves the other queries (at most workers + "
        "max_heavy_queries processes).",
    )
    worker_memory_mb: int = Field(
        default=2048,
        ge=0,
        description="Address-space limit (RLIMIT_AS) of each query worker process in MiB; a "
        "query that needs more gets a 503. 0 for no limit. The writer is not limited.",
    )
    http_processes: int = Field(
        default=1,
        ge=1,
        description="Web server processes sharing the port, each with its own query workers. "
        "More than one uses more cores for HTTP (the limit for small queries) and more memory; "
        "read-only servers only (no update_token), unless the store is remote.",
    )
    update_token: str | None = Field(
        default=None, description="Bearer token that enables writes; writes are off without it."
    )
    cors_origins: tuple[str, ...] = Field(
        default=("*",),
        description="Origins whose browser scripts may call the API; '*' for any (never with "
        "credentials). Empty to turn CORS off.",
    )
    outbound_allowlist: tuple[str, ...] = Field(
        default=(),
        description="Hosts (host or host:port) that SERVICE and LOAD may reach.",
    )
    store: Literal["memory", "disk", "remote"] = Field(
        default="memory",
        description=(
            "Storage backend: 'memory' (embedded Oxigraph, loaded at start), 'disk' "
            "(embedded Oxigraph in store_path, loaded once, reopened on restart) or "
            "'remote' (an existing SPARQL 1.1 store at remote_query_url)."
        ),
    )
    store_path: Path = Field(
        default=Path("build/store"),
        description="Directory of the on-disk store (store='disk').",
    )
    group_by_predicate_min_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=0,
        description="In-memory store: data of this many bytes or more (the built dataset and "
        "data_files together) is loaded grouped by predicate, which speeds up scans over a "
        "predicate (the grouped copy is made once and cached under build_dir/layout). 0 groups "
        "any data; a size above the data's turns it off.",
    )
    remote_query_url: str | None = Field(
        default=None, description="SPARQL 1.1 query endpoint of the remote store."
    )
    remote_update_url: str | None = Field(
        default=None,
        description="SPARQL 1.1 update endpoint of the remote store (writes through it).",
    )
    remote_auth: str | None = Field(
        default=None,
        description="Credentials for the remote store: 'user:password' (Basic) or "
        "'Bearer <token>'.",
    )
    cache_entries: int = Field(
        default=1024,
        ge=0,
        description="Responses kept by the in-process response cache (0 turns it off).",
    )
    cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Total body bytes the response cache may hold.",
    )
    cache_max_entry_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=0,
        description="Larger responses are never cached.",
    )

    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's OpenTelemetry spans, metrics and logs (exporters come from the "
        "OTEL_* environment). Off by default: even unconfigured, the per-request check costs "
        "about 4% of a small query's time.",
    )

    @model_validator(mode="after")
    def _one_writer(self) -> "Settings":
        # Each web process has its own engine: with writes, they would diverge.
        if self.http_processes > 1 and self.update_token and self.store != "remote":
            raise ValueError(
                "http_processes > 1 needs a read-only server (no update_token) or store='remote': "
                "each web process has its own copy of the data, so a write would reach one of them"
            )
        return self

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")
