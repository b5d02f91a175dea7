"""What a release says about one resource, read from its Oxigraph store: the resource's own triples with the
labels and types of what they link to, its label by a configurable order of properties, and what points to it."""

from __future__ import annotations

import bisect
import threading
import unicodedata
from collections import Counter
from typing import Iterable, NamedTuple

from .problems import OptionError
from .terms import RDF_LANGSTRING, XSD_STRING, Lit, Term, Triple, nt_line
from .vocab import DCTERMS, FOAF, PREFIXES, RDFS, SCHEMA, SKOS, VOID

RDF_TYPE = PREFIXES["rdf"] + "type"

# Where a resource's label is read from, first match wins: the documented default of `--label-properties`
# (docs/pages.md). SKOS's preferred label before schema:name, so a tag shows its tag, not a derived name.
LABEL_PROPERTIES: tuple[str, ...] = (SKOS.prefLabel, SCHEMA.name, DCTERMS.title, RDFS.label, FOAF.name,
                                     SCHEMA.headline, DCTERMS.identifier)
# Which of several labels in different languages is shown: the corpus is in Chinese, the metadata in English.
LANGUAGES: tuple[str, ...] = ("zh-hans", "zh-hant", "zh", "", "en")

# The lists of what points to a resource, one per property (the other vocabulary's twin, such as
# dcterms:creator beside schema:author, says the same and is not listed twice). Headings are in pages.py.
INVERSE: tuple[str, ...] = (SCHEMA.author, SCHEMA.editor, SCHEMA.contributor, SCHEMA.sourceOrganization,
                            SCHEMA.publisher, SCHEMA.about, SCHEMA.genre, FOAF.focus, SCHEMA.isPartOf,
                            SCHEMA.inDefinedTermSet)

WORK = SCHEMA.CreativeWork  # a work is typed exactly this; its printings are Article or NewsArticle
PRINTING = DCTERMS.BibliographicResource
AGENT_TYPES = (SCHEMA.Person, SCHEMA.Organization)
CONTAINER_TYPES = (SCHEMA.Newspaper, SCHEMA.Periodical, SCHEMA.Book, SCHEMA.Collection, SCHEMA.WebSite)
ISSUE = SCHEMA.PublicationIssue
DATE_PROPERTIES = (DCTERMS.date, DCTERMS.issued)  # what a list sorts by: a work's date, an issue's day
LIST_CACHE = 1024     # sorted lists of what points to a resource, kept per store
LABEL_CACHE = 200_000  # labels of resources (~200 bytes each)


def bcp47(tag: str) -> str:
    """A language tag in its conventional case (zh-Hans, en-GB): the store keeps tags lower-cased."""
    parts = tag.split("-")
    for index, part in enumerate(parts[1:], 1):
        if len(part) == 4 and part.isalpha():
            parts[index] = part.title()
        elif len(part) == 2 and part.isalpha():
            parts[index] = part.upper()
        else:
            parts[index] = part.lower()
    parts[0] = parts[0].lower()
    return "-".join(parts)


def plain(term) -> Term:
    """A pyoxigraph term as the pipeline's plain term (an IRI str, a Lit)."""
    import pyoxigraph

    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Lit(term.value, bcp47(term.language))
        datatype = term.datatype.value
        return Lit(term.value, None, None if datatype in (XSD_STRING, RDF_LANGSTRING) else datatype)
    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    return "_:" + str(term.value)  # the release is blank-node free; a store loaded from elsewhere may not be


class Entry(NamedTuple):
    """One resource in a list: how it sorts, what it is called, its date as written."""

    iri: str
    label: str
    date: str


def _sort_key(entry: Entry) -> tuple:
    return (entry.date or "~", unicodedata.normalize("NFKC", entry.label).casefold(), entry.iri)


def _name_key(entry: Entry) -> tuple:
    return (unicodedata.normalize("NFKC", entry.label).casefold(), entry.iri)


class Catalogue(NamedTuple):
    """What the landing page, the browse indexes and the search read: the whole release in brief."""

    works: list[Entry]                    # by date, then title
    years: Counter                        # year -> works dated in it
    containers: list[tuple[Entry, int]]   # newspapers and books, by name, with their printings
    agents: list[tuple[Entry, int]]       # with the works they wrote
    tags: list[tuple[Entry, int]]
    genres: list[tuple[Entry, int]]
    names: list[Entry]                    # what the search looks in: works, agents, containers, concepts
    haystack: str                         # their folded labels, one a line, in the order of names
    starts: list[int]                     # where each line of haystack starts
    work_of: dict[str, tuple[str, ...]]   # printing -> the works it is an example of


