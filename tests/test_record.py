"""The record format parser and partial dates, field by field."""

from __future__ import annotations

import pytest

from pipeline.dates import DateError, PartialDate, parse_date, parse_dates
from pipeline.problems import RecordError
from pipeline.record import Field, format_record, parse_text

def record(**fields):
    values = dict(id="abc123", title="标题", dates="1990-3-22", is_range="false", authors="甲", origin="",
                  tags="文章", book="书", book_author="", body="正文", description="")
    values.update(fields)
    return parse_text(format_record(values), file="t.txt")


@pytest.mark.parametrize("text,lexical,kind", [
    ("1990-3-22", "1990-03-22", "date"),
    ("1957-5-0", "1957-05", "gYearMonth"),
    ("1967-0-0", "1967", "gYear"),
    ("800-1-1", "0800-01-01", "date"),
    ("2000-2-29", "2000-02-29", "date"),
])
def test_partial_dates_keep_their_precision(text, lexical, kind):
    date = parse_date(text)
    assert (date.lexical, date.xsd_type, date.source) == (lexical, kind, text)


@pytest.mark.parametrize("text", ["", "0-0-0", " 0-0-0 "])
def test_no_date(text):
    assert parse_date(text) is None


@pytest.mark.parametrize("text,why", [
    ("1990-2-30", "does not exist"), ("1900-2-29", "does not exist"), ("1967-13-0", "month 13"),
    ("一九六七年", "not a date"), ("1967/5/1", "not a date"), ("0-5-1", "no year"), ("1967-0-5", "day but no month"),
])
def test_impossible_dates_are_errors(text, why):
    with pytest.raises(DateError, match=why):
        parse_date(text)


def test_ranges():
    start, end = parse_dates("1966-5-0,1966-6-3", is_range=True)
    assert (start, end) == (PartialDate(1966, 5), PartialDate(1966, 6, 3))
    assert parse_dates("1966-5-0,1966-5-20", is_range=True)  # the month contains the day: not reversed
    with pytest.raises(DateError, match="before it starts"):
        parse_dates("1966-6-3,1966-5-0", is_range=True)
    with pytest.raises(DateError, match="exactly two"):
        parse_dates("1966-6-3", is_range=True)


def test_several_dates_stay_several():
    assert parse_dates("1966-5-16,1966-6-3", is_range=False) == (PartialDate(1966, 5, 16), PartialDate(1966, 6, 3))


def test_lists_are_split_trimmed_and_deduplicated():
    parsed = record(authors=" 甲 ,乙,\u3000丙\u3000,甲", tags="a,,b")
    assert parsed.authors == ("甲", "乙", "丙")
    assert parsed.tags == ("a", "b")
    assert {w.field for w in parsed.warnings} == {"作者", "标签"}
    assert {w.severity for w in parsed.warnings} == {"warning"}  # regression: they were 'error'
    assert all(w.file == "t.txt" and w.id == "abc123" and w.stage == "parse" for w in parsed.warnings)


def test_free_text_fields_keep_their_commas():
    parsed = record(origin="《上访通讯》编辑室, 春风化雨集（下）, 102-109", book_author="斯大林，诸夏怀斯社2017年5月")
    assert parsed.origin == "《上访通讯》编辑室, 春风化雨集（下）, 102-109"
    assert parsed.book_author == "斯大林，诸夏怀斯社2017年5月"


def test_description_may_span_paragraphs_and_body_keeps_markup():
    parsed = record(body="# 标题\n\n> 引文\n\n作者：像标签的一行", description="一\n\n二\n")
    assert parsed.body == "# 标题\n\n> 引文\n\n作者：像标签的一行"
    assert parsed.description == "一\n\n二"
    assert parsed.authors == ("甲",)


@pytest.mark.parametrize("fields,field,code", [
    (dict(is_range="maybe"), "是否是时间段", "range.flag"),
    (dict(dates="1990-2-30"), "日期", "date.impossible"),
    (dict(dates="1966-1-1", is_range="true"), "日期", "range.count"),
])
def test_bad_values_name_the_field(fields, field, code):
    with pytest.raises(RecordError) as caught:
        record(**fields)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_an_optional_field_added_to_the_table_needs_no_seed_changed(monkeypatch, tmp_path):
    """One row in FIELDS: records with the label parse it, records without it (every seed) still parse,
    and the run publishes it (as an additional property, since the mapping has no rule for it)."""
    import pipeline.record as record_module
    from pipeline import Options, run

    from .conftest import SEEDS

    pages = Field("页码", "pages", "text", required=False, about="pages in the book")
    monkeypatch.setattr(record_module, "FIELDS", record_module.FIELDS[:-2] + (pages,) + record_module.FIELDS[-2:])
    with_pages = record(pages="12-15")
    assert with_pages.pages == "12-15" and not [w for w in with_pages.warnings if w.code == "header.unknown"]
    assert record().pages == ""  # absent: the kind's default, no reject
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "p.txt").write_text(format_record(dict(id="p1", title="有页码", dates="1966-5-16", is_range="false",
                                                     authors="甲", origin="", tags="文章", book="书", book_author="",
                                                     pages="12-15", body="正文", description="")), encoding="utf-8")
    report = run([folder, SEEDS / "rmrb"], tmp_path / "out", options=Options(base="http://example.org/t/", workers=1))
    assert report.rejected == 0 and report.published == 1 + len(list((SEEDS / "rmrb").glob("*.txt")))
    dump = (tmp_path / "out" / "articles.nt").read_text(encoding="utf-8")
    assert '"页码"@zh' in dump and '"12-15"@zh' in dump


def test_fields_read_as_attributes_never_hide_the_records_own():
    """Fields are copied into the record's attributes (a call each through __getattr__ cost the mapping ~28 us a record);
    a value named like the record's own attributes must not replace them."""
    from pipeline.record import Record

    record = Record(file="a/b.txt", values={"title": "标题", "file": "elsewhere", "texts": "no"}, texts={"dates": "x"})
    assert (record.title, record.file, record.texts, record.date_text) == ("标题", "a/b.txt", {"dates": "x"}, "x")
    assert record == Record(file="a/b.txt", values={"title": "标题", "file": "elsewhere", "texts": "no"},
                            texts={"dates": "x"})
    with pytest.raises(AttributeError, match="no field 'subtitle'"):
        record.subtitle
