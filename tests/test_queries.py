"""Every example query in docs/queries/ runs against the seeds' store and gives the answer that the
records themselves give (computed here in Python, without RDF)."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pytest

from pipeline.curated import container_of, is_genre, source_kind
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


def in_year(record: Record, year: int) -> bool:
    """A point date of that year, or a range that overlaps it."""
    if record.is_range:
        return record.dates[0].year <= year <= record.dates[1].year
    return any(d.year == year for d in record.dates)


def test_articles_in_a_year(store, records):
    expected = {r.id for r in records if in_year(r, 1966)}
    assert set(column(run(store, "02-articles-in-a-year.rq"), "id")) == expected and expected


def test_a_range_that_overlaps_the_year_is_found(tmp_path):
    """Regression (issue 12): a range-dated article had no date triple, and query 02 missed it."""
    from pipeline import Options
    from pipeline import run as publish
    from pipeline.record import format_record

    from .conftest import BASE

    folder = tmp_path / "in" / "b"
    folder.mkdir(parents=True)
    for name, dates in (("r1", "1965-3-1,1967-2-1"), ("r2", "1966-0-0,1968-0-0"), ("r3", "1967-1-0,1968-1-0")):
        (folder / f"{name}.txt").write_text(format_record(dict(
            id=name, title="标题", dates=dates, is_range="true", authors="", origin="", tags="", book="某书",
            book_author="", body="正文。", description="")), encoding="utf-8")
    assert publish([folder.parent], tmp_path / "out", options=Options(base=BASE)).published == 3
    location, _ = ensure_store(tmp_path / "out", tmp_path / "store")
    assert set(column(run(location, "02-articles-in-a-year.rq"), "id")) == {"r1", "r2"}
    assert set(column(run(location, "03-articles-in-a-date-range.rq"), "id")) == {"r1", "r2"}


def test_articles_in_a_date_range_honour_partial_dates(store, records):
    low, high = (1966, 5, 1), (1966, 12, 31)
    spans = [(r.id, *r.dates) for r in records if r.is_range]
    spans += [(r.id, d, d) for r in records if not r.is_range for d in r.dates]
    expected = {id_ for id_, start, end in spans if start.earliest() <= high and end.latest() >= low}
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
    for record in records:  # topics only: form tags (文章, 讲话) are genres
        pairs.update(combinations(sorted(t for t in record.tags if not is_genre(t)), 2))
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


def articles_per(records, keys_of) -> dict[str, int]:
    """key -> how many articles (ids) have it, from the records themselves."""
    ids = defaultdict(set)
    for record in records:
        for found in keys_of(record):
            ids[found].add(record.id)
    return {found: len(of) for found, of in ids.items()}


def counted(results, name: str) -> dict[str, int]:
    return dict(zip(column(results, name), map(int, column(results, "articles"))))


def test_organisations(store, records):
    expected = articles_per(records, lambda r: [a for a in r.authors if is_corporate(a)])
    assert counted(run(store, "12-organisations.rq"), "name") == expected and expected


def test_printings_published_in_a_year(store, records):
    expected = {r.id for r in records if container_of(r.book).is_periodical and in_year(r, 1966)}
    assert set(column(run(store, "13-articles-published-in-a-year.rq"), "id")) == expected and expected


def test_articles_by_or_from_an_organisation(store, records):
    expected = {(r.id, "author") for r in records if "新华社" in r.authors}
    expected |= {(r.id, "source") for r in records if source_kind(r.origin) == "credit" and r.origin == "新华社"}
    results = run(store, "14-articles-by-or-from-an-organisation.rq")
    assert set(zip(column(results, "id"), column(results, "how"))) == expected
    assert any(how == "source" for _, how in expected)  # the wire items have no 作者


def test_a_newspaper_issue(store, records):
    expected = {r.id for r in records if r.book == "人民日报" and r.date_text == "1966-6-6"}
    assert set(column(run(store, "15-a-newspaper-issue.rq"), "id")) == expected and expected


def test_genres_by_count(store, records):
    results = run(store, "16-genres.rq")
    assert counted(results, "genre") == articles_per(records, lambda r: [t for t in r.tags if is_genre(t)])
    assert column(results, "genre")[0] == "文章"


def test_articles_about_a_person(store, records):
    """The tag 毛泽东 reaches the Person 毛泽东 (an author elsewhere in the seeds) through foaf:focus."""
    assert any("毛泽东" in r.authors for r in records)
    expected = {r.id for r in records if "毛泽东" in r.tags}
    assert set(column(run(store, "17-articles-about-a-person.rq"), "id")) == expected and expected


def test_a_tag_is_linked_only_to_an_agent_the_release_has(tmp_path):
    """A tag names an agent only when some record of the release has that agent: no dangling links."""
    from pipeline import Options
    from pipeline import run as publish
    from pipeline.record import format_record

    from .conftest import BASE

    folder = tmp_path / "in" / "b"
    folder.mkdir(parents=True)
    for name, authors, tags in (("t1", "王力", "王力,戚本禹"), ("t2", "", "王力")):
        (folder / f"{name}.txt").write_text(format_record(dict(
            id=name, title="标题", dates="1967-1-0", is_range="false", authors=authors, origin="", tags=tags,
            book="某书", book_author="", body="正文。", description="")), encoding="utf-8")
    publish([folder.parent], tmp_path / "out", options=Options(base=BASE, batch_size=1))
    location, _ = ensure_store(tmp_path / "out", tmp_path / "store")
    rows = query_store(location, """SELECT ?label ?name WHERE {
        ?tag a <http://www.w3.org/2004/02/skos/core#Concept> ; <http://www.w3.org/2004/02/skos/core#prefLabel> ?label .
        OPTIONAL { ?tag <http://xmlns.com/foaf/0.1/focus> ?agent . ?agent <http://schema.org/name> ?name } }""").rows
    assert {(r[0]["value"], (r[1] or {}).get("value")) for r in rows} == {("王力", "王力"), ("戚本禹", None)}
