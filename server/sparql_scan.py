"""A lexical look at SPARQL text before any engine sees it.

The engines cannot be trusted with every request (see design.md, "Known
engine hazards"): pyoxigraph crashes on very deep nesting, follows
``SERVICE`` to any IRI and reads ``file:`` IRIs on ``LOAD``. pyoxigraph does
not expose a parser without evaluation, so the parent process checks the
text itself with a small tokenizer that knows exactly the lexical rules that
matter here (IRIs, strings, comments, variables, prefixed names). It finds:

* the nesting depth of ``{ ( [`` and the number of chained elements, to
  refuse pathological queries cheaply: pyoxigraph recurses over both, and
  (measured with 0.5.13, well under the length limit) 3,000 nested groups,
  about 10,000 chained UNIONs, ``||`` or ``+``, 8,000 objects in a comma list,
  7,000 ``GRAPH`` patterns in a row, 3,000 ``SERVICE`` calls, a DESCRIBE of
  3,000 IRIs or a collection ``( ... )`` of 4,000 items each crash it. Counted:
  the keywords UNION, OPTIONAL, MINUS, BIND, GRAPH, SERVICE, VALUES, FILTER,
  the operator characters ``| & ! / ^ + - * = < > ,`` and every item after the
  first of a collection or DESCRIBE list (VALUES rows are flat and not counted);
* the query form (SELECT, ASK, CONSTRUCT, DESCRIBE), needed to negotiate the
  result format before evaluation;
* whether the query names its own dataset (``FROM`` / ``FROM NAMED``);
* every IRI after ``SERVICE`` and ``LOAD``, resolved through ``PREFIX`` and
  ``BASE`` declarations, so that the outbound policy can be applied.
  ``SERVICE ?var`` and anything that cannot be resolved is reported as
  unresolvable and therefore refused.

The tokenizer is deliberately lenient: text it cannot classify becomes a
one-character token and is left for the engine's parser to reject with a
proper line and column.

Tokenizing costs the web process about 1.5 us a token, 30 to 100 us for an
everyday query, on every uncached request. ``quick_scan`` gives the same
verdicts for the common plain query (a prologue, a form, no ``SERVICE``,
``LOAD`` or ``FROM`` anywhere in the text) from character counts and one
anchored match, in about a fifth of that time, and leaves everything else to
``scan``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff"
)
_PN_CHARS = _PN_CHARS_BASE + r"_\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_BASE}_:0-9]|{_PLX})"
    rf"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)

_PN_CHARS_U = _PN_CHARS_BASE + "_"
_VARNAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
_BLANK_LABEL = rf"[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
# Variables and blank node labels follow the grammar exactly: a looser pattern
# would swallow text the engine reads differently (``_:b#x`` then a long string
# that is, to the engine, inside a comment, hiding the SERVICE that follows).

_TOKEN_BODY = (
    r"""(?P<comment>\#[^\r\n]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]++|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)
              |\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
              |'(?:[^'\\\r\n]|\\.)*'?
              |"(?:[^"\\\r\n]|\\.)*"?)
  | (?P<var>[?$](?:"""
    + _VARNAME
    + r"""))
  | (?P<bnode>_:(?:"""
    + _BLANK_LABEL
    + r"""))
  | (?P<pname>(?:"""
    + _PN_PREFIX
    + r""")?:(?:"""
    + _PN_LOCAL
    + r""")?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<punct>.)
    """
)
_TOKEN_PATTERN = "\n    (?P<ws>\\s+)\n  | " + _TOKEN_BODY
"""Every token, whitespace included; compiled by ``token_regex`` when first needed."""
_FLAGS = re.VERBOSE | re.DOTALL


@cache
def token_regex() -> re.Pattern[str]:
    """``_TOKEN_PATTERN`` compiled: every token, whitespace included (group name = kind).

    Compiled on first use, not at import: each of the pattern's Unicode
    character classes costs the ``re`` compiler a Python loop over about
    55,000 code points (about 50 ms for the whole pattern), and only the
    remote store's substitution needs this one.
    """
    return re.compile(_TOKEN_PATTERN, _FLAGS)


_OPEN = "{(["
_CLOSE = "})]"
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_CHAIN_WORDS = {"UNION", "OPTIONAL", "MINUS", "BIND", "GRAPH", "SERVICE", "VALUES", "FILTER"}
_CHAIN_PUNCT = set("|&!/^+-*=<>,")
_DECLARING = _FORMS | {"PREFIX", "BASE", "FROM", "SERVICE", "LOAD"}
"""Words the scan looks past (at the tokens after them) or records."""


class Token(NamedTuple):
    """One lexical token: its kind (a group name of ``token_regex()``) and text.

    A named tuple, not a frozen dataclass: it is built for every token of
    every request, and a frozen dataclass's ``__init__`` costs three times more.
    """

    kind: str
    text: str


@dataclass
class ScanResult:
    """What the scan learned about a query or update."""

    max_depth: int = 0
    operators: int = 0
    """UNION/OPTIONAL/MINUS/BIND keywords plus operator characters outside strings and IRIs."""
    form: str | None = None
    has_dataset_clause: bool = False
    outbound: list[tuple[str, str | None]] = field(default_factory=list)
    """(keyword, resolved IRI or None when it cannot be resolved statically)."""
    needs_prefixes: bool = True
    """False only when the text declares every default prefix it may use, so the
    engine can skip converting the predeclared prefixes (about 15 us a query).
    Decided by substring, not by token, so a text the engine tokenizes
    differently from the scan still gets the prefixes."""


_ENDS_NAME = r"""[\s{}()\[\],;?$<"'#*/|^+=!&>]"""
"""Characters that can neither continue a prefixed name (nor follow one's ``:``)."""
_ASCII_FIRST = (
    r"(?P<plainword>[A-Za-z][A-Za-z0-9_]*(?=" + _ENDS_NAME + r"|\Z))"
    r"| (?P<plainpname>[A-Za-z][A-Za-z0-9_\-]*:(?:[A-Za-z0-9_][A-Za-z0-9_\-]*)?"
    r"(?=" + _ENDS_NAME + r"|\Z))"
    r"| (?P<plainvar>[?$][A-Za-z0-9_]+(?=" + _ENDS_NAME + r"|[.:\-]|\Z))"
    "\n  | "
)
"""All-ASCII keywords, prefixed names and variables, matched without the
grammar's Unicode classes (a few dozen ranges tested for every character).

Tried first because they are most of a query's tokens. Each is exact: the
lookahead admits only a character that the full rule (``word`` after
``pname``, ``pname``, ``var``) could not go on with, so the full rule would
match the same text as the same kind; anything else falls through to it."""

_SIGNIFICANT_PATTERN = r"\s*(?:" + _ASCII_FIRST + _TOKEN_BODY + r"| (?P<end>\Z))"
"""``token_regex()`` with the whitespace before each token taken in the same match:
half as many matches, the same tokens (the pattern's own group is the token).
``end`` takes trailing blanks in one match: without it, the search would
start again at each of them and take quadratic time."""


@cache
def _significant() -> tuple[re.Pattern[str], list[str | None], frozenset[int]]:
    """``_SIGNIFICANT_PATTERN`` compiled, each group's token kind, and the groups skipped.

    Kinds are read by group number: a match's ``lastindex`` is its token's
    group (the groups inside the alternatives do not capture), and reading it
    by number costs less than ``lastgroup`` and ``group(name)``.

    Compiled on first use: its Unicode classes cost the ``re`` compiler 30 to
    50 ms, and ``openskies serve`` imports this module on the way to its first
    answer, which (a plain query) ``quick_scan`` gives without it.
    """
    pattern = re.compile(_SIGNIFICANT_PATTERN, _FLAGS)
    kinds: list[str | None] = [None] * (pattern.groups + 1)
    for name, number in pattern.groupindex.items():
        kinds[number] = name.removeprefix("plain")
    skipped = frozenset(
        number for name, number in pattern.groupindex.items() if name in ("comment", "end")
    )
    return pattern, kinds, skipped


def _pairs(text: str) -> list[tuple[str, str]]:
    """Significant tokens as plain ``(kind, text)`` pairs (a ``Token`` costs 0.7 us more each)."""
    pattern, kinds, skipped = _significant()
    return [
        (kinds[number], match[number])  # type: ignore[misc]
        for match in pattern.finditer(text)
        if (number := match.lastindex) not in skipped
    ]


def token_spans(text: str) -> list[tuple[str, str, int, int]]:
    """Significant tokens as ``(kind, text, start, end)``, for rewriting the text around them."""
    pattern, kinds, skipped = _significant()
    return [
        (kinds[number], match[number], *match.span(number))  # type: ignore[misc]
        for match in pattern.finditer(text)
        if (number := match.lastindex) not in skipped
    ]


def tokenize(text: str) -> list[Token]:
    """Significant tokens of ``text``; whitespace and comments are dropped."""
    return [Token(kind, token) for kind, token in _pairs(text)]


def _unescape_local(local: str) -> str:
    return re.sub(r"\\(.)", r"\1", local)


def _unescape_iri(iri: str) -> str | None:
    r"""The IRI with its ``\uXXXX`` / ``\UXXXXXXXX`` escapes decoded, as the engine reads it."""
    try:
        return re.sub(
            r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})",
            lambda m: chr(int(m.group(1) or m.group(2), 16)),
            iri,
        )
    except (ValueError, OverflowError):
        return None


