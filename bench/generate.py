"""Deterministic treaty-shaped graphs of about N triples, in N-Triples.

The shape follows the Open Skies ontology (``osk:``) so that the question
catalog runs on generated data too: states (some parties to the treaty),
people holding positions at institutions that serve a state, events with
typed dates and agents, and statements by people with a stance, text
content, a subject and a text span (``oa:TextSpan`` with a selector). The
same ``(triples, seed)`` always gives byte-identical output.
"""

from __future__ import annotations

import random
from pathlib import Path

OSK = "https://w3id.org/openskies/ontology/"
OSD = "https://w3id.org/openskies/bench/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OA = "http://www.w3.org/ns/oa#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
STANCES = ["support", "regret", "criticism", "appeal", "openness-to-dialogue", "warning"]
WORDS = [
    "treaty",
    "open",
    "skies",
    "flights",
    "observation",
    "withdrawal",
    "notice",
    "parties",
    "security",
    "trust",
    "dialogue",
    "moscow",
    "washington",
    "brussels",
    "ministry",
    "statement",
    "regret",
    "support",
    "arms",
    "control",
    "confidence",
    "europe",
    "nato",
    "russia",
    "united",
    "states",
    "aircraft",
    "inspection",
    "implementation",
]
TRIPLES_PER_UNIT = 40
"""About how many triples one statement 'unit' (statement, span, event, share of agents) adds."""


def _iri(value: str) -> str:
    return f"<{value}>"


def _lit(value: str, lang: str | None = None) -> str:
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"@{lang}' if lang else f'"{text}"'


def _typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def parse_size(text: str) -> int:
    """``10k`` → 10000, ``1m`` → 1000000, ``2500`` → 2500."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def generate(triples: int, out: Path, seed: int = 7) -> int:
    """Write about ``triples`` triples to ``out``; returns the exact count written."""
    rng = random.Random(seed)
    units = max(1, triples // TRIPLES_PER_UNIT)
    n_states = max(5, min(200, units // 20))
    n_inst = max(5, units // 10)
    n_people = max(10, units // 4)
    lines: list[str] = []
    add = lines.append

    def t(s: str, p: str, o: str) -> None:
        add(f"{s} {p} {o} .\n")

    for stance in STANCES:
        t(_iri(OSK + "stance/" + stance), _iri(SKOS_PREF), _lit(stance.replace("-", " "), "en"))
    treaty = _iri(OSD + "treaty")
    t(treaty, _iri(RDF_TYPE), _iri(OSK + "Treaty"))
    t(treaty, _iri(RDFS_LABEL), _lit("Treaty on Open Skies", "en"))
    states = [_iri(f"{OSD}state/{i}") for i in range(n_states)]
    for i, state in enumerate(states):
        t(state, _iri(RDF_TYPE), _iri(OSK + "State"))
        t(state, _iri(RDFS_LABEL), _lit(f"State {i}", "en"))
        if rng.random() < 0.8:
            t(state, _iri(OSK + "partyTo"), treaty)
    institutions = [_iri(f"{OSD}institution/{i}") for i in range(n_inst)]
    for i, inst in enumerate(institutions):
        t(inst, _iri(RDF_TYPE), _iri(OSK + "GovernmentBody"))
        t(inst, _iri(RDFS_LABEL), _lit(f"Ministry {i} of {rng.choice(WORDS)}", "en"))
        t(inst, _iri(OSK + "servesState"), rng.choice(states))
    people = [_iri(f"{OSD}person/{i}") for i in range(n_people)]
    for i, person in enumerate(people):
        t(person, _iri(RDF_TYPE), _iri(OSK + "Person"))
        t(person, _iri(RDFS_LABEL), _lit(f"Person {i} {rng.choice(WORDS).title()}", "en"))
        position = _iri(f"{OSD}position/{i}")
        t(person, _iri(OSK + "holdsPosition"), position)
        t(position, _iri(RDF_TYPE), _iri(OSK + "Position"))
        t(position, _iri(OSK + "positionAt"), rng.choice(institutions))
        t(position, _iri(OSK + "roleName"), _lit(rng.choice(["minister", "spokesperson", "envoy"])))
    count = len(lines)
    unit = 0
    while count < triples:
        speaker = rng.choice(people)
        about = rng.choice(states)
        event = _iri(f"{OSD}event/{unit}")
        statement = _iri(f"{OSD}statement/{unit}")
        span = _iri(f"{OSD}span/{unit}")
        selector = _iri(f"{OSD}span/{unit}/selector")
        year = 1992 + rng.randrange(30)
        date = f"{year}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}"
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        start = rng.randrange(100_000)
        block = [
            (event, RDF_TYPE, _iri(OSK + rng.choice(["Announcement", "Meeting", "Signing"]))),
            (event, RDFS_LABEL, _lit(f"Event {unit} on {rng.choice(WORDS)}", "en")),
            (event, OSK + "date", _typed(date, "date")),
            (event, OSK + "agent", about),
            (statement, RDF_TYPE, _iri(OSK + "Statement")),
            (statement, OSK + "speaker", speaker),
            (statement, OSK + "about", about),
            (statement, OSK + "occasion", event),
            (statement, OSK + "stance", _iri(OSK + "stance/" + rng.choice(STANCES))),
            (statement, OSK + "content", _lit(words, "en")),
            (statement, OSK + "isDirectQuote", _typed(rng.choice(["true", "false"]), "boolean")),
            (statement, OSK + "evidence", span),
            (span, RDF_TYPE, _iri(OSK + "TextSpan")),
            (span, OA + "hasSelector", selector),
            (selector, OA + "exact", _lit(words)),
            (selector, OA + "start", _typed(str(start), "integer")),
            (selector, OA + "end", _typed(str(start + len(words)), "integer")),
        ]
        for s, p, o in block:
            t(s, _iri(p), o)
        count += len(block)
        unit += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(lines[:triples]) if len(lines) > triples else "".join(lines))
    return min(len(lines), triples)
