"""The three dumps of a run parse with pyoxigraph (a strict parser independent of rdflib) and hold one graph."""

from __future__ import annotations

import json

import pyoxigraph
import pytest
from rdflib import Graph
from rdflib.compare import to_isomorphic

from pipeline.record import Record, parse_source
from pipeline.sources import read_sources
from pipeline.vocab import PREFIXES

from pipeline.serialize import DUMPS

from .conftest import dump_triples, seed_facts, seed_files

def oxigraph_triples(path, fmt) -> set:
    with open(path, "rb") as stream:
        return {(q.subject, q.predicate, q.object) for q in pyoxigraph.parse(stream, format=fmt)}


def test_seeds_publish_without_rejects(seeds_release):
    _, report = seeds_release
    assert report.read == len(seed_files()) == seed_facts()["records"]
    assert report.rejected == 0
    assert report.read == report.published + report.rejected


def test_dumps_parse_strictly_and_are_identical(seeds_release):
    out, report = seeds_release
    graphs = [dump_triples((out / dump.name).read_bytes(), dump) for dump in DUMPS]
    assert len(graphs) == len(DUMPS) >= 4 and len(graphs[0]) == report.triples > 2000
    assert all(graph == graphs[0] for graph in graphs)


def test_rdflib_reads_the_same_graph(seeds_release):
    out, _ = seeds_release
    turtle = Graph().parse(out / "articles.ttl", format="turtle")
    jsonld = Graph().parse(out / "articles.jsonld", format="json-ld")
    assert to_isomorphic(turtle) == to_isomorphic(jsonld)


def test_no_blank_nodes_and_no_https_schema(seeds_release):
    out, _ = seeds_release
    for triple in oxigraph_triples(out / "articles.nt", pyoxigraph.RdfFormat.N_TRIPLES):
        for term in triple:
            assert not isinstance(term, pyoxigraph.BlankNode)
            if isinstance(term, pyoxigraph.NamedNode):
                assert not term.value.startswith("https://schema.org/")


def test_chinese_literals_are_tagged_by_their_script(seeds_release):
    from pipeline.scripts import language_tag

    out, _ = seeds_release
    tags = set()
    for _, _, obj in oxigraph_triples(out / "articles.nt", pyoxigraph.RdfFormat.N_TRIPLES):
        if isinstance(obj, pyoxigraph.Literal) and any("\u4e00" <= c <= "\u9fff" for c in obj.value):
            # pyoxigraph lowercases tags on reading; RDF compares them case-insensitively
            assert obj.language == language_tag(obj.value).lower() and obj.language in ("zh", "zh-hans", "zh-hant"), obj
            tags.add(obj.language)
    assert "zh-hans" in tags  # the seeds are simplified


def test_jsonld_stands_alone_and_context_file_matches(seeds_release):
    out, _ = seeds_release
    document = json.loads((out / "articles.jsonld").read_text(encoding="utf-8"))
    context = json.loads((out / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    assert context["@context"]["schema"] == PREFIXES["schema"] == "http://schema.org/"
    assert not any(isinstance(v, str) and v.startswith("http") and k.startswith("@") and k != "@version"
                   for k, v in context["@context"].items())


def test_turtle_uses_prefixes(seeds_release):
    out, _ = seeds_release
    text = (out / "articles.ttl").read_text(encoding="utf-8")
    assert text.startswith("@prefix rdf: ")
    assert "@prefix schema: <http://schema.org/> ." in text
    assert " a schema:Article ;" in text


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_record_parses(path, seeds_release):
    """Every seed parses into a Record (not a Reject, which also carries an id) and is published."""
    (source,) = read_sources([path])
    record = parse_source(source)
    assert isinstance(record, Record) and record.id == path.stem
    _, report = seeds_release
    assert not [r for r in report.rejects if r.file.endswith(f"{path.parent.name}/{path.name}")]
