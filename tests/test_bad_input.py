"""Every bad-input case in tests/fixtures/bad/<case>/ gets the outcome its expect.json names.

A case is a folder of input files and expect.json: how many records are published and rejected, the
problems that must be reported (severity, stage, field and stable code, never the wording) and text that the
N-Triples output must or must not contain."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest

from pipeline import Options, run
from pipeline.problems import known_code

from .conftest import SEEDS

BAD = Path(__file__).parent / "fixtures" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expect.json").exists())
BASE = "http://example.org/bad/"


def all_problems(report):
    return [p for r in report.rejects for p in r.problems] + list(report.warnings)


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case, tmp_path):
    expect = json.loads((BAD / case / "expect.json").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    # the cases are about reading records: one language tag for all literals keeps expect.json simple
    report = run([BAD / case], out, options=Options(base=BASE, **{"lang": "zh", **expect.get("options", {})}))

    assert report.read == report.published + report.rejected
    assert (report.published, report.rejected) == (expect["published"], expect["rejected"])
    problems = all_problems(report)
    for wanted in expect.get("problems", []):
        matches = [p for p in problems
                   if (p.severity, p.stage, p.field, p.code) ==
                   (wanted["severity"], wanted["stage"], wanted["field"], wanted["code"])]
        assert matches, f"no problem like {wanted} in {[str(p) for p in problems]}"
    for problem in problems:
        assert problem.file and problem.stage and problem.message and known_code(problem.code), problem
        # named relative to the input root as given (an absolute root gives only its last part)
        assert problem.file.startswith(f"{case}/") and not problem.file.startswith("/")
    if not expect.get("problems"):
        assert not [p for p in problems if p.severity == "error"]

    nt = (out / "articles.nt").read_text(encoding="utf-8")
    assert "\r" not in nt and "\x00" not in nt
    for text in expect.get("output_contains", []):
        assert text in nt, text
    for text in expect.get("output_lacks", []):
        assert text not in nt, text
    with open(out / "articles.nt", "rb") as stream:
        assert len(list(pyoxigraph.parse(stream, format=pyoxigraph.RdfFormat.N_TRIPLES))) == report.triples
    if expect.get("same_triples_as_one"):
        alone = tmp_path / "alone" / case  # in a folder of the same name: the container is part of provenance
        alone.mkdir(parents=True)
        first = sorted((BAD / case).glob("*.txt"))[0]
        (alone / first.name).write_bytes(first.read_bytes())
        single = run([alone], tmp_path / "one", options=Options(base=BASE, lang="zh"))
        assert (tmp_path / "one" / "articles.nt").read_bytes() == (out / "articles.nt").read_bytes()
        assert single.triples == report.triples


@pytest.mark.parametrize("case", ["impossible-day", "invalid-encoding", "missing-body", "repeated-header"])
def test_rejects_name_the_id_when_it_can_be_read(case, tmp_path):
    record_id = (BAD / case / "r.txt").read_bytes().split(b"\n", 1)[0].decode("ascii", "replace")[4:]
    report = run([BAD / case], tmp_path / "out", options=Options(base=BASE))
    (reject,) = report.rejects
    assert reject.id == record_id and all(p.id == record_id for p in reject.problems)


@pytest.mark.parametrize("batch_size,workers", [(500, 1), (1, 1), (1, 2)])  # same batch, earlier batch
def test_conflict_names_both_files(tmp_path, batch_size, workers):
    report = run([BAD / "conflict-same-id-and-book"], tmp_path / "out",
                 options=Options(base=BASE, batch_size=batch_size, workers=workers))
    (reject,) = report.rejects
    assert reject.file.endswith("b.txt") and "a.txt" in reject.problems[0].message


LEXICAL = {
    "date": r"-?\d{4,}-\d{2}-\d{2}", "gYearMonth": r"-?\d{4,}-(0[1-9]|1[0-2])", "gYear": r"-?\d{4,}",
}


def test_no_ill_typed_literal_can_be_published(tmp_path):
    """Every typed literal in the output of all bad cases is a valid lexical form of its type."""
    import datetime
    import re

    run([BAD, SEEDS, Path(__file__).parent / "golden"], tmp_path / "out", options=Options(base=BASE))
    checked = 0
    with open(tmp_path / "out" / "articles.nt", "rb") as stream:
        for quad in pyoxigraph.parse(stream, format=pyoxigraph.RdfFormat.N_TRIPLES):
            obj = quad.object
            if not isinstance(obj, pyoxigraph.Literal) or obj.language:
                continue
            kind = obj.datatype.value.rsplit("#", 1)[-1]
            if kind in LEXICAL:
                assert re.fullmatch(LEXICAL[kind], obj.value), obj
                if kind == "date":
                    datetime.date.fromisoformat(obj.value)
                checked += 1
    assert checked > 10
