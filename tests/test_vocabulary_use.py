"""Every property is used as its vocabulary defines it: schema.org's domainIncludes and rangeIncludes, DCMI's
rdfs:domain and rdfs:range, read from the published vocabulary files (npm: @vocabulary/*, see the Makefile)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyoxigraph
import pytest

from pipeline import Options, run

from .conftest import BASE, ROOT, SEEDS

VOCABULARIES = ROOT / ".venv" / "vocabularies"
SCHEMA, DCTERMS = "http://schema.org/", "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
# schema.org's data types a literal of each datatype is an instance of (schema.org/DataType)
LITERAL_TYPES = {
    XSD + "date": {"Date", "Text"}, XSD + "gYearMonth": {"Date", "Text"}, XSD + "gYear": {"Date", "Text"},
    XSD + "string": {"Text", "Language"}, "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString": {"Text"},
}


class Vocabulary:
    """Classes with their superclasses, and each property's allowed domains and ranges, of one file."""

    def __init__(self, path: Path, domain: str, range_: str):
        if not path.exists():
            pytest.fail(f"{path} is missing: `make test` fetches the published vocabularies (npm pack)")
        self.supers: dict[str, set[str]] = defaultdict(set)
        self.domains: dict[str, set[str]] = defaultdict(set)
        self.ranges: dict[str, set[str]] = defaultdict(set)
        self.terms: set[str] = set()
        for quad in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_QUADS):
            s, p, o = quad.subject.value, quad.predicate.value, quad.object.value
            self.terms.add(s)
            if p == RDFS + "subClassOf":
                self.supers[s].add(o)
            elif p == domain:
                self.domains[s].add(o)
            elif p == range_:
                self.ranges[s].add(o)

    def ancestry(self, cls: str) -> set[str]:
        seen, todo = {cls}, [cls]
        while todo:
            for parent in self.supers.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen


@pytest.fixture(scope="module")
def schema() -> Vocabulary:
    return Vocabulary(VOCABULARIES / "schema.nq", SCHEMA + "domainIncludes", SCHEMA + "rangeIncludes")


@pytest.fixture(scope="module")
def dcterms() -> Vocabulary:
    return Vocabulary(VOCABULARIES / "dcterms.nq", RDFS + "domain", RDFS + "range")


@pytest.fixture(scope="module")
def graph(tmp_path_factory) -> list[tuple]:
    """The seeds, every golden folder and the bad-input fixtures (unknown labels, variant names) in one
    release: every kind of container, date, source and extra field."""
    out = tmp_path_factory.mktemp("vocabulary") / "out"
    report = run([SEEDS, *sorted(p for p in (ROOT / "tests" / "golden").iterdir() if p.is_dir()),
                  ROOT / "tests" / "fixtures" / "bad"], out, options=Options(base=BASE))
    assert report.published > 90
    return [(q.subject, q.predicate, q.object) for q in
            pyoxigraph.parse(path=str(out / "articles.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES)]


def _types(graph) -> dict[str, set[str]]:
    types = defaultdict(set)
    for s, p, o in graph:
        if p.value == RDF_TYPE:
            types[s.value].add(o.value)
    return types


def test_every_schema_org_property_is_used_within_its_domain_and_range(schema, graph):
    types = _types(graph)
    assert SCHEMA + "PropertyValue" in {t for ts in types.values() for t in ts}  # extra fields are in it
    outside = set()
    for s, p, o in graph:
        if not p.value.startswith(SCHEMA):
            continue
        assert p.value in schema.terms, f"{p.value} is not a schema.org term"
        subject_classes = {c for t in types[s.value] for c in schema.ancestry(t)}
        if not subject_classes & schema.domains[p.value]:
            outside.add(("domain", p.value, tuple(sorted(types[s.value]))))
        allowed = {r[len(SCHEMA):] for r in schema.ranges[p.value]}
        if isinstance(o, pyoxigraph.Literal):
            fits = LITERAL_TYPES.get(o.datatype.value, set()) & allowed
        else:
            object_classes = {c[len(SCHEMA):] for t in types[o.value] for c in schema.ancestry(t)}
            fits = object_classes & allowed or "URL" in allowed
        if not fits:
            outside.add(("range", p.value, str(o)[:60]))
    assert not outside, sorted(outside)


def test_every_dcmi_term_is_used_within_its_domain_and_range(dcterms, graph):
    types = _types(graph)
    outside = set()
    for s, p, o in graph:
        if not p.value.startswith(DCTERMS):
            continue
        assert p.value in dcterms.terms, f"{p.value} is not a DCMI term"
        for domain in dcterms.domains[p.value]:
            if not any(domain in dcterms.ancestry(t) for t in types[s.value]):
                outside.add(("domain", p.value, tuple(sorted(types[s.value]))))
        for range_ in dcterms.ranges[p.value]:
            if range_ == RDFS + "Literal" and not isinstance(o, pyoxigraph.Literal):
                outside.add(("range", p.value, "not a literal"))
    assert not outside, sorted(outside)


def test_the_check_finds_a_property_outside_its_domain(schema):
    """The test above can fail: schema:articleBody on a bare CreativeWork (what printings were)."""
    assert not schema.ancestry(SCHEMA + "CreativeWork") & schema.domains[SCHEMA + "articleBody"]
    assert schema.ancestry(SCHEMA + "NewsArticle") & schema.domains[SCHEMA + "articleBody"]
    assert not schema.ancestry(SCHEMA + "Article") & schema.domains[SCHEMA + "additionalProperty"]
