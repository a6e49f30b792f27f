"""Writers for SELECT solutions in the four SPARQL 1.1 result formats.

pyoxigraph can serialize a whole ``QuerySolutions`` iterator, but it cannot
serialize a truncated one (``QuerySolutions`` has no constructor), and the
endpoint caps the number of rows. These writers take the rows already
collected by the worker and follow the specifications: SPARQL 1.1 Query
Results JSON, XML, and CSV/TSV (CSV uses CRLF line ends and plain lexical
forms; TSV uses Turtle/N-Triples term syntax).

Writing the answer of a point lookup cost as much CPU as evaluating it, so:

- each format keeps the text of the terms it has written (``_TermTexts``,
  kept from one request to the next, bounded): answers repeat predicates,
  classes and popular entities, and a lookup costs a fifth of writing a term;
- a document is a ``_Layout`` (cached per list of variables): one row's
  constant texts, repeated once per row, each column's texts put in place by
  an extended-slice assignment, and the whole joined once. Python runs no
  code per row or per binding, only per term it has not seen before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from json.encoder import encode_basestring as _json_string  # what json.dumps uses (C)
from typing import NamedTuple

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"

Row = Sequence[object | None]

_NamedNode, _BlankNode, _Literal, _Triple = ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple
_XSD_STRING_NODE = ox.NamedNode(XSD_STRING)
_ITS = "http://www.w3.org/2005/11/its"

_UNBOUND = "\x00"
"""Stands for an unbound value in JSON and XML until the document is joined.

A term's JSON text never holds a NUL (``encode_basestring`` escapes control
characters), and in XML a bound value always starts with ``<``: removing the
exact text ``key + _UNBOUND`` afterwards touches nothing else.
"""


class _TermTexts(dict):
    """Each term's text in one format, kept from one request to the next.

    A dict so that a known term costs one C lookup (``map(texts.__getitem__,
    column)``); only an unknown one runs Python, in ``__missing__``. Bounded so
    that a worker's memory stays flat: ``forget_if_full`` empties it once it
    holds ``MOST`` terms, and it never keeps a text longer than ``LONGEST``
    (long literals seldom recur, and a lookup would not pay for their memory).
    """

    MOST = 4096
    LONGEST = 256
    __slots__ = ("unbound", "write")

    def __init__(self, write: Callable[[object], str], unbound: str):
        super().__init__()
        self.write = write
        self.unbound = unbound
        self[None] = unbound

    def __missing__(self, term: object) -> str:
        text = self.write(term)
        if len(text) <= self.LONGEST:
            self[term] = text
        return text

    def forget_if_full(self) -> None:
        """Start afresh past ``MOST`` terms (checked once per document, not per term)."""
        if len(self) > self.MOST:
            self.clear()
            self[None] = self.unbound


class _Layout(NamedTuple):
    """A document's text around the values, for one list of variables."""

    head: str
    """Everything before the first row."""
    row: list[str | None]
    """One row: its constant texts, with None where each column's value goes."""
    slots: list[slice]
    """Where each column's values go in ``row * count``."""
    last: str
    """What replaces the last row's last text: that text without a separator, then ``tail``."""
    tail: str
    """Everything after the last row."""
    unbound: list[tuple[int, str, str]]
    """How to remove unbound values: (column, old, new) for ``str.replace``, in order."""


def _layout(
    head: str,
    pieces: list[str | None],
    end: str,
    tail: str,
    unbound: list[tuple[int, str, str]],
) -> _Layout:
    """``pieces``: one row, None for each value; ``end``: the last piece of the last row."""
    slots = [slice(index, None, len(pieces)) for index, piece in enumerate(pieces) if piece is None]
    return _Layout(head, pieces, slots, end + tail, tail, unbound)


