"""The HTML pages of a release: a resource with what points to it, the browse indexes, the landing page and
its charts, search results and the query page, rendered by Jinja2 from describe.py for serve and site alike."""

from __future__ import annotations

import json
import math
import posixpath
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple

from .describe import CONTAINER_TYPES, INVERSE, ISSUE, RDF_TYPE, Entry, Graph
from .negotiation import FORMATS, RDF_FORMATS, jsonld_text
from .serialize import Prefixes
from .terms import Lit
from .vocab import DC, DCAT, DCTERMS, FOAF, PROV, SCHEMA, SKOS, TIME, VOID

PAGE_SIZE = 100  # entries of a list on one page
# Names under the base that the site uses for its own pages; none is a name the minter uses (iris.py),
# test_pages checks it.
OWN_NAMES = ("browse", "search", "assets", "dumps")
TEMPLATES = Path(__file__).resolve().parent / "templates"
ASSETS = Path(__file__).resolve().parent / "assets"

# What a resource page shows first, in this order: a heading and the properties under it (the other
# vocabulary's twin of each is in "All statements" below). Which values exist decides what is shown.
FACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Alternative title", (DCTERMS.alternative, SCHEMA.alternativeHeadline)),
    ("Author", (SCHEMA.author,)),
    ("Editor", (SCHEMA.editor,)),
    ("Contributor", (SCHEMA.contributor,)),
    ("Date", (DCTERMS.date,)),
    ("Created", (DCTERMS.created,)),
    ("Issued", (DCTERMS.issued,)),
    ("Period", (TIME.hasTime,)),
    ("Starts", (DCAT.startDate,)),
    ("Ends", (DCAT.endDate,)),
    ("Work", (SCHEMA.exampleOfWork,)),
    ("Printed in", (SCHEMA.isPartOf,)),
    ("Volume", (SCHEMA.volumeNumber,)),
    ("Publisher", (SCHEMA.publisher,)),
    ("Tags", (SCHEMA.about,)),
    ("Genre", (SCHEMA.genre,)),
    ("About", (FOAF.focus,)),
    ("Term set", (SCHEMA.inDefinedTermSet,)),
    ("Description", (SCHEMA.description, DCTERMS.description)),
    ("Source", (DC.source,)),
    ("Citation", (DCTERMS.bibliographicCitation,)),
    ("Source organisation", (SCHEMA.sourceOrganization,)),
    ("Note", (SKOS.note,)),
    ("Value", (SCHEMA.value,)),
    ("Derived from", (PROV.wasDerivedFrom,)),
    ("Same as", (SCHEMA.sameAs,)),
    ("Rights", (DCTERMS.rights,)),
    ("Licence", (DCTERMS.license,)),
    ("Identifier", (DCTERMS.identifier,)),
    ("In dataset", (VOID.inDataset,)),
)

# The lists of what points to a resource (describe.INVERSE), by the property that points.
LIST_HEADINGS = {
    SCHEMA.author: "Articles by this author", SCHEMA.editor: "Edited", SCHEMA.contributor: "Contributed to",
    SCHEMA.sourceOrganization: "Articles it is credited as the source of", SCHEMA.publisher: "Publishes",
    SCHEMA.about: "Articles with this tag", SCHEMA.genre: "Articles of this genre",
    FOAF.focus: "Tags about this agent", SCHEMA.isPartOf: "Parts", SCHEMA.inDefinedTermSet: "Terms",
}

# The browse indexes: name -> (heading, what Catalogue field lists them).
INDEXES = {
    "containers": ("Newspapers and books", "containers"),
    "authors": ("Authors", "agents"),
    "tags": ("Tags", "tags"),
    "genres": ("Genres", "genres"),
    "years": ("Years", None),
    "articles": ("All articles", None),
}

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


# --------------------------------------------------------------------------- where links go

class Links:
    """The addresses a page links to. On the server: the local address of each IRI under the base (the
    same path as the IRI, so a page behind the real domain links to the canonical IRIs themselves)."""

    static = False

    def __init__(self, base: str, prefix: str, *, sparql: str | None = "/sparql"):
        self.base = base
        self.prefix = prefix
        self.sparql = sparql

    def resource(self, iri: str) -> str | None:
        """Where a click on iri goes: its page here when it is the release's, else None (link the IRI)."""
        if not iri.startswith(self.base) or iri == self.base:
            return None
        return self.prefix + iri[len(self.base):]

    def page(self, name: str) -> str:
        return self.prefix + name

    def document(self, iri: str, extension: str) -> str | None:
        address = self.resource(iri)
        return address + extension if address else None

    def asset(self, name: str) -> str:
        return f"{self.prefix}assets/{name}"

    def download(self, name: str) -> str:
        return f"{self.prefix}dumps/{name}"


