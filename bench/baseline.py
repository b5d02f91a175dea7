"""The straightforward path, for comparison: every record into one rdflib Graph, pyshacl over the whole
graph, rdflib's serializers. Same parser, mapping and shapes as the pipeline.

    python bench/baseline.py CORPUS OUT"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyshacl
from rdflib import Graph

from pipeline.iris import Minter
from pipeline.mapping import Mapper
from pipeline.record import Record, parse
from pipeline.sources import discover, read_sources
from pipeline.terms import to_rdflib
from pipeline.validate import load_shapes
from pipeline.vocab import DEFAULT_BASE, PREFIXES


def main(corpus: str, out: str) -> None:
    steps: dict[str, float] = {}
    clock = time.monotonic()

    def step(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        steps[name] = now - clock
        clock = now

    mapper = Mapper(Minter(DEFAULT_BASE), lang="zh")
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    records = 0
    for record in parse(read_sources(discover([corpus]))):
        if isinstance(record, Record):
            records += 1
            for triple in mapper.triples(record):
                graph.add(to_rdflib(triple))
    step("parse+map")
    conforms, _, _ = pyshacl.validate(graph, shacl_graph=load_shapes(), inference="none", allow_warnings=True)
    step("pyshacl")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, fmt in (("articles.nt", "nt"), ("articles.jsonld", "json-ld"), ("articles.ttl", "turtle")):
        graph.serialize(folder / name, format=fmt, encoding="utf-8")
        step(fmt)
    print(f"{records} records, {len(graph)} triples, conforms={conforms}; seconds: "
          + ", ".join(f"{name} {seconds:.1f}" for name, seconds in steps.items()))


if __name__ == "__main__":
    main(*sys.argv[1:3])
