"""Minting IRIs: every resource the mapping emits gets a deterministic, ASCII-only IRI under one base.
User text never enters an IRI: names are hashed, record ids are checked safe by record.py."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
import unicodedata
from urllib.parse import urlsplit

from .dates import PartialDate
from .problems import OptionError
from .record import LABEL_OF, SAFE_ID


_VARIANT_LABELS = tuple(LABEL_OF[a] for a in ("authors", "tags", "book", "book_author"))  # kept per value


class BaseIRIError(OptionError):
    """The --base IRI cannot hold minted IRIs."""


@lru_cache(maxsize=1 << 16)  # names repeat across records: agents, tags and books
def key(*parts: str) -> str:
    """A 16-hex-digit key for names: stable across runs and machines, same for canonically equal text."""
    text = "\x1f".join(unicodedata.normalize("NFC", part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_iri(value: str, what: str) -> str:
    """An absolute http(s) IRI with a host, ASCII, nothing that needs escaping; else BaseIRIError."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BaseIRIError(f"{what} {value!r} must be an http(s) IRI with a host")
    if not value.isascii() or any(c in value for c in ' <>"{}|\\^`'):
        raise BaseIRIError(f"{what} {value!r} must be ASCII without spaces or <>\"{{}}|\\^`")
    return value


def container_and_name(file: str) -> tuple[str | None, str]:
    """The folder a record file is in (its container id in the <book_id>/<article_id>.txt layout) and
    the file's own name; no folder for a file given alone."""
    parts = file.replace("\\", "/").split("/")
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


# A container id from the input's own layout (<book_id>/<article_id>.txt) that can stand in an IRI as it is
CONTAINER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Minter:
    """IRIs for one base; the layout is documented in docs/mapping.md."""

    def __init__(self, base: str):
        parts = urlsplit(check_iri(base, "base IRI"))
        if parts.query or parts.fragment:
            raise BaseIRIError(f"base IRI {base!r} must have no query or fragment")
        self.base = base if base.endswith(("/", "#")) else base + "/"

    def _iri(self, path: str) -> str:
        return self.base + path

    def work(self, record_id: str) -> str:
        if not SAFE_ID.match(record_id):
            raise ValueError(f"unsafe record id {record_id!r}")
        return self._iri(f"article/{record_id}")

    @staticmethod
    def source_container(record) -> str | None:
        """The source's own container id: the folder of a record file laid out as <book_id>/<article_id>.txt."""
        folder, name = container_and_name(record.file)
        return folder if folder and name == f"{record.id}.txt" else None

    def container_key(self, record) -> str:
        """The source's container id, so that correcting a 书籍作者 re-mints nothing; else a key of the book
        and its author statement."""
        folder = self.source_container(record)
        if folder:
            return folder if CONTAINER_ID.match(folder) else key("container", folder)
        return key(record.book, record.book_author)

    def book_of(self, record) -> str:
        return self._iri(f"book/{self.container_key(record)}")

    def printing_of(self, record) -> str:
        return f"{self.work(record.id)}/in/{self.container_key(record)}"

    def issue(self, book: str, date: PartialDate) -> str:
        """One issue of a newspaper: the newspaper and the day."""
        return f"{book}/issue/{date.lexical}"

    def volume_set(self, name: str) -> str:
        """The multi-volume work a volume belongs to (毛泽东全集), by its name alone."""
        return self._iri(f"book/{key('set', name)}")

    def genre(self, label: str) -> str:
        return self._iri(f"form/{key(label)}")

    def genre_scheme(self) -> str:
        return self._iri("genres")

    def agent(self, name: str, authority: str | None = None) -> str:
        """By name; by name and authority IRI where an authority table gives one name several people."""
        return self._iri(f"agent/{key(name, authority) if authority else key(name)}")

    def concept(self, label: str) -> str:
        return self._iri(f"concept/{key(label)}")

    def dataset(self) -> str:
        """The release as a dataset (void.ttl, dataset.jsonld describe it)."""
        return self._iri("dataset")

    def concept_scheme(self) -> str:
        return self._iri("tags")

    def period(self, start: PartialDate, end: PartialDate) -> str:
        return self._iri(f"period/{start.lexical}_{end.lexical}")

    def extra(self, printing: str, label: str, value: str | None = None) -> str:
        """An additional property of a printing: one per label, or per label and value written as is
        (variants of one name that normalise alike are still different values)."""
        if value is None or label not in _VARIANT_LABELS:
            return f"{printing}/extra/{key(label)}"
        exact = hashlib.sha256(f"{label}\x1f{value}".encode("utf-8")).hexdigest()[:16]
        return f"{printing}/extra/{exact}"
