"""Every example query in docs/queries/ runs against the seeds' store and gives the answer that the
records themselves give (computed here in Python, without RDF)."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pytest

from pipeline.mapping import is_corporate
from pipeline.record import Record, Source, parse_source
from pipeline.sparql import ensure_store, query_store

from .conftest import ROOT, seed_files

QUERIES = ROOT / "docs" / "queries"


@pytest.fixture(scope="module", params=["auto", "zh", "zh-Hans", "zh-Hant"])
def store(request, tmp_path_factory):
    """The seeds' release with each way of tagging its literals: the queries must not depend on it."""
    from pipeline import Options
    from pipeline import run as publish

    from .conftest import BASE, SEEDS

    out = tmp_path_factory.mktemp(f"release-{request.param}") / "out"
    publish([SEEDS], out, options=Options(base=BASE, lang=request.param))
    location, loaded = ensure_store(out, tmp_path_factory.mktemp("store") / "s")
    assert loaded
    return location


@pytest.fixture(scope="module")
def records() -> list[Record]:
    parsed = [parse_source(Source(str(p), p.read_bytes())) for p in seed_files()]
    assert all(isinstance(r, Record) for r in parsed)
    return parsed


def run(store, name: str):
    return query_store(store, (QUERIES / name).read_text(encoding="utf-8"))


def column(results, variable: str) -> list[str]:
    index = results.variables.index(variable)
    return [row[index]["value"] for row in results.rows]


def works(records) -> dict[str, list[Record]]:
    by_id = defaultdict(list)
    for record in records:
        by_id[record.id].append(record)
    return by_id


def test_there_are_at_least_ten_documented_queries():
    files = sorted(QUERIES.glob("*.rq"))
    assert len(files) >= 10
    for file in files:
        assert file.read_text(encoding="utf-8").startswith("# "), f"{file.name} needs a comment saying what it asks"
        assert file.name in (QUERIES / "README.md").read_text(encoding="utf-8")


def test_articles_by_author(store, records):
    expected = {r.id for r in records if "毛泽东" in r.authors}
    assert set(column(run(store, "01-articles-by-author.rq"), "id")) == expected and expected


def test_articles_in_a_year(store, records):
    expected = {r.id for r in records if not r.is_range and any(d.year == 1966 for d in r.dates)}
    assert set(column(run(store, "02-articles-in-a-year.rq"), "id")) == expected and expected


def test_articles_in_a_date_range_honour_partial_dates(store, records):
    low, high = (1966, 5, 1), (1966, 12, 31)
    expected = {r.id for r in records for d in r.dates if d.earliest() <= high and d.latest() >= low}
    assert set(column(run(store, "03-articles-in-a-date-range.rq"), "id")) == expected and expected


def test_articles_by_tag(store, records):
    expected = {r.id for r in records if "北京文革" in r.tags}
    assert set(column(run(store, "04-articles-by-tag.rq"), "id")) == expected and expected


def test_articles_in_a_book(store, records):
    expected = sorted(r.id for r in records if r.book == "人民日报")
    assert sorted(column(run(store, "05-articles-in-a-book.rq"), "id")) == expected and expected


def test_co_authors(store, records):
    pairs = Counter()
    for printings in works(records).values():
        authors = sorted({a for r in printings for a in r.authors})
        pairs.update(combinations(authors, 2))
    results = run(store, "06-co-authors.rq")
    got = {frozenset((a, b)): int(n) for a, b, n in zip(column(results, "first"), column(results, "second"),
                                                        column(results, "articles"))}
    assert got == {frozenset(pair): n for pair, n in pairs.items()} and got  # fewer than its LIMIT here


def test_tags_that_occur_together(store, records):
    pairs = Counter()
    for record in records:
        pairs.update(combinations(sorted(record.tags), 2))
    results = run(store, "07-tags-that-occur-together.rq")
    counts = [int(n) for n in column(results, "printings")]
    assert counts == sorted(counts, reverse=True) and len(counts) == 20
    for a, b, n in zip(column(results, "tag1"), column(results, "tag2"), counts):
        assert pairs[tuple(sorted((a, b)))] == n
    assert counts[0] == max(pairs.values())


def test_articles_in_several_books(store, records):
    expected = {i: len(p) for i, p in works(records).items() if len({(r.book, r.book_author) for r in p}) > 1}
    results = run(store, "08-articles-in-several-books.rq")
    assert dict(zip(column(results, "id"), map(int, column(results, "printings")))) == expected
    assert "0034512d89" in expected


def test_title_contains(store, records):
    expected = {r.id for r in records if "毛主席" in r.title}
    assert set(column(run(store, "09-title-contains.rq"), "id")) == expected and expected


def test_counts_per_year(store, records):
    years = defaultdict(set)
    for record in records:
        for date in record.dates:
            years[f"{date.year:04d}"].add(record.id)
    results = run(store, "10-counts-per-year.rq")
    assert dict(zip(column(results, "year"), map(int, column(results, "articles")))) == \
        {year: len(ids) for year, ids in years.items()}


def test_dataset_metadata(store, seeds_release):
    _, report = seeds_release
    results = run(store, "11-dataset-metadata.rq")
    assert set(map(int, column(results, "triples"))) == {report.triples}
    assert {Path(url).name for url in column(results, "dump")} == \
        {"articles.ttl", "articles.jsonld", "articles.nt", "articles.nt.gz"}


def test_organisations(store, records):
    expected = defaultdict(set)
    for record in records:
        for author in record.authors:
            if is_corporate(author):
                expected[author].add(record.id)
    results = run(store, "12-organisations.rq")
    assert dict(zip(column(results, "name"), map(int, column(results, "articles")))) == \
        {name: len(ids) for name, ids in expected.items()} and expected
