"""An optional authority table (--authorities FILE): which agent a name means, by an authority IRI, and
where one name means several people, which of them by context (the book). Read once, checked whole."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .iris import check_iri
from .problems import OptionError

COLUMNS = ("name", "iri", "book")  # book: optional; the 书籍 in which the name means this one


class AuthorityError(OptionError):
    """The authority table cannot be read or has a bad row."""


@dataclass(frozen=True)
class Authority:
    iri: str
    split: bool  # the table gives this name more than one IRI: its agents must be kept apart


class Authorities:
    def __init__(self, rows: list[tuple[str, str, str]]):
        self.by_name: dict[str, dict[str, str]] = {}  # name -> book ('' for any) -> IRI
        for name, iri, book in rows:
            self.by_name.setdefault(name, {})[book] = iri

    def lookup(self, name: str, book: str) -> Authority | None:
        """The authority a name has in this book: the row for the book, else the row for any book."""
        rows = self.by_name.get(_nfc(name))
        if not rows:
            return None
        iri = rows.get(_nfc(book)) or rows.get("")
        return Authority(iri, len(set(rows.values())) > 1) if iri else None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


@lru_cache(maxsize=4)
def load(path: str) -> Authorities:
    """A CSV with a header row name,iri[,book]; every error names the file and line and how to fix it."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream)
            header = [h.strip() for h in next(reader, [])]
            if header[:2] != ["name", "iri"] or not set(header) <= set(COLUMNS):
                raise AuthorityError(f"{path}: the first line must be the header name,iri or name,iri,book "
                                     f"(found {','.join(header) or 'nothing'})")
            rows, seen = [], {}
            for number, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                values = dict(zip(header, (cell.strip() for cell in row)))
                name, iri, book = _nfc(values.get("name", "")), values.get("iri", ""), _nfc(values.get("book", ""))
                if not name:
                    raise AuthorityError(f"{path}, line {number}: the name is empty")
                try:
                    check_iri(iri, "the authority IRI")
                except OptionError as error:
                    raise AuthorityError(f"{path}, line {number}: {error}") from None
                if (name, book) in seen:
                    raise AuthorityError(f"{path}, line {number}: {name!r}{' in ' + book if book else ''} is "
                                         f"already on line {seen[(name, book)]}; keep one row")
                seen[(name, book)] = number
                rows.append((name, iri, book))
    except OSError as error:
        raise AuthorityError(f"cannot read the authority table '{path}': {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise AuthorityError(f"{path} is not a UTF-8 CSV file: {error}") from None
    return Authorities(rows)


def check(path: str | Path) -> None:
    load(str(path))
