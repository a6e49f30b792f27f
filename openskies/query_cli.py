"""``openskies query``: list and run the question catalog from the command line.

Queries run in this process on an embedded pyoxigraph store loaded from the
built dataset (``Settings().build_dir``, built first when missing or stale),
so no server is needed. Usage errors (unknown query, missing or malformed
parameter, bad format) exit with status 2 and say what was wrong; a query or
build failure exits with 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from openskies.queries.catalog import Catalog, CatalogQuery

# The catalog and its parameter binding are imported by the commands that use
# them: ``openskies serve`` imports this module (to register the command) and
# nothing of the catalog.

app = typer.Typer(
    help="The question catalog: prewritten SPARQL questions about the Open Skies graph.",
    no_args_is_help=True,
    add_completion=False,
)

OUTPUT_FORMATS = ("table", "json", "csv", "tsv", "xml")


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` to stderr and return the exit to raise (2: usage error)."""
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _catalog() -> Catalog:
    from openskies.queries.catalog import CatalogError, load_catalog

    try:
        return load_catalog()
    except CatalogError as error:
        raise _fail(f"the query catalog is broken: {error}", 1) from None


def _resolve(name: str | None, inline: str | None) -> CatalogQuery:
    """The query to run: a catalog name, a path to an ``.rq`` file, or inline text."""
    from openskies.queries.catalog import CatalogError, parse_file
    from openskies.queries.catalog import parse_query as parse_query_text

    if name and inline:
        raise _fail("give either a query NAME/file or --query, not both")
    try:
        if inline is not None:
            return parse_query_text(inline, "inline")
        if not name:
            raise _fail("give a query NAME, a path to an .rq file, or --query 'SELECT ...'")
        path = Path(name)
        if name.endswith(".rq") or path.is_file():
            if not path.is_file():
                raise _fail(f"no such query file: {name}")
            return parse_file(path)
    except CatalogError as error:
        raise _fail(str(error)) from None
    catalog = _catalog()
    if name not in catalog:
        raise _fail(
            f"unknown query {name!r}; `openskies query list` shows the {len(catalog)} names"
        )
    return catalog[name]


@app.command("list")
def list_queries(
    output: Annotated[
        str, typer.Option("--format", "-f", help="table or json (name, summary, parameters).")
    ] = "table",
) -> None:
    """List the catalog: each question's name and summary."""
    catalog = _catalog()
    if output == "json":
        typer.echo(json.dumps([query.as_dict() for query in catalog.values()], indent=2))
        return
    if output != "table":
        raise _fail(f"--format must be table or json, not {output!r}")
    width = max(len(name) for name in catalog)
    for name, query in catalog.items():
        params = " ".join(
            f"[{p.name}]" if not p.needed else f"<{p.name}>" for p in query.parameters
        )
        typer.echo(f"{name:<{width}}  {query.summary}" + (f"  {params}" if params else ""))


@app.command()
def show(name: Annotated[str, typer.Argument(help="Catalog name or .rq file.")]) -> None:
    """Show one question: its metadata, parameters and SPARQL text."""
    query = _resolve(name, None)
    typer.echo(f"{query.name}: {query.summary}")
    if query.description:
        typer.echo(f"\n{query.description}")
    if query.tags:
        typer.echo(f"\ntags: {', '.join(query.tags)}")
    for p in query.parameters:
        extra = f" (default {p.default})" if p.default is not None else ""
        needed = "required" if p.needed else "optional"
        typer.echo(f"param {p.name}: {p.describe()}, {needed}{extra}")
        if p.enum:
            typer.echo(f"  one of: {', '.join(p.enum)}")
    typer.echo("\n" + query.text.rstrip())


@app.command()
def run(
    name: Annotated[
        str | None, typer.Argument(help="Catalog name, or a path to an .rq file.")
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Run this SPARQL text instead.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="name=value; repeat for several parameters."),
    ] = None,
    output: Annotated[
        str, typer.Option("--format", "-f", help="table, json, csv, tsv or xml.")
    ] = "table",
    page: Annotated[
        int | None,
        typer.Option(help="Only this page of a paginated question (default: every row)."),
    ] = None,
    width: Annotated[
        int, typer.Option(help="Widest table column before wrapping; 0 for no limit.")
    ] = 60,
    build_dir: Annotated[
        Path | None,
        typer.Option(help="Dataset directory (default: the OPENSKIES_BUILD_DIR setting)."),
    ] = None,
) -> None:
    """Run a question (by name), an .rq file, or --query text, and print the results.

    Parameters are bound as RDF terms, never pasted into the query; IRIs may
    use the project's prefixes (osd:russia, stance:regret).
    """
    import pyoxigraph as ox

    from openskies.queries.binding import (
        ParameterError,
        parse_assignments,
        substitutions_as_ntriples,
    )
    from openskies.queries.runner import (
        InProcessExecutor,
        QueryError,
        evaluate,
        format_table,
        open_store,
        prepare,
        solutions_table,
    )

    if output not in OUTPUT_FORMATS:
        raise _fail(f"--format must be one of {', '.join(OUTPUT_FORMATS)}, not {output!r}")
    if page is not None and page < 1:
        raise _fail("--page must be 1 or more")
    target = _resolve(name, query)
    try:
        prepared = prepare(target, parse_assignments(param or ()), page)
    except ParameterError as error:
        raise _fail(f"{target.name}: {error}") from None
    if build_dir is None:
        from openskies.settings import Settings

        build_dir = Settings().build_dir
    try:
        store = open_store(build_dir)
        if output == "table":
            result = evaluate(store, prepared.text, prepared.substitutions)
            if not isinstance(result, ox.QueryTriples):
                table = solutions_table(result, hide=list(prepared.substitutions))
                typer.echo(format_table(table, width), nl=False)
                return
            output = "turtle"  # CONSTRUCT / DESCRIBE: a graph prints as Turtle
        executor = InProcessExecutor(store)
        body, _ = executor(prepared.text, substitutions_as_ntriples(prepared.substitutions), output)
    except QueryError as error:
        raise _fail(error.message, 2 if error.status in (400, 406) else 1) from None
    typer.echo(body.decode("utf-8"), nl=not body.endswith(b"\n"))
