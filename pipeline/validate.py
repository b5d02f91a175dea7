"""SHACL validation of each record against the shapes in shapes/ (stage 4 of a run).
Two engines give the same results: the builtin one (shacl.py, per record) and pyshacl (per batch)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .problems import PipelineError, Problem, Reject
from .mapping import PREDICATES_OF_FIELD
from .record import LABEL_OF, Record
from .shacl import Result, across_records, compile_shapes
from .shacl import validate as builtin_validate
from .terms import XSD_STRING, Triple, from_rdflib, to_rdflib
from .vocab import SH

# the record field a SHACL result path points at, so messages name the field
FIELD_OF_PATH = {predicate: LABEL_OF[attribute] for attribute, predicates in PREDICATES_OF_FIELD.items()
                 for predicate in predicates}
# node shapes without a single path, by the field they are about
FIELD_OF_SHAPE = {"urn:zh-articles:shapes#WorkDated": LABEL_OF["dates"]}
ENGINES = ("builtin", "pyshacl")
DEFAULT_ENGINE = "builtin"
PYSHACL_BATCH = 200  # records pyshacl validates at once (it is slow to start)


class ShapesError(PipelineError):
    """The shapes folder is missing, does not parse, or uses what the chosen engine cannot run."""


def default_shapes_dir() -> Path:
    from .resources import shapes_dir

    return shapes_dir()


def load_shapes(folder: str | Path | None = None):
    """Every *.ttl file of the shapes folder as one rdflib graph."""
    from rdflib import Graph

    folder = Path(folder) if folder else default_shapes_dir()
    files = sorted(folder.glob("*.ttl")) if folder.is_dir() else []
    if not files:
        raise ShapesError(f"no SHACL shapes (*.ttl) in '{folder}'; pass --shapes DIR")
    shapes = Graph()
    for file in files:
        try:
            shapes.parse(file, format="turtle")
        except Exception as error:  # rdflib raises many kinds; all mean the same here
            raise ShapesError(f"shapes file '{file}' does not parse: {error}") from error
    return shapes


def shacl_code(result: Result) -> str:
    """shacl.MinCount for a sh:MinCountConstraintComponent result, and so on."""
    return "shacl." + result.component.removesuffix("ConstraintComponent")


def field_of(result: Result) -> str | None:
    """The record field a SHACL result is about, so that messages name it."""
    if result.path:
        return FIELD_OF_PATH.get(result.path)
    return FIELD_OF_SHAPE.get(result.shape or "")


@dataclass(frozen=True)
class ValidationReport:
    conforms: bool
    results: tuple[Result, ...]

    @property
    def violations(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity != "Violation")


# --------------------------------------------------------------------------- pyshacl

def pyshacl_validate(data, shapes) -> ValidationReport:
    """SHACL Core validation of an rdflib graph with pyshacl; no inference, so only what is published counts."""
    import pyshacl

    _, results_graph, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True,
    )
    results = tuple(sorted(_pyshacl_results(results_graph), key=lambda r: r.key))
    return ValidationReport(not any(r.severity == "Violation" for r in results), results)


def _pyshacl_results(graph) -> Iterator[Result]:
    """The report's own results (sh:result of the sh:ValidationReport), not the nested sh:detail results
    that sh:node and friends carry: those explain a result, they are not results of their own."""
    from rdflib import Literal, URIRef

    for node in graph.objects(None, URIRef(SH.result)):
        messages = sorted(str(m) for m in graph.objects(node, URIRef(SH.resultMessage)))
        component = str(graph.value(node, URIRef(SH.sourceConstraintComponent))).rsplit("#", 1)[-1]
        path = graph.value(node, URIRef(SH.resultPath))
        value = graph.value(node, URIRef(SH.value))
        yield Result(
            severity=str(graph.value(node, URIRef(SH.resultSeverity))).rsplit("#", 1)[-1],
            focus=str(graph.value(node, URIRef(SH.focusNode))),
            path=str(path) if isinstance(path, URIRef) else None,
            value=from_rdflib(value) if isinstance(value, Literal | URIRef) else None,
            message="; ".join(messages) or component,
            component=component,
            shape=str(graph.value(node, URIRef(SH.sourceShape))),
        )


def validate_graph(data, shapes, *, engine: str = "pyshacl") -> ValidationReport:
    """Validate an rdflib graph (pipeline validate); the builtin engine needs IRIs and literals only."""
    if engine == "pyshacl":
        return pyshacl_validate(data, shapes)
    from .shacl import UnsupportedShapes

    try:
        compiled = compile_shapes(shapes)
    except UnsupportedShapes as error:
        raise ShapesError(str(error)) from error
    triples = [tuple(from_rdflib(t) for t in triple) for triple in data]
    results = tuple(sorted(builtin_validate(triples, compiled), key=lambda r: r.key))
    return ValidationReport(not any(r.severity == "Violation" for r in results), results)


# --------------------------------------------------------------------------- the stage

@dataclass(frozen=True)
class Validated:
    """A record that passed validation, with its triples and any warnings."""

    record: Record
    triples: list
    warnings: tuple[Problem, ...]


class Validator:
    """Stage: validates mapped records; a record with a violation becomes a Reject.

    The builtin engine validates each record's own graph. pyshacl validates batches (it is slow to start),
    split so that no two records of one article share a batch: each record's results are then exactly
    those of its own graph, since shared entities (agents, books, tags) have identical triples."""

    def __init__(self, shapes, *, engine: str = DEFAULT_ENGINE, batch_size: int = PYSHACL_BATCH,
                 strict: bool = False):
        if engine not in ENGINES:
            raise ShapesError(f"unknown validator {engine!r}; choose one of {', '.join(ENGINES)}")
        from rdflib import URIRef

        from .shacl import UnsupportedShapes

        self.shapes = shapes
        self.engine = engine
        self.batch_size = batch_size
        self.strict = strict
        # predicates whose objects a shape targets (sh:targetObjectsOf): whether a node is such a target
        # shows only in other nodes' triples, so batches record it for the release-level check
        self.object_targets = frozenset(str(o) for o in shapes.objects(None, URIRef(SH.targetObjectsOf)))
        try:
            self.compiled = compile_shapes(shapes) if engine == "builtin" else None
            self._across = across_records(self.compiled) if self.compiled is not None else None
        except UnsupportedShapes as error:
            raise ShapesError(str(error)) from error

    def across(self, triples: list[Triple], objects_of: dict[str, set[str]]) -> list[Result]:
        """The release-level check: results on nodes that several records describe, which no record's own
        graph could show (two names once merged, say). triples: those nodes' merged triples."""
        from .shacl import ACROSS_RECORDS, COMPONENTS

        if self.engine == "builtin":
            return builtin_validate(triples, self._across, objects_of=objects_of)
        from rdflib import Graph

        graph = Graph()
        referrer = "urn:zh-articles:another-record"  # stands for the records that point at these nodes
        for triple in triples:
            graph.add(to_rdflib(triple))
        for predicate, nodes in objects_of.items():
            for node in nodes:
                graph.add(to_rdflib((referrer, predicate, node)))
        wanted = {COMPONENTS[name] for name in ACROSS_RECORDS} | {COMPONENTS["not"]}
        shared = {s for s, _, _ in triples}
        return [r for r in pyshacl_validate(graph, self.shapes).results if r.component in wanted and r.focus in shared]

    def __call__(self, items: Iterable) -> Iterator:
        if self.engine == "builtin":
            for item in items:
                if isinstance(item, Reject):
                    yield item
                else:
                    record, triples = item
                    results = builtin_validate(triples, self.compiled)
                    yield self._outcome(record, triples, sorted(set(results), key=lambda r: r.key))
            return
        batch: list = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                yield from self._pyshacl_batch(batch)
                batch = []
        yield from self._pyshacl_batch(batch)

    def _pyshacl_batch(self, batch: list) -> Iterator:
        mapped = [item for item in batch if not isinstance(item, Reject)]
        by_record: dict[int, list[Result]] = {}
        for group in _without_shared_articles(mapped):
            by_focus = self._pyshacl_by_focus([mapped[i] for i in group])
            for index in group:
                subjects = {s for s, _, _ in mapped[index][1]}
                by_record[index] = sorted({r for f in subjects for r in by_focus.get(f, ())}, key=lambda r: r.key)
        index = 0
        for item in batch:
            if isinstance(item, Reject):
                yield item
                continue
            record, triples = item
            yield self._outcome(record, triples, by_record[index])
            index += 1

    def _pyshacl_by_focus(self, mapped: list) -> dict[str, list[Result]]:
        from rdflib import Graph

        graph = Graph()
        for _, triples in mapped:
            for triple in triples:
                graph.add(to_rdflib(triple))
        by_focus: dict[str, list[Result]] = {}
        for result in pyshacl_validate(graph, self.shapes).results:
            by_focus.setdefault(result.focus, []).append(result)
        return by_focus

    def _outcome(self, record: Record, triples: list[Triple], results: list[Result]):
        problems = [
            Problem(record.file, record.id, "validate", f"{r.message} (<{r.focus}>)", field_of(r),
                    "error" if r.severity == "Violation" else "warning", shacl_code(r))
            for r in results
        ]
        warnings = list(record.warnings) + [p for p in problems if p.severity == "warning"]
        errors = [p for p in problems if p.severity == "error"]
        if self.strict and warnings:
            errors += [Problem(p.file, p.id, p.stage, p.message + " (--strict)", p.field, code="strict.warning")
                       for p in warnings]
        if errors:
            return Reject(record.file, record.id, tuple(errors + [w for w in warnings if not self.strict]))
        return Validated(record, triples, tuple(warnings))


