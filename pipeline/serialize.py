"""Writing the published graph as N-Triples, Turtle and JSON-LD from one sorted stream of N-Triples lines.
Each writer streams: a sorted line stream groups every subject's triples together, so no Graph is built."""

from __future__ import annotations

import json
import re
from typing import IO, Iterable, Iterator

from .terms import escape, nt_line, unescape  # noqa: F401  (nt_line is re-exported)
from .vocab import PREFIXES

RDF_TYPE_IRI = PREFIXES["rdf"] + "type"
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_LINE = re.compile(r'^<([^>]*)> <([^>]*)> (.*) \.$')


def parse_line(line: str) -> tuple[str, str, tuple]:
    """Subject, predicate and object of one line written by nt_line."""
    match = _LINE.match(line)
    if not match:
        raise ValueError(f"not an N-Triples line written by this pipeline: {line[:80]!r}")
    subject, predicate, obj = match.groups()
    if obj.startswith("<"):
        return subject, predicate, ("iri", obj[1:-1])
    end = obj.rindex('"')
    lexical, suffix = unescape(obj[1:end]), obj[end + 1:]
    if suffix.startswith("@"):
        return subject, predicate, ("literal", lexical, suffix[1:], None)
    if suffix.startswith("^^<"):
        return subject, predicate, ("literal", lexical, None, suffix[3:-1])
    return subject, predicate, ("literal", lexical, None, None)


def grouped(lines: Iterable[str]) -> Iterator[tuple[str, list[tuple[str, tuple]]]]:
    """(subject, [(predicate, object), ...]) for sorted lines: a subject's lines are contiguous."""
    current, pairs = None, []
    for line in lines:
        subject, predicate, obj = parse_line(line)
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
        # longest namespace first, so the most specific prefix wins
        self._ordered = sorted(self.table.items(), key=lambda item: -len(item[1]))

    def compact(self, iri: str) -> str | None:
        for prefix, namespace in self._ordered:
            if iri.startswith(namespace):
                local = iri[len(namespace):]
                if _LOCAL_NAME.match(local):
                    return f"{prefix}:{local}"
                return None
        return None


# --------------------------------------------------------------------------- writers

def write_ntriples(lines: Iterable[str], stream: IO[str]) -> int:
    count = 0
    for line in lines:
        stream.write(line)
        stream.write("\n")
        count += 1
    return count


def write_turtle(lines: Iterable[str], stream: IO[str], prefixes: Prefixes) -> int:
    for prefix, namespace in prefixes.table.items():
        stream.write(f"@prefix {prefix}: <{namespace}> .\n")
    count = 0

    def iri(value: str) -> str:
        return prefixes.compact(value) or f"<{value}>"

    def term(obj: tuple) -> str:
        if obj[0] == "iri":
            return iri(obj[1])
        _, lexical, language, datatype = obj
        quoted = f'"{escape(lexical)}"'
        if language:
            return f"{quoted}@{language}"
        return f"{quoted}^^{iri(datatype)}" if datatype else quoted

    for subject, pairs in grouped(lines):
        count += len(pairs)
        stream.write(f"\n{iri(subject)}")
        by_predicate: dict[str, list[str]] = {}
        for predicate, obj in pairs:
            by_predicate.setdefault(predicate, []).append(term(obj))
        ordered = sorted(by_predicate, key=lambda p: (p != RDF_TYPE_IRI, p))
        for index, predicate in enumerate(ordered):
            name = "a" if predicate == RDF_TYPE_IRI else iri(predicate)
            separator = " " if index == 0 else " ;\n    "
            stream.write(f"{separator}{name} {', '.join(by_predicate[predicate])}")
        stream.write(" .\n")
    return count


def jsonld_context(prefixes: Prefixes) -> dict:
    return {"@version": 1.1, **prefixes.table}


def write_jsonld(lines: Iterable[str], stream: IO[str], prefixes: Prefixes) -> int:
    """Compacted JSON-LD 1.1 with the context inlined: one node object per subject in @graph."""
    context = json.dumps(jsonld_context(prefixes), ensure_ascii=False, indent=2)
    stream.write('{\n"@context": ' + context + ',\n"@graph": [')
    count = 0

    def iri(value: str) -> str:
        return prefixes.compact(value) or value

    def value(obj: tuple):
        if obj[0] == "iri":
            return {"@id": iri(obj[1])}
        _, lexical, language, datatype = obj
        if language:
            return {"@value": lexical, "@language": language}
        if datatype:
            return {"@value": lexical, "@type": iri(datatype)}
        return lexical

    for index, (subject, pairs) in enumerate(grouped(lines)):
        count += len(pairs)
        node: dict = {"@id": iri(subject)}
        types = [iri(obj[1]) for predicate, obj in pairs if predicate == RDF_TYPE_IRI]
        if types:
            node["@type"] = types[0] if len(types) == 1 else types
        properties: dict[str, list] = {}
        for predicate, obj in pairs:
            if predicate != RDF_TYPE_IRI:
                properties.setdefault(iri(predicate), []).append(value(obj))
        for key in sorted(properties):
            values = properties[key]
            node[key] = values[0] if len(values) == 1 else values
        stream.write(("\n" if index == 0 else ",\n") + json.dumps(node, ensure_ascii=False))
    stream.write("\n]\n}\n")
    return count