class SiteLinks(Links):
    """Relative links between the files of a static site, so that it works opened from disk or from any
    folder of any host: every page is NAME.html, the landing page index.html."""

    static = True

    def __init__(self, base: str, here: str, *, sparql: str | None = None):
        super().__init__(base, "", sparql=sparql)
        self.folder = posixpath.dirname(file_name(here))

    def _relative(self, target: str) -> str:
        path = posixpath.relpath(target, self.folder or ".")
        path = urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")  # '%' itself is part of the file name
        return path if path.startswith("../") else "./" + path

    def resource(self, iri: str) -> str | None:
        if not iri.startswith(self.base) or iri == self.base:
            return None
        return self._relative(iri[len(self.base):] + ".html")

    def page(self, name: str) -> str:
        return self._relative(file_name(name))

    def document(self, iri: str, extension: str) -> str | None:
        if not iri.startswith(self.base) or iri == self.base:
            return None
        return self._relative(iri[len(self.base):] + extension)

    def asset(self, name: str) -> str:
        return self._relative(f"assets/{name}")

    def download(self, name: str) -> str:
        return self._relative(f"dumps/{name}")


def _inside(name: str) -> bool:
    """A relative path of plain segments: what SHA256SUMS may name (it is read, so it is not trusted)."""
    parts = name.split("/")
    return bool(name) and "\\" not in name and all(part not in ("", ".", "..") for part in parts)


def file_name(name: str) -> str:
    """The static site's file of a page name ('' is the landing page)."""
    return "index.html" if name == "" else name + ".html"


def page_name(name: str, page: int) -> str:
    return name if page <= 1 else f"{name}/page/{page}"


# --------------------------------------------------------------------------- what a page shows

class Value(NamedTuple):
    text: str
    lang: str | None = None
    href: str | None = None
    iri: str | None = None      # a linked resource's canonical IRI (shown on hover, copied by people)
    datatype: str | None = None


class Listing(NamedTuple):
    heading: str
    entries: list[Value]
    total: int