def _without_shared_articles(mapped: list) -> list[list[int]]:
    """Indices grouped so that no group holds two records with the same id."""
    groups: list[tuple[set[str], list[int]]] = []
    for index, (record, _) in enumerate(mapped):
        for ids, members in groups:
            if record.id not in ids:
                ids.add(record.id)
                members.append(index)
                break
        else:
            groups.append(({record.id}, [index]))
    return [members for _, members in groups]


# --------------------------------------------------------------------------- reading RDF files

class ParseFailed(PipelineError):
    """An RDF file cannot be read; the message names the file and where."""


# file suffix (after an optional .gz) -> pyoxigraph format name
RDF_SUFFIXES = {".ttl": "TURTLE", ".nt": "N_TRIPLES", ".nq": "N_QUADS", ".trig": "TRIG", ".jsonld": "JSON_LD",
                ".json": "JSON_LD", ".rdf": "RDF_XML", ".xml": "RDF_XML", ".owl": "RDF_XML", ".n3": "N3"}
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s*)?(\S+)\s+(SYSTEM\b|PUBLIC\b)?\s*(\"[^\"]*\"|'[^']*')", re.DOTALL)
_REFERENCE = re.compile(rb"&([A-Za-z_][\w.-]*);")
MAX_EXPANSION = 16  # entity references may make an RDF/XML file at most this many times larger (+ 1 MB)


