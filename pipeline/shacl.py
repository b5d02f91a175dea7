"""A SHACL Core validator for small graphs of plain terms: the shapes in shapes/ compiled once, then
checked against each record's triples in microseconds. pyshacl stays selectable (--validator pyshacl);
tests/test_shacl_equivalence.py runs both on the same good and bad graphs and compares every result."""

from __future__ import annotations

import calendar
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Iterable

from .terms import RDF_LANGSTRING, XSD_STRING, Lit, Term, Triple, from_rdflib
from .vocab import RDF_TYPE, SH, XSD


class UnsupportedShapes(Exception):
    """The shapes use a SHACL feature this validator does not implement; use --validator pyshacl."""


# --------------------------------------------------------------------------- lexical forms

_YEAR = r"-?(?:[1-9]\d{3,}|0\d{3})"
_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_LEXICAL = {
    XSD.date: re.compile(rf"^({_YEAR})-(\d\d)-(\d\d){_TZ}$"),
    XSD.gYearMonth: re.compile(rf"^({_YEAR})-(\d\d){_TZ}$"),
    XSD.gYear: re.compile(rf"^({_YEAR}){_TZ}$"),
    XSD.integer: re.compile(r"^[+-]?\d+$"),
    XSD.boolean: re.compile(r"^(true|false|1|0)$"),
    XSD.decimal: re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
}


def well_formed(value: str, datatype: str) -> bool:
    """Is value a valid lexical form of datatype? Datatypes not listed are taken as valid."""
    pattern = _LEXICAL.get(datatype)
    if pattern is None:
        return True
    match = pattern.match(value)
    if not match:
        return False
    if datatype in (XSD.date, XSD.gYearMonth):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            return False
        if datatype == XSD.date:
            # XSD 1.1 years: 0000 is 1 BCE; leap years follow the proleptic Gregorian calendar
            leap_year = 2000 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 2001
            return 1 <= int(match.group(3)) <= calendar.monthrange(leap_year, month)[1]
    return True


# --------------------------------------------------------------------------- compiled shapes

COMPONENTS = {  # constraint parameter -> result's sh:sourceConstraintComponent local name
    "minCount": "MinCountConstraintComponent", "maxCount": "MaxCountConstraintComponent",
    "datatype": "DatatypeConstraintComponent", "class": "ClassConstraintComponent",
    "or": "OrConstraintComponent", "pattern": "PatternConstraintComponent",
    "minLength": "MinLengthConstraintComponent", "maxLength": "MaxLengthConstraintComponent",
    "languageIn": "LanguageInConstraintComponent", "nodeKind": "NodeKindConstraintComponent",
    "in": "InConstraintComponent", "hasValue": "HasValueConstraintComponent",
    "node": "NodeConstraintComponent", "not": "NotConstraintComponent",
    "equals": "EqualsConstraintComponent",
}
# shape-describing predicates that are not constraints
_DESCRIPTIVE = {"path", "property", "severity", "message", "targetClass", "targetNode", "targetSubjectsOf",
                "targetObjectsOf", "deactivated", "name", "description", "order", "group", "flags",
                "defaultValue"}


