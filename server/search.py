"""Entity search by label, alternative label and quoted text.

The article's names are machine-translated ("Libuyakov" is Sergei Ryabkov),
so a search must find an entity by any of its names and ignore case and
accents. The index is small (one entry per name or quote), built from one
SPARQL query per data generation, and matched in Python: a full-text engine
would be heavier than the whole dataset.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

SEARCH_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX osk: <https://w3id.org/openskies/ontology/>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?entity ?field ?text ?label ?type WHERE {
  {
    ?entity rdfs:label ?text . BIND("label" AS ?field)
  } UNION {
    ?entity skos:altLabel ?text . BIND("altLabel" AS ?field)
  } UNION {
    ?entity skos:prefLabel ?text . BIND("label" AS ?field)
  } UNION {
    ?entity osk:content ?text . BIND("quote" AS ?field)
  } UNION {
    ?entity osk:evidence/oa:hasSelector/oa:exact ?text . BIND("quote" AS ?field)
  }
  FILTER(isIRI(?entity))
  OPTIONAL { ?entity rdfs:label ?anyLabel }
  OPTIONAL { ?entity skos:prefLabel ?prefLabel }
  BIND(COALESCE(?anyLabel, ?prefLabel) AS ?label)
  OPTIONAL {
    GRAPH ?assertedGraph { ?entity a ?type }
    FILTER(?assertedGraph != <https://w3id.org/openskies/graph/inferred>)
  }
}
"""
"""Every searchable text with its entity, the entity's label and asserted type."""

FIELD_WEIGHT = {"label": 3.0, "altLabel": 2.5, "quote": 1.0}


def normalize(text: str) -> str:
    """Case- and accent-insensitive form: "Auswärtiges" and "auswartiges" match."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().replace("’", "'").split())


@dataclass(frozen=True)
class Entry:
    entity: str
    field: str
    text: str
    label: str
    types: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class Hit:
    """One entity found, with the best-matching text and why it matched."""

    iri: str
    label: str
    types: tuple[str, ...]
    matched: str
    field: str
    score: float


class SearchIndex:
    """Names and quotes of every entity, normalised once."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries

    @classmethod
    def from_rows(cls, rows: list[dict[str, str]]) -> SearchIndex:
        """Build from the rows of ``SEARCH_QUERY`` (variable name to plain value)."""
        grouped: dict[tuple[str, str, str], tuple[str, set[str]]] = {}
        for row in rows:
            key = (row["entity"], row["field"], row["text"])
            label, types = grouped.setdefault(key, (row.get("label") or row["text"], set()))
            if row.get("type"):
                types.add(row["type"])
        entries = [
            Entry(entity, field, text, label, tuple(sorted(types)), normalize(text))
            for (entity, field, text), (label, types) in grouped.items()
        ]
        return cls(entries)

    def search(self, query: str, *, limit: int = 20) -> list[Hit]:
        """Entities ranked by how well any of their texts matches every query word."""
        words = normalize(query).split()
        if not words:
            return []
        phrase = " ".join(words)
        best: dict[str, Hit] = {}
        for entry in self.entries:
            if not all(word in entry.key for word in words):
                continue
            if entry.key == phrase:
                closeness = 4.0
            elif entry.key.startswith(phrase):
                closeness = 3.0
            elif all(f" {word}" in f" {entry.key}" for word in words):
                closeness = 2.0
            else:
                closeness = 1.0
            # How much of the text the query covers: "Sokov" is a better match for
            # "Nikolai Sokov" than for a sentence that starts with the name.
            coverage = len(phrase) / max(len(entry.key), 1)
            score = FIELD_WEIGHT[entry.field] * (closeness + 6 * coverage)
            hit = Hit(entry.entity, entry.label, entry.types, entry.text, entry.field, score)
            if entry.entity not in best or best[entry.entity].score < score:
                best[entry.entity] = hit
        ranked = sorted(best.values(), key=lambda hit: (-hit.score, hit.label))
        return ranked[:limit]
