"""Validate the Open Skies graph: SHACL shapes (pyshacl) plus the article's text spans.

``validate_graph(data)`` checks any graph or dataset against
``ontology/shapes.ttl``; the ontology (``openskies.ttl`` and ``stances.ttl``)
is passed to pyshacl as the ontology graph, so ``sh:targetClass`` and
``sh:class`` follow ``rdfs:subClassOf`` (an ``osk:Signing`` is checked as an
``osk:Event``). No RDFS domain/range inference is run: it would type every
speaker as a ``prov:Agent`` through the range of ``osk:speaker`` and make the
type checks pass vacuously.

It also checks that each text span's quote is the article's text between its
offsets (``openskies.graph.article.broken_spans``): SHACL cannot see the file.

``validate_project(extra_files)`` validates the project's asserted graphs
(``openskies.graph.build.load_sources``) together with extra Turtle files; it
backs ``openskies validate [--data FILE ...]``.

The report has one line per violation: severity, focus node, path, message.
Blank-node focus nodes (span selectors) are named by the node that points to
them, e.g. ``osd:span-x / oa:hasSelector``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.util import guess_format

from openskies.vocab import PREFIXES

ONTOLOGY_DIR = Path(__file__).resolve().parent
SHAPES_PATH = ONTOLOGY_DIR / "shapes.ttl"
ONTOLOGY_PATHS = (ONTOLOGY_DIR / "openskies.ttl", ONTOLOGY_DIR / "stances.ttl")

_SEVERITY = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Violation:
    """One problem found in the data, readable without knowing SHACL.

    ``focus`` and ``path`` are shown compactly (``osd:x``, ``osk:speaker``);
    ``focus_node`` keeps the RDF term. ``check`` says what found it: the SHACL
    constraint component (``MinCountConstraintComponent``...) or ``TextSpan``
    for a quote that does not match the article.
    """

    severity: str
    focus: str
    path: str
    message: str
    value: str | None = None
    check: str = ""
    focus_node: URIRef | BNode | Literal | None = None

    def line(self) -> str:
        text = f"{self.severity}: {self.focus}  {self.path or '-'}  {self.message}"
        if self.value is not None:
            text += f" (value: {self.value})"
        return text


@dataclass(frozen=True)
class ValidationResult:
    """Whether the data conforms, a readable report, and the violations one by one."""

    conforms: bool
    report: str
    violations: tuple[Violation, ...]


# ---------------------------------------------------------------- public API


def validate_graph(data: Graph | Dataset) -> ValidationResult:
    """Check ``data`` (a graph, or a dataset read as the union of its graphs)."""
    graph = _union(data)
    checked = len(graph)
    # pyshacl mixes only class and property axioms of the ontology graph into
    # the data; the stance scheme (skos:inScheme) is instance data, so the
    # ontology files are added to the (copied) data graph in full.
    for triple in _ontology():
        graph.add(triple)
    results = shacl_validate(
        graph,
        shacl_graph=_shapes(),
        ont_graph=_ontology(),
        inference="none",
        advanced=False,
        allow_warnings=True,
        abort_on_first=False,
    )
    _conforms, report_graph, _text = results
    violations = _shacl_violations(report_graph, graph)
    violations += _span_violations(graph)
    violations = sorted(set(violations), key=lambda v: (v.focus, v.path, v.message))
    return _result(violations, triples=checked)


def validate_project(extra_files: tuple[Path, ...] = ()) -> ValidationResult:
    """Validate the project's asserted graphs plus ``extra_files`` (Turtle, or any RDF by suffix).

    A missing project source file (for example ``graph/article.ttl`` before it
    is written) is reported as a violation rather than a crash, so the report
    still covers everything else.
    """
    dataset, problems = _load_project()
    graph = _union(dataset)
    for path in extra_files:
        path = Path(path)
        try:
            graph.parse(path, format=guess_format(str(path)) or "turtle")
        except FileNotFoundError:
            problems.append(_file_problem(path, "file not found"))
        except Exception as error:  # a syntax error is a validation finding
            problems.append(_file_problem(path, f"cannot be parsed: {error}"))
    result = validate_graph(graph)
    if not problems:
        return result
    violations = [*problems, *result.violations]
    return _result(violations, triples=len(graph))


# ---------------------------------------------------------------- loading


@cache
def _shapes_cached() -> Graph:
    graph = Graph()
    graph.parse(SHAPES_PATH, format="turtle")
    return graph


def _shapes() -> Graph:
    return _shapes_cached()


@cache
def _ontology() -> Graph:
    graph = Graph()
    for path in ONTOLOGY_PATHS:
        graph.parse(path, format="turtle")
    return graph


def _union(data: Graph | Dataset) -> Graph:
    """A plain graph holding every triple of ``data`` (all named graphs of a dataset)."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    if isinstance(data, Dataset):
        for s, p, o, _ctx in data.quads((None, None, None, None)):
            graph.add((s, p, o))
    else:
        for triple in data.triples((None, None, None)):
            graph.add(triple)
    return graph