@dataclass
class Shape:
    id: str
    path: str | None = None
    severity: str = "Violation"
    messages: tuple[str, ...] = ()
    constraints: list[tuple[str, object]] = field(default_factory=list)
    properties: list["Shape"] = field(default_factory=list)
    target_classes: tuple[str, ...] = ()
    target_nodes: tuple[Term, ...] = ()
    target_subjects_of: tuple[str, ...] = ()
    target_objects_of: tuple[str, ...] = ()
    deactivated: bool = False

    @property
    def message(self) -> str:
        return "; ".join(sorted(self.messages))


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, in plain values, whichever engine found it (this one or pyshacl)."""

    severity: str  # 'Violation', 'Warning' or 'Info'
    focus: str
    path: str | None
    value: Term | None
    message: str
    component: str  # local name, e.g. MinCountConstraintComponent
    shape: str | None = None

    @property
    def key(self) -> tuple:
        """What two engines must agree on."""
        return (self.severity, self.focus, self.path or "", self.component, str(self.value or ""))

    def __str__(self) -> str:
        path = f" {self.path}" if self.path else ""
        shown = self.value.value if isinstance(self.value, Lit) else self.value
        value = f" (value: {shown[:60]!r})" if shown is not None else ""
        return f"{self.severity}: <{self.focus}>{path}: {self.message}{value}"


def compile_shapes(graph) -> list[Shape]:
    """Node shapes with targets, compiled from an rdflib shapes graph."""
    from rdflib import URIRef
    from rdflib.collection import Collection

    cache: dict = {}
    term = from_rdflib

    def compile_one(node) -> Shape:
        if node in cache:
            return cache[node]
        shape = cache[node] = Shape(id=str(node))
        for predicate, obj in sorted(graph.predicate_objects(node)):
            if not str(predicate).startswith(SH.iri):
                continue
            name = str(predicate)[len(SH.iri):]
            if name == "path":
                if not isinstance(obj, URIRef):
                    raise UnsupportedShapes(f"shape {node}: only IRI paths are supported, not {obj!r}")
                shape.path = str(obj)
            elif name == "property":
                shape.properties.append(compile_one(obj))
            elif name == "severity":
                shape.severity = str(obj).rsplit("#", 1)[-1]
            elif name == "message":
                shape.messages += (str(obj),)
            elif name == "deactivated":
                shape.deactivated = bool(obj.toPython())
            elif name == "targetClass":
                shape.target_classes += (str(obj),)
            elif name == "targetNode":
                shape.target_nodes += (term(obj),)
            elif name == "targetSubjectsOf":
                shape.target_subjects_of += (str(obj),)
            elif name == "targetObjectsOf":
                shape.target_objects_of += (str(obj),)
            elif name in ("or", "in", "languageIn"):
                members = list(Collection(graph, obj))
                value = [compile_one(m) for m in members] if name == "or" else [term(m) for m in members]
                if name == "languageIn":
                    value = [str(m).lower() for m in members]
                shape.constraints.append((name, value))
            elif name in ("node", "not"):
                shape.constraints.append((name, compile_one(obj)))
            elif name == "pattern":
                flags = graph.value(node, URIRef(SH.flags))
                shape.constraints.append((name, re.compile(str(obj), _regex_flags(str(flags or "")))))
            elif name in ("minCount", "maxCount", "minLength", "maxLength"):
                shape.constraints.append((name, int(obj)))
            elif name in ("datatype", "class", "nodeKind"):
                shape.constraints.append((name, str(obj)))
            elif name == "equals":
                if not isinstance(obj, URIRef):
                    raise UnsupportedShapes(f"shape {node}: sh:equals needs an IRI, not {obj!r}")
                shape.constraints.append((name, str(obj)))
            elif name == "hasValue":
                shape.constraints.append((name, term(obj)))
            elif name not in _DESCRIPTIVE:
                raise UnsupportedShapes(f"shape {node} uses sh:{name}, which the builtin validator does not "
                                        "implement; run with --validator pyshacl")
        shape.constraints.sort(key=lambda c: list(COMPONENTS).index(c[0]))
        return shape

    roots = set(graph.subjects(URIRef(RDF_TYPE), URIRef(SH.NodeShape)))
    for target in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
        roots |= set(graph.subjects(URIRef(SH[target]), None))
    shapes = [compile_one(node) for node in sorted(roots, key=str)]
    return [shape for shape in shapes if _has_target(shape) and not shape.deactivated]


def _has_target(shape: Shape) -> bool:
    return bool(shape.target_classes or shape.target_nodes or shape.target_subjects_of or shape.target_objects_of)


def _regex_flags(flags: str) -> int:
    value = 0
    for flag, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL), ("x", re.VERBOSE)):
        if flag in flags:
            value |= bit
    return value


# --------------------------------------------------------------------------- across records

# Constraints whose outcome depends on all of a node's values together. Every other SHACL Core constraint
# the engine runs is checked value by value (datatype, class, pattern, languageIn, ...) or can only go from
# failing to passing as values are added (minCount, hasValue): when each record's graph conforms, the
# union of their graphs conforms to those too. Only these need the release-level look at shared nodes.
ACROSS_RECORDS = ("maxCount", "equals")


def across_records(shapes: list[Shape]) -> list[Shape]:
    """The shapes cut down to the constraints that can fail only once records are merged."""
    kept = []
    for shape in shapes:
        pruned = _pruned(shape)
        if pruned is not None:
            kept.append(pruned)
    return kept


def _pruned(shape: Shape) -> Shape | None:
    constraints = [(name, parameter) for name, parameter in shape.constraints if _needed_across(name, parameter)]
    properties = [p for p in (_pruned(prop) for prop in shape.properties) if p is not None]
    if not constraints and not properties:
        return None
    return dataclasses.replace(shape, constraints=constraints, properties=properties)


def _needed_across(name: str, parameter) -> bool:
    """sh:not is kept whatever it holds (a node gaining values can start to match what it must not); sh:or
    and sh:node are kept, whole, when a shape inside counts values: cut down, they would mean less."""
    if name in ACROSS_RECORDS or name == "not":
        return True
    if name in ("or", "node"):
        return any(_counts_values(member) for member in (parameter if isinstance(parameter, list) else [parameter]))
    return False


def _counts_values(shape: Shape) -> bool:
    return any(_needed_across(n, p) for n, p in shape.constraints) or any(map(_counts_values, shape.properties))


# --------------------------------------------------------------------------- data

class Data:
    """A small graph indexed by subject and predicate (and types), built from plain triples."""

    __slots__ = ("out", "types", "instances", "objects_of")

    def __init__(self, triples: Iterable[Triple], objects_of: dict[str, Iterable[Term]] | None = None):
        out: dict[str, dict[str, dict[Term, None]]] = {}
        instances: dict[Term, dict[str, None]] = {}
        for s, p, o in triples:
            out.setdefault(s, {}).setdefault(p, {})[o] = None
            if p == RDF_TYPE:
                instances.setdefault(o, {})[s] = None
        self.out = out
        self.instances = instances
        self.types = {s: props.get(RDF_TYPE, ()) for s, props in out.items()}
        # nodes known to be objects of a predicate in triples that are not here (the release-level check)
        self.objects_of = objects_of or {}

    def values(self, focus: Term, path: str) -> list[Term]:
        props = self.out.get(focus) if isinstance(focus, str) else None
        return list(props.get(path, ())) if props else []

    def focus_nodes(self, shape: Shape) -> list[Term]:
        nodes: dict[Term, None] = {}
        for cls in shape.target_classes:
            nodes.update(self.instances.get(cls, ()))
        for node in shape.target_nodes:
            nodes[node] = None
        for predicate in shape.target_subjects_of:
            for subject, props in self.out.items():
                if predicate in props:
                    nodes[subject] = None
        for predicate in shape.target_objects_of:
            for props in self.out.values():
                for obj in props.get(predicate, ()):
                    nodes[obj] = None
            nodes.update(dict.fromkeys(self.objects_of.get(predicate, ())))
        return list(nodes)


# --------------------------------------------------------------------------- validation

def validate(triples: Iterable[Triple], shapes: list[Shape], *,
             objects_of: dict[str, Iterable[Term]] | None = None) -> list[Result]:
    """Every SHACL result for the graph of these triples; objects_of adds, per predicate, nodes that are
    its objects elsewhere (for sh:targetObjectsOf)."""
    data = Data(triples, objects_of)
    results: list[Result] = []
    for shape in shapes:
        for focus in data.focus_nodes(shape):
            results.extend(_evaluate(shape, focus, data))
    return results


def _conforms(shape: Shape, node: Term, data: Data) -> bool:
    return not _evaluate(shape, node, data)


_NO_RESULTS: list = []


def _evaluate(shape: Shape, focus: Term, data: Data) -> list[Result]:
    """The results of one shape on one focus node (a shared empty list when it conforms)."""
    if shape.deactivated:
        return _NO_RESULTS
    if shape.path is None:
        values: list | tuple = (focus,)
    else:
        props = data.out.get(focus) if type(focus) is str else None
        values = list(props[shape.path]) if props and shape.path in props else ()
    results = None
    for name, parameter in shape.constraints:
        if name == "minCount":
            failed = [None] if len(values) < parameter else ()
        elif name == "maxCount":
            failed = [None] if len(values) > parameter else ()
        elif name == "hasValue":
            failed = [None] if parameter not in values else ()
        elif name == "equals":  # every value of one path and not the other, either way round (SHACL 4.5.1)
            props = data.out.get(focus) if type(focus) is str else None
            other = list(props.get(parameter, ())) if props else []
            failed = [v for v in values if v not in other] + [v for v in other if v not in values]
        else:
            check = _VALUE_CHECKS[name]
            failed = [value for value in values if not check(parameter, value, data)]
        for value in failed:
            if results is None:
                results = []
            results.append(Result(shape.severity, focus if isinstance(focus, str) else str(focus),
                                  shape.path, value, shape.message or COMPONENTS[name], COMPONENTS[name], shape.id))
    for prop in shape.properties:
        for value in values:
            found = _evaluate(prop, value, data)
            if found:
                results = (results or []) + found
    return results or _NO_RESULTS


def _datatype_ok(datatype: str, value: Term, data: Data) -> bool:
    if not isinstance(value, Lit):
        return False
    if datatype == RDF_LANGSTRING:
        return bool(value.lang)
    if value.lang or value.datatype_iri != datatype:
        return False
    return datatype == XSD_STRING or well_formed(value.value, datatype)


def _class_ok(cls: str, value: Term, data: Data) -> bool:
    return isinstance(value, str) and cls in data.types.get(value, ())


def _text_of(value: Term) -> str:
    return value.value if isinstance(value, Lit) else value


def _node_kind_ok(kind: str, value: Term, data: Data) -> bool:
    local = kind.rsplit("#", 1)[-1]
    is_literal = isinstance(value, Lit)
    return {"IRI": not is_literal, "Literal": is_literal, "BlankNodeOrIRI": not is_literal,
            "IRIOrLiteral": True, "BlankNode": False, "BlankNodeOrLiteral": is_literal}[local]


def _language_ok(languages: list[str], value: Term, data: Data) -> bool:
    if not isinstance(value, Lit) or not value.lang:
        return False
    lang = value.lang.lower()
    return any(lang == wanted or lang.startswith(wanted + "-") or wanted == "*" for wanted in languages)


_VALUE_CHECKS = {
    "datatype": _datatype_ok,
    "class": _class_ok,
    "or": lambda shapes, value, data: any(_conforms(s, value, data) for s in shapes),
    "node": lambda shape, value, data: _conforms(shape, value, data),
    "not": lambda shape, value, data: not _conforms(shape, value, data),
    "pattern": lambda regex, value, data: regex.search(_text_of(value)) is not None,
    "minLength": lambda n, value, data: len(_text_of(value)) >= n,
    "maxLength": lambda n, value, data: len(_text_of(value)) <= n,
    "languageIn": _language_ok,
    "nodeKind": _node_kind_ok,
    "in": lambda members, value, data: value in members,
}
