"""The mapping from a Record to Dublin Core + schema.org + SKOS triples (stage 3 of a run).
The table it follows is docs/mapping.md; IRIs come from iris.py, vocabularies from vocab.py."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote
from typing import Iterable, Iterator

from .authorities import load as load_authorities
from .curated import Container, container_of, is_genre, source_kind
from .dates import PartialDate
from .iris import Minter, container_and_name, key
from .problems import OptionError, Reject
from .record import LABEL_OF, Record, header_fields
from .scripts import language_tag
from .terms import Lit, Triple
from .vocab import DC, DCAT, DCTERMS, EDTF, PROV, RDF_TYPE, RDFS, SCHEMA, SKOS, TIME, VOID, XSD

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

# What a container is (curated.py) decides its type, its printings' type and what their dates mean.
CONTAINER_TYPES: dict[str, tuple[str, ...]] = {
    "newspaper": (SCHEMA.Newspaper,), "periodical": (SCHEMA.Periodical,), "book": (SCHEMA.Book,),
    "volume": (SCHEMA.Book, SCHEMA.PublicationVolume), "database": (SCHEMA.Collection,),
    "website": (SCHEMA.WebSite,),
}
PRINTING_TYPES: dict[str, str] = {"newspaper": SCHEMA.NewsArticle}  # any other container: schema:Article


# Which predicates carry each record field, so that a SHACL result on one names the field (validate.py).
PREDICATES_OF_FIELD: dict[str, tuple[str, ...]] = {
    "id": (DCTERMS.identifier,),
    "title": (DCTERMS.title, SCHEMA.headline, DCTERMS.alternative),
    "dates": (DCTERMS.date, DCTERMS.created, DCTERMS.issued, TIME.hasTime, DC.date, SCHEMA.dateCreated,
              SCHEMA.datePublished),
    "authors": (DCTERMS.creator, SCHEMA.author),
    "origin": (DC.source, DCTERMS.bibliographicCitation, SCHEMA.sourceOrganization),
    "tags": (DCTERMS.subject, SKOS.prefLabel, SCHEMA.about, SCHEMA.genre, DCTERMS.type),
    "book": (DCTERMS.isPartOf, SCHEMA.isPartOf),
    "book_author": (DC.creator,),
    "body": (SCHEMA.articleBody,),
    "description": (DCTERMS.description,),
}


MAPPED_FIELDS = set(PREDICATES_OF_FIELD) | {"is_range"}  # the fields this module has a rule for

# Where a description came from, not what the record says: left out of the content that conflict
# detection compares, so that the same record found in two places is one printing with two sources.
PROVENANCE = frozenset({PROV.wasDerivedFrom, SCHEMA.isBasedOn})


# A later printing whose title or date disagrees with the work's first printing: on the work, its title
# becomes an alternative and its dates stay on the printing alone (conflicts.Printings finds them).
_AS_ALTERNATIVE = {DCTERMS.title: DCTERMS.alternative, SCHEMA.headline: SCHEMA.alternativeHeadline}
_FIRST_PRINTING_TITLE = {SCHEMA.name}
_FIRST_PRINTING_DATES = {DCTERMS.date, DCTERMS.created, SCHEMA.dateCreated, TIME.hasTime}
WORK_CLAIMS = set(_AS_ALTERNATIVE) | _FIRST_PRINTING_TITLE | _FIRST_PRINTING_DATES  # on the work, per printing


# What records say of their container: the parent keeps the first record's, per container (conflicts.py),
# since records of one container folder may name it differently. Only names, not the structure of issues.
_NAMED = frozenset({SCHEMA.name, DCTERMS.title})


def container_claim(triple: Triple, book: str, whole: str | None) -> bool:
    """Is this a statement about the container (its name, type, author statement, editors, its set), or
    the name of one of its issues, that another record of the container might word otherwise?"""
    subject, predicate = triple[0], triple[1]
    if predicate == SCHEMA.publisher:  # from the record's 来源 (本报), not from how it names the container
        return False
    return subject == book or subject == whole or (subject.startswith(book + "/issue/") and predicate in _NAMED)


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


# 书籍作者 is usually its compiler or editor: a name, or names joined like 作者 (周良霄,顾菊英). A statement
# with anything else in it (a publisher, a date: 斯大林，诸夏怀斯社2017年5月) is kept verbatim only.
_EDITOR_SEPARATORS = re.compile(r"[,，、;；]")
_EDITOR_NAME = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·・A-Za-z .\-]{2,30}$")
_NOT_A_NAME = re.compile(r"[0-9０-９年月日版社]$|出版|编$|主编")


def editors(statement: str) -> list[str]:
    """The names in a 书籍作者 statement, when it is only names; none when it says more than that."""
    names = [nfc(part.strip()) for part in _EDITOR_SEPARATORS.split(statement)]
    if not names or any(not _EDITOR_NAME.match(n) or _NOT_A_NAME.search(n) for n in names):
        return []
    return list(dict.fromkeys(names))


def is_corporate(name: str) -> bool:
    if len(name) < MIN_CORPORATE_LENGTH:
        return False
    return name.startswith(CORPORATE_PREFIXES) or name.endswith(CORPORATE_SUFFIXES)


def date_literal(date: PartialDate) -> Lit:
    return Lit(date.lexical, None, XSD[date.xsd_type])


def interval_literal(start: PartialDate, end: PartialDate) -> Lit:
    """An EDTF interval (ISO 8601-2), each end at its own precision: '1966-05/1967'."""
    return Lit(f"{start.lexical}/{end.lexical}", None, EDTF)


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


# Tags, agents and the two schemes recur across records: what the mapping says of each is worked out once
# per process and kept, at most this many of each (then forgotten all at once, and worked out again)
MEMO_LIMIT = 50_000


def _remember(memo: dict, key, value):
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


class Mapper:
    """Maps records for one base IRI and one language tag."""

    def __init__(self, minter: Minter, *, lang: str, rights: str | None = None, source_url: str | None = None,
                 authorities: str | None = None):
        check_language_tag(lang)
        self.minter = minter
        self.lang = lang
        self.rights = rights
        self.source_url = source_url
        self.authorities = load_authorities(authorities) if authorities else None
        self._tags: dict[str, tuple[str, bool, tuple[Triple, ...]]] = {}
        self._agents: dict[tuple, tuple[str, tuple[Triple, ...]]] = {}
        self._schemes: dict[bool, tuple[Triple, ...]] = {}

    def __call__(self, items: Iterable[Record | Reject]) -> Iterator[tuple[Record, list[Triple]] | Reject]:
        """Stage: each record with its triples; rejects pass through."""
        for item in items:
            yield item if isinstance(item, Reject) else (item, self.triples(item))

    def container_notes(self, printing: str, book: str, book_author: str) -> list[Triple]:
        """A record's own 书籍 and 书籍作者, as written, on its printing: for a record whose container an
        earlier record of its folder named otherwise (the container keeps the earlier's)."""
        return [triple for label, value in ((LABEL_OF["book"], book), (LABEL_OF["book_author"], book_author))
                if value for triple in self._note(printing, label, value)]

    def _note(self, printing: str, label: str, value: str) -> list[Triple]:
        """A field kept verbatim on a printing: skos:note to a PropertyValue (label, value as written);
        schema:additionalProperty would say the same, but its domain is not CreativeWork."""
        node = self.minter.extra(printing, label, value)
        return [(printing, SKOS.note, node), (node, RDF_TYPE, SCHEMA.PropertyValue),
                (node, SCHEMA.name, self.text(label)), (node, SCHEMA.value, self.text(value))]

    def container_subjects(self, record: Record) -> tuple[str, str | None]:
        """The container's IRI, and the multi-volume work it belongs to when it is a volume."""
        container = container_of(record.book)
        whole = self.minter.volume_set(container.set) if container.kind == "volume" else None
        return self.minter.book_of(record), whole

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
        book = m.book_of(record)
        printing = m.printing_of(record)
        container = container_of(record.book)
        issue = self._issue(book, container, record)
        out: list[Triple] = []
        add = out.append

        # the work: the text, whatever it was printed in; what a consumer searches by
        add((work, RDF_TYPE, SCHEMA.CreativeWork))
        add((work, DCTERMS.identifier, Lit(record.id)))
        add((work, SCHEMA.identifier, Lit(record.id)))
        add((work, SCHEMA.workExample, printing))
        add((work, SCHEMA.inLanguage, Lit(self.language)))
        # the printing: the text as printed in one container, with every field of the record
        add((printing, RDF_TYPE, PRINTING_TYPES.get(container.kind, SCHEMA.Article)))
        add((printing, RDF_TYPE, DCTERMS.BibliographicResource))
        add((printing, SCHEMA.exampleOfWork, work))
        add((printing, DCTERMS.isPartOf, issue or book))
        add((printing, SCHEMA.isPartOf, issue or book))
        add((printing, SCHEMA.articleBody, self.text(record.body)))
        add((printing, SCHEMA.inLanguage, Lit(self.language)))
        if self.rights:
            add((printing, DCTERMS.rights, self.rights))
        add((printing, VOID.inDataset, m.dataset()))  # the release that publishes it (its version: void.ttl)
        out.extend(self._source(printing, record))
        for subject in (work, printing):
            out.extend(self._shared_fields(subject, record))
        out.extend(self._dates(work, printing, container, record))
        if record.origin:
            add((printing, DC.source, self.text(record.origin)))
            out.extend(self._origin(printing, book, container, record))
        if record.authors:
            add((printing, DC.creator, self.text(record.author_text)))
        if record.date_text:
            add((printing, DC.date, Lit(record.date_text)))
        if record.description:
            add((printing, DCTERMS.description, self.text(record.description)))
            add((printing, SCHEMA.description, self.text(record.description)))
        for label, value in record.extra + _unmapped(record) + _variants(record):
            out.extend(self._note(printing, label, value))

        out.extend(self._book(book, container, record))
        if issue:
            out.extend(self._issue_node(issue, book, record))
        for name in record.authors:
            out.extend(self._agent(name, record))
        tags = [self._tag(tag) for tag in record.tags]
        for _, genre, concept in tags:  # topics first, then forms
            if not genre:
                out.extend(concept)
        for _, genre, concept in tags:
            if genre:
                out.extend(concept)
        for genre in (False, True):
            if any(known[1] is genre for known in tags):
                out.extend(self._scheme_of(genre))
        return out

    def _tag(self, tag: str) -> tuple[str, bool, tuple[Triple, ...]]:
        """A tag's node, whether it is a form (genre), and what the mapping says of it."""
        known = self._tags.get(tag)
        if known is None:
            m, genre = self.minter, is_genre(tag)
            node, scheme = (m.genre(tag), m.genre_scheme()) if genre else (m.concept(tag), m.concept_scheme())
            known = _remember(self._tags, tag, (node, genre, tuple(self._concept(node, tag, scheme))))
        return known

    def _scheme_of(self, genre: bool) -> tuple[Triple, ...]:
        known = self._schemes.get(genre)
        if known is None:
            m = self.minter
            known = self._schemes[genre] = tuple(
                self._scheme(m.genre_scheme(), "Forms (genres) of the article records") if genre
                else self._scheme(m.concept_scheme(), "Topics of the article records"))
        return known

    def _source(self, printing: str, record: Record) -> Iterator[Triple]:
        """Where the printing's description came from: the source record (container id and article id as
        the input names them; its page at the source when --source-url gives a template)."""
        container, _ = container_and_name(record.file)
        identifier = f"{container}/{record.id}" if container else record.id
        if self.source_url:
            source = self.source_url.format(container=quote(container or "", safe=""), id=record.id)
        else:  # one per source file: identical copies of a record in two places are two sources
            source = f"{printing}/source/{key(identifier)}"
        yield (printing, PROV.wasDerivedFrom, source)
        yield (printing, SCHEMA.isBasedOn, source)
        yield (source, RDF_TYPE, PROV.Entity)
        yield (source, DCTERMS.identifier, Lit(identifier))

    def _shared_fields(self, subject: str, record: Record) -> Iterator[Triple]:
        """Title, creators, topics and forms: on the work and on the printing alike."""
        title = self.text(record.title)
        yield (subject, DCTERMS.title, title)
        yield (subject, SCHEMA.headline, title)
        yield (subject, SCHEMA.name, title)
        for name in record.authors:
            agent = self.agent_iri(name, record)
            yield (subject, DCTERMS.creator, agent)
            yield (subject, SCHEMA.author, agent)
        for tag in record.tags:
            node, genre, _ = self._tag(tag)
            if genre:
                yield (subject, SCHEMA.genre, node)
                yield (subject, DCTERMS.type, node)
            else:
                yield (subject, DCTERMS.subject, node)
                yield (subject, SCHEMA.about, node)

    def _dates(self, work: str, printing: str, container: Container, record: Record) -> Iterator[Triple]:
        """dcterms:date on both, always. In a newspaper or periodical, 日期 is the issue's date: the
        printing was published then. Elsewhere (a compilation, a database) it is the text's own date:
        the work was created then, and the compilation says nothing about when it was printed."""
        if record.is_range:
            start, end = record.dates
            literals = [interval_literal(start, end)]
            period = self.minter.period(start, end)
            for subject in (work, printing):
                yield (subject, TIME.hasTime, period)
            yield from self._period(period, start, end)
        else:
            literals = [date_literal(date) for date in record.dates]
        for literal in literals:
            yield (work, DCTERMS.date, literal)
            yield (printing, DCTERMS.date, literal)
            exact = literal.datatype != EDTF  # schema.org's dates are points: an interval is not one
            if container.is_periodical:
                yield (printing, DCTERMS.issued, literal)
                if exact:
                    yield (printing, SCHEMA.datePublished, literal)
            else:
                yield (work, DCTERMS.created, literal)
                if exact:
                    yield (work, SCHEMA.dateCreated, literal)

    def _period(self, period: str, start: PartialDate, end: PartialDate) -> Iterator[Triple]:
        yield (period, RDF_TYPE, DCTERMS.PeriodOfTime)
        yield (period, RDF_TYPE, TIME.ProperInterval)
        yield (period, DCAT.startDate, date_literal(start))
        yield (period, DCAT.endDate, date_literal(end))
        yield (period, RDFS.label, Lit(f"{start.lexical}/{end.lexical}"))

    def _issue(self, book: str, container: Container, record: Record) -> str | None:
        """A newspaper's issue of the day: only for one date, to the day (an issue is a day's paper)."""
        if container.kind != "newspaper" or record.is_range or len(record.dates) != 1 or not record.dates[0].day:
            return None
        return self.minter.issue(book, record.dates[0])

    def _issue_node(self, issue: str, book: str, record: Record) -> Iterator[Triple]:
        date = date_literal(record.dates[0])
        name = self.text(f"{nfc(record.book)} {record.dates[0].lexical}")
        yield (issue, RDF_TYPE, SCHEMA.PublicationIssue)
        yield (issue, SCHEMA.isPartOf, book)
        yield (issue, DCTERMS.isPartOf, book)
        yield (issue, SCHEMA.datePublished, date)
        yield (issue, DCTERMS.issued, date)
        yield (issue, SCHEMA.name, name)
        yield (issue, DCTERMS.title, name)

    def _origin(self, printing: str, book: str, container: Container, record: Record) -> Iterator[Triple]:
        """来源, beyond the verbatim dc:source: a citation, or the organisation that supplied the text."""
        kind = source_kind(record.origin)
        if kind == "this" and not container.is_periodical:
            kind = "note"  # 本报 reprinted in a compilation: 'this paper' is a paper the record does not name
        if kind == "citation":
            yield (printing, DCTERMS.bibliographicCitation, self.text(record.origin))
        elif kind in ("credit", "this"):
            # 本报 ('this paper'): the newspaper's own staff, the organisation that publishes it
            name = nfc(record.book) if kind == "this" else nfc(record.origin)
            agent = self.agent_iri(name, record)
            yield (printing, SCHEMA.sourceOrganization, agent)
            yield (agent, RDF_TYPE, SCHEMA.Organization)
            yield (agent, SCHEMA.name, self.text(name))
            yield (agent, RDFS.label, self.text(name))
            yield from self._same_as(agent, name, record)
            if kind == "this":
                yield (book, SCHEMA.publisher, agent)

    def _book(self, book: str, container: Container, record: Record) -> Iterator[Triple]:
        for cls in CONTAINER_TYPES[container.kind]:
            yield (book, RDF_TYPE, cls)
        name = self.text(nfc(record.book))
        yield (book, SCHEMA.name, name)
        yield (book, DCTERMS.title, name)
        folder = self.minter.source_container(record)
        if folder:  # the source's own id for it, as written
            yield (book, DCTERMS.identifier, Lit(folder))
        if record.book_author:
            yield (book, DC.creator, self.text(nfc(record.book_author)))
            for editor in editors(record.book_author):
                agent = self.agent_iri(editor, record)
                # schema:editor is for a Person; an organisation that compiled a book contributed to it
                yield (book, SCHEMA.contributor if is_corporate(editor) else SCHEMA.editor, agent)
                yield (book, DCTERMS.contributor, agent)
                yield from self._agent(editor, record)
        _, whole = self.container_subjects(record)
        if whole:
            yield (book, SCHEMA.volumeNumber, Lit(container.volume))
            yield (book, SCHEMA.isPartOf, whole)
            yield (book, DCTERMS.isPartOf, whole)
            yield (whole, RDF_TYPE, SCHEMA.Book)
            yield (whole, SCHEMA.name, self.text(container.set))
            yield (whole, DCTERMS.title, self.text(container.set))

    def agent_iri(self, name: str, record: Record) -> str:
        """An agent by its name, unless the authority table gives the name several people: then by the
        one this record's book means, so that two 王力 stay two agents."""
        return self._known_agent(name, record)[0]

    def _known_agent(self, name: str, record: Record) -> tuple[str, tuple[Triple, ...]]:
        """An agent's IRI and what the mapping says of it: a function of its name (and of the record's book
        when an authority table is used)."""
        memo_key = (name, record.book) if self.authorities else name
        known = self._agents.get(memo_key)
        if known is None:
            authority = self.authorities.lookup(name, record.book) if self.authorities else None
            agent = self.minter.agent(name, authority.iri if authority and authority.split else None)
            known = _remember(self._agents, memo_key, (agent, tuple(self._describe_agent(agent, name, record))))
        return known

    def _same_as(self, agent: str, name: str, record: Record) -> Iterator[Triple]:
        authority = self.authorities.lookup(name, record.book) if self.authorities else None
        if authority:
            yield (agent, SCHEMA.sameAs, authority.iri)

    def _agent(self, name: str, record: Record) -> tuple[Triple, ...]:
        return self._known_agent(name, record)[1]

    def _describe_agent(self, agent: str, name: str, record: Record) -> Iterator[Triple]:
        yield (agent, RDF_TYPE, SCHEMA.Organization if is_corporate(nfc(name)) else SCHEMA.Person)
        yield (agent, SCHEMA.name, self.text(nfc(name)))
        yield (agent, RDFS.label, self.text(nfc(name)))
        yield from self._same_as(agent, name, record)

    def _concept(self, concept: str, tag: str, scheme: str) -> Iterator[Triple]:
        """A tag: a SKOS concept, and a schema.org DefinedTerm, so that schema:about and schema:genre
        point at a Thing schema.org knows."""
        label = self.text(nfc(tag))
        yield (concept, RDF_TYPE, SKOS.Concept)
        yield (concept, RDF_TYPE, SCHEMA.DefinedTerm)
        yield (concept, SKOS.prefLabel, label)
        yield (concept, SCHEMA.name, label)
        yield (concept, SKOS.inScheme, scheme)
        yield (concept, SCHEMA.inDefinedTermSet, scheme)

    def _scheme(self, scheme: str, title: str) -> Iterator[Triple]:
        label = Lit(title, "en")
        yield (scheme, RDF_TYPE, SKOS.ConceptScheme)
        yield (scheme, RDF_TYPE, SCHEMA.DefinedTermSet)
        yield (scheme, SKOS.prefLabel, label)
        yield (scheme, DCTERMS.title, label)
        yield (scheme, SCHEMA.name, label)
