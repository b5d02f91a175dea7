"""Golden folders: the records in tests/golden/<case>/ must publish exactly the graph in expected.ttl."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic

from pipeline import Options, run

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.ttl").exists())
BASE = "http://example.org/golden/"


def test_every_case_has_input():
    assert len(CASES) >= 12
    for case in CASES:
        assert list((GOLDEN / case).glob("*.txt")), case


@pytest.mark.parametrize("case", CASES)
def test_golden(case, tmp_path):
    report = run([GOLDEN / case], tmp_path / "out", options=Options(base=BASE))
    assert report.rejected == 0, report.rejects
    produced = Graph().parse(tmp_path / "out" / "articles.ttl", format="turtle")
    expected = Graph().parse(GOLDEN / case / "expected.ttl", format="turtle")
    if to_isomorphic(produced) != to_isomorphic(expected):
        _, only_produced, only_expected = graph_diff(produced, expected)
        pytest.fail(
            "graphs differ\nonly produced:\n" + only_produced.serialize(format="nt")
            + "\nonly expected:\n" + only_expected.serialize(format="nt")
        )
