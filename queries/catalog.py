"""Discover the question catalog: ``*.rq`` files with a grlc-style header.

Each file in this folder is one question. Its metadata sits in comment lines
that start with ``#+`` (grlc's decorator convention), read together as one
YAML document, so the same files also work unchanged as a grlc API::

    #+ summary: When was the treaty signed?
    #+ tags:
    #+   - timeline
    #+ defaults:
    #+   - person: https://w3id.org/openskies/id/sergei-ryabkov
    #+ enumerate:
    #+   - stance:
    #+     - https://w3id.org/openskies/stance/regret

Parameters are not declared in the header but read from the query's
variables, following grlc (which follows BASIL): ``?_name`` is a required
parameter, ``?__name`` an optional one; a suffix gives the kind of RDF term
the value becomes (``_iri``, ``_en`` or another two-letter language tag,
``_integer`` or another XSD datatype, ``_number``, ``_prefix_local`` for a
datatype named by a prefixed name). As in grlc, a parameter *name* holds no
underscore: ``?_statement_iri`` is the parameter ``statement``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openskies.iris import PREFIXES

QUERIES_DIR = Path(__file__).resolve().parent
"""Where the catalog's ``.rq`` files live (installed as package data)."""

XSD = "http://www.w3.org/2001/XMLSchema#"

XSD_DATATYPES = frozenset(
    {
        "decimal", "float", "double", "integer", "positiveInteger", "negativeInteger",
        "nonPositiveInteger", "nonNegativeInteger", "long", "int", "short", "byte",
        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "dateTime", "date",
        "gYearMonth", "gYear", "duration", "gMonthDay", "gDay", "gMonth", "string",
        "normalizedString", "token", "language", "NMTOKEN", "NMTOKENS", "Name", "NCName", "ID",
        "IDREFS", "ENTITY", "ENTITIES", "QName", "boolean", "hexBinary", "base64Binary", "anyURI",
        "notation",
    }
)  # fmt: skip
"""The XSD type names grlc recognises as a parameter suffix (``?_year_integer``)."""

RESERVED_NAMES = frozenset({"page", "format"})
"""Request parameters the API itself uses; a query may not call a parameter so."""

_VARIABLE = re.compile(r"[?$](_{1,2}[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)")
_PARAMETER = re.compile(
    r"^(?P<required>_{1,2})(?P<name>[A-Za-z0-9]+)"
    r"(?:_(?P<type>[A-Za-z0-9]+))?(?:_(?P<userdefined>[A-Za-z0-9]+))?$"
)
_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_QUERY_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


class CatalogError(ValueError):
    """A query file whose header or parameters cannot be understood."""


