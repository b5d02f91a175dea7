"""The release's README.md and CITATION.cff, written from the release itself: what it is, who publishes
it under which terms, its counts, every file with its size, media type and checksum, how to load, query
and cite it, what changed since the previous release, and what is still a placeholder."""

from __future__ import annotations

from dataclasses import dataclass

from .serialize import DUMP_NAMED
from .vocab import DCTERMS, DEFAULT_BASE, DEFAULT_PUBLISHER, SCHEMA, SKOS

# what the rightsstatements.org statements say, for the README (the statement itself is --rights)
RIGHTS_NAMES = {"http://rightsstatements.org/vocab/CNE/1.0/": "Copyright Not Evaluated",
                "http://rightsstatements.org/vocab/UND/1.0/": "Copyright Undetermined",
                "http://rightsstatements.org/vocab/InC/1.0/": "In Copyright",
                "http://rightsstatements.org/vocab/NoC-US/1.0/": "No Copyright - United States"}
MEDIA_TYPES = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".json": "application/json",
               ".nt": "application/n-triples", ".gz": "application/gzip", ".rq": "application/sparql-query",
               ".cff": "application/x-yaml", ".md": "text/markdown"}


@dataclass(frozen=True)
class Counts:
    records: int
    published: int
    rejected: int
    triples: int
    works: int
    printings: int
    agents: int
    books: int
    tags: int

    @classmethod
    def of(cls, report, stats) -> "Counts":
        classes = stats.classes
        count = lambda *names: sum(classes.get(SCHEMA[name], 0) for name in names)  # noqa: E731
        return cls(report.read, report.published, report.rejected, stats.triples, count("CreativeWork"),
                   classes.get(DCTERMS.BibliographicResource, 0), count("Person", "Organization"),
                   count("Book", "Periodical", "Newspaper", "Collection", "WebSite"), classes.get(SKOS.Concept, 0))

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def placeholders(options) -> list[str]:
    """What a real release must set and this one left at its default, in words for people."""
    found = []
    if options.base == DEFAULT_BASE:
        found.append(f"the base IRI is the placeholder {DEFAULT_BASE}: its IRIs do not resolve; set --base "
                     "to an address you control before publishing")
    if options.publisher == DEFAULT_PUBLISHER:
        found.append("the publisher is a placeholder; set --publisher")
    return found


def media_type(name: str) -> str:
    from .changes import FILES, FOLDER

    if name in DUMP_NAMED:
        return DUMP_NAMED[name].media_type + (" (gzip)" if DUMP_NAMED[name].compression else "")
    folder, _, leaf = name.partition("/")
    if folder == FOLDER and leaf in FILES:
        return FILES[leaf][0] + (" (gzip)" if leaf.endswith(".gz") else "")
    return next((media for suffix, media in MEDIA_TYPES.items() if name.endswith(suffix)), "application/octet-stream")


def changes(previous: dict | None, counts: Counts, sums: dict[str, str], change_set=None) -> str:
    """What changed since the previous release in this folder, as far as its marker tells, and the change
    set between the two (changes.ChangeSet) when one was written."""
    if not previous:
        return "This is the first release in its folder; there is nothing to compare with."
    before = previous.get("counts") or {}
    changed = sorted(name for name, sha in sums.items() if name in DUMP_NAMED and previous.get("dumps", {}).get(name) != sha)
    lines = [f"Compared with the release of {previous.get('date', 'an earlier date')}:"]
    for key in ("published", "rejected", "triples", "works", "agents", "tags"):
        if key in before and before[key] != getattr(counts, key):
            lines.append(f"- {key}: {before[key]:,} → {getattr(counts, key):,}")
    lines.append(f"- dumps changed: {', '.join(changed)}" if changed else "- the dumps are unchanged")
    if change_set is not None:
        lines.append(f"- the change set, in `changes/`: {change_set.removed:,} triples removed, {change_set.added:,} "
                     f"added (`removed.nt.gz`, `added.nt.gz`, and `changes.rdfp`, an RDF Patch from "
                     f"<{change_set.previous}> to <{change_set.version}>)")
        # removed.nt.gz holds what this release no longer says (a corrected title's old form): a consumer
        # that loads every RDF file of the folder as one graph would get both forms, and two titles
        lines.append("- the change set is not part of this release's graph: load the dumps and `void.ttl`, not "
                     "`changes/`; to bring a store that holds the previous release up to date, apply `changes.rdfp` "
                     "(or delete `removed.nt.gz` and insert `added.nt.gz`)")
    return "\n".join(lines)