_TERMS = {"iri", "pname", "var", "string", "number", "bnode"}


def scan(text: str, default_prefixes: dict[str, str] | None = None) -> ScanResult:
    """Scan SPARQL query or update text; never raises on malformed input.

    Conservative where the engine may read the text differently: a ``PREFIX``
    or ``BASE`` declaration the scan cannot resolve makes that prefix (or every
    relative IRI after it) unresolvable, so whatever uses it is refused rather
    than resolved against a stale value.
    """
    tokens = _pairs(text)
    prefixes: dict[str, str | None] = dict(default_prefixes or {})
    base: str | None = None
    result = ScanResult()
    depth = 0
    brackets: list[str] = []
    values_depth: int | None = None
    """Depth of the ``{`` of a VALUES data block being read (its rows are flat lists)."""
    values_pending = False
    trust_prefixes = True
    declared: set[str] = set()

    def resolve(kind: str, token: str) -> str | None:
        if kind == "iri":
            iri = _unescape_iri(token[1:-1])
            if iri is None:
                return None
            if urlsplit(iri).scheme:
                return iri
            return urljoin(base, iri) if base else None
        if kind == "pname":
            prefix, _, local = token.partition(":")
            namespace = prefixes.get(prefix) if trust_prefixes else None
            if namespace is None:
                return None
            return resolve("iri", f"<{namespace}{_unescape_local(local)}>")
        return None

    previous_kind = ""
    for index, (kind, token) in enumerate(tokens):
        if kind == "punct":
            previous_kind = kind
            if token in _OPEN:
                depth += 1
                brackets.append(token)
                result.max_depth = max(result.max_depth, depth)
                if token == "{" and values_pending:
                    values_depth, values_pending = depth, False
            elif token in _CLOSE:
                if values_depth is not None and depth <= values_depth:
                    values_depth = None
                depth = max(0, depth - 1)
                if brackets:
                    brackets.pop()
            elif token in _CHAIN_PUNCT:
                result.operators += 1
            continue
        if (
            kind in _TERMS
            and previous_kind in _TERMS
            and values_depth is None
            and not values_pending
            and ((brackets and brackets[-1] == "(") or (result.form == "DESCRIBE" and depth == 0))
        ):
            # A collection ``( a b c ... )`` or a DESCRIBE list: pyoxigraph recurses
            # over both (a DESCRIBE of ~3,000 IRIs or a list of ~4,000 items crashes it).
            result.operators += 1
        previous_kind = kind
        if kind != "word":
            continue
        word = token.upper()
        if word in _CHAIN_WORDS:
            result.operators += 1
        if word == "VALUES":
            values_pending = True
        if word not in _DECLARING:
            continue
        following = tokens[index + 1 : index + 4]
        if word == "PREFIX":
            name = following[0] if following else None
            iri = following[1] if len(following) > 1 else None
            if name is not None and name[0] == "pname" and name[1].endswith(":"):
                resolved = resolve(*iri) if iri is not None and iri[0] == "iri" else None
                prefixes[name[1][:-1]] = resolved
                declared.add(name[1][:-1])
            else:
                # A declaration the scan cannot read: trust no prefixed name after it.
                trust_prefixes = False
        elif word == "BASE":
            target = following[0] if following else None
            base = resolve(*target) if target is not None and target[0] == "iri" else None
        elif word in _FORMS and result.form is None:
            result.form = word
        elif word == "FROM" and depth == 0:
            result.has_dataset_clause = True
        elif word in ("SERVICE", "LOAD"):
            target = following[0] if following else None
            if target is not None and target[0] == "word" and target[1].upper() == "SILENT":
                target = following[1] if len(following) > 1 else None
            result.outbound.append((word, resolve(*target) if target else None))
    if trust_prefixes and default_prefixes is not None:
        result.needs_prefixes = uses_any_prefix(
            text, tuple(name for name in default_prefixes if name not in declared)
        )
    return result


