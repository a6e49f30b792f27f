"""The ``openskies`` command: build, validate and serve the Open Skies graph."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from openskies.iris import PREFIXES
from openskies.query_cli import app as query_app
from openskies.settings import Settings

app = typer.Typer(
    help=(
        "Open Skies Treaty knowledge graph. `build` assembles and checks the "
        "dataset, `validate` checks it against the SHACL shapes, `serve` runs "
        "the SPARQL 1.1 endpoint."
    ),
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(query_app, name="query")


def _short(iri: str) -> str:
    """A prefixed name where a project prefix fits, so the counts read at a glance."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _print_counts(title: str, counts: dict[str, int]) -> None:
    typer.echo(title)
    names = {_short(key): value for key, value in counts.items()}
    width = max((len(key) for key in names), default=0)
    for key, value in names.items():
        typer.echo(f"  {key:<{width}}  {value:>6}")
    typer.echo(f"  {'total':<{width}}  {sum(names.values()):>6}")


@app.command()
def build(
    out: Annotated[
        Path, typer.Option(help="Directory for openskies.trig and openskies.nq.")
    ] = Path("build"),
    reason: Annotated[
        bool, typer.Option(help="Run the OWL reasoner and write the inferred graph.")
    ] = True,
) -> None:
    """Assemble every named graph, reason over it, write TriG and N-Quads, print counts."""
    from openskies.graph.build import build as run_build
    from openskies.ontology.reasoning import InconsistentOntologyError

    try:
        report = run_build(out, reason=reason)
    except InconsistentOntologyError as error:
        typer.secho(f"inconsistent: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    for path in report.files:
        typer.echo(f"wrote {path}")
    _print_counts("triples per named graph:", report.triples_per_graph)
    _print_counts("instances per class:", report.instances_per_class)


@app.command()
def validate(
    data: Annotated[
        list[Path] | None,
        typer.Option(help="Extra Turtle files to validate together with the project's graph."),
    ] = None,
) -> None:
    """Check the dataset against the SHACL shapes and the article's text spans.

    Exits 0 when everything conforms, 1 with a readable report otherwise.
    """
    from openskies.ontology.validation import validate_project

    result = validate_project(extra_files=tuple(data or ()))
    typer.echo(result.report)
    if not result.conforms:
        raise typer.Exit(1)


class ExportFormat(StrEnum):
    trig = "trig"
    nquads = "nquads"
    turtle = "turtle"


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Directory to write the files into.")] = Path(
        "build/dumps"
    ),
    format: Annotated[
        list[ExportFormat] | None,
        typer.Option(
            "--format",
            "-f",
            help="trig, nquads or turtle (the union plus one file per named graph); repeatable. "
            "Default: all three.",
        ),
    ] = None,
    build_dir: Annotated[Path, typer.Option(help="Where the built dataset lives.")] = Path("build"),
) -> None:
    """Write the dataset as the server's /dumps files (building it first if needed)."""
    import pyoxigraph as ox

    from openskies.graph.build import ensure_built
    from openskies.graph.dumps import export as write_files

    store = ox.Store()
    store.bulk_load(path=str(ensure_built(build_dir)), format=ox.RdfFormat.N_QUADS)
    chosen = tuple(fmt.value for fmt in format) if format else tuple(ExportFormat)
    for path in write_files(store, out, tuple(str(name) for name in chosen)):
        typer.echo(f"wrote {path} ({path.stat().st_size} bytes)")


class LoadProtocol(StrEnum):
    update = "update"
    gsp = "gsp"


