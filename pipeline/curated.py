"""The curated tables of the corpus (vocabularies/*.json: containers, genres, source credits) and the
rules for names they do not list: what kind of container a 书籍 is, which tags are forms, what a 来源 is."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

KINDS = ("newspaper", "periodical", "book", "volume", "database", "website")

# Fallback rules, for a container the table does not list (checked in this order).
NEWSPAPER_SUFFIXES = ("日报", "晚报", "周报", "时报", "快报", "报")
NOT_NEWSPAPER_SUFFIXES = ("汇报", "简报", "情报", "大字报", "电报", "喜报", "捷报", "海报", "公报", "通报")  # texts, not papers
PERIODICAL_SUFFIXES = ("学报", "画报", "杂志", "月刊", "半月刊", "周刊", "旬刊", "季刊", "通讯")
DATABASE_SUFFIXES = ("数据库", "文库")
WEBSITE_SUFFIXES = ("网", "网站", "博物馆")
# 第N卷 / 第N册 (arabic or Chinese numerals): one volume of a multi-volume work
VOLUME = re.compile(r"^(?P<set>.+?)\s*第(?P<number>[0-9０-９]+|[〇零一二三四五六七八九十百]+)[卷册]")

_CHINESE_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class Container:
    """What a 书籍 names: its kind, and for a volume the set it belongs to and its number."""

    kind: str
    set: str | None = None
    volume: str | None = None

    @property
    def is_periodical(self) -> bool:
        return self.kind in ("newspaper", "periodical")


def _table(name: str) -> dict:
    return json.loads((files("pipeline") / "vocabularies" / f"{name}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _containers() -> dict[str, Container]:
    rows = _table("containers")["containers"]
    table = {}
    for name, row in rows.items():
        if row["kind"] not in KINDS:
            raise ValueError(f"vocabularies/containers.json: {name!r} has unknown kind {row['kind']!r}")
        table[unicodedata.normalize("NFC", name)] = Container(row["kind"], row.get("set"), row.get("volume"))
    return table


def container_of(name: str) -> Container:
    """The table's answer for a known container; otherwise the suffix and volume rules."""
    name = unicodedata.normalize("NFC", name).strip()
    known = _containers().get(name)
    if known:
        return known
    bare = re.sub(r"[（(][^）)]*[）)]$", "", name).strip()  # an edition note: 文集（1999）
    volume = VOLUME.match(bare)
    if volume:
        return Container("volume", volume.group("set").strip(), volume_number(volume.group("number")))
    if bare.endswith(PERIODICAL_SUFFIXES):
        return Container("periodical")
    if bare.endswith(NEWSPAPER_SUFFIXES) and not bare.endswith(NOT_NEWSPAPER_SUFFIXES):
        return Container("newspaper")
    if bare.endswith(DATABASE_SUFFIXES):
        return Container("database")
    if bare.endswith(WEBSITE_SUFFIXES):
        return Container("website")
    return Container("book")


def volume_number(text: str) -> str:
    """'11', '１１' or '十一' -> '11'; what cannot be read stays as written."""
    text = unicodedata.normalize("NFKC", text)
    if text.isdigit():
        return str(int(text))
    if all(c in _CHINESE_DIGITS or c in "十百" for c in text):
        total, current = 0, 0
        for char in text:
            if char == "百":
                total += (current or 1) * 100
                current = 0
            elif char == "十":
                total += (current or 1) * 10
                current = 0
            else:
                current = _CHINESE_DIGITS[char]
        return str(total + current)
    return text


@lru_cache(maxsize=1)
def genres() -> frozenset[str]:
    return frozenset(unicodedata.normalize("NFC", g) for g in _table("genres")["genres"])


def is_genre(tag: str) -> bool:
    """A tag that names the text's form (文章, 指示, 讲话): a genre, not a topic."""
    return unicodedata.normalize("NFC", tag) in genres()


@lru_cache(maxsize=1)
def _credits() -> tuple[frozenset[str], frozenset[str]]:
    table = _table("credits")
    return frozenset(table["credits"]), frozenset(table["this_container"])


# a citation names a publication (《…》), pages (第…页, 202-205) or a publisher and year
_CITATION = re.compile(r"《[^》]+》|第\s*[0-9０-９]+\s*[—–\-－~至]?\s*[0-9０-９]*\s*页|\b[0-9]+\s*[-—–]\s*[0-9]+\s*$|出版社|[0-9]{4}年")


def source_kind(origin: str) -> str:
    """What a 来源 is: 'credit' (who supplied the text), 'this' (the container itself: 本报),
    'citation' (where it was printed before) or 'note' (anything else: custody, a copy)."""
    value = unicodedata.normalize("NFC", origin).strip()
    credits, this_container = _credits()
    if value in this_container:
        return "this"
    if value in credits:
        return "credit"
    if _CITATION.search(value):
        return "citation"
    return "note"
