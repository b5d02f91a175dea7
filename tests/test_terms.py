"""N-Triples term syntax: escaping round-trips any text, and strict parsers read what we write."""

from __future__ import annotations

import pyoxigraph
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.terms import Lit, escape, nt_line, unescape

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | \
    st.lists(st.sampled_from(["\\", '"', "\n", "\r", "\t", "\b", "\f", "\x00", "\x7f", "\\n", "\\u0041", "汉", "'"]),
             max_size=20).map("".join)


@settings(max_examples=500, deadline=None)
@given(text)
def test_escape_round_trips(value):
    escaped = escape(value)
    assert unescape(escaped) == value
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in escaped)


@settings(max_examples=300, deadline=None)
@given(text, st.sampled_from([None, "zh", "en-GB"]))
def test_pyoxigraph_reads_our_lines_back(value, lang):
    line = nt_line(("http://example.org/s", "http://example.org/p", Lit(value, lang)))
    (quad,) = pyoxigraph.parse(line.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert quad.object.value == value
    assert (quad.object.language or None) == (lang.lower() if lang else None)
