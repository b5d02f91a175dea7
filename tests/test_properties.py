"""Property-based tests: generated records, hostile text in every field, through every stage.

No exception escapes; every record is published or rejected with a reason; every published graph
conforms to the shapes and survives a strict re-parse (pyoxigraph) of all three serializations; and a
well-formed record's fields read back from the graph unchanged."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from pipeline import Options, run
from pipeline.dates import PartialDate
from pipeline.iris import Minter
from pipeline.mapping import Mapper
from pipeline.problems import Reject
from pipeline.record import Record, Source, format_record, parse_source
from pipeline.terms import nt_line
from pipeline.validate import Validated, Validator, load_shapes, validate_graph

from pipeline.serialize import DUMPS

from .conftest import dump_triples, SHAPES
from .readback import expected_fields, read_back

BASE = "http://example.org/prop/"
MINTER = Minter(BASE)
MAPPER = Mapper(MINTER, lang="zh")
SHAPES_GRAPH = load_shapes(SHAPES)
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = ['"', "\\", '"""', "\\u0000", "\\n", "<", ">", "@zh", "^^", "\x00", "\x07", "\x1b", "\x7f", "\x85",
           "\u3000", "\ufeff", "\u2028", "\ufffe", " ", "\t", "\r", "\n", "描述：", "正文：", "标题：", ",", "，",
           "# ", "> ", "id: ", "%20", "../", "\U0001F600", "𠀀", "é", "\u0301"]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), max_size=8).map("".join)
# header values: hostile, but mostly on one line so that most records get past the parser
hostile_value = st.one_of(hostile_text.map(lambda t: t.replace("\n", "").replace("\r", "")),
                          hostile_text.map(lambda t: t.replace("\n", "").replace("\r", "")) | hostile_text)
safe_id = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}", fullmatch=True)
valid_date = st.tuples(st.integers(1, 2100), st.integers(0, 12), st.integers(0, 28)).map(
    lambda t: f"{t[0]}-{t[1]}-{t[2] if t[1] else 0}")
date_text = st.one_of(
    valid_date, valid_date, st.lists(valid_date, max_size=3).map(",".join),
    st.tuples(st.integers(0, 3000), st.integers(0, 14), st.integers(0, 32)).map(lambda t: "-".join(map(str, t))),
    st.sampled_from(["", "0-0-0", "1966-5-0,1966-6-3", "1990-2-30", "abc", "1966-6-3,1966-5-0"]),
    hostile_value,
)


def mostly(draw, usual, rare):
    """usual nine times in ten: enough rare cases to test, enough usual ones to reach every stage."""
    return draw(rare if draw(st.integers(0, 9)) == 0 else usual)


@st.composite
def hostile_records(draw) -> bytes:
    fields = {
        "id": mostly(draw, safe_id, hostile_value),
        "标题": draw(hostile_value), "日期": mostly(draw, valid_date, date_text),
        "是否是时间段": mostly(draw, st.sampled_from(["true", "false", "false", ""]), hostile_value),
        "作者": draw(hostile_value), "来源": draw(hostile_value), "标签": draw(hostile_value),
        "书籍": draw(hostile_value), "书籍作者": draw(hostile_value),
    }
    text = f"id: {fields.pop('id')}\n" + "".join(f"{k}：{v}\n" for k, v in fields.items())
    text += f"\n正文：\n{draw(hostile_text)}\n\n描述：\n{draw(hostile_text)}\n"
    encoding = mostly(draw, st.just("utf-8"), st.sampled_from(["utf-8-sig", "utf-16", "gb18030", "raw"]))
    if encoding == "raw":
        return draw(st.binary(max_size=200)) + text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


def publish(sources: list[Source]) -> tuple[list[Validated], list[Reject]]:
    items = Validator(SHAPES_GRAPH)(MAPPER(parse_source(s) for s in sources))
    published, rejected = [], []
    for item in items:
        (published if isinstance(item, Validated) else rejected).append(item)
    return published, rejected