def _load_project() -> tuple[Dataset, list[Violation]]:
    from openskies.graph import build

    missing = [path for paths in build.SOURCES.values() for path in paths if not path.exists()]
    if missing:
        problems = [_file_problem(path, "project source file is missing") for path in missing]
        return Dataset(), problems
    return build.load_sources(), []


def _file_problem(path: Path, message: str) -> Violation:
    return Violation("Violation", str(path), "", message, check="File")


# ---------------------------------------------------------------- reporting


def _short(term) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        iri = str(term)
        for prefix, namespace in PREFIXES.items():
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if local and all(c.isalnum() or c in "_-." for c in local):
                    return f"{prefix}:{local}"
        return f"<{iri}>"
    if isinstance(term, Literal):
        text = repr(str(term))
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype:
            return f"{text}^^{_short(term.datatype)}"
        return text
    return f"_:{term}"


def _focus(term, data: Graph) -> str:
    """Name a blank node by who points to it: ``osd:span-x / oa:hasSelector``."""
    if isinstance(term, BNode):
        for subject, predicate in data.subject_predicates(term):
            if not isinstance(subject, BNode):
                return f"{_short(subject)} / {_short(predicate)}"
        return "[blank node]"
    return _short(term)


def _path(path, shapes: Graph) -> str:
    if path is None:
        return ""
    if isinstance(path, URIRef):
        return _short(path)
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{_path(inverse, shapes)}"
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        items = []
        node = alternatives
        while node is not None and node != RDF.nil:
            items.append(_path(shapes.value(node, RDF.first), shapes))
            node = shapes.value(node, RDF.rest)
        return "|".join(items)
    return "(complex path)"


def _shacl_violations(report: Graph, data: Graph) -> list[Violation]:
    shapes = _shapes()
    violations = []
    # Top-level results only: those nested under sh:detail restate a sh:node failure.
    reports = report.subjects(RDF.type, SH.ValidationReport)
    top = [result for node in reports for result in report.objects(node, SH.result)]
    for result in top:
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        severity = _SEVERITY.get(report.value(result, SH.resultSeverity), "Violation")
        component = report.value(result, SH.sourceConstraintComponent)
        shape = report.value(result, SH.sourceShape)
        # Prefer the shape's own sh:message over pyshacl's generic text.
        message = shapes.value(shape, SH.message) if shape is not None else None
        if message is None:
            message = report.value(result, SH.resultMessage)
        # Report the offending value unless it is the focus node itself.
        shown_value = None if value is None or value == focus else _short(value)
        if isinstance(value, BNode):
            shown_value = None
        violations.append(
            Violation(
                severity=severity,
                focus=_focus(focus, data),
                path=_path(path, shapes) if path is not None else "",
                message=str(message or "constraint not met"),
                value=shown_value,
                check=str(component).rsplit("#", 1)[-1] if component else "",
                focus_node=focus,
            )
        )
    return violations


def _span_violations(data: Graph) -> list[Violation]:
    from openskies.graph.article import article_text, broken_spans

    text = article_text()
    violations = []
    for span in broken_spans(data, text):
        if 0 <= span.start <= span.end <= len(text):
            found = text[span.start : span.end]
            detail = f"the article has {found!r} at [{span.start}, {span.end})"
        else:
            detail = (
                f"offsets [{span.start}, {span.end}) lie outside the article "
                f"({len(text)} characters)"
            )
        violations.append(
            Violation(
                severity="Violation",
                focus=_short(span.iri),
                path="oa:hasSelector / oa:exact",
                message=f"quote {span.exact!r} does not match the article: {detail}",
                check="TextSpan",
                focus_node=span.iri,
            )
        )
    return violations


def _result(violations: Iterable[Violation], *, triples: int) -> ValidationResult:
    violations = tuple(violations)
    errors = [v for v in violations if v.severity == "Violation"]
    if not violations:
        report = f"Conforms: {triples} triples checked against the SHACL shapes and the article."
    else:
        lines = [v.line() for v in violations]
        summary = (
            f"Does not conform: {len(errors)} violation(s)"
            if errors
            else f"Conforms, with {len(violations)} warning(s)"
        )
        summary += f" in {triples} triples."
        report = "\n".join([summary, *lines])
    return ValidationResult(conforms=not errors, report=report, violations=violations)