def _document(layout: _Layout, texts: _TermTexts, rows: Sequence[Row]) -> str:
    """The whole document: ``layout`` filled with the texts of ``rows``' values."""
    if not rows:
        return layout.head + layout.tail
    columns = list(zip(*rows, strict=True))
    if len(columns) != len(layout.slots):
        raise ValueError("rows and variables differ in length")
    texts.forget_if_full()
    lookup = texts.__getitem__
    out = layout.row * len(rows)
    for slot, column in zip(layout.slots, columns, strict=True):
        out[slot] = map(lookup, column)
    out[-1] = layout.last
    out[0] = layout.head + out[0]
    document = "".join(out)
    if _UNBOUND in document and layout.unbound:
        unbound = {index for index, column in enumerate(columns) if None in column}
        for index, old, new in layout.unbound:
            if index in unbound:
                document = document.replace(old, new)
    return document


# --- JSON ------------------------------------------------------------------


def _json_term(term: object) -> dict:
    """The W3C JSON structure of one term (for kinds ``_json_text`` does not know)."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if term.direction is not None:
                out["its:dir"] = term.direction.value
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"unexpected term {term!r}")


def _json_text(term: object) -> str:
    """``_json_term`` already serialized: the same bytes as ``json.dumps`` of it."""
    kind = type(term)
    if kind is _NamedNode:
        return f'{{"type":"uri","value":{_json_string(term.value)}}}'
    if kind is _Literal:
        value = _json_string(term.value)
        language = term.language
        if language:
            language = f',"xml:lang":{_json_string(language)}'
            if term.direction is not None:  # RDF 1.2, as SPARQL 1.2 JSON results write it
                language += f',"its:dir":{_json_string(term.direction.value)}'
            return f'{{"type":"literal","value":{value}{language}}}'
        datatype = term.datatype
        if datatype == _XSD_STRING_NODE:
            return f'{{"type":"literal","value":{value}}}'
        return f'{{"type":"literal","value":{value},"datatype":{_json_string(datatype.value)}}}'
    if kind is _BlankNode:
        return f'{{"type":"bnode","value":{_json_string(term.value)}}}'
    if kind is _Triple:
        return (
            f'{{"type":"triple","value":{{"subject":{_json_text(term.subject)},'
            f'"predicate":{_json_text(term.predicate)},"object":{_json_text(term.object)}}}}}'
        )
    return json.dumps(_json_term(term), ensure_ascii=False, separators=(",", ":"))


_JSON_TEXTS = _TermTexts(_json_text, _UNBOUND)


@lru_cache(maxsize=256)
def _json_layout(variables: tuple[str, ...]) -> _Layout:
    """Rows ``{"a":A,"b":B},``; an unbound value goes with its key and one comma."""
    names = [_json_string(name) for name in variables]
    head = '{"head":{"vars":[' + ",".join(names) + ']},"results":{"bindings":['
    if not names:
        return _layout(head, ["{},"], "{}", "]}}", [])
    pieces: list[str | None] = []
    unbound = []
    for index, name in enumerate(names):
        key = ("," if index else "{") + name + ":"
        pieces += [key, None]
        if index:
            unbound.append((index, key + _UNBOUND, ""))
    pieces.append("},")
    first = "{" + names[0] + ":" + _UNBOUND  # removed last: the others take their comma
    unbound += [(0, first + ",", "{"), (0, first, "{")]
    return _layout(head, pieces, "}", "]}}", unbound)


def write_json(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """SPARQL JSON results, written as text directly.

    Building a dict per binding and then calling ``json.dumps`` took as long as
    evaluating a three-way join (measured on 380 rows over 1 million triples);
    writing the text gives the same bytes several times faster.
    """
    return _document(_json_layout(tuple(variables)), _JSON_TEXTS, rows).encode()


# --- XML -------------------------------------------------------------------


def _escape(text: str) -> str:
    """``xml.sax.saxutils.escape(text)``, the same text, without importing ``xml.sax``.

    (That import pulls in ``urllib.request`` and more: about 47 ms and 8 MiB in
    every worker. Chained ``str.replace`` is as fast as saxutils' own; a
    ``str.translate`` table measured ten times slower.)
    """
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _quoteattr(text: str) -> str:
    """``xml.sax.saxutils.quoteattr(text)``: escaped and quoted, the same text."""
    text = _escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'


def _xml_direction(direction: str) -> str:
    """A base direction's attributes, with the ITS namespace they need (as pyoxigraph writes)."""
    return f' its:dir={_quoteattr(direction)} xmlns:its="{_ITS}" its:version="2.0"'


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            direction = "" if term.direction is None else _xml_direction(term.direction.value)
            language = _quoteattr(term.language)
            return f"<literal xml:lang={language}{direction}>{_escape(term.value)}</literal>"
        if term.datatype != _XSD_STRING_NODE:
            datatype = _quoteattr(term.datatype.value)
            return f"<literal datatype={datatype}>{_escape(term.value)}</literal>"
        return f"<literal>{_escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"unexpected term {term!r}")


