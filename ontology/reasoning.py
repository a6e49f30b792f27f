"""OWL reasoning over the Open Skies graph with owlready2 and HermiT.

``infer(graphs)`` loads the ontology and the data into a fresh owlready2
``World``, runs HermiT (``sync_reasoner`` with ``infer_property_values=True``)
and returns what the ontology entails beyond what is asserted. The build puts
those triples into their own named graph (``Graphs.INFERRED``), so a query can
always tell an asserted fact from an entailed one.

What the inferred graph holds:

* ``rdf:type`` triples: the individuals' inferred types (from domains, ranges
  and subclass axioms) and *every* superclass of them, including the external
  ones the ontology aligns to (``schema:Person``, ``foaf:Person``,
  ``prov:Agent``...), so users can query by schema.org, FOAF or PROV-O types;
* object property values HermiT entails, e.g. ``osk:affiliatedWith`` from the
  property chain ``osk:holdsPosition o osk:positionAt``, and inverses
  (``osk:holder`` from ``osk:holdsPosition`` and back);
* values of super-properties (``osk:speaker`` entails ``prov:wasAttributedTo``
  and ``schema:creator``, ``osk:date`` entails ``schema:startDate``, ...);
* class or property axioms between named terms that the reasoner adds.

Facts copied across ``owl:sameAs`` onto Wikidata and DBpedia IRIs are left
out (see ``_aliases``): the links take part in reasoning, so a bad link can
still make the data inconsistent, but the inferred graph describes the
project's own nodes.

HermiT realises an individual only to its most specific classes and owlready2
writes only those, so superclass types, inverses and super-property values are
closed in Python over the asserted and reasoned triples (a plain RDFS-style
fixpoint; the OWL reasoning proper stays HermiT's).

Left out as trivial or as artefacts: ``owl:Thing`` / ``owl:NamedIndividual``
types, reflexive ``owl:sameAs``, anything with a blank node (list cells and
axiom nodes that owlready2 renames), owlready2's own ontology IRIs, and any
triple using a term the input does not mention.

Limits: HermiT accepts only the OWL 2 datatype map, which lacks ``xsd:date``,
``xsd:gYear`` and ``xsd:gYearMonth``; the reasoner therefore runs with
``ignore_unsupported_datatypes`` (those literals are opaque to it). Data
property values are not inferred by owlready2's HermiT bridge, which is why
super-property values are computed here.

Set ``OPENSKIES_REASONER_DEBUG=1`` to see owlready2's and HermiT's output on
stderr; by default the reasoner prints nothing.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterable

import owlready2
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD, NamespaceManager

from openskies.vocab import OSD, PREFIXES

REASONER = f"HermiT (owlready2 {getattr(owlready2, 'VERSION', '')})"

_INPUT_IRI = "urn:openskies:reasoning:input"
_OWLREADY_IRIS = frozenset(
    {
        _INPUT_IRI,
        "http://anonymous",
        "http://inferrences",
        "http://inferrences#",
        "http://anonymous#",
    }
)
_MAX_REASONS = 12
_TRIVIAL_TYPES = frozenset({OWL.Thing, OWL.NamedIndividual})
_DECLARATION_TYPES = frozenset(
    {
        OWL.Class,
        RDFS.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.AnnotationProperty,
        RDF.Property,
        OWL.Ontology,
        RDFS.Datatype,
    }
)
_BUILTIN_PREFIXES = (str(OWL), str(RDF), str(RDFS), str(XSD))


class InconsistentOntologyError(Exception):
    """The ontology and the data contradict each other (or a class can have no member).

    ``individuals`` and ``classes`` name the offending terms when they can be
    told; ``reasons`` are readable explanations found by a direct check of the
    disjointness and functionality axioms (HermiT itself only says
    "inconsistent").
    """

    def __init__(
        self,
        message: str,
        *,
        individuals: Iterable[str] = (),
        classes: Iterable[str] = (),
        reasons: Iterable[str] = (),
    ) -> None:
        self.individuals = tuple(individuals)
        self.classes = tuple(classes)
        self.reasons = tuple(reasons)
        super().__init__(message)


class ReasonerUnavailableError(RuntimeError):
    """The reasoner cannot run here (HermiT needs a Java runtime)."""


# ---------------------------------------------------------------- entry point


def infer(graphs: Iterable[Graph]) -> Graph:
    """Entailed triples of ontology plus data that are not already asserted.

    Loads the graphs into a fresh owlready2 ``World``, runs HermiT with
    ``infer_property_values=True`` and returns only the new, non-trivial
    triples (see the module docstring). Raises ``InconsistentOntologyError``
    when HermiT finds the whole inconsistent or a named class unsatisfiable,
    ``ReasonerUnavailableError`` when Java is missing.
    """
    asserted = Graph()
    for graph in graphs:
        for triple in graph.triples((None, None, None)):
            asserted.add(triple)
    _check_java()

    world = owlready2.World()
    try:
        reasoned = _run_hermit(world, asserted)
    finally:
        with contextlib.suppress(Exception):
            world.close()

    entailed = _close(asserted, reasoned)
    vocabulary = _terms(asserted)
    aliases = _aliases(asserted)
    asserted_keys = {_key(t) for t in asserted}
    result = Graph()
    for triple in entailed:
        if _key(triple) in asserted_keys or _trivial(triple, vocabulary):
            continue
        s, p, o = triple
        if s in aliases or (o in aliases and p != OWL.sameAs):
            continue
        result.add(triple)
    for prefix, namespace in PREFIXES.items():
        result.bind(prefix, namespace, override=True)
    return result


# ---------------------------------------------------------------- running HermiT


def _debug() -> bool:
    return os.environ.get("OPENSKIES_REASONER_DEBUG", "") not in ("", "0", "false", "no")


def _check_java() -> None:
    java = owlready2.JAVA_EXE
    if shutil.which(java) is None and not os.path.isfile(java):
        raise ReasonerUnavailableError(
            f"Java was not found ({java!r} is not on PATH): the HermiT reasoner that "
            "ships with owlready2 needs a Java runtime (JRE 8 or later). Install one "
            "(the project's setup script installs a JRE), set owlready2.JAVA_EXE, or "
            "build without reasoning (`openskies build --no-reason`)."
        )


def _run_hermit(world: owlready2.World, asserted: Graph) -> list[tuple]:
    """Load ``asserted`` into ``world``, reason, and return the world's triples."""
    data = asserted.serialize(format="nt", encoding="utf-8")
    debug = _debug()
    sink = sys.stderr if debug else io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        world.get_ontology(_INPUT_IRI).load(fileobj=io.BytesIO(data), format="ntriples")
        try:
            owlready2.sync_reasoner_hermit(
                world,
                infer_property_values=True,
                debug=2 if debug else 0,
                ignore_unsupported_datatypes=True,
            )
        except owlready2.OwlReadyInconsistentOntologyError:
            reasons, individuals, classes = diagnose(asserted)
            raise _inconsistent(reasons, individuals, classes, asserted) from None
        except owlready2.OwlReadyJavaError as error:
            raise ReasonerUnavailableError(f"{REASONER} failed: {error}") from None
        unsatisfiable = [
            str(cls.iri)
            for cls in world.inconsistent_classes()
            if getattr(cls, "iri", None) and not str(cls.iri).startswith(str(OWL))
        ]
    if debug:
        print(f"reasoning took {time.perf_counter() - started:.2f} s", file=sys.stderr)
    if unsatisfiable:
        names = ", ".join(_short(asserted, URIRef(iri)) for iri in sorted(unsatisfiable))
        raise InconsistentOntologyError(
            f"{REASONER}: the ontology is incoherent, these classes can have no member: {names}",
            classes=sorted(unsatisfiable),
        )
    return list(world.as_rdflib_graph().triples((None, None, None)))