@app.command()
def load(
    into: Annotated[
        str,
        typer.Option(
            help="The store: a SPARQL Update URL (or a Graph Store Protocol URL with "
            "--protocol gsp), or a directory for the on-disk store (store=disk)."
        ),
    ],
    data: Annotated[
        list[Path] | None,
        typer.Option(help="Files to load instead of the built dataset (repeatable)."),
    ] = None,
    protocol: Annotated[
        LoadProtocol, typer.Option(help="update: INSERT DATA; gsp: Graph Store POST.")
    ] = LoadProtocol.update,
    query_url: Annotated[
        str | None,
        typer.Option(help="Query URL for the final count (default: INTO with .../query)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Triples per request.")] = 5_000,
    auth: Annotated[
        str | None,
        typer.Option(
            envvar="OPENSKIES_REMOTE_AUTH", help="'user:password' (Basic) or 'Bearer <token>'."
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Drop each graph on the store before loading it.")
    ] = False,
    build_dir: Annotated[Path, typer.Option(help="Where the built dataset lives.")] = Path("build"),
) -> None:
    """Push every named graph of the dataset into a store, then check the counts.

    Batches keep triples that share a blank node together. Exits 1 when the
    store's per-graph triple counts differ from the source's.
    """
    from rich.progress import Progress

    from openskies.server.store_load import load_directory, load_remote

    files = list(data or ())
    if not files:
        from openskies.graph.build import ensure_built

        files = [ensure_built(build_dir)]
    if "://" not in into:
        report = load_directory(files, Path(into))
    else:
        with Progress(transient=False) as bar:
            task = bar.add_task(f"loading into {into}", total=None)

            def advance(sent: int, total: int) -> None:
                bar.update(task, completed=sent, total=total)

            try:
                report = load_remote(
                    files,
                    into,
                    protocol=protocol.value,
                    query_url=query_url,
                    batch_size=batch_size,
                    auth=auth,
                    replace=replace,
                    progress=advance,
                )
            except Exception as exc:  # httpx errors, unreadable files: one readable line
                typer.secho(f"load failed: {exc}", fg=typer.colors.RED, err=True)
                raise typer.Exit(1) from None
    typer.echo(f"sent {report.sent} triples in {report.batches} batches")
    width = max((len(_short(key) or "(default graph)") for key in report.expected), default=0)
    for key, expected in report.expected.items():
        found = report.found.get(key, 0)
        mark = "ok" if found == expected else "MISMATCH"
        name = _short(key) or "(default graph)"
        typer.echo(f"  {name:<{width}}  {expected:>8} sent  {found:>8} found  {mark}")
    if not report.ok:
        typer.secho("the store's counts differ from the source", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {sum(report.found.values())} triples in {len(report.found)} graphs")


NO_WEBSOCKETS = "none"
"""uvicorn's ``ws`` setting: the app has no WebSocket routes, and uvicorn's default
("auto") imports the ``websockets`` library at start-up, about 40 ms and 2 MiB
for nothing. A WebSocket upgrade request is then answered as plain HTTP."""


class StoreKind(StrEnum):
    memory = "memory"
    disk = "disk"
    remote = "remote"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [OPENSKIES_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [OPENSKIES_PORT].")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Public URL, when behind a proxy [OPENSKIES_BASE_URL].")
    ] = None,
    store: Annotated[
        StoreKind | None,
        typer.Option(help="memory (default), disk (persistent) or remote [OPENSKIES_STORE]."),
    ] = None,
    store_path: Annotated[
        Path | None, typer.Option(help="Directory of the disk store [OPENSKIES_STORE_PATH].")
    ] = None,
    remote_query_url: Annotated[
        str | None,
        typer.Option(help="Query URL of the remote SPARQL store [OPENSKIES_REMOTE_QUERY_URL]."),
    ] = None,
    remote_update_url: Annotated[
        str | None,
        typer.Option(help="Update URL of the remote store [OPENSKIES_REMOTE_UPDATE_URL]."),
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(help="Extra RDF file to serve; repeatable [OPENSKIES_DATA_FILES]."),
    ] = None,
    replace_data: Annotated[
        bool | None,
        typer.Option(
            "--replace-data/--with-openskies-data",
            help="Serve only --data files, not the Open Skies graph [OPENSKIES_REPLACE_DATA].",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Query worker processes per web process [OPENSKIES_WORKERS]."),
    ] = None,
    http_processes: Annotated[
        int | None,
        typer.Option(
            help="Web server processes sharing the port; read-only servers only "
            "[OPENSKIES_HTTP_PROCESSES]."
        ),
    ] = None,
    query_timeout: Annotated[
        float | None, typer.Option(help="Seconds per query [OPENSKIES_QUERY_TIMEOUT].")
    ] = None,
    max_result_rows: Annotated[
        int | None, typer.Option(help="Rows per answer at most [OPENSKIES_MAX_RESULT_ROWS].")
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="Host (or host:port) that SERVICE and LOAD may reach; repeatable "
            "[OPENSKIES_OUTBOUND_ALLOWLIST]."
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (off for benchmarks).")
    ] = True,
) -> None:
    """Run the SPARQL endpoint and linked-data server on uvicorn.

    Every option falls back to its OPENSKIES_* environment variable, then to
    the default. The update token that enables writes is read only from
    OPENSKIES_UPDATE_TOKEN, so it never shows in a process list.
    """
    options = {
        "host": host,
        "port": port,
        "base_url": base_url,
        "store": store.value if store else None,
        "store_path": store_path,
        "remote_query_url": remote_query_url,
        "remote_update_url": remote_update_url,
        "data_files": tuple(data) if data else None,
        "replace_data": replace_data,
        "workers": workers,
        "http_processes": http_processes,
        "query_timeout": query_timeout,
        "max_result_rows": max_result_rows,
        "outbound_allowlist": tuple(allow) if allow else None,
    }
    try:
        settings = Settings(**{key: value for key, value in options.items() if value is not None})
    except ValueError as error:
        typer.secho(f"invalid settings: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if settings.http_processes > 1:
        _serve_processes(settings, access_log)
        return
    from openskies.server.store import StartingBackend, make_backend

    # The workers load the data while the web app is imported (see StartingBackend);
    # /sparql is answered before FastAPI is imported (see StagedApp).
    try:
        starting = StartingBackend(make_backend(settings))
    except (OSError, ValueError) as error:  # a data file missing or unreadable
        _cannot_serve(error)
    import uvicorn

    from openskies.server.http_protocol import CoalescingHttpToolsProtocol
    from openskies.server.staged import StagedApp

    uvicorn.run(
        StagedApp(settings, starting),
        host=settings.host,
        port=settings.port,
        access_log=access_log,
        http=CoalescingHttpToolsProtocol,
        ws=NO_WEBSOCKETS,
    )


def _cannot_serve(error: Exception) -> NoReturn:
    typer.secho(f"cannot serve: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2) from None


def _serve_processes(settings: Settings, access_log: bool) -> None:
    """Several uvicorn processes on one port, each building its app from the settings."""
    import os

    import uvicorn

    from openskies.server.data import dataset_sources
    from openskies.server.staged import SETTINGS_ENV

    # Build, and fill an on-disk store, once here rather than in every web process at once.
    try:
        if settings.store == "memory":
            dataset_sources(settings)
        elif settings.store == "disk":
            from openskies.server import store

            directory = settings.store_path.resolve()
            if not store.store_initialized(directory):
                sources = [str(path) for path in dataset_sources(settings)]
                store.prepare_disk_store(str(directory / store.PRIMARY), sources)
    except (OSError, ValueError) as error:  # a data file missing or unreadable
        _cannot_serve(error)
    from openskies.server.http_protocol import CoalescingHttpToolsProtocol

    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    uvicorn.run(
        "openskies.server.staged:app_from_environment",
        factory=True,
        workers=settings.http_processes,
        host=settings.host,
        port=settings.port,
        access_log=access_log,
        http=CoalescingHttpToolsProtocol,
        ws=NO_WEBSOCKETS,
    )


if __name__ == "__main__":
    app()
