"""The release's description of itself: VoID + DCAT + PROV (void.ttl), schema.org Dataset (dataset.jsonld)
and SHA256SUMS. Every number in them is counted from the files written, never assumed."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .serialize import DUMP_NAMED, Prefixes, write_turtle
from .iris import Minter, key
from .terms import Lit, Triple, nt_line
from .vocab import DCAT, DCTERMS, FOAF, PROV, RDF_TYPE, RDFS, SCHEMA, SPDX, VOID, XSD, PREFIXES

if TYPE_CHECKING:
    from .changes import ChangeSet
    from .options import Options

IANA = "https://www.iana.org/assignments/media-types/"
_ARTICLE = f"<{SCHEMA.CreativeWork}>"  # a work's rdf:type object, as written in N-Triples
VOCABULARIES = ("dcterms", "dc", "schema", "skos", "dcat")


@dataclass
class Stats:
    """Counted over the published graph while it is written."""

    triples: int = 0
    subjects: int = 0
    classes: dict[str, int] = field(default_factory=dict)     # class -> instances
    properties: dict[str, int] = field(default_factory=dict)  # predicate -> triples
    example: str | None = None                                 # the first article, in IRI order

    def count(self, groups) -> None:
        """Count (subject, [(predicate, object text), ...]) groups as they are written."""
        for subject, pairs in groups:
            self.subjects += 1
            self.triples += len(pairs)
            for predicate, obj in pairs:
                self.properties[predicate] = self.properties.get(predicate, 0) + 1
                if predicate == RDF_TYPE:
                    cls = obj[1:-1]
                    self.classes[cls] = self.classes.get(cls, 0) + 1
                    if obj == _ARTICLE and (self.example is None or subject < self.example):
                        self.example = subject

    def add(self, other: "Stats") -> None:
        self.triples += other.triples
        self.subjects += other.subjects
        for mine, theirs in ((self.classes, other.classes), (self.properties, other.properties)):
            for term, count in theirs.items():
                mine[term] = mine.get(term, 0) + count
        if other.example and (self.example is None or other.example < self.example):
            self.example = other.example


@dataclass(frozen=True)
class Describe:
    """What the publisher says about the release: the run's options, and the release date they gave."""

    options: "Options"
    date: str  # xsd:date of the release

    @property
    def base(self) -> str:
        return self.options.minted_base

    @property
    def version(self) -> str:
        """The release's version label: --version-label, else its date."""
        return self.options.version_label or self.date

    @property
    def dataset(self) -> str:
        return Minter(self.base).dataset()

    def download_url(self, name: str) -> str:
        base = self.options.download_base or self.base + "dumps/"
        return base + name if base.endswith("/") else f"{base}/{name}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    hash_into(digest, path)
    return digest.hexdigest()


def hash_into(digest, path: Path) -> None:
    """Feed a file's bytes to a hashlib digest, 4 MB at a time."""
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)


def checksums(paths: list[Path], *, root: Path | None = None) -> dict[str, str]:
    """sha256 of each file, by name (relative to root, if given), in parallel threads (hashlib lets go
    of the GIL on large buffers)."""
    names = [str(p.relative_to(root)) if root else p.name for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(names, pool.map(sha256_of, paths)))


