"""What a run is asked to do: one frozen dataclass of options that checks itself (Options.check()).
The CLI fills it from arguments; the library's callers from code; nothing else repeats its fields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .iris import Minter, check_iri
from .sources import DEFAULT_MAX_BYTES
from .vocab import DEFAULT_BASE, DEFAULT_LANG, DEFAULT_LICENSE, DEFAULT_PUBLISHER, DEFAULT_RIGHTS, DEFAULT_TITLE

DEFAULT_BATCH = 500  # records per unit of work handed to a worker


@dataclass(frozen=True)
class Options:
    base: str = DEFAULT_BASE
    lang: str = DEFAULT_LANG
    shapes: str | Path | None = None
    max_record_bytes: int = DEFAULT_MAX_BYTES
    batch_size: int = DEFAULT_BATCH
    validator: str = "builtin"
    workers: int | None = None  # None: one per CPU
    strict: bool = False
    max_rejects: int | None = None
    # what the dataset description says (void.ttl, dataset.jsonld)
    title: str = DEFAULT_TITLE
    license: str = DEFAULT_LICENSE  # of the metadata
    rights: str = DEFAULT_RIGHTS  # a rights statement for the texts, on every printing
    version_label: str | None = None  # default: the release date
    source_url: str | None = None  # a template for each record's page at its source: {container}, {id}
    authorities: str | Path | None = None  # a CSV name,iri[,book]: schema:sameAs, and same names kept apart
    publisher: str = DEFAULT_PUBLISHER
    date: str | None = None  # YYYY-MM-DD; default SOURCE_DATE_EPOCH, else the previous release's (same inputs), else today
    download_base: str | None = None  # default {base}dumps/
    sparql_endpoint: str | None = None
    allow_empty: bool = False  # may a release with no published record replace one that had some?
    record_cache: bool = True  # keep _publisher/records.sqlite for the next run (cache.py; ~5.5 KB a record)

    def check(self) -> "Options":
        """Raise an OptionError (or ShapesError) for anything that would stop the run later."""
        from .mapping import check_language_tag
        from .validate import ENGINES, ShapesError, load_shapes

        Minter(self.base)
        check_language_tag(self.lang)
        for value, what in ((self.license, "--license"), (self.rights, "--rights"),
                            (self.download_base, "--download-base"), (self.sparql_endpoint, "--sparql-endpoint")):
            if value:
                check_iri(value, what)
        if self.source_url:
            check_source_url(self.source_url)
        if self.authorities:
            from .authorities import check

            check(Path(self.authorities).resolve())
        if self.validator not in ENGINES:
            raise ShapesError(f"unknown validator {self.validator!r}; choose one of {', '.join(ENGINES)}")
        load_shapes(self.shapes)
        return self

    @property
    def language(self) -> str:
        """The dataset's language (dcterms:language, schema:inLanguage): zh, whatever script tags say."""
        return "zh" if self.lang == "auto" else self.lang

    @property
    def minted_base(self) -> str:
        """The base IRI as minted IRIs use it (with its trailing slash)."""
        return Minter(self.base).base


def check_source_url(template: str) -> str:
    """--source-url: an http(s) IRI template with {container} and/or {id} and no other placeholder."""
    import string

    from .problems import OptionError

    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise OptionError(f"--source-url {template!r} is not a template: {error}") from None
    if not names or not names <= {"container", "id"}:
        raise OptionError(f"--source-url {template!r} must use {{id}} and/or {{container}} and nothing else, "
                          "e.g. https://archive.example/articles/{id}")
    try:
        check_iri(template.format(container="c", id="i"), "--source-url")
    except OptionError as error:
        raise OptionError(f"--source-url {template!r} does not give an IRI once filled in: {error}") from None
    return template
