"""The mapping from a Record to Dublin Core + schema.org + SKOS triples (stage 3 of a run).
The table it follows is docs/mapping.md; IRIs come from iris.py, vocabularies from vocab.py."""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Iterator

from .dates import PartialDate
from .iris import Minter
from .problems import OptionError, Reject
from .record import LABEL_OF, Record, header_fields
from .scripts import language_tag
from .terms import Lit, Triple
from .vocab import DC, DCAT, DCTERMS, RDF_TYPE, RDFS, SCHEMA, SKOS, XSD

# An author name is an organisation when it ends with one of these (a unit, a body, a paper) or starts
# with a party/state prefix; Chinese personal names are 2-4 characters and use none of them as endings.
CORPORATE_SUFFIXES = (
    "委员会", "编辑部", "编辑室", "办公室", "办公厅", "领导小组", "小组", "指挥部", "司令部", "政治部",
    "大学", "学院", "学校", "中学", "小学", "研究所", "研究室", "研究院", "研究会", "协会", "学会",
    "公司", "工厂", "报社", "出版社", "新华社", "通讯社", "电台", "日报", "晚报", "杂志社",
    "中央", "政府", "法院", "检察院", "军区", "兵团", "部队", "总部",
    "委", "部", "厅", "局", "处", "署", "院", "所", "系", "社", "会", "办", "厂", "队", "团", "组",
)
CORPORATE_PREFIXES = ("中共", "中国共产党", "中华人民共和国", "国务院", "全国", "中央")
MIN_CORPORATE_LENGTH = 3  # '王部' or '李会' are personal names
# (人民 and 科 are not endings here: they are common in given names, as in 王人民, 张建科)

# A book name is a periodical (newspaper, magazine) when it ends with one of these.
PERIODICAL_SUFFIXES = ("报", "日报", "晚报", "周报", "画报", "学报", "杂志", "月刊", "半月刊", "周刊", "旬刊", "季刊", "红旗")


# Which predicates carry each record field, so that a SHACL result on one names the field (validate.py).
PREDICATES_OF_FIELD: dict[str, tuple[str, ...]] = {
    "id": (DCTERMS.identifier,),
    "title": (DCTERMS.title, SCHEMA.headline, DCTERMS.alternative),
    "dates": (DCTERMS.date, DCTERMS.temporal, DC.date, SCHEMA.dateCreated),
    "authors": (DCTERMS.creator, SCHEMA.author),
    "origin": (DC.source,),
    "tags": (DCTERMS.subject, SKOS.prefLabel, SCHEMA.about),
    "book": (DCTERMS.isPartOf, SCHEMA.isPartOf),
    "book_author": (DC.creator,),
    "body": (SCHEMA.articleBody,),
    "description": (DCTERMS.description,),
}


MAPPED_FIELDS = set(PREDICATES_OF_FIELD) | {"is_range"}  # the fields this module has a rule for


# A later printing whose title or date disagrees with the work's first printing: on the work, its title
# becomes an alternative and its dates stay on the printing alone (conflicts.Printings finds them).
_AS_ALTERNATIVE = {DCTERMS.title: DCTERMS.alternative, SCHEMA.headline: SCHEMA.alternativeHeadline}
_FIRST_PRINTING_TITLE = {SCHEMA.name}
_FIRST_PRINTING_DATES = {DCTERMS.date, SCHEMA.dateCreated, DCTERMS.temporal}
WORK_CLAIMS = set(_AS_ALTERNATIVE) | _FIRST_PRINTING_TITLE | _FIRST_PRINTING_DATES  # on the work, per printing


def as_later_printing(triples: list[Triple], work: str, title: bool, dates: bool) -> list[Triple]:
    """A record's triples when an earlier printing of its work gave another title (title) or other
    dates (dates): on the work, its title becomes an alternative, its dates are left to the printing."""
    out = []
    for s, p, o in triples:
        if s != work:
            out.append((s, p, o))
        elif title and p in _AS_ALTERNATIVE:
            out.append((s, _AS_ALTERNATIVE[p], o))
        elif not ((title and p in _FIRST_PRINTING_TITLE) or (dates and p in _FIRST_PRINTING_DATES)):
            out.append((s, p, o))
    return out