_XML_TEXTS = _TermTexts(_xml_term, _UNBOUND)


@lru_cache(maxsize=256)
def _xml_layout(variables: tuple[str, ...]) -> _Layout:
    """Rows ``<result><binding name="a">A</binding>...</result>``; unbound: no binding."""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
        + "".join([f"<variable name={_quoteattr(name)}/>" for name in variables])
        + "</head><results>"
    )
    tail = "</results></sparql>\n"
    if not variables:
        return _layout(head, ["<result></result>"], "<result></result>", tail, [])
    pieces: list[str | None] = ["<result>"]
    unbound = []
    for index, name in enumerate(variables):
        start = f"<binding name={_quoteattr(name)}>"
        pieces += [start, None, "</binding>"]
        unbound.append((index, start + _UNBOUND + "</binding>", ""))
    pieces.append("</result>")
    return _layout(head, pieces, "</result>", tail, unbound)


def write_xml(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    return _document(_xml_layout(tuple(variables)), _XML_TEXTS, rows).encode()


# --- CSV and TSV -----------------------------------------------------------


def _csv_field(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = f"_:{term.value}"
    elif isinstance(term, ox.NamedNode | ox.Literal):
        text = term.value
    else:
        text = str(term)
    if '"' in text or "," in text or "\r" in text or "\n" in text:
        text = '"' + text.replace('"', '""') + '"'
    return text


def _tsv_term(term: object) -> str:
    """Turtle syntax: ``str`` gives it, but a triple term needs ``<<( )>>`` around it."""
    if isinstance(term, ox.Triple):
        parts = (_tsv_term(term.subject), _tsv_term(term.predicate), _tsv_term(term.object))
        return "<<( " + " ".join(parts) + " )>>"
    return str(term)


_CSV_TEXTS = _TermTexts(_csv_field, "")
_TSV_TEXTS = _TermTexts(_tsv_term, "")


def _lines_layout(head: str, count: int, separator: str, end: str) -> _Layout:
    """``count`` values between ``separator`` then ``end``; an unbound value is empty."""
    if not count:
        return _layout(head, [end], end, "", [])
    pieces: list[str | None] = [None]
    for _ in range(count - 1):
        pieces += [separator, None]
    pieces.append(end)
    return _layout(head, pieces, end, "", [])


@lru_cache(maxsize=256)
def _csv_layout(variables: tuple[str, ...]) -> _Layout:
    head = ",".join([_csv_field(name) for name in variables]) + "\r\n"
    return _lines_layout(head, len(variables), ",", "\r\n")


@lru_cache(maxsize=256)
def _tsv_layout(variables: tuple[str, ...]) -> _Layout:
    head = "\t".join([f"?{name}" for name in variables]) + "\n"
    return _lines_layout(head, len(variables), "\t", "\n")


def write_csv(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    return _document(_csv_layout(tuple(variables)), _CSV_TEXTS, rows).encode()


def write_tsv(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    return _document(_tsv_layout(tuple(variables)), _TSV_TEXTS, rows).encode()


WRITERS = {"json": write_json, "xml": write_xml, "csv": write_csv, "tsv": write_tsv}
"""Result writers by format name (see ``negotiation.SOLUTION_FORMATS``)."""
