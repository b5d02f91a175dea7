"""Every field of every bundled record can be read back from the published graph, unchanged."""

from __future__ import annotations

import pytest
from rdflib import Graph

from pipeline.iris import Minter
from pipeline.record import parse_source
from pipeline.sources import read_sources

from .conftest import BASE, seed_files
from .readback import expected_fields, read_back


@pytest.fixture(scope="module")
def published(seeds_release):
    out, _ = seeds_release
    return Graph().parse(out / "articles.nt", format="nt")


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fields_read_back(path, published):
    (source,) = read_sources([path])
    record = parse_source(source)
    assert read_back(published, Minter(BASE), record) == expected_fields(record, "auto")


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_body_is_the_file_text_byte_for_byte(path):
    """Independent of the parser: the body is what stands between '正文：' and the last '描述：' line."""
    text = path.read_text(encoding="utf-8")
    start = text.index("\n正文：\n") + len("\n正文：\n")
    end = text.rindex("\n描述：\n")
    (source,) = read_sources([path])
    assert parse_source(source).body == text[start:end].removesuffix("\n")