def _inconsistent(reasons, individuals, classes, graph: Graph) -> InconsistentOntologyError:
    message = f"{REASONER} found the ontology and data inconsistent"
    if reasons:
        shown = [f"  - {reason}" for reason in reasons[:_MAX_REASONS]]
        if len(reasons) > _MAX_REASONS:
            shown.append(f"  ... and {len(reasons) - _MAX_REASONS} more")
        message += ":\n" + "\n".join(shown)
    else:
        message += (
            " (no disjointness or functional-property clash found by the direct check; "
            "set OPENSKIES_REASONER_DEBUG=1 for HermiT's output)"
        )
    return InconsistentOntologyError(
        message, individuals=individuals, classes=classes, reasons=reasons
    )


# ---------------------------------------------------------------- closure in Python


def _superclasses(graph: Graph) -> dict:
    """Reflexive-transitive superclasses over rdfs:subClassOf and owl:equivalentClass."""
    direct = defaultdict(set)
    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct[sub].add(sup)
    for a, b in graph.subject_objects(OWL.equivalentClass):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
            direct[b].add(a)
    return _transitive(direct)


def _superproperties(graph: Graph) -> dict:
    direct = defaultdict(set)
    for sub, sup in graph.subject_objects(RDFS.subPropertyOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct[sub].add(sup)
    for a, b in graph.subject_objects(OWL.equivalentProperty):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            direct[a].add(b)
            direct[b].add(a)
    return _transitive(direct)


def _transitive(direct: dict) -> dict:
    closure = {}
    for start in list(direct):
        seen = {start}
        stack = [start]
        while stack:
            for nxt in direct.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        closure[start] = seen
    return closure


def _close(asserted: Graph, reasoned: Iterable[tuple]) -> Graph:
    """Asserted plus reasoned triples, closed under superclass, inverse and super-property.

    Literals coming back from owlready2 are dropped (it re-types plain literals
    as ``xsd:string`` and may normalise lexical forms; HermiT infers no data
    property values through owlready2), so every literal in the result is one
    of the input's own literals.
    """
    graph = Graph()
    for triple in asserted:
        graph.add(triple)
    for s, p, o in reasoned:
        if isinstance(o, Literal) or isinstance(s, BNode) or isinstance(o, BNode):
            continue
        graph.add((s, p, o))

    supers = _superclasses(graph)
    superprops = _superproperties(graph)
    inverse = defaultdict(set)
    for a, b in graph.subject_objects(OWL.inverseOf):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            inverse[a].add(b)
            inverse[b].add(a)
    symmetric = set(graph.subjects(RDF.type, OWL.SymmetricProperty))

    changed = True
    while changed:
        changed = False
        new = []
        for s, p, o in graph:
            if p == RDF.type:
                for sup in supers.get(o, ()):
                    new.append((s, RDF.type, sup))
                continue
            for sup in superprops.get(p, ()):
                new.append((s, sup, o))
            if not isinstance(o, Literal):
                for inv in inverse.get(p, ()):
                    new.append((o, inv, s))
                if p in symmetric:
                    new.append((o, p, s))
        for triple in new:
            if triple not in graph:
                graph.add(triple)
                changed = True
    return graph


# ---------------------------------------------------------------- filtering


def _key(triple: tuple) -> tuple:
    """A triple with plain literals read as xsd:string (RDF 1.1), for comparison."""
    s, p, o = triple
    if isinstance(o, Literal) and o.datatype is None and o.language is None:
        o = Literal(str(o), datatype=XSD.string)
    return s, p, o


def _aliases(graph: Graph) -> set:
    """External IRIs (Wikidata, DBpedia...) that owl:sameAs ties to one of our own nodes.

    OWL copies every fact across owl:sameAs, so without this the inferred graph
    would repeat each fact about ``osd:russia`` for ``wd:Q159`` and
    ``dbr:Russia``. Those copies are left out: the links graph already says the
    IRIs name the same thing, and a query can follow ``owl:sameAs``. (The links
    still take part in reasoning, so a link that merges, say, a state with a
    person is still caught as an inconsistency.)
    """
    local = str(OSD)
    aliases = set()
    for a, b in graph.subject_objects(OWL.sameAs):
        for term, other in ((a, b), (b, a)):
            if (
                isinstance(term, URIRef)
                and not str(term).startswith(local)
                and str(other).startswith(local)
            ):
                aliases.add(term)
    return aliases


def _terms(graph: Graph) -> set:
    terms = set()
    for s, p, o in graph:
        terms.add(s)
        terms.add(p)
        if isinstance(o, URIRef):
            terms.add(o)
    return terms


def _trivial(triple: tuple, vocabulary: set) -> bool:
    s, p, o = triple
    if isinstance(s, BNode) or isinstance(o, BNode):
        return True
    if str(s) in _OWLREADY_IRIS or (isinstance(o, URIRef) and str(o) in _OWLREADY_IRIS):
        return True
    if s not in vocabulary or p not in vocabulary:
        return True
    if isinstance(o, URIRef) and o not in vocabulary:
        return True
    if p == RDF.type and (o in _TRIVIAL_TYPES or o in _DECLARATION_TYPES):
        return True
    if p == OWL.sameAs and s == o:
        return True
    if p in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty):
        # Reflexive axioms and links to OWL's own top/bottom terms are trivial.
        return s == o or str(o).startswith(_BUILTIN_PREFIXES)
    return False


