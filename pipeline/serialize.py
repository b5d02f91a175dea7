"""Writing the published graph as N-Triples, Turtle and JSON-LD from sorted streams of N-Triples lines.
Each writer streams: a sorted line stream groups every subject's triples together, so no Graph is built;
a release is written as fragments (one per range of buckets) that join into whole files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Iterable, Iterator, NamedTuple

from .context import NodeWriter, context
from .terms import Lit, Term, unescape
from .vocab import PREFIXES

RDF_TYPE_IRI = PREFIXES["rdf"] + "type"
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_LINE = re.compile(r'^<([^>]*)> <([^>]*)> (.*) \.$')
_TYPED = re.compile(r'^(".*")\^\^<([^>]*)>$', re.DOTALL)


def split_line(line: str) -> tuple[str, str, str]:
    """Subject IRI, predicate IRI and the object's N-Triples text of one line written by nt_line."""
    match = _LINE.match(line)
    if not match:
        raise ValueError(f"not an N-Triples line written by this pipeline: {line[:80]!r}")
    return match.group(1), match.group(2), match.group(3)


def parse_object(obj: str) -> tuple:
    """('iri', iri) or ('literal', lexical, language, datatype) from an object's N-Triples text."""
    if obj.startswith("<"):
        return ("iri", obj[1:-1])
    end = obj.rindex('"')
    lexical, suffix = unescape(obj[1:end]), obj[end + 1:]
    if suffix.startswith("@"):
        return ("literal", lexical, suffix[1:], None)
    if suffix.startswith("^^<"):
        return ("literal", lexical, None, suffix[3:-1])
    return ("literal", lexical, None, None)


def as_term(obj: str) -> Term:
    """The plain term (an IRI str or a Lit) of an object's N-Triples text."""
    parsed = parse_object(obj)
    return parsed[1] if parsed[0] == "iri" else Lit(parsed[1], parsed[2], parsed[3])


