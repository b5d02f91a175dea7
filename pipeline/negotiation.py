"""Content negotiation for the release's IRIs: the one table of document formats (extension, media types,
writer) and the choice of one from an Accept header, the same for `pipeline serve` and `pipeline site`."""

from __future__ import annotations

import io
import json
from typing import Callable, NamedTuple

from .context import context
from .serialize import Prefixes, grouped, jsonld_nodes, write_turtle_groups
from .terms import Triple, nt_line


class Format(NamedTuple):
    """One kind of document about a resource. The first media type is the one answered with."""

    name: str
    extension: str
    media_types: tuple[str, ...]

    @property
    def media_type(self) -> str:
        return self.media_types[0]


HTML = Format("html", ".html", ("text/html", "application/xhtml+xml"))
# In the server's order of preference: a client that accepts anything (curl's */*) gets the page a person
# reads; RDF clients name an RDF type (rdflib, Jena and Oxigraph do) and get it.
FORMATS: tuple[Format, ...] = (
    HTML,
    Format("turtle", ".ttl", ("text/turtle", "application/x-turtle")),
    Format("jsonld", ".jsonld", ("application/ld+json", "application/json")),
    Format("ntriples", ".nt", ("application/n-triples", "text/plain")),  # text/plain: N-Triples' old type
    Format("rdfxml", ".rdf", ("application/rdf+xml", "application/xml", "text/xml")),
)
RDF_FORMATS = FORMATS[1:]
BY_EXTENSION = {f.extension: f for f in FORMATS}


def accept_ranges(header: str | None) -> list[tuple[str, str, float]]:
    """(type, subtype, quality) of each media range; a malformed quality counts as 0 (RFC 9110 12.5.1)."""
    if not header or not header.strip():
        return [("*", "*", 1.0)]
    ranges = []
    for part in header.split(","):
        media, *params = [piece.strip() for piece in part.split(";")]
        if "/" not in media:
            continue
        kind, _, subtype = media.lower().partition("/")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((kind.strip(), subtype.strip(), quality))
    return ranges


def ranked(header: str | None) -> list[str]:
    """Media ranges best first (quality, then order), q=0 dropped: what a SPARQL answer's type is chosen
    from (sandbox.RESULT_TYPES)."""
    ranges = [(-quality, index, f"{kind}/{subtype}")
              for index, (kind, subtype, quality) in enumerate(accept_ranges(header)) if quality > 0]
    return [media for _, _, media in sorted(ranges)] or ["*/*"]


def _match(media_type: str, ranges: list[tuple[str, str, float]]) -> tuple[int, float]:
    """(specificity, quality) of the most specific range matching media_type: text/html beats text/*
    beats */*, whatever their qualities (RFC 9110 12.5.1); (-1, 0) when none matches."""
    kind, _, subtype = media_type.partition("/")
    best = (-1, 0.0)
    for range_kind, range_subtype, quality in ranges:
        if range_kind == kind and range_subtype == subtype:
            level = 2
        elif range_kind == kind and range_subtype == "*":
            level = 1
        elif range_kind == "*" and range_subtype == "*":
            level = 0
        else:
            continue
        best = max(best, (level, quality))
    return best


def choose(header: str | None, formats: tuple[Format, ...] = FORMATS) -> Format | None:
    """The format to answer with: the highest quality, the server's order among equals; None (406) when
    the client accepts none of them. A format's aliases (application/xhtml+xml) count only when named
    more specifically than its own type, so `text/html;q=0, */*;q=0.1` refuses HTML."""
    ranges = accept_ranges(header)
    best, best_quality = None, 0.0
    for fmt in formats:
        quality = max(_match(media_type, ranges) for media_type in fmt.media_types)[1]
        if quality > best_quality:
            best, best_quality = fmt, quality
    return best


def link_header(leaf: str, formats: tuple[Format, ...] = FORMATS) -> str:
    """`Link: <leaf.ttl>; rel="alternate"; type="text/turtle", …` with relative targets (RFC 8288)."""
    return ", ".join(f'<{leaf}{fmt.extension}>; rel="alternate"; type="{fmt.media_type}"' for fmt in formats)


# --------------------------------------------------------------------------- the RDF documents

def rdf_document(fmt: Format, triples: list[Triple], prefixes: Prefixes) -> bytes:
    """A resource's description in one RDF format, written by the release's own writers (so a document
    reads like the dumps), RDF/XML by pyoxigraph."""
    return _WRITERS[fmt.name](triples, prefixes)


def _ordered_lines(triples: list[Triple]) -> list[str]:
    """N-Triples lines, the described resource's own block first (it is the first subject given)."""
    if not triples:
        return []
    first = triples[0][0]
    lines = sorted({nt_line(t) for t in triples})
    own = [line for line in lines if line.startswith(f"<{first}> ")]
    return own + [line for line in lines if not line.startswith(f"<{first}> ")]


def _turtle(triples, prefixes) -> bytes:
    out = io.StringIO()
    lines = _ordered_lines(triples)
    used = _used_prefixes(lines, prefixes)
    out.write("".join(f"@prefix {name}: <{namespace}> .\n" for name, namespace in used.items()))
    write_turtle_groups(grouped(lines), out, prefixes)
    return out.getvalue().encode("utf-8")


def _used_prefixes(lines: list[str], prefixes: Prefixes) -> dict[str, str]:
    text = "\n".join(lines)
    return {name: namespace for name, namespace in prefixes.table.items() if f"<{namespace}" in text}


def _jsonld(triples, prefixes) -> bytes:
    return (jsonld_text(triples, prefixes) + "\n").encode("utf-8")


def jsonld_text(triples: list[Triple], prefixes: Prefixes, *, indent: int | None = None) -> str:
    """One JSON-LD document under the release's context, inlined: no request leaves to fetch a context."""
    nodes = [node for node, _ in jsonld_nodes(grouped(_ordered_lines(triples)), prefixes)]
    return json.dumps({"@context": context(prefixes), "@graph": nodes}, ensure_ascii=False, indent=indent)


def _ntriples(triples, prefixes) -> bytes:
    lines = sorted({nt_line(t) for t in triples})
    return ("".join(line + "\n" for line in lines)).encode("utf-8")


def _rdfxml(triples, prefixes) -> bytes:
    import pyoxigraph

    from .terms import Lit

    def term(value):
        if isinstance(value, Lit):
            if value.lang:
                return pyoxigraph.Literal(value.value, language=value.lang)
            if value.datatype:
                return pyoxigraph.Literal(value.value, datatype=pyoxigraph.NamedNode(value.datatype))
            return pyoxigraph.Literal(value.value)
        return pyoxigraph.NamedNode(value)

    ox = [pyoxigraph.Triple(term(s), term(p), term(o)) for s, p, o in sorted(set(triples), key=nt_line)]
    used = _used_prefixes([nt_line(t) for t in triples], prefixes)
    return pyoxigraph.serialize(ox, format=pyoxigraph.RdfFormat.RDF_XML, prefixes=used)


_WRITERS: dict[str, Callable[[list[Triple], Prefixes], bytes]] = {
    "turtle": _turtle, "jsonld": _jsonld, "ntriples": _ntriples, "rdfxml": _rdfxml,
}