class Graph:
    """Read access to one store of a release. Thread-safe: pyoxigraph's read-only store answers from many
    threads; the caches here are guarded."""

    def __init__(self, store, *, label_properties: Iterable[str] = LABEL_PROPERTIES):
        import pyoxigraph

        self._ox = pyoxigraph
        self.store = store
        self.label_properties = tuple(label_properties)
        self._labels: dict[str, Lit | None] = {}
        self._stubs: dict[str, list[Triple]] = {}
        self._lists: dict[tuple, list[Entry]] = {}
        self._guard = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._works: dict[str, Entry] = {}  # the catalogue's works by IRI, once it is built
        self.base = self._base()

    # ------------------------------------------------------------------ triples

    def _node(self, iri: str):
        return self._ox.NamedNode(iri)

    def pairs(self, subject: str) -> list[tuple[str, Term]]:
        """(predicate, object) of every triple about subject, in a stable order."""
        try:
            node = self._node(subject)
        except ValueError:
            return []
        found = [(quad.predicate.value, plain(quad.object))
                 for quad in self.store.quads_for_pattern(node, None, None, self._ox.DefaultGraph())]
        return sorted(found, key=lambda pair: (pair[0] != RDF_TYPE, pair[0], nt_line(("s", "p", pair[1]))))

    def objects(self, subject: str, predicate: str) -> list[Term]:
        return [plain(quad.object) for quad in self.store.quads_for_pattern(
            self._node(subject), self._node(predicate), None, self._ox.DefaultGraph())]

    def subjects(self, predicate: str, obj: str) -> list[str]:
        return [quad.subject.value for quad in self.store.quads_for_pattern(
            None, self._node(predicate), self._node(obj), self._ox.DefaultGraph())
            if isinstance(quad.subject, self._ox.NamedNode)]

    def exists(self, iri: str) -> bool:
        try:
            node = self._node(iri)
        except ValueError:
            return False
        return next(iter(self.store.quads_for_pattern(node, None, None, self._ox.DefaultGraph())), None) is not None

    def types(self, iri: str) -> list[str]:
        return sorted(t for t in self.objects(iri, RDF_TYPE) if isinstance(t, str))

    def first(self, iri: str, predicate: str) -> Term | None:
        values = self.objects(iri, predicate)
        return min(values, key=lambda v: nt_line(("s", "p", v))) if values else None

    # ------------------------------------------------------------------ labels

    def label(self, iri: str) -> Lit | None:
        """The label shown for iri: the first of label_properties it has, in the preferred language."""
        with self._guard:
            if iri in self._labels:
                return self._labels[iri]
        found = None
        try:
            self._node(iri)
        except ValueError:
            return None
        for predicate in self.label_properties:
            values = [value for value in self.objects(iri, predicate) if isinstance(value, Lit)]
            if values:
                found = min(values, key=_language_rank)
                break
        with self._guard:
            if len(self._labels) >= LABEL_CACHE:
                self._labels.clear()
            self._labels[iri] = found
        return found

    def label_text(self, iri: str) -> str:
        found = self.label(iri)
        return found.value if found else iri

    def label_triples(self, iri: str) -> list[Triple]:
        """The triples that name and type iri: what a description says of each thing it links to. Kept,
        as labels are: the agents, tags and books linked from one page are linked from many."""
        with self._guard:
            cached = self._stubs.get(iri)
        if cached is not None:
            return cached
        triples = self._label_triples(iri)
        with self._guard:
            if len(self._stubs) >= LABEL_CACHE:
                self._stubs.clear()
            self._stubs[iri] = triples
        return triples

    def _label_triples(self, iri: str) -> list[Triple]:
        triples: list[Triple] = [(iri, RDF_TYPE, t) for t in self.types(iri)]
        for predicate in self.label_properties:
            values = [value for value in self.objects(iri, predicate) if isinstance(value, Lit)]
            if values:
                triples.extend((iri, predicate, value) for value in values)
                break
        return triples

    # ------------------------------------------------------------------ descriptions

    def describe(self, iri: str) -> list[Triple]:
        """The resource's own triples, then the labels and types of every IRI they link to, once each:
        what its RDF documents hold and what its page embeds as JSON-LD."""
        own = [(iri, predicate, obj) for predicate, obj in self.pairs(iri)]
        linked: list[Triple] = []
        seen = {iri}
        for _, predicate, obj in own:
            if isinstance(obj, str) and predicate != RDF_TYPE and obj not in seen:
                seen.add(obj)
                linked.extend(self.label_triples(obj))
        return own + linked

    # ------------------------------------------------------------------ what points here

    def entry(self, iri: str) -> Entry:
        known = self._works.get(iri)
        if known is not None:
            return known
        for predicate in DATE_PROPERTIES:
            date = self.first(iri, predicate)
            if isinstance(date, Lit):
                return Entry(iri, self.label_text(iri), date.value)
        return Entry(iri, self.label_text(iri), "")

    def pointing(self, iri: str, predicate: str) -> list[Entry]:
        """What points to iri by predicate, sorted (date, then label); a printing is left out when its work
        is in the list too (both say the same author or tag)."""
        key = ("in", iri, predicate)
        with self._guard:
            cached = self._lists.get(key)
        if cached is not None:
            return cached
        subjects = set(self.subjects(predicate, iri))
        kept = [s for s in subjects if s in self._works or not any(w in subjects for w in self._works_of(s))]
        entries = sorted((self.entry(s) for s in kept), key=_sort_key)
        return self._keep(key, entries)

    def _works_of(self, printing: str) -> tuple[str, ...]:
        # from the catalogue's table once it is built: a tag of 54,220 works and printings listed in
        # 0.4 s instead of 1.0 s at 100k records (one store look-up per printing saved)
        if self._catalogue is not None:
            return self._catalogue.work_of.get(printing, ())
        return tuple(w for w in self.objects(printing, SCHEMA.exampleOfWork) if isinstance(w, str))

    def parts(self, container: str) -> list[Entry]:
        """What is part of container other than printings (its issues, volumes), sorted and kept: a
        newspaper's page would otherwise look up the type of each of its issues on every view."""
        key = ("parts", container)
        with self._guard:
            cached = self._lists.get(key)
        if cached is not None:
            return cached
        entries = [e for e in self.pointing(container, SCHEMA.isPartOf) if PRINTING not in self.types(e.iri)]
        return self._keep(key, entries)

    def articles_in(self, container: str) -> list[Entry]:
        """The printings in a container, directly or through its issues and volumes (two levels down)."""
        key = ("articles", container)
        with self._guard:
            cached = self._lists.get(key)
        if cached is not None:
            return cached
        found: set[str] = set()
        frontier = [container]
        for _ in range(3):
            parts = [s for node in frontier for s in self.subjects(SCHEMA.isPartOf, node)]
            found.update(s for s in parts if PRINTING in self.types(s))
            frontier = [s for s in parts if s not in found]
        return self._keep(key, sorted((self.entry(s) for s in found), key=_sort_key))

    def _keep(self, key: tuple, entries: list[Entry]) -> list[Entry]:
        with self._guard:
            if len(self._lists) >= LIST_CACHE:
                self._lists.clear()
            self._lists[key] = entries
        return entries

    # ------------------------------------------------------------------ the release in brief

    def _base(self) -> str | None:
        for quad in self.store.quads_for_pattern(None, self._node(VOID.uriSpace), None, self._ox.DefaultGraph()):
            return quad.object.value
        return None

    @property
    def dataset(self) -> str | None:
        return self.base + "dataset" if self.base else None

    def catalogue(self) -> Catalogue:
        """Built once per store, on first use (~12 s per 100k records in-process, bench/README.md)."""
        with self._guard:
            if self._catalogue is not None:
                return self._catalogue
        catalogue = self._build_catalogue()
        with self._guard:
            self._catalogue = catalogue
            self._works = {entry.iri: entry for entry in catalogue.works}
        return catalogue

    def _typed(self, cls: str) -> list[str]:
        return [quad.subject.value for quad in self.store.quads_for_pattern(
            None, self._node(RDF_TYPE), self._node(cls), self._ox.DefaultGraph())]

    def _build_catalogue(self) -> Catalogue:
        works = sorted((self.entry(w) for w in self._typed(WORK)), key=_sort_key)
        years = Counter(entry.date[:4] for entry in works if entry.date[:4].isdigit())
        # counted by the store's query engine, not by a Python loop over quads: 100k records, 14.5 s of
        # look-ups and scans -> ~4 s of queries (bench/README.md)
        containers = self._counts(_CONTAINERS_QUERY.format(printing=PRINTING, part=SCHEMA.isPartOf, issue=ISSUE))
        counted = {predicate: self._counts(_COUNT_QUERY.format(work=WORK, predicate=predicate))
                   for predicate in (SCHEMA.author, SCHEMA.about, SCHEMA.genre)}
        agents = {a for cls in AGENT_TYPES for a in self._typed(cls)}
        for agent in agents:
            counted[SCHEMA.author].setdefault(agent, 0)
        tags = set(self.subjects(SKOS.inScheme, self.base + "tags")) if self.base else set()
        genres = set(self.subjects(SKOS.inScheme, self.base + "genres")) if self.base else set()

        def listed(counter: Counter, keep=None) -> list[tuple[Entry, int]]:
            items = [(self.entry(iri), count) for iri, count in counter.items() if keep is None or iri in keep]
            return sorted(items, key=lambda item: _name_key(item[0]))

        container_list = listed(containers)
        agent_list = listed(counted[SCHEMA.author], agents)
        tag_list = listed(counted[SCHEMA.about] | Counter({t: 0 for t in tags}), tags)
        genre_list = listed(counted[SCHEMA.genre] | Counter({g: 0 for g in genres}), genres)
        names = works + [entry for items in (agent_list, container_list, tag_list, genre_list) for entry, _ in items]
        folded = [_fold(entry.label) for entry in names]
        starts, at = [], 0
        for line in folded:
            starts.append(at)
            at += len(line) + 1
        work_of: dict[str, tuple[str, ...]] = {}
        for quad in self.store.quads_for_pattern(None, self._node(SCHEMA.exampleOfWork), None, self._ox.DefaultGraph()):
            if isinstance(quad.object, self._ox.NamedNode):
                work_of[quad.subject.value] = work_of.get(quad.subject.value, ()) + (quad.object.value,)
        return Catalogue(works, years, container_list, agent_list, tag_list, genre_list, names, "\n".join(folded),
                         starts, work_of)

    def _counts(self, query: str) -> Counter:
        return Counter({row["thing"].value: int(row["n"].value) for row in self.store.query(query)})

    def search(self, text: str, *, limit: int = 200) -> tuple[list[Entry], int]:
        """Titles and names that contain text (after NFKC and case folding): the matches, up to limit, and
        how many there are. One str.find scan of the folded labels per query (bench/README.md: time per
        100k records); each match skips to the next line, so a label counts once."""
        needle = _fold(text).strip()
        if not needle:
            return [], 0
        catalogue = self.catalogue()
        haystack, starts, lines, at = catalogue.haystack, catalogue.starts, [], 0
        while True:
            at = haystack.find(needle, at)
            if at < 0:
                break
            line = bisect.bisect_right(starts, at) - 1
            lines.append(line)
            at = starts[line + 1] if line + 1 < len(starts) else len(haystack)
        return [catalogue.names[line] for line in lines[:limit]], len(lines)