def grouped(lines: Iterable[str]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(subject, [(predicate, object text), ...]) for sorted lines: a subject's lines are contiguous."""
    current, pairs = None, []
    for line in lines:
        subject, predicate, obj = split_line(line)
        if subject != current:
            if current is not None:
                yield current, pairs
            current, pairs = subject, []
        pairs.append((predicate, obj))
    if current is not None:
        yield current, pairs


# --------------------------------------------------------------------------- prefixes

class Prefixes:
    """Prefix table for one release: the vocabularies plus the minted IRI spaces under the base."""

    MINTED = ("article", "book", "agent", "concept", "form", "period")

    def __init__(self, base: str):
        self.table = dict(PREFIXES)
        for name in self.MINTED:
            self.table[name] = f"{base}{name}/"
        self.table["data"] = base
        self._by_namespace = {namespace: prefix for prefix, namespace in self.table.items()}
        self._cache: dict[str, str | None] = {}
        self._node_writer: NodeWriter | None = None

    @property
    def node_writer(self) -> NodeWriter:
        """The JSON-LD node writer for these prefixes, built once (its term table costs ~5 % of a run
        when built per block: measured on 1,000 records)."""
        if self._node_writer is None:
            self._node_writer = NodeWriter(self)
        return self._node_writer

    def compact(self, iri: str) -> str | None:
        """prefix:local when a namespace ends right before a simple local name, else None."""
        cached = self._cache.get(iri, False)
        if cached is not False:
            return cached
        # every namespace ends with '/' or '#', and a simple local name holds neither
        split = max(iri.rfind("/"), iri.rfind("#")) + 1
        prefix = self._by_namespace.get(iri[:split])
        result = f"{prefix}:{iri[split:]}" if prefix and _LOCAL_NAME.match(iri[split:]) else None
        if len(self._cache) < 100_000:
            self._cache[iri] = result
        return result


# --------------------------------------------------------------------------- N-Triples

# --------------------------------------------------------------------------- Turtle

def turtle_header(prefixes: Prefixes) -> str:
    return "".join(f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in prefixes.table.items())


def write_turtle_groups(groups: Iterable[tuple[str, list]], stream: IO[str], prefixes: Prefixes) -> int:
    """Subject blocks; returns how many triples they hold."""
    groups = list(groups)
    stream.write(turtle_text(groups, prefixes))
    return sum(len(pairs) for _, pairs in groups)


def turtle_text(groups: Iterable[tuple[str, list]], prefixes: Prefixes) -> str:
    """Subject blocks; N-Triples literal syntax is Turtle syntax, so literals are copied as they are."""
    compact = prefixes.compact

    def term(obj: str) -> str:
        if obj.startswith("<"):
            return compact(obj[1:-1]) or obj
        if obj.endswith(">"):
            match = _TYPED.match(obj)
            if match:
                datatype = compact(match.group(2))
                return f"{match.group(1)}^^{datatype}" if datatype else obj
        return obj

    out: list[str] = []
    for subject, pairs in groups:
        by_predicate: dict[str, list[str]] = {}
        for predicate, obj in pairs:
            by_predicate.setdefault(predicate, []).append(term(obj))
        ordered = sorted(by_predicate, key=lambda p: (p != RDF_TYPE_IRI, p))
        parts = [f"\n{compact(subject) or f'<{subject}>'}"]
        for index, predicate in enumerate(ordered):
            name = "a" if predicate == RDF_TYPE_IRI else (compact(predicate) or f"<{predicate}>")
            parts.append(f"{' ' if index == 0 else ' ;' + chr(10) + '    '}{name} {', '.join(by_predicate[predicate])}")
        parts.append(" .\n")
        out.append("".join(parts))
    return "".join(out)


def write_turtle(lines: Iterable[str], stream: IO[str], prefixes: Prefixes) -> int:
    stream.write(turtle_header(prefixes))
    return write_turtle_groups(grouped(lines), stream, prefixes)


# --------------------------------------------------------------------------- JSON-LD

def jsonld_context(prefixes: Prefixes) -> dict:
    return context(prefixes)


def jsonld_header(prefixes: Prefixes) -> str:
    return '{\n"@context": ' + json.dumps(jsonld_context(prefixes), ensure_ascii=False, indent=2) + ',\n"@graph": ['


JSONLD_FOOTER = "\n]\n}\n"


def jsonld_nodes(groups: Iterable[tuple[str, list]], prefixes: Prefixes) -> Iterator[tuple[dict, int]]:
    """(node object, its number of triples) for each subject under the release's context (context.py)."""
    writer = prefixes.node_writer
    for subject, pairs in groups:
        types = [obj[1:-1] for predicate, obj in pairs if predicate == RDF_TYPE_IRI]
        values = [(predicate, parse_object(obj)) for predicate, obj in pairs if predicate != RDF_TYPE_IRI]
        yield writer.node(subject, types, values), len(pairs)


def write_jsonld_groups(groups: Iterable[tuple[str, list]], stream: IO[str], prefixes: Prefixes) -> int:
    """One node object per subject under the release's context; returns how many triples they hold."""
    groups = list(groups)
    stream.write(jsonld_text(groups, prefixes))
    return sum(len(pairs) for _, pairs in groups)


def jsonld_text(groups: Iterable[tuple[str, list]], prefixes: Prefixes) -> str:
    """One node object per subject under the release's context (context.py), one a line, comma-separated,
    each line starting with a newline; empty for no groups."""
    out = [json.dumps(node, ensure_ascii=False) for node, _ in jsonld_nodes(groups, prefixes)]
    return "\n" + ",\n".join(out) if out else ""


# --------------------------------------------------------------------------- the dumps: one writer each

class Block(NamedTuple):
    """Sorted, unique N-Triples lines of some subjects, the same grouped by subject, and as the N-Triples
    dumps' bytes: joined and encoded once for both of them and the bucket index (changes.bucket_index)."""

    lines: list[str]
    groups: list[tuple[str, list[tuple[str, str]]]]
    ntriples: bytes


class Dump:
    """One dump file of a release. A release is written as fragments (one per partition, in parallel)
    that are joined in order: header, fragments, footer; a block is a bucket's bytes, and the separator
    goes between two non-empty blocks of a fragment and between two non-empty fragments."""

    name: str
    media_type: str
    description: str
    compression: str | None = None  # media type of the compression, if any
    separator: bytes = b""
    # a bucket whose lines are unchanged since the previous release gets its bytes copied from that
    # release's dump (kept.py) instead of rendered: Turtle and JSON-LD are most of the write phase
    copied: bool = False

    def header(self, prefixes: Prefixes) -> bytes:
        return b""

    def footer(self) -> bytes:
        return b""

    def companions(self, prefixes: Prefixes) -> dict[str, bytes]:
        """Other files that go with this dump (name -> bytes)."""
        return {}

    def fragment(self, path: str, prefixes: Prefixes) -> "Fragment":
        from .shards import open_file

        return Fragment(open_file(path, "wb"), self)

    def render(self, block: Block, prefixes: Prefixes) -> bytes:
        """A block's bytes in this dump, without separators."""
        raise NotImplementedError


class Fragment:
    """An open fragment file of one dump; counts its bytes (where each block starts, kept.py) and
    remembers whether anything was written (for separators)."""

    def __init__(self, stream, dump: Dump):
        self.stream, self.dump, self.position, self.written = stream, dump, 0, False

    def write(self, data: bytes) -> int:
        """Write one block's bytes (nothing for none); returns where they start in the fragment."""
        if not data:
            return self.position
        if self.written and self.dump.separator:
            self.stream.write(self.dump.separator)
            self.position += len(self.dump.separator)
        start = self.position
        self.stream.write(data)
        self.position += len(data)
        self.written = True
        return start

    def close(self) -> None:
        self.stream.close()


class NTriples(Dump):
    name = "articles.nt"
    media_type = "application/n-triples"
    description = "N-Triples, one triple a line"

    def render(self, block: Block, prefixes: Prefixes) -> bytes:
        return block.ntriples


class GzipNTriples(NTriples):
    name = "articles.nt.gz"
    description = "N-Triples, gzip-compressed, for bulk loaders"
    compression = "application/gzip"
    # ISA-L's deflate (python-isal), level 2 of its 0-3: measured on this machine over 200 MB of the
    # dump, 589 MB/s at 30.0 % of the size, where zlib level 1 gave 151 MB/s at 29.7 % (the gzip step
    # of a run was ~10 % of its time). Its output differs from zlib's; any gunzip reads it.
    LEVEL = 2

    def fragment(self, path: str, prefixes: Prefixes) -> Fragment:
        # one gzip member per fragment: concatenated members are one valid gzip file
        return Fragment(_Gzip(path), self)


def gzip_text(path: str | Path) -> "_Utf8":
    """A new gzip file for text, as every gzip file of a release is written (_Gzip). Close it to close both
    the gzip stream and the file."""
    return _Utf8(_Gzip(path))


class _Gzip:
    """A new gzip file for bytes: ISA-L at GzipNTriples.LEVEL, no timestamp (reruns are byte-identical);
    close() closes both the gzip stream and the file it wraps."""

    def __init__(self, path: str | Path):
        from isal import igzip

        from .shards import open_file

        self.raw = igzip.IGzipFile(filename="", fileobj=open_file(path, "wb"), mode="wb",
                                   compresslevel=GzipNTriples.LEVEL, mtime=0)

    def write(self, data: bytes) -> None:
        self.raw.write(data)

    def close(self) -> None:
        underlying = self.raw.fileobj
        self.raw.close()  # closes the GzipFile, not the file it wraps
        underlying.close()


class _Utf8:
    """Text written as UTF-8 straight into a gzip file. Not io.TextIOWrapper: its close() flushes the gzip
    file with Z_SYNC_FLUSH, which adds bytes and would change the dump."""

    def __init__(self, gzip: _Gzip):
        self.gzip = gzip

    def write(self, text: str) -> None:
        self.gzip.write(text.encode("utf-8"))

    def close(self) -> None:
        self.gzip.close()


class Turtle(Dump):
    name = "articles.ttl"
    media_type = "text/turtle"
    description = "Turtle, with prefixes"

    copied = True

    def header(self, prefixes: Prefixes) -> bytes:
        return turtle_header(prefixes).encode("utf-8")

    def render(self, block: Block, prefixes: Prefixes) -> bytes:
        return turtle_text(block.groups, prefixes).encode("utf-8")


class JsonLd(Dump):
    name = "articles.jsonld"
    media_type = "application/ld+json"
    description = "JSON-LD 1.1, short term names, context inlined (also as context.jsonld)"
    separator = b","
    copied = True

    def header(self, prefixes: Prefixes) -> bytes:
        return jsonld_header(prefixes).encode("utf-8")

    def footer(self) -> bytes:
        return JSONLD_FOOTER.encode("utf-8")

    def companions(self, prefixes: Prefixes) -> dict[str, bytes]:
        context = json.dumps({"@context": jsonld_context(prefixes)}, ensure_ascii=False, indent=2) + "\n"
        return {"context.jsonld": context.encode("utf-8")}

    def render(self, block: Block, prefixes: Prefixes) -> bytes:
        return jsonld_text(block.groups, prefixes).encode("utf-8")


# Every dump of a release, in the order they are written and listed. Adding a format: one class, one row.
DUMPS: tuple[Dump, ...] = (Turtle(), JsonLd(), NTriples(), GzipNTriples())
DUMP_NAMED = {dump.name: dump for dump in DUMPS}
