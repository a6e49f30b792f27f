"""A lexical look at SPARQL text before any engine sees it.

The engines cannot be trusted with every request (see design.md, "Known
engine hazards"): pyoxigraph crashes on very deep nesting, follows
``SERVICE`` to any IRI and reads ``file:`` IRIs on ``LOAD``. pyoxigraph does
not expose a parser without evaluation, so the parent process checks the
text itself with a small tokenizer that knows exactly the lexical rules that
matter here (IRIs, strings, comments, variables, prefixed names). It finds:

* the nesting depth of ``{ ( [`` and the number of chaining operators
  (UNION, OPTIONAL, MINUS, BIND and the operator characters
  ``| & ! / ^ + - * = < >``), to refuse pathological queries cheaply:
  pyoxigraph recurses over both, and about 10,000 chained UNIONs, ``||`` or
  ``+`` (well under the length limit) crash it just as 3,000 nested groups do
  (measured with 0.5.13);
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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)
              |\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
              |'(?:[^'\\\r\n]|\\.)*'?
              |"(?:[^"\\\r\n]|\\.)*"?)
  | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\U000effff]+)
  | (?P<bnode>_:[^\s{}()\[\].,;]+)
  | (?P<pname>(?:"""
    + _PN_PREFIX
    + r""")?:(?:"""
    + _PN_LOCAL
    + r""")?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_OPEN = "{(["
_CLOSE = "})]"
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_CHAIN_WORDS = {"UNION", "OPTIONAL", "MINUS", "BIND"}
_CHAIN_PUNCT = set("|&!/^+-*=<>")


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind (a group name of ``_TOKEN``) and text."""

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


def tokenize(text: str) -> list[Token]:
    """Significant tokens of ``text``; whitespace and comments are dropped."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind in ("ws", "comment"):
            continue
        tokens.append(Token(kind, match.group()))
    return tokens


def _unescape_local(local: str) -> str:
    return re.sub(r"\\(.)", r"\1", local)


def scan(text: str, default_prefixes: dict[str, str] | None = None) -> ScanResult:
    """Scan SPARQL query or update text; never raises on malformed input."""
    tokens = tokenize(text)
    prefixes = dict(default_prefixes or {})
    base: str | None = None
    result = ScanResult()
    depth = 0

    def resolve(token: Token) -> str | None:
        if token.kind == "iri":
            iri = token.text[1:-1]
            if urlsplit(iri).scheme:
                return iri
            return urljoin(base, iri) if base else None
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in prefixes:
                return None
            return resolve(Token("iri", f"<{prefixes[prefix]}{_unescape_local(local)}>"))
        return None

    for index, token in enumerate(tokens):
        following = tokens[index + 1 : index + 4]
        if token.kind == "punct":
            if token.text in _OPEN:
                depth += 1
                result.max_depth = max(result.max_depth, depth)
            elif token.text in _CLOSE:
                depth = max(0, depth - 1)
            elif token.text in _CHAIN_PUNCT:
                result.operators += 1
            continue
        if token.kind != "word":
            continue
        word = token.text.upper()
        if word in _CHAIN_WORDS:
            result.operators += 1
        if word == "PREFIX" and len(following) >= 2:
            name, iri = following[0], following[1]
            if name.kind == "pname" and name.text.endswith(":") and iri.kind == "iri":
                resolved = resolve(iri)
                if resolved is not None:
                    prefixes[name.text[:-1]] = resolved
        elif word == "BASE" and following and following[0].kind == "iri":
            base = resolve(following[0]) or base
        elif word in _FORMS and result.form is None:
            result.form = word
        elif word == "FROM" and depth == 0:
            result.has_dataset_clause = True
        elif word in ("SERVICE", "LOAD"):
            target = following[0] if following else None
            if target is not None and target.kind == "word" and target.text.upper() == "SILENT":
                target = following[1] if len(following) > 1 else None
            result.outbound.append((word, resolve(target) if target else None))
    return result


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