def read_rdf(path: Path):
    """One RDF file as an rdflib graph, parsed by pyoxigraph: linear in the file's size, nothing fetched
    (a remote JSON-LD context is an error, not a request) and no entity expansion beyond a bound."""
    import gzip

    import pyoxigraph
    from rdflib import Graph

    path = Path(path)
    suffixes = path.suffixes[-2:] if path.suffix == ".gz" else path.suffixes[-1:]
    name = suffixes[0] if suffixes else ""
    if name not in RDF_SUFFIXES:
        raise ParseFailed(f"{path}: unknown RDF file type '{name or path.name}'; name it "
                          f"{', '.join(sorted(RDF_SUFFIXES))} (optionally .gz)")
    fmt = getattr(pyoxigraph.RdfFormat, RDF_SUFFIXES[name])
    opener = gzip.open if path.suffix == ".gz" else open
    if fmt == pyoxigraph.RdfFormat.RDF_XML:
        with opener(path, "rb") as stream:
            _check_entities(path, stream)
    graph = Graph()
    add = graph.add
    try:
        with opener(path, "rb") as stream:
            for quad in pyoxigraph.parse(stream, format=fmt, base_iri=path.resolve().as_uri()):
                add((_rdflib(quad.subject), _rdflib(quad.predicate), _rdflib(quad.object)))
    except SyntaxError as error:
        if "LoadDocumentCallback" in str(error):
            raise ParseFailed(f"{path}: its @context is a remote document; contexts are never fetched "
                              "(that would send requests, or read local files, on the file's say-so). Inline the "
                              "context") from None
        raise ParseFailed(f"{path}: {error}") from None
    except (OSError, EOFError, ValueError) as error:  # gzip and decoding errors
        raise ParseFailed(f"{path}: cannot be read ({error})") from None
    except RecursionError:
        raise ParseFailed(f"{path}: nested too deeply to read") from None
    return graph


def _rdflib(term):
    import pyoxigraph
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == XSD_STRING else URIRef(datatype))
    raise ParseFailed(f"RDF-star triple terms are not supported here: {term}")


def _check_entities(path: Path, stream) -> None:
    """Entity declarations of an RDF/XML file: only flat internal ones (namespace abbreviations), and all
    their references together may not blow the file up (the 'billion laughs')."""
    head = stream.read(1 << 20)
    doctype_end = head.find(b"]>") if b"<!DOCTYPE" in head else -1
    declarations = _ENTITY.findall(head[:doctype_end] if doctype_end >= 0 else b"")
    if not declarations:
        return
    values: dict[bytes, int] = {}
    for parameter, entity, external, value in declarations:
        if parameter or external:
            raise ParseFailed(f"{path}: declares a {'parameter' if parameter else 'external'} entity "
                              f"'{entity.decode(errors='replace')}'; refused (it could read other files or expand "
                              "without bound)")
        if b"&" in value or b"%" in value:
            raise ParseFailed(f"{path}: entity '{entity.decode(errors='replace')}' refers to other entities; refused "
                              "(nested entities can expand exponentially)")
        values[entity] = len(value) - 2
    size, expansion = 0, 0
    data = head
    while data:
        size += len(data)
        for match in _REFERENCE.finditer(data):  # a reference cut at a chunk edge is missed: the bound is loose
            expansion += values.get(match.group(1), 0)
        data = stream.read(1 << 20)
    if expansion > MAX_EXPANSION * size + (1 << 20):
        raise ParseFailed(f"{path}: its entity references would expand it to {expansion:,} bytes, over "
                          f"{MAX_EXPANSION}x its size; refused")