def readme(info, counts: Counts, files: dict[str, tuple[int, str]], change_text: str) -> str:
    options = info.options
    year = info.date[:4]
    rows = "".join(f"| `{name}` | {size:,} | {media_type(name)} | `{sha}` |\n" for name, (size, sha) in sorted(files.items()))
    notes = "".join(f"- **Placeholder:** {text}\n" for text in placeholders(options))
    rights_name = f" ({RIGHTS_NAMES[options.rights]})" if options.rights in RIGHTS_NAMES else ""
    endpoint = (f"A SPARQL endpoint for it: <{options.sparql_endpoint}>.\n" if options.sparql_endpoint
                else "No public SPARQL endpoint was given; serve it yourself (below).\n")
    return f"""# {options.title}

{counts.published:,} article records from Chinese books and newspapers, as linked data: Dublin Core and
schema.org descriptions of each article (the work), each of its printings (a news article in a
newspaper's issue of the day, an article in a book, a volume, a database or a website), its authors and
source credits, and its tags as SKOS concepts: topics, and forms such as 讲话 or 社论 as genres. Every
record was validated against SHACL shapes, and so was the release as a whole.

| | |
| --- | --- |
| publisher | {options.publisher} |
| version | {info.version} |
| release date | {info.date} |
| dataset IRI | <{info.dataset}> |
| base IRI | <{info.base}> |
| licence of the metadata | <{options.license}> |
| rights of the article texts | <{options.rights}>{rights_name}: the texts are not the publisher's to license; each printing says so (`dcterms:rights`) |

{notes}
## What is in it

| | count |
| --- | ---: |
| records read | {counts.records:,} |
| published | {counts.published:,} |
| rejected (not in the dumps) | {counts.rejected:,} |
| articles (works) | {counts.works:,} |
| printings | {counts.printings:,} |
| agents (people and organisations) | {counts.agents:,} |
| containers (books, newspapers, databases, websites) | {counts.books:,} |
| tags (topics and forms) | {counts.tags:,} |
| triples | {counts.triples:,} |

The four dumps hold the same graph. `void.ttl` describes the dataset (VoID, DCAT, PROV: counts, class
and property partitions, one distribution per dump), `dataset.jsonld` the same as a schema.org Dataset.
Check the download with `sha256sum -c SHA256SUMS`.

## Files

| file | bytes | media type | sha256 |
| --- | ---: | --- | --- |
{rows}
## Load it

- Oxigraph: `oxigraph load --location store --file articles.nt.gz --file void.ttl`, then
  `oxigraph serve-read-only --location store`
- Apache Jena TDB2: `tdb2.tdbloader --loc db articles.nt.gz void.ttl`, then `fuseki-server --loc db /articles`
- QLever: `zcat articles.nt.gz | IndexBuilderMain -i articles -F nt -f -`
- Virtuoso: `ld_dir('/data', 'articles.nt.gz', '{info.dataset}'); rdf_loader_run();`
- With the tool that made it: `pipeline serve .` or `pipeline query queries/01-articles-by-author.rq --release .`

## Query it

{endpoint}The `queries/` folder holds commented example queries (articles by author, in a year, by tag, in a
book, co-authors, tags that occur together, counts per year, printings published in a year, articles
by or from an organisation, a newspaper's issue of one day, genres, the dataset's own description, …).

## Cite it

{options.publisher} ({year}). *{options.title}* (version {info.version}) [Data set]. <{info.dataset}>

`CITATION.cff` has the same in the Citation File Format (GitHub, Zenodo and reference managers read it).

## Changes

{change_text}

## Known limitations

- People with the same name are one agent (two different 王力 would be merged) unless the publisher's
  authority table (`pipeline run --authorities`) keeps them apart; the person/organisation
  distinction is a rule on the name, and what kind of container a book name is comes from a table of
  the corpus's known containers with rules on the name for the others, both documented with the tool.
- A date's meaning follows its container: in a newspaper or periodical the printing was published then
  (dcterms:issued), elsewhere the text was made then (dcterms:created on the work); dcterms:date is on both.
- Rejected records are not in the dumps; the publisher's report lists each with its reason.
"""


def citation_cff(info) -> str:
    options = info.options
    quote = lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
    return (f"cff-version: 1.2.0\n"
            f"message: If you use this dataset, please cite it as below.\n"
            f"type: dataset\n"
            f"title: {quote(options.title)}\n"
            f"version: {quote(info.version)}\n"
            f"date-released: {info.date}\n"
            f"url: {quote(info.dataset)}\n"
            f"license-url: {quote(options.license)}\n"
            f"authors:\n"
            f"  - name: {quote(options.publisher)}\n")
