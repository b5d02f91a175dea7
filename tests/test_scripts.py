"""Language tags say which script a text is in: zh-Hans, zh-Hant, or zh when it cannot tell (issue 11)."""

from __future__ import annotations

import glob

import pytest
from hanzidentifier import helpers, identify

from pipeline import Options, run
from pipeline.record import format_record, parse_source
from pipeline.scripts import language_tag
from pipeline.sources import read_sources

from .conftest import ROOT, SEEDS

REAL = sorted(glob.glob(str(SEEDS / "**" / "*.txt"), recursive=True)
              + glob.glob(str(ROOT.parent / "shared" / "corpus" / "real" / "**" / "*.txt"), recursive=True))
TRADITIONAL_ONLY = helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS


@pytest.mark.parametrize("text,tag", [
    ("时刻保持党同群众的血肉联系", "zh-Hans"), ("時刻保持黨同群眾的血肉聯繫", "zh-Hant"),
    ("人民", "zh"),            # characters both scripts share: cannot tell
    ("国與国", "zh"),          # a mix
    ("1966", "zh"), ("", "zh"),
])
def test_script_of_a_text(text, tag):
    assert language_tag(text) == tag
    assert tag == {1: "zh-Hant", 2: "zh-Hans"}.get(identify(text), "zh")  # what hanzidentifier says


def test_the_real_corpus_is_simplified():
    records = [parse_source(source) for source in read_sources(REAL)]
    assert len(records) >= 48
    for record in records:
        for text in (record.title, record.body):
            expected = "zh" if set(text) & TRADITIONAL_ONLY else "zh-Hans"  # 塚 in a Japanese name: mixed
            assert language_tag(text) in (expected, "zh"), (record.file, text[:40])
        assert language_tag(record.body) != "zh-Hant"
    assert sum(language_tag(r.body) == "zh-Hans" for r in records) >= 0.95 * len(records)


def test_a_traditional_record_is_tagged_zh_hant_and_lang_still_forces_one_tag(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "t.txt").write_text(format_record(dict(
        id="t1", title="時刻保持黨同群眾的血肉聯繫", dates="1990-3-22", is_range="false", authors="聞學良",
        origin="", tags="黨的建設", book="解放軍報", book_author="", body="學習黨的十三屆六中全會精神。", description="")),
        encoding="utf-8")
    run([folder], tmp_path / "auto", options=Options(base="http://example.org/t/"))
    dump = (tmp_path / "auto" / "articles.nt").read_text(encoding="utf-8")
    assert '"時刻保持黨同群眾的血肉聯繫"@zh-Hant' in dump and '"學習黨的十三屆六中全會精神。"@zh-Hant' in dump
    run([folder], tmp_path / "forced", options=Options(base="http://example.org/t/", lang="zh"))
    forced = (tmp_path / "forced" / "articles.nt").read_text(encoding="utf-8")
    assert "@zh-Hant" not in forced and '"時刻保持黨同群眾的血肉聯繫"@zh ' in forced