_SIMPLE_IRI = r"""<[^<>"{}|^`\\\x00-\x20]*+>"""
_PROLOGUE_ITEM = (
    r"\s++"
    r"| \#[^\r\n]*+"
    r"| PREFIX\s++(?P<prefix>(?:[A-Za-z](?:[A-Za-z0-9_.\-]*+(?<=[A-Za-z0-9_\-]))?)?:)\s*+"
    + _SIMPLE_IRI
    + r"| BASE\s*+"
    + _SIMPLE_IRI
)
_PLAIN_QUERY = re.compile(
    r"(?:" + _PROLOGUE_ITEM + r")*+"
    r"(?P<form>SELECT|ASK|CONSTRUCT|DESCRIBE)(?=[\s*?$({<\#]|\Z)",
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
"""A query whose prologue holds only plain ``PREFIX`` and ``BASE`` declarations
(ASCII names, IRIs without escapes) and comments, then its form's keyword.

``re.ASCII``: without it, ignoring case also lets ``[A-Za-z]`` and the
keywords match letters that fold to ASCII ones (``ſELECT``, a Kelvin sign),
which the tokenizer reads as other tokens; and ``\\s`` stays ASCII, so text
with other blanks goes to the full scan."""
_PROLOGUE_ITEMS = re.compile(_PROLOGUE_ITEM, re.VERBOSE | re.IGNORECASE | re.ASCII)


def quick_scan(
    text: str,
    default_prefixes: dict[str, str] | None = None,
    *,
    max_depth: int,
    max_operators: int,
) -> ScanResult | None:
    """``scan``'s verdict on a plain query without reading its tokens, or None.

    Most queries a server sees are a prologue, a form and a pattern, with no
    ``SERVICE``, ``LOAD`` or ``FROM`` and far fewer brackets than the depth
    limit; for those, reading every token (about 1.5 us each in ``scan``,
    30 to 100 us a query, all on the web process) decides nothing that
    counting characters does not:

    * no ``service``, ``load`` or ``from`` anywhere in the text, in any case:
      then no token is one of those keywords, so nothing goes outbound and
      the query names no dataset;
    * ``max_depth`` is at most the number of ``{ ( [`` characters and
      ``operators`` at most the text's length (each counted thing is a
      distinct token): the result holds these bounds, and is returned only
      when they are within ``max_depth`` and ``max_operators``;
    * the form is the keyword after the prologue, read by ``_PLAIN_QUERY``,
      whose declarations give the prefixes the text declares.

    None means "scan it": anything else, including a prologue this reads
    differently from the tokenizer (``tests/test_scan_tokens.py`` checks the
    two agree on the W3C suites, the catalog and mutations of both).
    """
    if len(text) > max_operators:
        return None
    depth = text.count("{") + text.count("(") + text.count("[")
    if depth > max_depth:
        return None
    lowered = text.lower()
    if "service" in lowered or "load" in lowered or "from" in lowered:
        return None
    plain = _PLAIN_QUERY.match(text)
    if plain is None:
        return None
    declared = {name[:-1] for name in _PROLOGUE_ITEMS.findall(text, 0, plain.start("form")) if name}
    if lowered.count("prefix") != len(declared):
        # "prefix" in a comment, an IRI or after the prologue, or a name declared
        # twice: the full scan may read a declaration there (or give up trusting them).
        return None
    result = ScanResult(max_depth=depth, operators=len(text), form=plain["form"].upper())
    if default_prefixes is not None:
        result.needs_prefixes = uses_any_prefix(
            text, tuple(name for name in default_prefixes if name not in declared)
        )
    return result


def uses_any_prefix(text: str, names: tuple[str, ...]) -> bool:
    """Whether ``name:`` occurs in ``text`` for any of ``names``, as a substring.

    Split at the colons: a name holds no colon, so ``name:`` occurs exactly
    where a piece before a colon ends with it. One ``endswith`` per colon
    costs less than a substring search of the whole text per name (3 us
    instead of 8 for 19 names; a regex alternation of the names took 9).
    """
    if not names:
        return False
    pieces = text.split(":")
    pieces.pop()
    return any(piece.endswith(names) for piece in pieces)


def host_allowed(iri: str, allowlist: tuple[str, ...]) -> bool:
    """True when ``iri`` is http(s) and its host (or host:port) is on the allowlist."""
    parts = urlsplit(iri)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        return False
    allowed = {entry.lower().strip() for entry in allowlist}
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)


def outbound_violations(result: ScanResult, allowlist: tuple[str, ...]) -> list[str]:
    """Human-readable reasons for every SERVICE/LOAD target the policy refuses."""
    reasons = []
    for keyword, iri in result.outbound:
        if iri is None:
            reasons.append(f"{keyword} with a variable or unresolvable IRI is not allowed")
        elif not host_allowed(iri, allowlist):
            reasons.append(f"{keyword} <{iri}> is not allowed: host not on the outbound allowlist")
    return reasons
