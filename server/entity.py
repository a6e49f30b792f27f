"""What an entity page and an entity's RDF description hold.

Dereferencing an IRI answers with the entity's own triples, its incoming
links and the labels of what it points to (a symmetric concise bounded
description plus labels), so that a client needs no second request to show
it. The HTML page arranges the same facts for a reader: names, types,
properties with linked values, incoming relations, the statements made by
or about the entity with their quotes, and its links out.

The queries take the entity as the substitution variable ``?entity``, bound
as an RDF term by the engine, never pasted into the query text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openskies.iris import BASE, GraphIRIs

INFERRED = str(GraphIRIs.INFERRED)
LABEL_PREDICATES = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
)
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"

DESCRIBE_CONSTRUCT = """
CONSTRUCT {
  ?entity ?p ?o . ?o ?bp ?bo . ?o rdfs:label ?olabel .
  ?s ?ip ?entity . ?s rdfs:label ?slabel .
} WHERE {
  { ?entity ?p ?o
    OPTIONAL { ?o rdfs:label ?olabel }
    OPTIONAL { FILTER(isBlank(?o)) ?o ?bp ?bo } }
  UNION
  { ?s ?ip ?entity OPTIONAL { ?s rdfs:label ?slabel } }
}
"""
"""The RDF description served when an entity IRI is dereferenced."""

OUTGOING_SELECT = """
SELECT ?entity ?g ?p ?plabel ?o ?olabel WHERE {
  GRAPH ?g { ?entity ?p ?o }
  OPTIONAL { ?p rdfs:label ?plabel FILTER(LANG(?plabel) IN ("en", "")) }
  OPTIONAL { ?o rdfs:label|skos:prefLabel ?olabel FILTER(LANG(?olabel) IN ("en", "")) }
}
"""

INCOMING_SELECT = """
SELECT ?entity ?g ?s ?slabel ?p ?plabel WHERE {
  GRAPH ?g { ?s ?p ?entity }
  FILTER(isIRI(?s))
  OPTIONAL { ?s rdfs:label|skos:prefLabel ?slabel FILTER(LANG(?slabel) IN ("en", "")) }
  OPTIONAL { ?p rdfs:label ?plabel FILTER(LANG(?plabel) IN ("en", "")) }
}
"""

STATEMENTS_SELECT = """
SELECT ?entity ?statement ?role ?label ?content ?date ?direct ?stance ?exact ?start ?end WHERE {
  { ?statement osk:speaker ?entity BIND("by" AS ?role) }
  UNION { ?statement osk:about ?entity BIND("about" AS ?role) }
  ?statement a osk:Statement ; rdfs:label ?label ; osk:content ?content .
  OPTIONAL { ?statement osk:isDirectQuote ?direct }
  OPTIONAL { ?statement osk:date ?date }
  OPTIONAL { ?statement osk:stance/skos:prefLabel ?stance }
  OPTIONAL { ?statement osk:evidence/oa:hasSelector ?selector .
             ?selector oa:exact ?exact ; oa:start ?start ; oa:end ?end }
}
"""

SPANS_SELECT = """
SELECT ?entity ?span ?exact ?start ?end WHERE {
  ?entity osk:evidence ?span . ?span oa:hasSelector ?selector .
  ?selector oa:exact ?exact ; oa:start ?start ; oa:end ?end .
}
"""


def local_path(iri: str) -> str | None:
    """The server path of one of our own IRIs (``/id/russia``), or None for others."""
    if iri.startswith(BASE):
        return "/" + iri[len(BASE) :]
    return None


@dataclass
class Value:
    """One object of a property: a link (ours or external) or a literal."""

    text: str
    href: str | None = None
    datatype: str | None = None
    language: str | None = None


@dataclass
class PropertyRow:
    predicate: str
    label: str
    href: str | None
    values: list[Value] = field(default_factory=list)
    inferred: bool = False


@dataclass
class StatementView:
    iri: str
    href: str | None
    roles: set[str]
    label: str
    content: str
    date: str | None
    direct: bool
    stances: set[str]
    spans: set[tuple[int, int, str]]


@dataclass
class EntityView:
    """Everything the entity page shows, in reading order."""

    iri: str
    label: str
    alt_labels: list[str]
    types: list[Value]
    comments: list[str]
    properties: list[PropertyRow]
    inferred_properties: list[PropertyRow]
    incoming: list[tuple[Value, str]]
    statements: list[StatementView]
    spans: list[tuple[int, int, str]]
    external_links: list[str]


def _value(binding: dict | None, label: str | None = None) -> Value:
    if binding is None:
        return Value("")
    if binding["type"] == "uri":
        iri = binding["value"]
        return Value(label or short_name(iri), href=local_path(iri) or iri)
    if binding["type"] == "bnode":
        return Value("(a nested description)")
    return Value(
        binding["value"], datatype=binding.get("datatype"), language=binding.get("xml:lang")
    )


def short_name(iri: str) -> str:
    """A readable stand-in for an unlabelled IRI: its last path or fragment segment."""
    tail = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return tail or iri


def _plain(row: dict, name: str) -> str | None:
    binding = row.get(name)
    return binding["value"] if binding else None


def build_view(
    iri: str,
    outgoing: list[dict],
    incoming: list[dict],
    statements: list[dict],
    spans: list[dict],
) -> EntityView:
    """Arrange the rows of the four SELECT queries (SPARQL JSON bindings) for the page."""
    label = None
    alt_labels: list[str] = []
    comments: list[str] = []
    types: dict[str, Value] = {}
    external: list[str] = []
    rows: dict[tuple[str, bool], PropertyRow] = {}
    for row in outgoing:
        predicate = row["p"]["value"]
        obj = row["o"]
        inferred = row["g"]["value"] == INFERRED
        if predicate in LABEL_PREDICATES and label is None:
            label = obj["value"]
            continue
        if predicate == ALT_LABEL:
            if obj["value"] not in alt_labels:
                alt_labels.append(obj["value"])
            continue
        if predicate == COMMENT:
            comments.append(obj["value"])
            continue
        if predicate == RDF_TYPE and not inferred:
            types[obj["value"]] = _value(obj, _plain(row, "olabel"))
            continue
        if predicate == SAME_AS and obj["type"] == "uri":
            external.append(obj["value"])
            continue
        key = (predicate, inferred)
        if key not in rows:
            rows[key] = PropertyRow(
                predicate,
                _plain(row, "plabel") or short_name(predicate),
                local_path(predicate) or predicate,
                inferred=inferred,
            )
        value = _value(obj, _plain(row, "olabel"))
        if all(existing.text != value.text for existing in rows[key].values):
            rows[key].values.append(value)
    incoming_rows = sorted(
        {
            (
                row["s"]["value"],
                _plain(row, "slabel") or short_name(row["s"]["value"]),
                _plain(row, "plabel") or short_name(row["p"]["value"]),
            )
            for row in incoming
            if row["g"]["value"] != INFERRED
        },
        key=lambda item: (item[2], item[1]),
    )
    views: dict[str, StatementView] = {}
    for row in statements:
        statement = row["statement"]["value"]
        view = views.setdefault(
            statement,
            StatementView(
                statement,
                local_path(statement),
                set(),
                row["label"]["value"],
                row["content"]["value"],
                _plain(row, "date"),
                _plain(row, "direct") == "true",
                set(),
                set(),
            ),
        )
        view.roles.add(row["role"]["value"])
        if row.get("stance"):
            view.stances.add(row["stance"]["value"])
        if row.get("exact"):
            view.spans.add(
                (int(row["start"]["value"]), int(row["end"]["value"]), row["exact"]["value"])
            )
    properties = sorted(
        (row for row in rows.values() if not row.inferred), key=lambda row: row.label
    )
    inferred_properties = sorted(
        (row for row in rows.values() if row.inferred), key=lambda row: row.label
    )
    return EntityView(
        iri=iri,
        label=label or short_name(iri),
        alt_labels=alt_labels,
        types=sorted(types.values(), key=lambda value: value.text),
        comments=comments,
        properties=properties,
        inferred_properties=inferred_properties,
        incoming=[(Value(label, href=local_path(s) or s), p) for s, label, p in incoming_rows],
        statements=sorted(views.values(), key=lambda view: (view.date or "9999", view.label)),
        spans=sorted(
            {(int(r["start"]["value"]), int(r["end"]["value"]), r["exact"]["value"]) for r in spans}
        ),
        external_links=sorted(set(external)),
    )
