"""The shapes reject hand-made bad graphs and accept the good one they are made from."""

from __future__ import annotations

import pytest
from rdflib import Graph

from pipeline.validate import load_shapes, validate_graph

from .conftest import SHAPES

PREFIXES = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix dc: <http://purl.org/dc/elements/1.1/> .
@prefix schema: <http://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix ex: <http://example.org/x/> .
"""
GOOD = """
ex:w a schema:CreativeWork ; dcterms:identifier "abc123" ; dcterms:title "标题"@zh ;
    dcterms:date "1957-05"^^xsd:gYearMonth ; dcterms:creator ex:p ; dcterms:subject ex:c ; schema:workExample ex:pr ;
    schema:headline "标题"@zh ; schema:name "标题"@zh ; schema:author ex:p ; schema:about ex:c ;
    schema:dateCreated "1957-05"^^xsd:gYearMonth ; schema:inLanguage "zh" .
ex:pr a schema:Article, dcterms:BibliographicResource ; schema:exampleOfWork ex:w ; dcterms:isPartOf ex:b ; dcterms:title "标题"@zh ;
    schema:articleBody "正文"@zh ; dcterms:creator ex:p ; dcterms:subject ex:c ; schema:isPartOf ex:b ;
    schema:headline "标题"@zh ; schema:name "标题"@zh ; schema:author ex:p ; schema:about ex:c ; schema:inLanguage "zh" .
ex:b a schema:Book ; schema:name "书"@zh .
ex:p a schema:Person ; schema:name "某人"@zh .
ex:c a skos:Concept ; skos:prefLabel "标签"@zh ; skos:inScheme ex:s .
ex:s a skos:ConceptScheme .
"""
# a printing in a newspaper's issue of one day (replacing the book of GOOD)
ISSUE = ('ex:b a schema:PublicationIssue ; schema:isPartOf ex:n ; dcterms:isPartOf ex:n . '
         'ex:n a schema:Newspaper ; schema:name "报"@zh .')
ISSUE_DATED = ISSUE.replace("dcterms:isPartOf ex:n .", 'dcterms:isPartOf ex:n ; schema:datePublished "1966-06-06"^^xsd:date .')
# each case: (name, turtle to remove from GOOD, turtle to add) -> at least one violation
BAD = [
    ("work without title", 'dcterms:title "标题"@zh ;\n    dcterms:date', "dcterms:date", ""),
    ("untagged title", None, None, 'ex:w dcterms:title "plain" .'),
    ("ill-typed date", None, None, 'ex:w dcterms:date "1990-03-22" .'),
    ("date as dateTime", None, None, 'ex:w dcterms:date "1990-03-22T00:00:00"^^xsd:dateTime .'),
    ("unsafe identifier", '"abc123"', '"../x"', ""),
    ("two identifiers", None, None, 'ex:w dcterms:identifier "other" .'),
    ("two titles on one work", None, None, 'ex:w dcterms:title "另一个标题"@zh .'),
    ("untagged alternative title", None, None, 'ex:w dcterms:alternative "plain" .'),
    ("creator not an agent", None, None, "ex:w dcterms:creator ex:c ."),
    ("subject not a concept", None, None, "ex:w dcterms:subject ex:p ."),
    ("printing without book", "dcterms:isPartOf ex:b ;", "", ""),
    ("printing in two books", None, None, "ex:pr dcterms:isPartOf ex:b2 . ex:b2 a schema:Periodical ; schema:name \"报\"@zh ."),
    ("printing without body", 'schema:articleBody "正文"@zh ;', "", ""),
    ("two bodies", None, None, 'ex:pr schema:articleBody "另一个"@zh .'),
    ("book without name", 'ex:b a schema:Book ; schema:name "书"@zh .', "ex:b a schema:Book .", ""),
    ("person with two names", None, None, 'ex:p schema:name "别名"@zh .'),
    ("concept without label", 'skos:prefLabel "标签"@zh ;', "", ""),
    ("concept outside the scheme", "skos:inScheme ex:s .", "skos:inScheme ex:nowhere .", ""),
    ("period without end", None, None,
     'ex:w time:hasTime ex:t . ex:t a dcterms:PeriodOfTime ; dcat:startDate "1966"^^xsd:gYear .'),
    ("range not a period", None, None, 'ex:w time:hasTime ex:c .'),
    ("form tag not a concept", None, None, "ex:w dcterms:type ex:p ; schema:genre ex:p ."),
    ("genre without its DCMI twin", None, None, "ex:w schema:genre ex:c ."),
    ("ill-typed publication date", None, None, 'ex:pr schema:datePublished "yesterday" .'),
    ("credit not an organisation", None, None, "ex:pr schema:sourceOrganization ex:p ."),
    ("two citations", None, None, 'ex:pr dcterms:bibliographicCitation "一"@zh, "二"@zh .'),
    ("issue without a day", 'ex:b a schema:Book ; schema:name "书"@zh .', ISSUE, ""),
    ("issue of two newspapers", 'ex:b a schema:Book ; schema:name "书"@zh .', ISSUE_DATED,
     'ex:b schema:isPartOf ex:n2 ; dcterms:isPartOf ex:n2 . ex:n2 a schema:Newspaper ; schema:name "报二"@zh .'),
    ("two verbatim origins", None, None, 'ex:pr dc:source "一"@zh, "二"@zh .'),
]


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(SHAPES)


def graph(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def test_good_graph_conforms(shapes):
    report = validate_graph(graph(GOOD), shapes)
    assert report.conforms and not report.violations, [str(r) for r in report.results]


def test_a_printing_in_a_dated_newspaper_issue_conforms(shapes):
    report = validate_graph(graph(GOOD.replace('ex:b a schema:Book ; schema:name "书"@zh .', ISSUE_DATED)), shapes)
    assert report.conforms and not report.violations, [str(r) for r in report.results]


@pytest.mark.parametrize("name,old,new,extra", BAD, ids=[case[0] for case in BAD])
def test_bad_graph_is_rejected(shapes, name, old, new, extra):
    text = GOOD
    if old is not None:
        assert old in text, f"{name}: fixture text not found"
        text = text.replace(old, new, 1)
    report = validate_graph(graph(text + extra), shapes)
    assert report.violations, f"{name} passed validation"


def test_missing_date_is_only_a_warning(shapes):
    report = validate_graph(graph(GOOD.replace('dcterms:date "1957-05"^^xsd:gYearMonth ;', "")), shapes)
    assert not report.violations
    assert [r.severity for r in report.warnings] == ["Warning"]
    assert "no date" in report.warnings[0].message


@pytest.mark.parametrize("old,new,message", [
    ('schema:articleBody "正文"@zh', 'schema:articleBody ""@zh', "body"),  # regression: was a violation
    ('schema:name "书"@zh', 'schema:name ""@zh', "book name"),
])
def test_empty_body_or_book_name_is_only_a_warning(shapes, old, new, message):
    report = validate_graph(graph(GOOD.replace(old, new)), shapes)
    assert not report.violations, [str(r) for r in report.violations]
    assert len(report.warnings) == 1 and message in report.warnings[0].message
