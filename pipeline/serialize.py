"""Writing the published graph as N-Triples, Turtle and JSON-LD from sorted streams of N-Triples lines.
Each writer streams: a sorted line stream groups every subject's triples together, so no Graph is built;
a release is written as fragments (one per range of buckets) that join into whole files."""

from __future__ import annotations

import json
import re
from typing import IO, Iterable, Iterator

from .terms import unescape
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

    MINTED = ("article", "book", "agent", "concept", "period")

    def __init__(self, base: str):
        self.table = dict(PREFIXES)
        for name in self.MINTED:
            self.table[name] = f"{base}{name}/"
        self.table["data"] = base
        self._by_namespace = {namespace: prefix for prefix, namespace in self.table.items()}
        self._cache: dict[str, str | None] = {}

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

def write_ntriples(lines: Iterable[str], stream: IO[str]) -> int:
    lines = list(lines)
    if lines:
        stream.write("\n".join(lines) + "\n")
    return len(lines)


# --------------------------------------------------------------------------- Turtle

def turtle_header(prefixes: Prefixes) -> str:
    return "".join(f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in prefixes.table.items())


def write_turtle_groups(groups: Iterable[tuple[str, list]], stream: IO[str], prefixes: Prefixes) -> int:
    """Subject blocks; N-Triples literal syntax is Turtle syntax, so literals are copied as they are."""
    count = 0
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
        count += len(pairs)
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
    stream.write("".join(out))
    return count


def write_turtle(lines: Iterable[str], stream: IO[str], prefixes: Prefixes) -> int:
    stream.write(turtle_header(prefixes))
    return write_turtle_groups(grouped(lines), stream, prefixes)


# --------------------------------------------------------------------------- JSON-LD

def jsonld_context(prefixes: Prefixes) -> dict:
    return {"@version": 1.1, **prefixes.table}


def jsonld_header(prefixes: Prefixes) -> str:
    return '{\n"@context": ' + json.dumps(jsonld_context(prefixes), ensure_ascii=False, indent=2) + ',\n"@graph": ['


JSONLD_FOOTER = "\n]\n}\n"


def write_jsonld_groups(groups: Iterable[tuple[str, list]], stream: IO[str], prefixes: Prefixes) -> int:
    """One compacted node object per subject, each on its own line, separated by commas."""
    count = 0

    def iri(value: str) -> str:
        return prefixes.compact(value) or value

    def value(obj: str):
        if obj.startswith("<"):
            return {"@id": iri(obj[1:-1])}
        _, lexical, language, datatype = parse_object(obj)
        if language:
            return {"@value": lexical, "@language": language}
        if datatype:
            return {"@value": lexical, "@type": iri(datatype)}
        return lexical

    out: list[str] = []
    for subject, pairs in groups:
        count += len(pairs)
        node: dict = {"@id": iri(subject)}
        types = [iri(obj[1:-1]) for predicate, obj in pairs if predicate == RDF_TYPE_IRI]
        if types:
            node["@type"] = types[0] if len(types) == 1 else types
        properties: dict[str, list] = {}
        for predicate, obj in pairs:
            if predicate != RDF_TYPE_IRI:
                properties.setdefault(iri(predicate), []).append(value(obj))
        for key in sorted(properties):
            values = properties[key]
            node[key] = values[0] if len(values) == 1 else values
        out.append(json.dumps(node, ensure_ascii=False))
    if out:
        stream.write("\n" + ",\n".join(out))
    return count