def nfc(text: str) -> str:
    """A shared entity's name: the NFC form, the same form its IRI key is made from. Two records that
    write one name differently (李蘭芳 with U+F91F or U+862D) then give its entity one name, not two."""
    return unicodedata.normalize("NFC", text)


def _variants(record: Record) -> tuple[tuple[str, str], ...]:
    """Names as written that differ from the normal form their shared entity carries: kept on the
    printing that wrote them (as additional properties, label -> text), so nothing written is lost."""
    written = [(LABEL_OF["authors"], name) for name in record.authors]
    written += [(LABEL_OF["tags"], tag) for tag in record.tags]
    written += [(LABEL_OF["book"], record.book), (LABEL_OF["book_author"], record.book_author)]
    return tuple((label, text) for label, text in written if text and nfc(text) != text)


def _unmapped(record: Record) -> tuple[tuple[str, str], ...]:
    """Fields of the record format that no rule here maps (one added to the table, say): published
    verbatim as additional properties, like unknown labels, so that no value is lost silently."""
    return tuple((f.label, value if isinstance(value, str) else ",".join(map(str, value)))
                 for f in header_fields() if f.attribute not in MAPPED_FIELDS
                 for value in (getattr(record, f.attribute),) if value)


def is_corporate(name: str) -> bool:
    if len(name) < MIN_CORPORATE_LENGTH:
        return False
    return name.startswith(CORPORATE_PREFIXES) or name.endswith(CORPORATE_SUFFIXES)


def is_periodical(book: str) -> bool:
    return book.endswith(PERIODICAL_SUFFIXES)


def date_literal(date: PartialDate) -> Lit:
    return Lit(date.lexical, None, XSD[date.xsd_type])


LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


AUTO = "auto"  # tag each literal by its script


class LanguageTagError(OptionError):
    """The --lang value is not a well-formed BCP 47 tag."""


def check_language_tag(lang: str) -> str:
    """auto, or a tag of the zh family for every literal (the records are Chinese; the shapes say so)."""
    if lang == AUTO:
        return lang
    if not LANGUAGE_TAG.match(lang):
        raise LanguageTagError(f"language tag {lang!r} is not well-formed BCP 47; use e.g. zh, zh-Hans, zh-Hant")
    if lang.split("-")[0].lower() != "zh":
        raise LanguageTagError(f"language tag {lang!r} is not Chinese; the records are: use zh, zh-Hans or zh-Hant")
    return lang