@EXAMPLES
@given(st.lists(hostile_records(), min_size=1, max_size=3))
def test_hostile_records_are_published_or_rejected_never_crash(records):
    """Through the real run(): files in, a release out."""
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "in"
        inputs.mkdir()
        for index, data in enumerate(records):
            (inputs / f"{index}.txt").write_bytes(data)
        report = run([inputs], Path(folder) / "out", options=Options(base=BASE, workers=1))
        assert report.read == len(records) == report.published + report.rejected
        for reject in report.rejects:
            assert reject.problems and all(p.message and p.stage and p.file for p in reject.problems)
        PUBLISHED_SEEN.append(report.published)
        out = Path(folder) / "out"
        parsed = [dump_triples((out / dump.name).read_bytes(), dump) for dump in DUMPS]
        assert all(graph == parsed[0] for graph in parsed)
        assert len(parsed[0]) == report.triples
        if report.published:
            graph = Graph().parse(out / "articles.nt", format="nt")
            assert not validate_graph(graph, SHAPES_GRAPH, engine="pyshacl").violations


PUBLISHED_SEEN: list[int] = []


def test_hostile_generator_publishes_often_enough():
    """Guards the property above against a generator that only ever makes rejects."""
    if not PUBLISHED_SEEN:
        test_hostile_records_are_published_or_rejected_never_crash()
    assert sum(PUBLISHED_SEEN) >= 0.2 * len(PUBLISHED_SEEN)


# ---------------------------------------------------------------- round trip of well-formed records

clean_value = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Zl", "Zp")), min_size=1, max_size=12) \
    .map(str.strip).filter(bool)
list_item = clean_value.filter(lambda v: "," not in v)
# a title must show something: one of only format or space characters (U+00AD, U+200B) is rejected
visible_value = clean_value.filter(lambda v: any(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zs") for c in v))
# a line starting with U+FEFF is a joined file's byte-order mark, removed with a warning (fixtures/bad/bom-on-line-2)
body_line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=20).filter(
    lambda l: l.strip() not in ("正文：", "描述：") and not l.startswith("\ufeff"))
partial_date = st.builds(
    lambda y, m, d: PartialDate(y, m, 0 if m == 0 else min(d, 28)),
    st.integers(1, 2100), st.integers(0, 12), st.integers(0, 28))


@st.composite
def clean_records(draw) -> tuple[str, Record]:
    is_range = draw(st.booleans())
    if is_range:
        dates = tuple(sorted(draw(st.lists(partial_date, min_size=2, max_size=2)), key=PartialDate.earliest))
        if dates[1].latest() < dates[0].earliest():
            dates = dates[::-1]
    else:
        dates = tuple(draw(st.lists(partial_date, max_size=3, unique=True)))
    authors = tuple(draw(st.lists(list_item, max_size=4, unique=True)))
    tags = tuple(draw(st.lists(list_item, max_size=4, unique=True)))
    body = "\n".join(draw(st.lists(body_line, min_size=1, max_size=6)))
    description = "\n".join(draw(st.lists(body_line, max_size=3))).strip("\n")
    title = draw(visible_value)
    origin, book, book_author = (draw(clean_value) for _ in range(3))
    origin = draw(st.sampled_from(["", origin]))
    date_text = ",".join(d.source for d in dates)
    values = dict(id=draw(st.from_regex(r"[a-f0-9]{10}", fullmatch=True)), title=title, dates=dates,
                  is_range=is_range, authors=authors, origin=origin, tags=tags, book=book, book_author=book_author,
                  body=body, description=description)
    text = format_record({**values, "dates": date_text, "is_range": "true" if is_range else "false",
                          "authors": ",".join(authors), "tags": ",".join(tags)})
    return text, Record(file="gen.txt", values=values, texts={"dates": date_text})


@EXAMPLES
@given(clean_records())
def test_round_trip_of_generated_records(generated):
    text, expected = generated
    parsed = parse_source(Source("gen.txt", text.encode("utf-8")))
    assert isinstance(parsed, Record), parsed
    assert parsed == expected
    (published,), rejected = publish([Source("gen.txt", text.encode("utf-8"))])
    assert not rejected
    graph = Graph().parse(data="\n".join(sorted({nt_line(t) for t in published.triples})), format="nt")
    assert read_back(graph, MINTER, parsed) == expected_fields(parsed, "zh")