@dataclass(frozen=True)
class Parameter:
    """One request parameter, derived from a ``?_name...`` variable of the query."""

    name: str
    """What callers use: ``--param person=...`` or ``?person=...``."""
    variable: str
    """The SPARQL variable, without ``?``; the value is substituted for it."""
    kind: str
    """``"iri"`` or ``"literal"``."""
    required: bool
    datatype: str | None = None
    """Full datatype IRI for typed literals; ``None`` means xsd:string or a language tag."""
    lang: str | None = None
    numeric: bool = False
    """grlc's ``_number``: the literal's type follows its lexical form."""
    default: str | None = None
    enum: tuple[str, ...] | None = None

    @property
    def needed(self) -> bool:
        """Must the caller supply a value? Not when the header gives a default."""
        return self.required and self.default is None

    def describe(self) -> str:
        """A short human description of the expected value, for help texts and errors."""
        if self.kind == "iri":
            what = "an absolute IRI"
        elif self.lang:
            what = f"a text (language @{self.lang})"
        elif self.numeric:
            what = "a number"
        elif self.datatype:
            what = f"a literal of type {_short(self.datatype)}"
        else:
            what = "a text"
        return what

    def as_dict(self) -> dict:
        """JSON-ready description for the catalog listing."""
        out: dict = {
            "name": self.name,
            "variable": f"?{self.variable}",
            "kind": self.kind,
            "required": self.needed,
        }
        for key in ("datatype", "lang", "default"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.enum is not None:
            out["enum"] = list(self.enum)
        return out


@dataclass(frozen=True)
class CatalogQuery:
    """One question: its metadata, its parameters and its SPARQL text."""

    name: str
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    method: str = "GET"
    pagination: int | None = None
    form: str = "SELECT"
    parameters: tuple[Parameter, ...] = ()
    path: Path | None = None
    metadata: Mapping = field(default_factory=dict)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def as_dict(self) -> dict:
        """JSON-ready description for ``GET /api/queries`` and ``query list --format json``."""
        out: dict = {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "method": self.method,
            "form": self.form,
            "parameters": [p.as_dict() for p in self.parameters],
        }
        if self.pagination:
            out["pagination"] = self.pagination
        return out


def _short(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def header_yaml(text: str) -> str:
    """The YAML document made of the ``#+`` lines, as grlc builds it."""
    return "\n".join(line[2:] for line in text.splitlines() if line.startswith("#+"))


def read_header(text: str) -> dict:
    """The decorators of a query as a dict; an empty dict when there are none."""
    source = header_yaml(text)
    if not source.strip():
        return {}
    # PyYAML (about 26 ms) only when a header is read: the command line imports
    # this module for the ``query`` command, and ``binding`` for its types.
    # Not libyaml's CSafeLoader (41 -> 10 ms for the catalog): it accepts some
    # headers that safe_load refuses (a tab after a key, ``|#``).
    import yaml

    try:
        metadata = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise CatalogError(f"the #+ header is not valid YAML: {error}") from None
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise CatalogError("the #+ header must be a YAML mapping (key: value lines)")
    return metadata


def _entries(metadata: Mapping, key: str) -> dict[str, object]:
    """grlc's list-of-single-key-mappings (``defaults``, ``enumerate``) as one dict."""
    value = metadata.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if not isinstance(value, list):
        raise CatalogError(f"#+ {key}: expected a list of `- name: value` entries")
    merged: dict[str, object] = {}
    for item in value:
        if isinstance(item, dict):
            merged.update(item)
        elif isinstance(item, str):
            merged[item] = None  # grlc: enumerate from the endpoint; here: no fixed list
        else:
            raise CatalogError(f"#+ {key}: unexpected entry {item!r}")
    return merged


def query_body(text: str) -> str:
    """The query without whole-line comments, where parameter variables are looked for."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def declared_prefixes(text: str) -> dict[str, str]:
    """PREFIX declarations of the query (for ``?_x_prefix_local`` datatypes)."""
    return {prefix or "": iri for prefix, iri in _PREFIX_DECL.findall(query_body(text))}


def parameter_variables(text: str) -> list[str]:
    """Distinct ``?_...`` variable names (without ``?``) in order of first use."""
    seen: dict[str, None] = {}
    for match in _VARIABLE.finditer(query_body(text)):
        seen.setdefault(match.group(1), None)
    return list(seen)


def _parameter(variable: str, defaults: Mapping, enums: Mapping, prefixes: Mapping) -> Parameter:
    match = _PARAMETER.match(variable)
    if not match:
        raise CatalogError(
            f"?{variable}: a parameter variable is ?_name or ?_name_type, with no other underscores"
        )
    name = match.group("name")
    if name in RESERVED_NAMES:
        raise CatalogError(f"?{variable}: the parameter name {name!r} is reserved")
    kind, datatype, lang, numeric = "literal", None, None, False
    mtype, user = match.group("type"), match.group("userdefined")
    if mtype == "iri":
        kind = "iri"
    elif mtype in (None, "literal", "string"):
        pass
    elif mtype == "number":
        numeric = True
    elif user:
        namespace = prefixes.get(mtype) or PREFIXES.get(mtype)
        if namespace is None:
            raise CatalogError(f"?{variable}: unknown prefix {mtype!r} for the datatype")
        datatype = namespace + user
    elif mtype in XSD_DATATYPES:
        datatype = XSD + mtype if mtype != "string" else None
    elif len(mtype) == 2 and mtype.isalpha():
        lang = mtype.lower()
    else:
        raise CatalogError(f"?{variable}: unknown parameter type {mtype!r}")
    default = defaults.get(name)
    enum = enums.get(name)
    if enum is not None and not (isinstance(enum, list) and enum):
        raise CatalogError(f"#+ enumerate: {name} needs a non-empty list of values")
    return Parameter(
        name=name,
        variable=variable,
        kind=kind,
        required=match.group("required") == "_",
        datatype=datatype,
        lang=lang,
        numeric=numeric,
        default=None if default is None else str(default),
        enum=None if enum is None else tuple(str(value) for value in enum),
    )


def parse_query(text: str, name: str, path: Path | None = None) -> CatalogQuery:
    """A catalog entry from the text of a query; headerless queries are fine (ad hoc use)."""
    metadata = read_header(text)
    defaults = _entries(metadata, "defaults")
    enums = _entries(metadata, "enumerate")
    prefixes = declared_prefixes(text)
    parameters: dict[str, Parameter] = {}
    for variable in parameter_variables(text):
        parameter = _parameter(variable, defaults, enums, prefixes)
        if parameter.name in parameters:
            other = parameters[parameter.name].variable
            raise CatalogError(f"?{variable}: parameter {parameter.name!r} is already ?{other}")
        parameters[parameter.name] = parameter
    for key, values in (("defaults", defaults), ("enumerate", enums)):
        unknown = sorted(set(values) - set(parameters))
        if unknown:
            raise CatalogError(f"#+ {key} names no parameter of the query: {', '.join(unknown)}")
    tags = metadata.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    pagination = metadata.get("pagination")
    if pagination is not None and (not isinstance(pagination, int) or pagination <= 0):
        raise CatalogError("#+ pagination: expected a positive whole number")
    form = _QUERY_FORM.search(re.sub(r"<[^>\s]*>", " ", query_body(text)))
    return CatalogQuery(
        name=name,
        text=text,
        summary=str(metadata.get("summary") or "").strip(),
        description=str(metadata.get("description") or "").strip(),
        tags=tuple(str(tag) for tag in tags),
        method=str(metadata.get("method") or "GET").upper(),
        pagination=pagination,
        form=form.group(1).upper() if form else "SELECT",
        parameters=tuple(parameters.values()),
        path=path,
        metadata=metadata,
    )


def parse_file(path: Path) -> CatalogQuery:
    """A catalog entry from a ``.rq`` file; its name is the file name without suffix."""
    try:
        return parse_query(path.read_text(encoding="utf-8"), path.stem, path)
    except CatalogError as error:
        raise CatalogError(f"{path.name}: {error}") from None


class Catalog(Mapping[str, CatalogQuery]):
    """The questions by name, in name order."""

    def __init__(self, queries: dict[str, CatalogQuery]):
        self._queries = dict(sorted(queries.items()))

    def __getitem__(self, name: str) -> CatalogQuery:
        return self._queries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


def load_catalog(directory: Path = QUERIES_DIR) -> Catalog:
    """Every ``*.rq`` file of ``directory``; raises ``CatalogError`` on the first bad one."""
    return Catalog({path.stem: parse_file(path) for path in sorted(directory.glob("*.rq"))})