# ---------------------------------------------------------------- diagnosis


@functools.cache
def _namespaces() -> NamespaceManager:
    manager = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        manager.bind(prefix, namespace, override=True)
    return manager


def _short(graph: Graph | None, term) -> str:
    """A term as a reader wants it: ``osd:x`` rather than the full IRI."""
    if isinstance(term, URIRef):
        manager = _namespaces()
        for prefix, namespace in manager.namespaces():
            if str(term).startswith(str(namespace)) and prefix:
                local = str(term)[len(str(namespace)) :]
                if local and all(c.isalnum() or c in "_-." for c in local):
                    return f"{prefix}:{local}"
        return f"<{term}>"
    if isinstance(term, Literal):
        text = str(term)
        text = repr(text if len(text) <= 60 else text[:57] + "...")
        return f"{text}@{term.language}" if term.language else text
    return str(term)


def _rdf_list(graph: Graph, head) -> list:
    items = []
    while head is not None and head != RDF.nil:
        first = graph.value(head, RDF.first)
        if first is not None:
            items.append(first)
        head = graph.value(head, RDF.rest)
    return items


_INTEGER_NAMES = ("integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger")
_INTEGER_NAMES += ("negativeInteger", "long", "int", "short", "byte", "unsignedLong")
_INTEGER_NAMES += ("unsignedInt", "unsignedShort", "unsignedByte")
_INTEGERS = frozenset(XSD[name] for name in _INTEGER_NAMES)
_CHECKED_DATATYPES = {
    # Range datatypes of the OWL 2 datatype map HermiT enforces, with the
    # literal datatypes that fit them (xsd:date and friends are not in the map).
    XSD.string: frozenset({XSD.string, XSD.normalizedString, XSD.token}),
    RDF.langString: frozenset({RDF.langString}),
    RDF.PlainLiteral: frozenset({RDF.langString, XSD.string}),
    XSD.boolean: frozenset({XSD.boolean}),
    XSD.integer: _INTEGERS,
    XSD.nonNegativeInteger: _INTEGERS,
    XSD.decimal: _INTEGERS | {XSD.decimal},
}


