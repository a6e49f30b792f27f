"""Turn request parameters into RDF terms, and RDF terms into N-Triples and back.

Why a module of its own: parameter values come from strangers (the query
string of an HTTP request, a command line). They are never pasted into the
query text. Each value is validated against its parameter (IRI or literal,
datatype, language, enumeration), built into a ``pyoxigraph`` term and bound
through SEP-0007 substitutions, so ``" } ; DROP ALL ; #`` is just a string
that matches nothing.

Between the router and an executor (possibly in another process) the terms
travel as N-Triples term syntax (``<http://...>``, ``"text"@en``,
``"1"^^<http://www.w3.org/2001/XMLSchema#integer>``), which both sides can
parse without ambiguity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from openskies.iris import PREFIXES
from openskies.queries.catalog import XSD, Parameter

Term = ox.NamedNode | ox.Literal

MAX_VALUE_LENGTH = 2_000
"""Longest parameter value accepted; nothing in this dataset needs more."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')
_LEXICAL: dict[str, re.Pattern[str]] = {
    "integer": re.compile(r"^[+-]?\d+$"),
    "int": re.compile(r"^[+-]?\d+$"),
    "long": re.compile(r"^[+-]?\d+$"),
    "short": re.compile(r"^[+-]?\d+$"),
    "byte": re.compile(r"^[+-]?\d+$"),
    "nonNegativeInteger": re.compile(r"^\+?\d+$"),
    "positiveInteger": re.compile(r"^\+?0*[1-9]\d*$"),
    "decimal": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    "double": re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)$"),
    "float": re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)$"),
    "boolean": re.compile(r"^(true|false|1|0)$"),
    "date": re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(Z|[+-]\d{2}:\d{2})?$"),
    "gYearMonth": re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])(Z|[+-]\d{2}:\d{2})?$"),
    "gYear": re.compile(r"^-?\d{4,}(Z|[+-]\d{2}:\d{2})?$"),
    "dateTime": re.compile(
        r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-4]):[0-5]\d:[0-5]\d(\.\d+)?"
        r"(Z|[+-]\d{2}:\d{2})?$"
    ),
}
"""Lexical forms checked before a typed literal is built (others are passed as given)."""


class ParameterError(ValueError):
    """A missing, unknown or malformed parameter: the caller's mistake (HTTP 400, exit 2)."""


def expand_iri(value: str) -> str:
    """``osd:russia`` → the full IRI, for the project's own prefixes; anything else unchanged.

    A convenience for people typing parameters; ``stance:regret`` is easier
    to type than its IRI, and no real IRI uses these prefixes as a scheme.
    """
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return value


def iri_term(value: str) -> ox.NamedNode:
    """An absolute IRI as a term, or ``ParameterError`` saying what is wrong with it."""
    iri = expand_iri(value.strip())
    if not _SCHEME.match(iri):
        raise ParameterError(f"{value!r} is not an absolute IRI (expected e.g. https://...)")
    bad = _IRI_FORBIDDEN.search(iri)
    if bad:
        raise ParameterError(f"{value!r} is not an IRI: it contains {bad.group()!r}")
    try:
        return ox.NamedNode(iri)
    except ValueError as error:
        raise ParameterError(f"{value!r} is not an absolute IRI: {error}") from None


def _number(value: str) -> ox.Literal:
    for local in ("integer", "decimal", "double"):
        if _LEXICAL[local].match(value):
            return ox.Literal(value, datatype=ox.NamedNode(XSD + local))
    raise ParameterError(f"{value!r} is not a number")


def literal_term(value: str, parameter: Parameter) -> ox.Literal:
    """A literal of the parameter's type, language or lexical check."""
    if parameter.lang:
        return ox.Literal(value, language=parameter.lang)
    if parameter.numeric:
        return _number(value.strip())
    if parameter.datatype:
        local = parameter.datatype.removeprefix(XSD)
        pattern = _LEXICAL.get(local) if parameter.datatype.startswith(XSD) else None
        if pattern is not None and not pattern.match(value):
            raise ParameterError(f"{value!r} is not a valid xsd:{local}")
        return ox.Literal(value, datatype=ox.NamedNode(parameter.datatype))
    return ox.Literal(value)


def bind_value(parameter: Parameter, value: str) -> Term:
    """One value, checked against the parameter, as a pyoxigraph term."""
    if len(value) > MAX_VALUE_LENGTH:
        raise ParameterError(f"parameter {parameter.name!r}: value longer than {MAX_VALUE_LENGTH}")
    try:
        term: Term = iri_term(value) if parameter.kind == "iri" else literal_term(value, parameter)
    except ParameterError as error:
        raise ParameterError(f"parameter {parameter.name!r}: {error}") from None
    if parameter.enum is not None:
        allowed = [expand_iri(v) if parameter.kind == "iri" else v for v in parameter.enum]
        if term.value not in allowed:
            choices = ", ".join(parameter.enum)
            raise ParameterError(f"parameter {parameter.name!r}: {value!r} is not one of {choices}")
    return term


def bind(parameters: Iterable[Parameter], values: Mapping[str, str]) -> dict[str, Term]:
    """Substitutions (variable name → term) for the given values and the defaults.

    Unknown names and missing required values are errors, so a typo never
    silently runs the query with its default instead.
    """
    parameters = list(parameters)
    known = {p.name for p in parameters}
    unknown = sorted(set(values) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; expected: {expected}")
    bound: dict[str, Term] = {}
    missing = []
    for parameter in parameters:
        value = values.get(parameter.name)
        if value is None or value == "":
            value = parameter.default
        if value is None:
            if parameter.required:
                missing.append(f"{parameter.name} ({parameter.describe()})")
            continue  # optional (?__name) and not given: the variable stays free
        bound[parameter.variable] = bind_value(parameter, value)
    if missing:
        raise ParameterError(f"missing required parameter(s): {', '.join(missing)}")
    return bound


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["name=value", ...]`` from the command line as a dict; ``=`` may recur in the value."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"--param {item!r}: expected name=value")
        if name in values:
            raise ParameterError(f"--param {name} given twice")
        values[name] = value
    return values


def to_ntriples(term: Term) -> str:
    """The N-Triples syntax of a term: the wire form of a substitution."""
    return str(term)


def from_ntriples(text: str) -> Term:
    """Parse one N-Triples term (IRI or literal); ``ParameterError`` for anything else.

    It is parsed as the object of a one-triple document, and exactly one
    triple must come out, so a value cannot smuggle in further statements.
    """
    document = f"<urn:x:s> <urn:x:p> {text} .\n".encode()
    try:
        triples = list(ox.parse(input=document, format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError as error:
        raise ParameterError(f"not an N-Triples term: {text!r} ({error})") from None
    if len(triples) != 1 or not isinstance(triples[0].object, ox.NamedNode | ox.Literal):
        raise ParameterError(f"not a single IRI or literal: {text!r}")
    return triples[0].object


def substitutions_as_ntriples(bound: Mapping[str, Term]) -> dict[str, str]:
    """Bound terms in the executor protocol's wire form."""
    return {variable: to_ntriples(term) for variable, term in bound.items()}
