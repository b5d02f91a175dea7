"""The authority table (--authorities): schema:sameAs for the names it lists, and one name that it gives
several people (by book) published as several agents, where without it they would be one."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
from click.testing import CliRunner

from pipeline import Options, run
from pipeline.cli import main
from pipeline.record import format_record

from .conftest import BASE

TABLE = Path(__file__).parent / "fixtures" / "authorities" / "example.csv"
SCHEMA = "http://schema.org/"


def corpus(folder: Path) -> Path:
    for name, author, book in (("a1", "王力", "十年文革中首长讲话传信录（上册）"), ("a2", "王力", "汉语史稿"),
                               ("a3", "毛泽东", "毛泽东文集第五卷（1999）"), ("a4", "王力", "另一本书")):
        path = folder / name / f"{name}.txt"
        path.parent.mkdir(parents=True)
        path.write_text(format_record(dict(id=name, title="标题", dates="1967-1-0", is_range="false", authors=author,
                                           origin="", tags="", book=book, book_author="", body="正文。",
                                           description="")), encoding="utf-8")
    return folder


def agents(out: Path) -> dict[str, set]:
    """work id -> (agent IRI, its sameAs or None)"""
    store = pyoxigraph.Store()
    store.bulk_load(path=str(out / "articles.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    rows = store.query(f"""SELECT ?id ?agent ?same WHERE {{
        ?work <http://purl.org/dc/terms/identifier> ?id ; <{SCHEMA}author> ?agent .
        OPTIONAL {{ ?agent <{SCHEMA}sameAs> ?same }} }}""")
    return {row["id"].value: (row["agent"].value, row["same"].value if row["same"] else None) for row in rows}


def test_without_a_table_same_names_are_one_agent(tmp_path):
    run([corpus(tmp_path / "in")], tmp_path / "out", options=Options(base=BASE))
    found = agents(tmp_path / "out")
    assert found["a1"] == found["a2"] == found["a4"] and found["a1"][1] is None


def test_the_table_keeps_apart_what_it_splits_and_links_what_it_names(tmp_path):
    run([corpus(tmp_path / "in")], tmp_path / "out", options=Options(base=BASE, authorities=TABLE))
    found = agents(tmp_path / "out")
    assert found["a1"][1] == "https://authority.example/person/wang-li-1"
    assert found["a2"][1] == "https://authority.example/person/wang-li-2"
    assert found["a1"][0] != found["a2"][0]
    assert found["a4"][1] is None and found["a4"][0] not in (found["a1"][0], found["a2"][0])  # no row: unknown
    assert found["a3"][1] == "https://authority.example/person/mao-zedong"
    plain = tmp_path / "plain"
    run([corpus(tmp_path / "in2")], plain, options=Options(base=BASE))
    assert agents(plain)["a3"][0] == found["a3"][0]  # a name the table does not split keeps its IRI


def test_a_bad_table_is_refused_with_its_line(tmp_path):
    for text, said in (("who,where\n", "header"), ("name,iri\n王力,not-an-iri\n", "line 2"),
                       ("name,iri,book\n王力,https://a.example/1,书\n王力,https://a.example/2,书\n", "line 3")):
        table = tmp_path / "t.csv"
        table.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["run", str(corpus(tmp_path / f"in-{len(text)}")), "-o",
                                           str(tmp_path / "out"), "--authorities", str(table)])
        assert result.exit_code == 2 and said in result.output and str(table) in result.output, result.output
        assert not (tmp_path / "out").exists()