def void_triples(info: Describe, stats: Stats, files: dict[str, tuple[int, str]], records: int,
                 input_sha256: str) -> list[Triple]:
    """The dataset, its partitions, distributions and provenance, all with IRIs (no blank nodes)."""
    d = info.dataset
    en = lambda text: Lit(text, "en")  # noqa: E731
    integer = lambda n: Lit(str(n), None, XSD.integer)  # noqa: E731
    publisher = info.base + "publisher"
    out: list[Triple] = [
        (d, RDF_TYPE, VOID.Dataset), (d, RDF_TYPE, DCAT.Dataset),
        (d, DCTERMS.title, en(info.options.title)),
        (d, DCTERMS.description, en(
            f"{records} article records as printed in books and newspapers, published as Dublin Core and "
            f"schema.org linked data with SKOS tags; every record validated against SHACL shapes.")),
        (d, DCTERMS.license, info.options.license),
        (d, DCTERMS.rights, info.options.rights),
        (d, SCHEMA.version, Lit(info.version)),  # dcat:version is DCAT 3, newer than what most tools know
        (d, DCTERMS.publisher, publisher),
        (publisher, RDF_TYPE, FOAF.Organization), (publisher, FOAF.name, Lit(info.options.publisher)),
        (d, DCTERMS.created, Lit(info.date, None, XSD.date)),
        (d, DCTERMS.modified, Lit(info.date, None, XSD.date)),
        (d, DCTERMS.language, "http://id.loc.gov/vocabulary/iso639-1/" + info.options.language.split("-")[0].lower()),
        (d, VOID.triples, integer(stats.triples)),
        (d, VOID.entities, integer(stats.subjects)),
        (d, VOID.distinctSubjects, integer(stats.subjects)),
        (d, VOID.classes, integer(len(stats.classes))),
        (d, VOID.properties, integer(len(stats.properties))),
        (d, VOID.uriSpace, Lit(info.base)),
        (d, PROV.wasGeneratedBy, d + "/run"),
    ]
    out += [(d, VOID.vocabulary, PREFIXES[prefix]) for prefix in VOCABULARIES]
    if stats.example:
        out.append((d, VOID.exampleResource, stats.example))
    if info.options.sparql_endpoint:
        out.append((d, VOID.sparqlEndpoint, info.options.sparql_endpoint))
    for cls, count in sorted(stats.classes.items()):
        node = f"{d}/class/{key(cls)}"
        out += [(d, VOID.classPartition, node), (node, VOID["class"], cls), (node, VOID.entities, integer(count))]
    for prop, count in sorted(stats.properties.items()):
        node = f"{d}/property/{key(prop)}"
        out += [(d, VOID.propertyPartition, node), (node, VOID.property, prop), (node, VOID.triples, integer(count))]
    for name, (size, sha) in sorted(files.items()):
        dump = DUMP_NAMED[name]
        url = info.download_url(name)
        out += [(d, VOID.dataDump, url)]
        out += _distribution(d, name, url, dump.media_type, dump.description, size, sha, dump.compression)
    run, software, source = d + "/run", d + "/software", d + "/input"
    out += [
        (run, RDF_TYPE, PROV.Activity), (run, RDFS.label, en(f"pipeline run {__version__}")),
        (run, PROV.used, source), (run, PROV.wasAssociatedWith, software),
        (run, PROV.endedAtTime, Lit(info.date + "T00:00:00Z", None, XSD.dateTime)),
        (software, RDF_TYPE, PROV.SoftwareAgent), (software, RDFS.label, Lit(f"zh-articles-pipeline {__version__}")),
        (software, SCHEMA.softwareVersion, Lit(__version__)),
        (source, RDF_TYPE, PROV.Entity), (source, RDFS.label, en("the article record files of the run")),
        (source, VOID.documents, integer(records)),
        (source, SPDX.checksum, source + "/sha256"),
        (source + "/sha256", RDF_TYPE, SPDX.Checksum),
        (source + "/sha256", SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
        (source + "/sha256", SPDX.checksumValue, Lit(input_sha256, None, XSD.hexBinary)),
        (source + "/sha256", RDFS.comment, en("sha256 of the input manifest: one 'sha256  file' line per record "
                                               "file, in the order the run read them")),
    ]
    return out


def _distribution(dataset: str, name: str, url: str, media: str, what: str, size: int, sha: str,
                  compression: str | None) -> list[Triple]:
    node = f"{dataset}/distribution/{name}"
    out = [
        (dataset, DCAT.distribution, node),
        (node, RDF_TYPE, DCAT.Distribution), (node, DCTERMS.title, Lit(name)),
        (node, DCTERMS.description, Lit(what, "en")),
        (node, DCAT.downloadURL, url), (node, DCAT.mediaType, IANA + media),
        (node, DCAT.byteSize, Lit(str(size), None, XSD.decimal)),
        (node, SPDX.checksum, node + "/sha256"),
        (node + "/sha256", RDF_TYPE, SPDX.Checksum),
        (node + "/sha256", SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
        (node + "/sha256", SPDX.checksumValue, Lit(sha, None, XSD.hexBinary)),
    ]
    if compression:
        out.append((node, DCAT.compressFormat, IANA + compression))
    return out


def version_triples(info: Describe, version: str, change: "ChangeSet | None",
                    files: dict[str, tuple[int, str]]) -> list[Triple]:
    """This release as one version of the dataset (dcterms:hasVersion / isVersionOf), the release it
    supersedes (dcterms:replaces, prov:wasRevisionOf) and the change set between them: a dataset of its
    own, the triples removed and added, with its files (changes.FILES) as its distributions. DCAT 3's
    dcat:previousVersion says the same, but is newer than the DCAT most tools know (docs/mapping.md)."""
    from .changes import FILES, FOLDER

    d = info.dataset
    out: list[Triple] = [
        (d, DCTERMS.hasVersion, version),
        (version, RDF_TYPE, DCAT.Dataset), (version, RDF_TYPE, PROV.Entity), (version, DCTERMS.isVersionOf, d),
        (version, DCTERMS.issued, Lit(info.date, None, XSD.date)),
    ]
    if change is None:
        return out
    changes = version + "/changes"
    out += [
        (version, DCTERMS.replaces, change.previous), (version, PROV.wasRevisionOf, change.previous),
        (d, DCTERMS.hasVersion, change.previous), (change.previous, DCTERMS.isVersionOf, d),
        (changes, RDF_TYPE, DCAT.Dataset), (changes, RDF_TYPE, PROV.Entity),
        (changes, DCTERMS.title, Lit("Changes since the previous release", "en")),
        (changes, DCTERMS.description, Lit(f"{change.removed} triples removed and {change.added} added between "
                                           f"{change.previous} and {version}", "en")),
        (changes, PROV.wasDerivedFrom, change.previous), (changes, PROV.wasDerivedFrom, version),
        (version, DCTERMS.relation, changes),
    ]
    for name, (media, what) in FILES.items():
        size, sha = files[f"{FOLDER}/{name}"]
        compressed = "application/gzip" if name.endswith(".gz") else None
        out += _distribution(changes, name, info.download_url(f"{FOLDER}/{name}"), media, what, size, sha, compressed)
    return out


def write_void(path: Path, triples: list[Triple], prefixes: Prefixes) -> int:
    lines = sorted({nt_line(t) for t in triples})
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        return write_turtle(lines, stream, prefixes)


def dataset_jsonld(info: Describe, files: dict[str, tuple[int, str]], records: int, stats: Stats) -> dict:
    """The same description as a schema.org Dataset, the form dataset search engines read."""
    return {
        "@context": {"@vocab": PREFIXES["schema"]},
        "@type": "Dataset",
        "@id": info.dataset,
        "name": info.options.title,
        "description": f"{records} article records as printed in books and newspapers, published as linked data "
                       f"({stats.triples} triples).",
        "license": {"@id": info.options.license},
        "version": info.version,
        "copyrightNotice": f"The metadata is under {info.options.license}; the article texts are not the "
                           f"publisher's to license: their rights statement is {info.options.rights}",
        "publisher": {"@type": "Organization", "@id": info.base + "publisher", "name": info.options.publisher},
        "dateCreated": info.date,
        "dateModified": info.date,
        "inLanguage": info.options.language,
        "isAccessibleForFree": True,
        "keywords": ["history", "China", "articles", "linked data"],
        "distribution": [
            {"@type": "DataDownload", "@id": f"{info.dataset}/distribution/{name}",
             "contentUrl": {"@id": info.download_url(name)}, "encodingFormat": DUMP_NAMED[name].media_type,
             "contentSize": f"{size} B", "sha256": sha}
            for name, (size, sha) in sorted(files.items())
        ],
    }


def write_dataset(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read_sha256sums(folder: Path) -> dict[str, str]:
    """name -> sha256 as a release's SHA256SUMS lists them (empty when there is none); names are as
    written, to be checked by whoever opens them."""
    try:
        text = (Path(folder) / "SHA256SUMS").read_text(encoding="utf-8")
    except OSError:
        return {}
    return {name: sha for sha, _, name in (line.partition("  ") for line in text.splitlines()) if name}


def write_sha256sums(folder: Path, sums: dict[str, str]) -> None:
    """SHA256SUMS in the format `sha256sum -c` reads."""
    (folder / "SHA256SUMS").write_text("".join(f"{sha}  {name}\n" for name, sha in sorted(sums.items())),
                                       encoding="utf-8")
