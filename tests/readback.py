"""Reading a record's fields back out of a published graph, to prove nothing was lost on the way in."""

from __future__ import annotations

import unicodedata

from rdflib import Graph, URIRef

from pipeline.dates import PartialDate
from pipeline.iris import Minter
from pipeline.record import LABEL_OF, Record
from pipeline.scripts import language_tag
from pipeline.vocab import (DC as _DC, DCAT as _DCAT, DCTERMS as _DCTERMS, RDF as _RDF, SCHEMA as _SCHEMA,
                            SKOS as _SKOS, TIME as _TIME)


class _Terms:
    """rdflib URIRefs for a namespace of plain IRIs, for looking things up in an rdflib Graph."""

    def __init__(self, namespace):
        self.namespace = namespace

    def __getattr__(self, name):
        return URIRef(getattr(self.namespace, name))


DC, DCAT, DCTERMS, RDF, SCHEMA, SKOS, TIME = (_Terms(n) for n in (_DC, _DCAT, _DCTERMS, _RDF, _SCHEMA, _SKOS, _TIME))


def date_from_literal(literal) -> PartialDate:
    parts = [int(p) for p in str(literal).split("-")]
    return PartialDate(*(parts + [0] * (3 - len(parts))))


def read_back(graph: Graph, minter: Minter, record: Record) -> dict:
    """The record's fields as the graph holds them for its printing."""
    printing = URIRef(minter.printing_of(record))
    work = graph.value(printing, SCHEMA.exampleOfWork)
    book = graph.value(printing, DCTERMS.isPartOf)
    if (book, RDF.type, SCHEMA.PublicationIssue) in graph:  # a newspaper printing is in the day's issue
        book = graph.value(book, DCTERMS.isPartOf)
    period = graph.value(printing, TIME.hasTime)
    if period is not None:
        dates = (date_from_literal(graph.value(period, DCAT.startDate)),
                 date_from_literal(graph.value(period, DCAT.endDate)))
    else:
        dates = tuple(sorted(date_from_literal(d) for d in graph.objects(printing, DCTERMS.date)))
    tags = list(graph.objects(printing, DCTERMS.subject)) + list(graph.objects(printing, DCTERMS.type))
    written = _written_variants(graph, printing)
    return {
        "id": str(graph.value(work, DCTERMS.identifier)),
        "title": str(graph.value(printing, DCTERMS.title)),
        "date_text": str(graph.value(printing, DC.date) or ""),
        "dates": dates,
        "is_range": period is not None,
        "authors": _as_written(_names(graph, graph.objects(printing, DCTERMS.creator), SCHEMA.name), written, LABEL_OF["authors"]),
        "author_text": str(graph.value(printing, DC.creator) or ""),
        "origin": str(graph.value(printing, DC.source) or ""),
        "tags": _as_written(_names(graph, tags, SKOS.prefLabel), written, LABEL_OF["tags"]),
        "book": _one_as_written(str(graph.value(book, SCHEMA.name)), written, LABEL_OF["book"]),
        "book_author": _one_as_written(str(graph.value(book, DC.creator) or ""), written, LABEL_OF["book_author"]),
        "body": str(graph.value(printing, SCHEMA.articleBody)),
        "description": str(graph.value(printing, DCTERMS.description) or ""),
        "language": {l.language for l in graph.objects(printing, DCTERMS.title)},
    }


def expected_fields(record: Record, lang: str) -> dict:
    return {
        "id": record.id, "title": record.title, "date_text": record.date_text,
        "dates": record.dates if record.is_range else tuple(sorted(record.dates)),
        "is_range": record.is_range,
        "authors": set(record.authors), "author_text": record.author_text if record.authors else "",
        "origin": record.origin, "tags": set(record.tags), "book": record.book,
        "book_author": record.book_author, "body": record.body, "description": record.description,
        "language": {language_tag(record.title) if lang == "auto" else lang},
    }


def _written_variants(graph: Graph, printing) -> dict[str, list[str]]:
    """Names the printing wrote otherwise than their shared entity's normal form (label -> as written)."""
    found: dict[str, list[str]] = {}
    for node in graph.objects(printing, _SCHEMA_ADDITIONAL):
        found.setdefault(str(graph.value(node, _SCHEMA_NAME)), []).append(str(graph.value(node, _SCHEMA_VALUE)))
    return found


def _as_written(names: set[str], written: dict[str, list[str]], label: str) -> set[str]:
    """An entity's normal-form names, with the printing's own way of writing them put back."""
    names = set(names)
    for variant in written.get(label, []):
        names.discard(unicodedata.normalize("NFC", variant))
        names.add(variant)
    return names


def _one_as_written(name: str, written: dict[str, list[str]], label: str) -> str:
    return next(iter(_as_written({name}, written, label))) if written.get(label) else name


def _names(graph: Graph, nodes, predicate: URIRef) -> set[str]:
    return {str(graph.value(node, predicate)) for node in nodes}


_SCHEMA_ADDITIONAL = URIRef(_SKOS.note)
_SCHEMA_NAME = URIRef(_SCHEMA.name)
_SCHEMA_VALUE = URIRef(_SCHEMA.value)