@dataclass
class Release:
    """What the landing page says of the release files: name, size, sha256 and media type of each."""

    downloads: list[tuple[str, int, str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, folder: Path) -> "Release":
        from .metadata import read_sha256sums
        from .readme import media_type

        downloads = []
        for name, digest in read_sha256sums(folder).items():
            path = Path(folder) / name
            if _inside(name) and path.is_file():  # changes/ and queries/ too, never a way out
                downloads.append((name, path.stat().st_size, digest, media_type(name)))
        return cls(downloads)

    def names(self) -> set[str]:
        return {name for name, *_ in self.downloads}


class Pages:
    """Renders every page of one release version."""

    def __init__(self, graph: Graph, release: Release, *, page_size: int = PAGE_SIZE):
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        self.graph = graph
        self.release = release
        self.page_size = page_size
        self.base = graph.base or ""
        self.prefixes = Prefixes(self.base)
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True)
        self.env.filters["compact"] = self.compact
        self.env.filters["show"] = show
        self.env.filters["number"] = lambda n: f"{n:,}"
        self.env.filters["size"] = _size
        self.env.globals["formats"] = FORMATS
        self._landing: dict[tuple, str] = {}

    def compact(self, iri: str) -> str:
        return self.prefixes.compact(iri) or iri

    # ------------------------------------------------------------------ values

    def value(self, term, links: Links) -> Value:
        if isinstance(term, Lit):
            return Value(term.value, term.lang, datatype=self.compact(term.datatype) if term.datatype else None)
        label = self.graph.label(term)
        return Value(label.value if label else self.compact(term), label.lang if label else None,
                     links.resource(term) or (term if term.startswith(("http://", "https://")) else None), term)

    def entry(self, entry: Entry, links: Links) -> Value:
        label = self.graph.label(entry.iri)
        return Value(entry.label, label.lang if label else None, links.resource(entry.iri), entry.iri, entry.date)

    # ------------------------------------------------------------------ a resource

    def lists_of(self, iri: str, types: list[str]) -> list[tuple[str, list[Entry]]]:
        """What points to iri, one list per property; a container's articles through its issues too."""
        found = []
        container = any(t in CONTAINER_TYPES or t == ISSUE or t == SCHEMA.PublicationVolume for t in types)
        for predicate in INVERSE:
            heading = LIST_HEADINGS[predicate]
            if predicate == SCHEMA.isPartOf:  # printings are listed under "Articles", with those of the parts
                entries = self.graph.parts(iri)
                if entries and ISSUE in self.graph.types(entries[0].iri):
                    heading = "Issues"
            else:
                entries = self.graph.pointing(iri, predicate)
            if entries:
                found.append((heading, entries))
        if container:
            articles = self.graph.articles_in(iri)
            if articles:
                found.append(("Articles", articles))
        return found

    def resource(self, iri: str, links: Links, *, page: int = 1, name: str | None = None) -> str | None:
        """The page of iri, or None when the release says nothing of it or the page is past the end."""
        triples = self.graph.describe(iri)
        own = [t for t in triples if t[0] == iri]
        if not own:
            return None
        types = [o for _, p, o in own if p == RDF_TYPE]
        by_predicate: dict[str, list] = {}
        for _, predicate, obj in own:
            by_predicate.setdefault(predicate, []).append(obj)
        facts = []
        for heading, predicates in FACTS:
            values = [self.value(v, links) for p in predicates for v in by_predicate.get(p, ())]
            if values:
                facts.append((heading, _unique(values)))
        printings = [self._printing(p, links) for p in by_predicate.get(SCHEMA.workExample, ())]
        body = next((v for v in by_predicate.get(SCHEMA.articleBody, ()) if isinstance(v, Lit)), None)
        lists = self.lists_of(iri, types)
        pages = max([1] + [math.ceil(len(entries) / self.page_size) for _, entries in lists])
        if page > pages:
            return None
        start = (page - 1) * self.page_size
        shown = [Listing(heading, [self.entry(e, links) for e in entries[start:start + self.page_size]], len(entries))
                 for heading, entries in lists]
        statements = [(self.compact(p), p, [self.value(v, links) for v in values])
                      for p, values in by_predicate.items()]
        label = self.graph.label(iri)
        name = name if name is not None else iri[len(self.base):]
        return self.env.get_template("resource.html").render(
            iri=iri, label=label.value if label else self.compact(iri), lang=label.lang if label else None,
            kinds=[self.compact(t) for t in types], facts=facts, printings=printings,
            body=body_blocks(body.value) if body else None, body_lang=body.lang if body else None,
            lists=shown, page=page, pages=pages, first=start + 1, pager=self._pager(name, page, pages, links),
            statements=statements, jsonld=script_json(jsonld_text(triples, self.prefixes)),
            alternates=[(fmt, links.document(iri, fmt.extension)) for fmt in RDF_FORMATS],
            html_href=links.document(iri, ".html"), links=links, site=self.site_info(links),
            title=(label.value if label else self.compact(iri)))

    def _printing(self, printing: str, links: Links) -> dict:
        parents = [p for p in self.graph.objects(printing, SCHEMA.isPartOf) if isinstance(p, str)]
        return {"printing": self.value(printing, links), "in": [self.value(p, links) for p in parents]}

    def _pager(self, name: str, page: int, pages: int, links: Links) -> list[tuple[int, str]]:
        if pages <= 1:
            return []
        return [(n, links.page(page_name(name, n))) for n in range(1, pages + 1)]

    # ------------------------------------------------------------------ the site's own pages

    def site_info(self, links: Links) -> dict:
        dataset = self.graph.dataset
        title = self.graph.label(dataset) if dataset else None
        return {"title": title.value if title else "Linked data release", "title_lang": title.lang if title else None,
                "home": links.page(""), "search": links.page("search"), "sparql": links.sparql,
                "browse": [(heading, links.page(f"browse/{name}")) for name, (heading, _) in INDEXES.items()],
                "css": links.asset("style.css"), "static": links.static,
                "search_js": links.asset("search.js"), "titles_js": links.asset("titles.js")}

    def landing(self, links: Links) -> str:
        """The landing page; the same for every visitor of a release version, so rendered once per
        kind of links (49 ms at 100k records, then a dictionary look-up)."""
        key = (type(links), links.prefix, links.sparql, getattr(links, "folder", None))
        if key not in self._landing:
            self._landing[key] = self._render_landing(links)
        return self._landing[key]

    def _render_landing(self, links: Links) -> str:
        catalogue = self.graph.catalogue()
        dataset = self.graph.dataset
        about = {}
        if dataset:
            for predicate in (DCTERMS.description, DCTERMS.license, DCTERMS.rights, DCTERMS.publisher,
                              DCTERMS.created, SCHEMA.version, VOID.triples):
                values = self.graph.objects(dataset, predicate)
                if values:
                    about[predicate] = [self.value(v, links) for v in values]
        years = sorted(catalogue.years.items())
        year_bars = [(year, count, links.page(f"browse/years/{year}")) for year, count in years]
        container_bars = [(entry.label, count, links.resource(entry.iri))
                          for entry, count in sorted(catalogue.containers, key=lambda item: -item[1])[:20]]
        counts = [("Articles", len(catalogue.works), links.page("browse/articles")),
                  ("Newspapers and books", len(catalogue.containers), links.page("browse/containers")),
                  ("Authors", len(catalogue.agents), links.page("browse/authors")),
                  ("Tags", len(catalogue.tags), links.page("browse/tags")),
                  ("Genres", len(catalogue.genres), links.page("browse/genres")),
                  ("Years", len(catalogue.years), links.page("browse/years"))]
        queries = [(name, links.sparql + "?example=" + urllib.parse.quote(name)) if links.sparql else (name, None)
                   for name in example_queries()]
        return self.env.get_template("landing.html").render(
            site=self.site_info(links), links=links, about=about, counts=counts,
            description=about.get(DCTERMS.description, []),
            dataset=dataset, dataset_href=links.resource(dataset) if dataset else None,
            downloads=[(name, size, digest, media, links.download(name)) for name, size, digest, media
                       in self.release.downloads],
            year_chart=bar_chart(year_bars, title="Articles per year", label_width=48),
            container_chart=bar_chart(container_bars, title="Articles per newspaper or book", label_width=260),
            queries=queries, title=self.site_info(links)["title"])

    def index(self, name: str, links: Links, *, page: int = 1) -> str | None:
        """A browse index: newspapers and books, authors, tags, genres (with counts), years, all articles;
        or the articles of one year (name 'years/1966')."""
        catalogue = self.graph.catalogue()
        if name.startswith("years/"):
            year = name.split("/", 1)[1]
            entries = [e for e in catalogue.works if e.date[:4] == year]
            if not entries:
                return None
            items = [(self.entry(e, links), None) for e in entries]
            heading = f"Articles of {year}"
        elif name == "years":
            items = [(Value(year, href=links.page(f"browse/years/{year}")), count)
                     for year, count in sorted(catalogue.years.items())]
            heading = INDEXES[name][0]
        elif name == "articles":
            items = [(self.entry(e, links), None) for e in catalogue.works]
            heading = INDEXES[name][0]
        elif name in INDEXES:
            heading, source = INDEXES[name]
            items = [(self.entry(e, links), count) for e, count in getattr(catalogue, source)]
        else:
            return None
        pages = max(1, math.ceil(len(items) / self.page_size))
        if page > pages:
            return None
        start = (page - 1) * self.page_size
        return self.env.get_template("index.html").render(
            site=self.site_info(links), links=links, heading=heading, items=items[start:start + self.page_size],
            total=len(items), page=page, pages=pages, first=start + 1,
            pager=self._pager(f"browse/{name}", page, pages, links), title=heading)

    def search(self, text: str, links: Links) -> str:
        found, total = self.graph.search(text) if text else ([], 0)
        return self.env.get_template("search.html").render(
            site=self.site_info(links), links=links, query=text, search_text=text, results=[self.entry(e, links) for e in found],
            total=total, title=f"Search: {text}" if text else "Search")

    def not_found(self, address: str, links: Links, *, iri: str | None = None) -> str:
        return self.env.get_template("notfound.html").render(site=self.site_info(links), links=links,
                                                             address=address, iri=iri, title="Not found")

    def sparql(self, links: Links, *, query: str, results: dict | None, error: str | None,
               examples: dict[str, str]) -> str:
        rows = []
        if results and "results" in results:
            for binding in results["results"]["bindings"][:1000]:
                rows.append([self._result_cell(binding.get(v), links) for v in results["head"]["vars"]])
        return self.env.get_template("sparql.html").render(
            site=self.site_info(links), links=links, query=query, error=error,
            variables=results["head"]["vars"] if results and "head" in results else [],
            rows=rows, total=len(results["results"]["bindings"]) if results and "results" in results else 0,
            boolean=results.get("boolean") if results else None,
            examples=[(name, "?example=" + urllib.parse.quote(name)) for name in examples],
            title="SPARQL query")

    def _result_cell(self, cell: dict | None, links: Links) -> Value | None:
        if cell is None:
            return None
        if cell["type"] == "uri":
            return Value(self.compact(cell["value"]), href=links.resource(cell["value"]) or cell["value"],
                         iri=cell["value"])
        return Value(cell["value"], cell.get("xml:lang"))

    def default_query(self) -> str:
        prefixes = "".join(f"PREFIX {name}: <{namespace}>\n" for name, namespace in self.prefixes.table.items())
        return (prefixes + "\nSELECT ?article ?title WHERE {\n  ?article a schema:CreativeWork ;\n"
                "           dcterms:title ?title .\n} LIMIT 20\n")