# works per agent, tag or genre (each IRI object of the predicate on a work)
_COUNT_QUERY = """SELECT ?thing (COUNT(DISTINCT ?work) AS ?n) WHERE {{
  ?work a <{work}> ; <{predicate}> ?thing . FILTER(isIRI(?thing))
}} GROUP BY ?thing"""
# printings per newspaper or book: a printing in an issue counts for the issue's container
_CONTAINERS_QUERY = """SELECT ?thing (COUNT(?printing) AS ?n) WHERE {{
  ?printing a <{printing}> ; <{part}> ?parent .
  OPTIONAL {{ ?parent a <{issue}> ; <{part}> ?whole . FILTER(isIRI(?whole)) }}
  BIND(COALESCE(?whole, ?parent) AS ?thing)
}} GROUP BY ?thing"""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("\n", " ")


def _language_rank(value: Lit) -> tuple:
    language = (value.lang or "").lower()
    rank = LANGUAGES.index(language) if language in LANGUAGES else len(LANGUAGES)
    return (rank, language, value.value)


def parse_label_properties(text: str | None) -> tuple[str, ...]:
    """`--label-properties`: comma-separated compact (skos:prefLabel) or full IRIs, in order."""
    if not text:
        return LABEL_PROPERTIES
    found = []
    for item in (piece.strip() for piece in text.split(",")):
        if not item:
            continue
        prefix, colon, local = item.partition(":")
        if item.startswith(("http://", "https://")):
            found.append(item)
        elif colon and prefix in PREFIXES:
            found.append(PREFIXES[prefix] + local)
        else:
            raise OptionError(f"--label-properties: {item!r} is neither a full IRI nor a compact one with a known "
                              f"prefix ({', '.join(PREFIXES)}); write e.g. skos:prefLabel,schema:name")
    if not found:
        raise OptionError("--label-properties names no property; write e.g. skos:prefLabel,schema:name")
    return tuple(found)


def open_store(path):
    """The read-only store of one release version (as sparql.ensure_store made it)."""
    import pyoxigraph

    return pyoxigraph.Store.read_only(str(path))
