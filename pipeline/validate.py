"""SHACL validation with pyshacl against the shapes in shapes/ (stage 4 of a run).
A batch of records is validated as one graph; each result is traced back to the records it concerns."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import pyshacl
from rdflib import Graph, Literal, URIRef

from .mapping import Triple
from .problems import Problem, Reject
from .record import LABEL_OF, Record
from .vocab import DC, DCTERMS, SCHEMA, SH, SKOS

# the record field a SHACL result path points at, so messages name the field
FIELD_OF_PATH = {
    DCTERMS.identifier: LABEL_OF["id"],
    DCTERMS.title: LABEL_OF["title"],
    DCTERMS.date: LABEL_OF["dates"],
    DCTERMS.temporal: LABEL_OF["dates"],
    DC.date: LABEL_OF["dates"],
    DCTERMS.creator: LABEL_OF["authors"],
    DC.source: LABEL_OF["origin"],
    DCTERMS.subject: LABEL_OF["tags"],
    SKOS.prefLabel: LABEL_OF["tags"],
    DCTERMS.isPartOf: LABEL_OF["book"],
    DC.creator: LABEL_OF["book_author"],
    SCHEMA.articleBody: LABEL_OF["body"],
    DCTERMS.description: LABEL_OF["description"],
}
# node shapes without a single path, by the field they are about
FIELD_OF_SHAPE = {"urn:zh-articles:shapes#WorkDated": LABEL_OF["dates"]}
DEFAULT_BATCH = 200


class ShapesError(Exception):
    """The shapes folder is missing or does not parse."""


def default_shapes_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "shapes"


def load_shapes(folder: str | Path | None = None) -> Graph:
    """Every *.ttl file of the shapes folder as one graph."""
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


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, in plain values."""

    severity: str  # 'Violation', 'Warning' or 'Info'
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str | None = None

    @property
    def field(self) -> str | None:
        if self.path:
            return FIELD_OF_PATH.get(URIRef(self.path))
        return FIELD_OF_SHAPE.get(self.shape or "")

    def __str__(self) -> str:
        path = f" {self.path}" if self.path else ""
        value = f" (value: {self.value[:60]!r})" if self.value is not None else ""
        return f"{self.severity}: <{self.focus}>{path}: {self.message}{value}"


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


def validate_graph(data: Graph, shapes: Graph) -> ValidationReport:
    """SHACL Core validation of a whole graph; no inference, so only what is published counts."""
    conforms, results_graph, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True,
    )
    return ValidationReport(bool(conforms), tuple(sorted(_results(results_graph), key=_result_order)))


def _result_order(result: Result) -> tuple:
    return (result.focus, result.path or "", result.message, result.value or "")


def _results(graph: Graph) -> Iterator[Result]:
    for node in graph.subjects(SH.resultSeverity, None):
        severity = graph.value(node, SH.resultSeverity)
        messages = sorted(str(m) for m in graph.objects(node, SH.resultMessage))
        constraint = graph.value(node, SH.sourceConstraintComponent)
        value = graph.value(node, SH.value)
        path = graph.value(node, SH.resultPath)
        yield Result(
            severity=str(severity).rsplit("#", 1)[-1],
            focus=str(graph.value(node, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if isinstance(value, Literal | URIRef) else None,
            message="; ".join(messages) or str(constraint).rsplit("#", 1)[-1],
            shape=str(graph.value(node, SH.sourceShape)),
        )


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Validator:
    """Stage: validates mapped records in batches; a record with a violation becomes a Reject."""

    def __init__(self, shapes: Graph, *, batch_size: int = DEFAULT_BATCH, strict: bool = False):
        self.shapes = shapes
        self.batch_size = batch_size
        self.strict = strict

    def __call__(self, items: Iterable) -> Iterator:
        for batch in batched(items, self.batch_size):
            yield from self._batch(batch)

    def _batch(self, batch: list) -> Iterator:
        mapped = [item for item in batch if not isinstance(item, Reject)]
        by_focus = self._results_by_focus(mapped)
        for item in batch:
            if isinstance(item, Reject):
                yield item
                continue
            record, triples = item
            subjects = {s for s, _, _ in triples}
            results = sorted({r for focus in subjects for r in by_focus.get(str(focus), ())}, key=_result_order)
            yield self._outcome(record, triples, results)

    def _results_by_focus(self, mapped: list) -> dict[str, list[Result]]:
        if not mapped:
            return {}
        graph = Graph()
        for _, triples in mapped:
            for triple in triples:
                graph.add(triple)
        by_focus: dict[str, list[Result]] = {}
        for result in validate_graph(graph, self.shapes).results:
            by_focus.setdefault(result.focus, []).append(result)
        return by_focus

    def _outcome(self, record: Record, triples: list[Triple], results: list[Result]):
        problems = [
            Problem(record.file, record.id, "validate", f"{r.message} (<{r.focus}>)", r.field,
                    "error" if r.severity == "Violation" else "warning")
            for r in results
        ]
        warnings = list(record.warnings) + [p for p in problems if p.severity == "warning"]
        errors = [p for p in problems if p.severity == "error"]
        if self.strict and warnings:
            errors += [Problem(p.file, p.id, p.stage, p.message + " (--strict)", p.field) for p in warnings]
        if errors:
            return Reject(record.file, record.id, tuple(errors + [w for w in warnings if not self.strict]))
        return Published(record, triples, tuple(warnings))


@dataclass(frozen=True)
class Published:
    """A record that passed validation, with its triples and any warnings."""

    record: Record
    triples: list
    warnings: tuple[Problem, ...]
