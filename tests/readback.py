"""Reading a record's fields back out of a published graph, to prove nothing was lost on the way in."""

from __future__ import annotations

from rdflib import Graph, URIRef

from pipeline.dates import PartialDate
from pipeline.iris import Minter
from pipeline.record import Record
from pipeline.vocab import DC as _DC, DCAT as _DCAT, DCTERMS as _DCTERMS, SCHEMA as _SCHEMA, SKOS as _SKOS


class _Terms:
    """rdflib URIRefs for a namespace of plain IRIs, for looking things up in an rdflib Graph."""

    def __init__(self, namespace):
        self.namespace = namespace

    def __getattr__(self, name):
        return URIRef(getattr(self.namespace, name))


DC, DCAT, DCTERMS, SCHEMA, SKOS = (_Terms(n) for n in (_DC, _DCAT, _DCTERMS, _SCHEMA, _SKOS))


def date_from_literal(literal) -> PartialDate:
    parts = [int(p) for p in str(literal).split("-")]
    return PartialDate(*(parts + [0] * (3 - len(parts))))


def read_back(graph: Graph, minter: Minter, record: Record) -> dict:
    """The record's fields as the graph holds them for its printing."""
    printing = URIRef(minter.printing(record.id, record.book, record.book_author))
    work = graph.value(printing, SCHEMA.exampleOfWork)
    book = graph.value(printing, DCTERMS.isPartOf)
    period = graph.value(printing, DCTERMS.temporal)
    if period is not None:
        dates = (date_from_literal(graph.value(period, DCAT.startDate)),
                 date_from_literal(graph.value(period, DCAT.endDate)))
    else:
        dates = tuple(sorted(date_from_literal(d) for d in graph.objects(printing, DCTERMS.date)))
    return {
        "id": str(graph.value(work, DCTERMS.identifier)),
        "title": str(graph.value(printing, DCTERMS.title)),
        "date_text": str(graph.value(printing, DC.date) or ""),
        "dates": dates,
        "is_range": period is not None,
        "authors": _names(graph, graph.objects(printing, DCTERMS.creator), SCHEMA.name),
        "author_text": str(graph.value(printing, DC.creator) or ""),
        "origin": str(graph.value(printing, DC.source) or ""),
        "tags": _names(graph, graph.objects(printing, DCTERMS.subject), SKOS.prefLabel),
        "book": str(graph.value(book, SCHEMA.name)),
        "book_author": str(graph.value(book, DC.creator) or ""),
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
        "language": {lang},
    }


def _names(graph: Graph, nodes, predicate: URIRef) -> set[str]:
    return {str(graph.value(node, predicate)) for node in nodes}