def _datatype(literal: Literal) -> URIRef:
    if literal.language:
        return RDF.langString
    return literal.datatype or XSD.string


def diagnose(graph: Graph) -> tuple[list[str], list[str], list[str]]:
    """Explain an inconsistency by the usual suspects: disjoint types, functional data values.

    Returns ``(reasons, individuals, classes)``. This is a direct check over
    the asserted triples and the class hierarchy, not a full OWL explanation,
    so it may find nothing when the contradiction is more indirect.
    """
    supers = _superclasses(graph)
    pairs: list[tuple] = []
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = [m for m in _rdf_list(graph, graph.value(node, OWL.members)) if m]
        pairs += [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]
    for a, b in graph.subject_objects(OWL.disjointWith):
        pairs.append((a, b))

    types = defaultdict(set)
    for individual, cls in graph.subject_objects(RDF.type):
        if isinstance(cls, URIRef):
            types[individual] |= supers.get(cls, {cls})
    # Domain and range entail types too; they are the common way to clash.
    domains = defaultdict(set)
    ranges = defaultdict(set)
    for prop, cls in graph.subject_objects(RDFS.domain):
        domains[prop].add(cls)
    for prop, cls in graph.subject_objects(RDFS.range):
        ranges[prop].add(cls)
    superprops = _superproperties(graph)
    for s, p, o in graph:
        for prop in superprops.get(p, {p}):
            for cls in domains.get(prop, ()):
                types[s] |= supers.get(cls, {cls})
            if not isinstance(o, Literal):
                for cls in ranges.get(prop, ()):
                    types[o] |= supers.get(cls, {cls})

    reasons, individuals, classes = [], [], []
    for individual, its_types in sorted(types.items(), key=lambda item: str(item[0])):
        for a, b in pairs:
            if a in its_types and b in its_types:
                reasons.append(
                    f"{_short(graph, individual)} is both {_short(graph, a)} and "
                    f"{_short(graph, b)}, which are disjoint classes"
                )
                individuals.append(str(individual))
                classes += [str(a), str(b)]

    for prop, datatype in sorted(graph.subject_objects(RDFS.range)):
        if datatype not in _CHECKED_DATATYPES:
            continue
        for sub in sorted(p for p, sups in superprops.items() if prop in sups) or [prop]:
            for subject, value in sorted(graph.subject_objects(sub)):
                if (
                    isinstance(value, Literal)
                    and _datatype(value) not in _CHECKED_DATATYPES[datatype]
                ):
                    reasons.append(
                        f"{_short(graph, subject)} {_short(graph, sub)} {_short(graph, value)}: "
                        f"a {_short(graph, _datatype(value))} literal, but the range of "
                        f"{_short(graph, prop)} is {_short(graph, datatype)}"
                    )
                    individuals.append(str(subject))

    functional = set(graph.subjects(RDF.type, OWL.FunctionalProperty))
    for prop in sorted(functional):
        values = defaultdict(set)
        for s, o in graph.subject_objects(prop):
            if isinstance(o, Literal):
                values[s].add(o)
        for subject, found in sorted(values.items(), key=lambda item: str(item[0])):
            if len({(str(v), v.datatype, v.language) for v in found}) > 1:
                shown = ", ".join(sorted(_short(graph, v) for v in found))
                reasons.append(
                    f"{_short(graph, subject)} has several values for the functional "
                    f"property {_short(graph, prop)}: {shown}"
                )
                individuals.append(str(subject))
    return reasons, list(dict.fromkeys(individuals)), list(dict.fromkeys(classes))
