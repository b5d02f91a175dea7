"""Hand-edited copies of a valid release must be violations, for pyshacl and the builtin engine alike:
the shapes cover the schema.org half as well as the Dublin Core one (tests/mutants/<case>/mutant.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph

from pipeline import Options, run
from pipeline.validate import load_shapes, validate_graph

from .conftest import ROOT, SHAPES

MUTANTS = Path(__file__).parent / "mutants"
CASES = sorted(p.name for p in MUTANTS.iterdir() if (p / "mutant.json").exists())
BASE = "http://example.org/golden/"
SHAPES_GRAPH = load_shapes(SHAPES)


@pytest.fixture(scope="module")
def valid_release(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("mutants") / "out"
    run([ROOT / "tests" / "golden" / "seed"], out, options=Options(base=BASE))
    return (out / "articles.nt").read_text(encoding="utf-8").splitlines()


def subjects(lines: list[str]) -> dict[str, str]:
    """The work and the printing of the one-record release, by role."""
    found = {}
    for quad in pyoxigraph.parse("\n".join(lines).encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES):
        if quad.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
            role = {"http://schema.org/CreativeWork": "work", "http://purl.org/dc/terms/BibliographicResource": "printing"}
            if quad.object.value in role:
                found[role[quad.object.value]] = quad.subject.value
    return found


def test_the_release_they_start_from_is_valid(valid_release):
    graph = Graph().parse(data="\n".join(valid_release), format="nt")
    for engine in ("pyshacl", "builtin"):
        assert not validate_graph(graph, SHAPES_GRAPH, engine=engine).violations


def test_every_case_is_a_folder_with_an_expected_violation():
    assert len(CASES) >= 9


@pytest.mark.parametrize("case", CASES)
def test_mutant_is_a_violation_for_both_engines(case, valid_release):
    mutant = json.loads((MUTANTS / case / "mutant.json").read_text(encoding="utf-8"))
    roles = subjects(valid_release)
    removed = {(f"<{roles[role]}>", f"<{predicate}>") for role, predicate in mutant.get("remove", [])}
    lines = [line for line in valid_release if tuple(line.split(" ", 2)[:2]) not in removed]
    assert len(lines) < len(valid_release) or not removed, "the edit removed nothing"
    lines += [f"<{roles[role]}> <{predicate}> {obj} ." for role, predicate, obj in mutant.get("add", [])]
    graph = Graph().parse(data="\n".join(lines), format="nt")
    role, path, component = mutant["violation"]
    expected = (roles[role], path, component + "ConstraintComponent")
    keys = {}
    for engine in ("pyshacl", "builtin"):
        violations = validate_graph(graph, SHAPES_GRAPH, engine=engine).violations
        keys[engine] = sorted(v.key for v in violations)
        assert expected in {(v.focus, v.path, v.component) for v in violations}, (engine, keys[engine])
    assert keys["pyshacl"] == keys["builtin"]