class Mapper:
    """Maps records for one base IRI and one language tag."""

    def __init__(self, minter: Minter, *, lang: str):
        check_language_tag(lang)
        self.minter = minter
        self.lang = lang

    def __call__(self, items: Iterable[Record | Reject]) -> Iterator[tuple[Record, list[Triple]] | Reject]:
        """Stage: each record with its triples; rejects pass through."""
        for item in items:
            yield item if isinstance(item, Reject) else (item, self.triples(item))

    def text(self, value: str) -> Lit:
        """A Chinese text: tagged by its own script (zh-Hans, zh-Hant, zh), or with the one --lang tag."""
        return Lit(value, language_tag(value) if self.lang == AUTO else self.lang)

    @property
    def language(self) -> str:
        """What schema:inLanguage says: the language; the script is on each literal."""
        return "zh" if self.lang == AUTO else self.lang

    def triples(self, record: Record) -> list[Triple]:
        m = self.minter
        work = m.work(record.id)
        book = m.book(record.book, record.book_author)
        printing = m.printing(record.id, record.book, record.book_author)
        out: list[Triple] = []
        add = out.append

        # the work: what a consumer searches by
        add((work, RDF_TYPE, SCHEMA.Article))
        add((work, DCTERMS.identifier, Lit(record.id)))
        add((work, SCHEMA.identifier, Lit(record.id)))
        add((work, SCHEMA.workExample, printing))
        add((work, SCHEMA.inLanguage, Lit(self.language)))
        # the printing: every field of the record
        add((printing, RDF_TYPE, SCHEMA.CreativeWork))
        add((printing, SCHEMA.exampleOfWork, work))
        add((printing, DCTERMS.isPartOf, book))
        add((printing, SCHEMA.isPartOf, book))
        add((printing, SCHEMA.articleBody, self.text(record.body)))
        add((printing, SCHEMA.inLanguage, Lit(self.language)))
        for subject in (work, printing):
            out.extend(self._shared_fields(subject, record))
        if record.origin:
            add((printing, DC.source, self.text(record.origin)))
        if record.authors:
            add((printing, DC.creator, self.text(record.author_text)))
        if record.date_text:
            add((printing, DC.date, Lit(record.date_text)))
        if record.description:
            add((printing, DCTERMS.description, self.text(record.description)))
            add((printing, SCHEMA.description, self.text(record.description)))
        for label, value in record.extra + _unmapped(record) + _variants(record):
            node = m.extra(printing, label, value)
            add((printing, SCHEMA.additionalProperty, node))
            add((node, RDF_TYPE, SCHEMA.PropertyValue))
            add((node, SCHEMA.name, self.text(label)))
            add((node, SCHEMA.value, self.text(value)))

        out.extend(self._book(book, record))
        for name in record.authors:
            out.extend(self._agent(name))
        for tag in record.tags:
            out.extend(self._concept(tag))
        if record.tags:
            out.extend(self._scheme())
        return out

    def _shared_fields(self, subject: str, record: Record) -> Iterator[Triple]:
        """Title, dates, creators and subjects: on the work and on the printing alike."""
        title = self.text(record.title)
        yield (subject, DCTERMS.title, title)
        yield (subject, SCHEMA.headline, title)
        yield (subject, SCHEMA.name, title)
        if record.is_range:
            start, end = record.dates
            period = self.minter.period(start, end)
            yield (subject, DCTERMS.temporal, period)
            yield from self._period(period, start, end)
        else:
            for date in record.dates:
                yield (subject, DCTERMS.date, date_literal(date))
                yield (subject, SCHEMA.dateCreated, date_literal(date))
        for name in record.authors:
            agent = self.minter.agent(name)
            yield (subject, DCTERMS.creator, agent)
            yield (subject, SCHEMA.author, agent)
        for tag in record.tags:
            concept = self.minter.concept(tag)
            yield (subject, DCTERMS.subject, concept)
            yield (subject, SCHEMA.about, concept)

    def _period(self, period: str, start: PartialDate, end: PartialDate) -> Iterator[Triple]:
        yield (period, RDF_TYPE, DCTERMS.PeriodOfTime)
        yield (period, DCAT.startDate, date_literal(start))
        yield (period, DCAT.endDate, date_literal(end))
        yield (period, RDFS.label, Lit(f"{start.lexical}/{end.lexical}"))

    def _book(self, book: str, record: Record) -> Iterator[Triple]:
        yield (book, RDF_TYPE, SCHEMA.Periodical if is_periodical(nfc(record.book)) else SCHEMA.Book)
        name = self.text(nfc(record.book))
        yield (book, SCHEMA.name, name)
        yield (book, DCTERMS.title, name)
        if record.book_author:
            yield (book, DC.creator, self.text(nfc(record.book_author)))

    def _agent(self, name: str) -> Iterator[Triple]:
        agent = self.minter.agent(name)
        yield (agent, RDF_TYPE, SCHEMA.Organization if is_corporate(nfc(name)) else SCHEMA.Person)
        yield (agent, SCHEMA.name, self.text(nfc(name)))
        yield (agent, RDFS.label, self.text(nfc(name)))

    def _concept(self, tag: str) -> Iterator[Triple]:
        concept = self.minter.concept(tag)
        scheme = self.minter.concept_scheme()
        yield (concept, RDF_TYPE, SKOS.Concept)
        yield (concept, SKOS.prefLabel, self.text(nfc(tag)))
        yield (concept, SKOS.inScheme, scheme)

    def _scheme(self) -> Iterator[Triple]:
        scheme = self.minter.concept_scheme()
        yield (scheme, RDF_TYPE, SKOS.ConceptScheme)
        yield (scheme, SKOS.prefLabel, Lit("Tags of the article records", "en"))
        yield (scheme, DCTERMS.title, Lit("Tags of the article records", "en"))
