"""The JSON-LD context of a release: one term per property and class the mapping emits, and how a node's
values are written under it, so a JavaScript developer reads `node.author[0]` without RDF tooling."""

from __future__ import annotations

from .vocab import DC, DCAT, DCTERMS, FOAF, PREFIXES, PROV, RDFS, SCHEMA, SKOS, TIME, VOID, XSD

# How the values of a property are written. TEXT: a language map of arrays ({"zh-Hans": ["…"]}); LINK:
# IRIs as plain strings; PLAIN: untagged strings; a datatype IRI: strings of that datatype. A value of
# another kind is still published, as an explicit value object (see _write_value).
TEXT, LINK, PLAIN = "@language", "@id", "plain"

# Every property the mapping emits, with the kind of its values. A property missing here is still
# published (keyed by its full IRI); test_outputs checks that the seeds' release needs no such key.
PROPERTIES: dict[str, str] = {
    SCHEMA.name: TEXT, SCHEMA.headline: TEXT, SCHEMA.alternativeHeadline: TEXT, SCHEMA.articleBody: TEXT,
    SCHEMA.description: TEXT, SCHEMA.value: TEXT,
    SCHEMA.author: LINK, SCHEMA.about: LINK, SCHEMA.isPartOf: LINK, SCHEMA.exampleOfWork: LINK,
    SCHEMA.workExample: LINK, SKOS.note: LINK, SCHEMA.genre: LINK,
    SCHEMA.sourceOrganization: LINK, SCHEMA.publisher: LINK, SCHEMA.inDefinedTermSet: LINK,
    SCHEMA.dateCreated: XSD.date, SCHEMA.datePublished: XSD.date, SCHEMA.identifier: PLAIN,
    SCHEMA.inLanguage: PLAIN, SCHEMA.volumeNumber: PLAIN,
    DCTERMS.title: TEXT, DCTERMS.alternative: TEXT, DCTERMS.description: TEXT,
    DCTERMS.bibliographicCitation: TEXT,
    DCTERMS.creator: LINK, DCTERMS.isPartOf: LINK, DCTERMS.subject: LINK, DCTERMS.type: LINK,
    DCTERMS.date: XSD.date, DCTERMS.created: XSD.date, DCTERMS.issued: XSD.date, DCTERMS.identifier: PLAIN,
    TIME.hasTime: LINK, DCTERMS.rights: LINK, DCTERMS.contributor: LINK, PROV.wasDerivedFrom: LINK,
    SCHEMA.isBasedOn: LINK, SCHEMA.editor: LINK, SCHEMA.contributor: LINK, FOAF.focus: LINK,
    SCHEMA.sameAs: LINK, VOID.inDataset: LINK,
    DC.creator: TEXT, DC.source: TEXT, DC.date: PLAIN,
    DCAT.startDate: XSD.date, DCAT.endDate: XSD.date,
    RDFS.label: TEXT, SKOS.prefLabel: TEXT, SKOS.inScheme: LINK,
}

# Classes that get a bare name as a `type` value; others are written as compact IRIs (skos:Concept).
SCHEMA_CLASSES = ("Article", "NewsArticle", "Chapter", "CreativeWork", "Person", "Organization", "Book",
                  "Periodical", "Newspaper", "PublicationIssue", "PublicationVolume", "PropertyValue",
                  "Collection", "WebSite", "DefinedTerm", "DefinedTermSet")


def term_of(iri: str, prefixes) -> str:
    """schema.org keeps its bare names, as in schema.org's own context; every other vocabulary's terms
    are their compact IRI (dcterms:title), so a name never says which vocabulary it is not."""
    if iri.startswith(PREFIXES["schema"]):
        return iri[len(PREFIXES["schema"]):]
    return prefixes.compact(iri) or iri


def context(prefixes) -> dict:
    """The whole context: prefixes, `id`/`type` aliases, a term for each class and property."""
    table: dict = {"@version": 1.1, **prefixes.table, "id": "@id", "type": {"@id": "@type", "@container": "@set"}}
    for name in SCHEMA_CLASSES:
        table[name] = SCHEMA[name]
    for iri, kind in PROPERTIES.items():
        name = term_of(iri, prefixes)
        if name in table:
            raise ValueError(f"the JSON-LD term {name!r} would mean two things; rename one in context.py")
        table[name] = _definition(iri, kind, prefixes)
    return table


def _definition(iri: str, kind: str, prefixes) -> dict:
    if kind == TEXT:
        return {"@id": iri, "@container": ["@language", "@set"]}
    definition: dict = {"@id": iri}
    if kind == LINK:
        definition["@type"] = "@id"
    elif kind != PLAIN:
        definition["@type"] = prefixes.compact(kind) or kind
    definition["@container"] = "@set"
    return definition


class NodeWriter:
    """Turns one subject's (predicate, parsed object) pairs into a node object under this context."""

    def __init__(self, prefixes):
        self.prefixes = prefixes
        self.terms = {iri: (term_of(iri, prefixes), kind) for iri, kind in PROPERTIES.items()}
        self.classes = {SCHEMA[name]: name for name in SCHEMA_CLASSES}

    def iri(self, value: str) -> str:
        return self.prefixes.compact(value) or value

    def node(self, subject: str, types: list[str], values: list[tuple[str, tuple]]) -> dict:
        node: dict = {"id": self.iri(subject)}
        if types:
            node["type"] = [self.classes.get(t) or self.iri(t) for t in types]
        properties: dict[str, object] = {}
        for predicate, obj in values:
            self._add(properties, predicate, obj)
        for key in sorted(properties):
            node[key] = properties[key]
        return node

    def _add(self, properties: dict, predicate: str, obj: tuple) -> None:
        term, kind = self.terms.get(predicate, (predicate, None))
        if kind == TEXT:
            if obj[0] == "literal" and obj[2]:
                properties.setdefault(term, {}).setdefault(obj[2], []).append(obj[1])
                return
            term, kind = predicate, None  # a language map holds tagged strings only: the full IRI key
        properties.setdefault(term, []).append(self._value(obj, kind))

    def _value(self, obj: tuple, kind: str | None):
        """The shortest form that means this term under the term's coercion; an object otherwise."""
        if obj[0] == "iri":
            return self.iri(obj[1]) if kind == LINK else {"@id": self.iri(obj[1])}
        _, lexical, language, datatype = obj
        if language:
            return {"@value": lexical, "@language": language}
        if datatype:
            return lexical if datatype == kind else {"@value": lexical, "@type": self.iri(datatype)}
        return lexical if kind == PLAIN else {"@value": lexical}