# --------------------------------------------------------------------------- pieces

def body_blocks(text: str) -> list[tuple[str, str]]:
    """An article body as blocks: ('h2'…'h4', text) for `#` lines, ('quote', text) for `>` lines,
    ('p', text) for the rest; blank lines separate paragraphs (the record format, docs/record-format)."""
    blocks: list[tuple[str, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("p", "\n".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        stripped = line.strip()
        heading = _HEADING.match(stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            blocks.append((f"h{min(len(heading.group(1)) + 1, 4)}", heading.group(2)))
        elif stripped.startswith(">"):
            flush()
            quote = stripped[1:].strip()
            if blocks and blocks[-1][0] == "quote":
                blocks[-1] = ("quote", blocks[-1][1] + "\n" + quote)
            else:
                blocks.append(("quote", quote))
        else:
            paragraph.append(stripped)
    flush()
    return blocks


_DATE_TYPES = ("date", "gYear", "gYearMonth", "EDTF")


def show(value: Value):
    """One value as HTML: a link with its label (and the IRI as its title), a date as <time>, text with
    its language. A function, not a template macro: pages show hundreds (a macro call cost 37 % of a page)."""
    from markupsafe import Markup, escape

    lang = f' lang="{escape(value.lang)}"' if value.lang else ""
    text = escape(value.text)
    if value.href:
        title = f' title="{escape(value.iri)}"' if value.iri else ""
        return Markup(f'<a href="{escape(value.href)}"{title}{lang}>{text}</a>')
    if value.datatype and value.datatype.endswith(_DATE_TYPES):
        return Markup(f'<time datetime="{text}">{text}</time>')
    return Markup(f"<span{lang}>{text}</span>")


def script_json(text: str) -> str:
    """JSON safe inside <script>: '<', '>' and '&' as JSON escapes (the same JSON, no '</script>')."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Bar(NamedTuple):
    label: str
    count: int
    href: str | None
    y: int
    width: float


def bar_chart(bars: Iterable[tuple[str, int, str | None]], *, title: str, label_width: int = 120) -> dict:
    """A horizontal bar chart as the numbers an SVG template draws: readable without JavaScript, each bar
    a link to the list it counts."""
    bars = list(bars)
    row, chart = 22, 360
    top = max((count for _, count, _ in bars), default=1) or 1
    drawn = [Bar(label, count, href, index * row, max(1.0, chart * count / top))
             for index, (label, count, href) in enumerate(bars)]
    return {"title": title, "bars": drawn, "height": max(row, row * len(bars)), "label_width": label_width,
            "chart_width": chart, "width": label_width + chart + 70}


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _unique(values: list[Value]) -> list[Value]:
    seen, kept = set(), []
    for value in values:
        key = (value.iri or value.text, value.lang)
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def example_queries() -> dict[str, str]:
    from .resources import queries_dir

    folder = queries_dir()
    if not folder.is_dir():
        return {}
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.rq"))}


def titles_script(graph: Graph, links_for) -> str:
    """The static site's search index: `window.ZH_TITLES = [[label, href], …]` as a script, so the search
    works from disk too (a page opened from disk may not fetch a JSON file)."""
    catalogue = graph.catalogue()
    rows = [[entry.label, links_for(entry.iri)] for entry in catalogue.names]
    return "window.ZH_TITLES = " + script_json(json.dumps(rows, ensure_ascii=False)) + ";\n"
