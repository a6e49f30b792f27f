"""Make parameter variables visible to SEP-0007 substitution.

Why this exists: pyoxigraph substitutes a variable only when the SELECT
projects it ("The SPARQL query does not contains variable ?_x in its SELECT
projection"), while grlc, which pastes values over ``?_x`` wherever it
occurs, breaks on a projected parameter (``SELECT "value"`` is not SPARQL).
So the catalog files never project their parameters, and just before
evaluation this module adds the *variable names* of the bound parameters to
the end of the projection and, for an aggregate query, to its GROUP BY
(grouping by a constant changes nothing). Values are still bound only
through ``substitutions=``; nothing a caller sends reaches the query text.

The bound parameters therefore come back as extra result columns named after
their variables (``_person_iri``), which also records what was asked.

The scan is a small lexer, not a SPARQL parser: it skips strings, IRIs and
comments and tracks bracket depth, which is all it takes to find the top
level SELECT clause and GROUP BY of a query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _tokens(text: str) -> Iterator[tuple[int, str, int]]:
    """``(position, token, depth)`` for words and brackets outside strings, IRIs and comments.

    ``depth`` counts the ``{``/``(``/``[`` open before the token.
    """
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote)
        elif ch == "<" and re.match(r"<[^<>\"{}|^`\\\s]*>", text[i:]):
            i = text.index(">", i) + 1
        elif ch in "{([":
            yield i, ch, depth
            depth += 1
            i += 1
        elif ch in "})]":
            depth -= 1
            yield i, ch, depth
            i += 1
        elif ch in "?$":
            match = _WORD.match(text, i + 1) or re.compile(r"[0-9]+").match(text, i + 1)
            end = match.end() if match else i + 1
            yield i, text[i:end], depth
            i = end
        elif ch == "*":
            yield i, ch, depth
            i += 1
        else:
            match = _WORD.match(text, i)
            if match and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in ":_-.")):
                yield i, match.group().upper(), depth
                i = match.end()
            else:
                i += 1


def project_parameters(query_text: str, variables: Iterable[str]) -> str:
    """The query with ``variables`` (names without ``?``) added to its top-level SELECT.

    Queries that are not SELECT, ``SELECT *`` and variables already projected
    are left alone.
    """
    names = [name for name in variables if _VARIABLE_NAME.match(name)]
    if not names:
        return query_text
    tokens = list(_tokens(query_text))
    select = next((k for k, (_, tok, depth) in enumerate(tokens) if tok == "SELECT"), None)
    if select is None or tokens[select][2] != 0:
        return query_text
    # The projection runs from SELECT to the first top-level WHERE, FROM or {.
    end = next(
        (k for k in range(select + 1, len(tokens))
         if tokens[k][2] == 0 and tokens[k][1] in ("WHERE", "FROM", "{")),
        None,
    )  # fmt: skip
    if end is None:
        return query_text
    projection = tokens[select + 1 : end]
    if any(tok == "*" and depth == 0 for _, tok, depth in projection):
        return query_text
    projected = {tok[1:] for _, tok, depth in projection if depth == 0 and tok[:1] in "?$"}
    missing = [name for name in names if name not in projected]
    if not missing:
        return query_text
    added = "".join(f" ?{name}" for name in missing)
    edits = [(tokens[end][0], added.lstrip() + " ")]
    # GROUP BY of the outer query: after the WHERE group closes back to depth 0.
    for k in range(end, len(tokens) - 1):
        position, tok, depth = tokens[k]
        if tok == "GROUP" and depth == 0 and tokens[k + 1][1] == "BY":
            by_end = tokens[k + 1][0] + 2
            edits.append((by_end, added))
            break
    text = query_text
    for position, insert in sorted(edits, reverse=True):
        text = text[:position] + insert + text[position:]
    return text
