"""RDF terms as plain Python values, and their N-Triples form: the currency every stage passes on.
An IRI is a str, a literal a Lit; rdflib terms are made only at the edges (pyshacl, reading files)."""

from __future__ import annotations

import re
from typing import NamedTuple, Union

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class Lit(NamedTuple):
    """A literal: lexical form, language tag or datatype IRI (neither: xsd:string)."""

    value: str
    lang: str | None = None
    datatype: str | None = None

    @property
    def datatype_iri(self) -> str:
        if self.lang:
            return RDF_LANGSTRING
        return self.datatype or XSD_STRING


Term = Union[str, Lit]
Triple = tuple[str, str, Term]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_UNESCAPE = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))')
_SIMPLE_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


_ESCAPE_TABLE = {code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)}
_ESCAPE_TABLE.update({ord(char): escaped for char, escaped in _ESCAPES.items()})
_RARE_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """N-Triples (and Turtle) string escapes. Bodies are long and full of newlines: str.replace is
    several times faster there than a regex or str.translate; other controls are rare."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    if _RARE_CONTROLS.search(text):
        return text.translate(_ESCAPE_TABLE)
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def _unescape_match(match: re.Match) -> str:
    if match.group(1) or match.group(2):
        return chr(int(match.group(1) or match.group(2), 16))
    return _SIMPLE_UNESCAPES[match.group(3)]


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    if "\\u" in text or "\\U" in text or "\\b" in text or "\\f" in text or "\\'" in text:
        return _UNESCAPE.sub(_unescape_match, text)
    # escaped backslashes first split the text, so each remaining backslash starts a one-letter escape
    return "\\".join(part.replace("\\n", "\n").replace('\\"', '"').replace("\\r", "\r").replace("\\t", "\t")
                     for part in text.split("\\\\"))


def nt_term(term: Term) -> str:
    if isinstance(term, str):
        return f"<{term}>"
    quoted = f'"{escape(term.value)}"'
    if term.lang:
        return f"{quoted}@{term.lang}"
    if term.datatype and term.datatype != XSD_STRING:
        return f"{quoted}^^<{term.datatype}>"
    return quoted


def nt_line(triple: Triple) -> str:
    s, p, o = triple
    return f"<{s}> <{p}> {nt_term(o)} ."


def nt_bytes(lines: list[str]) -> bytes:
    """N-Triples lines as the bytes of a file, each ended by a newline; none for none."""
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def to_rdflib(triple: Triple):
    """The same triple as rdflib terms, for pyshacl and rdflib graphs."""
    from rdflib import Literal, URIRef

    s, p, o = triple
    if isinstance(o, str):
        obj = URIRef(o)
    elif o.lang:
        obj = Literal(o.value, lang=o.lang)
    else:
        obj = Literal(o.value, datatype=URIRef(o.datatype) if o.datatype else None)
    return URIRef(s), URIRef(p), obj


def from_rdflib(node) -> Term:
    """An rdflib IRI or literal as a plain term (xsd:string literals without a datatype, as nt_term writes)."""
    from rdflib import Literal

    if isinstance(node, Literal):
        datatype = str(node.datatype) if node.datatype and not node.language else None
        return Lit(str(node), node.language, None if datatype == XSD_STRING else datatype)
    return str(node)
