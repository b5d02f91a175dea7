"""The benchmark's own helpers that could drift from the pipeline: the tables morph-kgc reads (bench/rml)
and the mapping that reads them. Timings are never asserted here (bench/README.md has them)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

from rdflib import BNode, Graph, Namespace

from pipeline.record import Record, parse_source
from pipeline.sources import read_sources

ROOT = Path(__file__).resolve().parent.parent
RML_DIR = ROOT / "bench" / "rml"
RML = Namespace("http://w3id.org/rml/")
sys.path.insert(0, str(RML_DIR))
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402
from prepare import TABLES  # noqa: E402


def _table(folder: Path, name: str) -> list[dict]:
    with open(folder / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_tables_hold_every_record_its_authors_and_tags(tmp_path):
    corpus, tables = tmp_path / "corpus", tmp_path / "tables"
    generate(corpus, 40, 5)
    subprocess.run([sys.executable, str(RML_DIR / "prepare.py"), str(corpus), str(tables), "--workers", "2"],
                   check=True, capture_output=True)
    records = [parse_source(s) for s in read_sources(sorted(corpus.glob("*/*.txt")))]
    records = [r for r in records if isinstance(r, Record)]
    articles = _table(tables, "articles")
    assert [(row["id"], row["title"], row["body"]) for row in articles] == [(r.id, r.title, r.body) for r in records]
    assert len(_table(tables, "authors")) == sum(len(r.authors) for r in records)
    assert [row["tag"] for row in _table(tables, "tags")] == [tag for r in records for tag in r.tags]
    assert not list(tables.glob("part*")), "the workers' parts are joined and removed"


def test_the_mapping_reads_only_columns_its_table_has():
    graph = Graph().parse(RML_DIR / "mapping.rml.ttl", format="turtle")
    maps = list(graph.subjects(RML.logicalSource, None))
    assert len(maps) == 10
    for triples_map in maps:
        source = graph.value(graph.value(triples_map, RML.logicalSource), RML.source)
        columns = TABLES[str(source).removesuffix(".csv")]
        used, nodes = set(), [triples_map]
        while nodes:  # the map's blank nodes: its subject, predicate-object and object maps
            node = nodes.pop()
            nodes.extend(o for o in graph.objects(node, None) if isinstance(o, BNode))
            for reference in graph.objects(node, RML.reference):
                used.add(str(reference))
            for template in graph.objects(node, RML.template):
                used.update(re.findall(r"\{(\w+)\}", str(template)))
        assert used and used <= set(columns), (triples_map, used - set(columns))
