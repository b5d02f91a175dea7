"""Namespaces and the defaults of what a release says about itself: the one table of each.
Nothing here mints IRIs for records (see iris.py); it only names the vocabularies we publish with."""

from __future__ import annotations

# prefix -> namespace IRI, in the order they are printed in Turtle and JSON-LD.
# schema.org is deliberately the http:// namespace (not rdflib's https SDO).
PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "schema": "http://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "time": "http://www.w3.org/2006/time#",
    "edtf": "http://id.loc.gov/datatypes/edtf/",
}


class Namespace:
    """`SCHEMA.name` is the plain str IRI 'http://schema.org/name' (not an rdflib term)."""

    def __init__(self, iri: str):
        self.iri = iri

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        iri = self.iri + name
        setattr(self, name, iri)  # later look-ups are plain attribute reads (the mapping's hot path)
        return iri

    def __getitem__(self, name: str) -> str:
        return self.iri + name

    def __str__(self) -> str:
        return self.iri


RDF = Namespace(PREFIXES["rdf"])
RDFS = Namespace(PREFIXES["rdfs"])
XSD = Namespace(PREFIXES["xsd"])
DCTERMS = Namespace(PREFIXES["dcterms"])
DC = Namespace(PREFIXES["dc"])
SCHEMA = Namespace(PREFIXES["schema"])
SKOS = Namespace(PREFIXES["skos"])
DCAT = Namespace(PREFIXES["dcat"])
VOID = Namespace(PREFIXES["void"])
PROV = Namespace(PREFIXES["prov"])
FOAF = Namespace(PREFIXES["foaf"])
SPDX = Namespace(PREFIXES["spdx"])
TIME = Namespace(PREFIXES["time"])
EDTF = PREFIXES["edtf"] + "EDTF"  # the Library of Congress's datatype for EDTF (ISO 8601-2) literals
SH = Namespace("http://www.w3.org/ns/shacl#")

RDF_TYPE = RDF.type

DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"  # of the metadata the publisher made
DEFAULT_RIGHTS = "http://rightsstatements.org/vocab/CNE/1.0/"  # of the texts: Copyright Not Evaluated
DEFAULT_PUBLISHER = "zh-articles pipeline (set --publisher)"
DEFAULT_TITLE = "Chinese historical articles"

DEFAULT_BASE = "https://example.org/zh-articles/"
DEFAULT_LANG = "auto"  # each Chinese literal tagged by its script (scripts.py); or one tag for all
