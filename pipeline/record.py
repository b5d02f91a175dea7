"""The record format: field labels, decoding and parsing one file into a Record.
Stage 1 and 2 of a run (discover files, parse them); knows nothing of RDF."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .dates import DateError, PartialDate, parse_dates
from .problems import Problem, RecordError, Reject

# label -> Record attribute, in the order the format writes them.
HEADER_FIELDS: dict[str, str] = {
    "标题": "title",
    "日期": "dates",
    "是否是时间段": "is_range",
    "作者": "authors",
    "来源": "origin",
    "标签": "tags",
    "书籍": "book",
    "书籍作者": "book_author",
}
ID_LABEL = "id"
BODY_LABEL = "正文"
DESCRIPTION_LABEL = "描述"
LIST_FIELDS = ("authors", "tags")  # joined by ','; every other field is one verbatim value
LABEL_OF = {attr: label for label, attr in HEADER_FIELDS.items()} | {
    "id": ID_LABEL,
    "body": BODY_LABEL,
    "description": DESCRIPTION_LABEL,
}

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_HEADER = re.compile(r"^([^：:\s]{1,20})\s*([：:])\s*(.*)$")
_ID_LINE = re.compile(r"^id\s*[:：]\s*(.*)$")
# Characters never emitted: C0 controls but TAB/LF, DEL, C1 controls, non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One input file's bytes and the name it is reported under."""

    file: str
    data: bytes
    mtime: float = 0.0  # the file's modification time (the release date defaults to the newest)


@dataclass(frozen=True)
class Record:
    """One article as printed in one book, every value as the file gives it (trimmed)."""

    file: str
    id: str
    title: str
    date_text: str
    dates: tuple[PartialDate, ...]
    is_range: bool
    authors: tuple[str, ...]
    author_text: str
    origin: str
    tags: tuple[str, ...]
    book: str
    book_author: str
    body: str
    description: str
    extra: tuple[tuple[str, str], ...] = ()
    warnings: tuple[Problem, ...] = field(default=(), compare=False)


class InputError(Exception):
    """The run cannot start: an input path does not exist or is not readable."""


# --------------------------------------------------------------------------- discovery

def discover(inputs: Iterable[str | Path]) -> Iterator[Path]:
    """Files named on the command line, and every *.txt below a named folder, in a stable order.

    A folder's files come first (sorted), then its subfolders (sorted); nothing holds the whole listing."""
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for root, folders, files in os.walk(path):
                folders.sort()
                for name in sorted(files):
                    if name.endswith(".txt") and os.path.isfile(os.path.join(root, name)):
                        yield Path(root, name)
        elif path.is_file():
            yield path
        else:
            raise InputError(f"input '{item}' does not exist; name a record file or a folder of *.txt records")


def read_sources(paths: Iterable[Path], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Source | Reject]:
    """Each file's bytes, or a reject for a file too large to be a record."""
    for path in paths:
        name = str(path)
        try:
            stat = path.stat()
            size = stat.st_size
            data = path.read_bytes() if size <= max_bytes else b""
        except OSError as error:
            yield _reject(name, None, "read", f"cannot read the file ({error.strerror}); check its permissions")
            continue
        if size > max_bytes:
            yield _reject(
                name, None, "read",
                f"file is {size:,} bytes, over the {max_bytes:,}-byte limit for one record; "
                "split it, or raise the limit with --max-record-bytes",
            )
            continue
        yield Source(name, data, stat.st_mtime)


def parse(sources: Iterable[Source | Reject]) -> Iterator[Record | Reject]:
    """Stage: each source parsed into a Record, or a Reject naming the field and the fix."""
    for source in sources:
        if isinstance(source, Reject):
            yield source
            continue
        yield parse_source(source)


def parse_source(source: Source) -> Record | Reject:
    record_id = _sniff_id(source.data)
    try:
        text, warnings = decode(source.data)
        return parse_text(text, file=source.file, warnings=warnings)
    except RecordError as error:
        return Reject(source.file, record_id, (
            Problem(source.file, record_id, "parse", str(error), error.field),
        ))


def _reject(file: str, record_id: str | None, stage: str, message: str, field_: str | None = None) -> Reject:
    return Reject(file, record_id, (Problem(file, record_id, stage, message, field_),))


def _sniff_id(data: bytes) -> str | None:
    """The id as far as it can be read from raw bytes, so that even an undecodable file's reject names it."""
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    match = re.match(rb"^id\s*:\s*([A-Za-z0-9_-]{1,128})$", first)
    return match.group(1).decode("ascii") if match else None


# --------------------------------------------------------------------------- decoding

def decode(data: bytes) -> tuple[str, list[tuple[str | None, str]]]:
    """Text of a file: UTF-8 (a BOM is dropped), else UTF-16 with a BOM or GB18030, with a warning; LF line ends."""
    warnings: list[tuple[str | None, str]] = []
    if not data.strip():
        raise RecordError("the file is empty; it needs an 'id:' line, the header fields, 正文： and 描述：")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise RecordError(f"broken UTF-16 at offset {error.start}; re-save the file as UTF-8") from None
        warnings.append((None, "decoded as UTF-16 (it has a UTF-16 byte-order mark); re-save as UTF-8"))
        return _lf(text), warnings
    nul = data.find(b"\x00")
    if nul >= 0 and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"id"):
        raise RecordError(f"binary data (a NUL byte at offset {nul}, no 'id:' line); this is not a text record")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise RecordError(
                f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}) nor GB18030; "
                "re-save the file as UTF-8"
            ) from None
        warnings.append((None, f"not valid UTF-8 (offset {error.start}); decoded as GB18030, check the text and re-save as UTF-8"))
    return _lf(text), warnings


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# --------------------------------------------------------------------------- parsing

def parse_text(text: str, *, file: str, warnings: Iterable[tuple[str | None, str]] = ()) -> Record:
    """Parse one record's text. Raises RecordError for what makes it unusable."""
    found: list[tuple[str | None, str]] = list(warnings)
    lines = text.split("\n")
    record_id = _parse_id(lines[0] if lines else "")
    header, body_at = _split_header(lines)
    values, extra = _read_header(header, found)
    body, description = _split_sections(lines, body_at)

    cleaned = {}
    for attr in ("title", "dates", "is_range", "origin", "book", "book_author"):
        cleaned[attr] = _clean(values[attr], attr, found)
    if not cleaned["title"]:
        raise RecordError("the title is empty; write the article's title after 标题：", field=LABEL_OF["title"])
    is_range = _parse_flag(cleaned["is_range"])
    try:
        dates = parse_dates(cleaned["dates"], is_range=is_range)
    except DateError as error:
        raise RecordError(str(error), field=LABEL_OF["dates"]) from None
    lists = {attr: _split_list(_clean(values[attr], attr, found), attr, found) for attr in LIST_FIELDS}

    return Record(
        file=file,
        id=record_id,
        title=cleaned["title"],
        date_text=cleaned["dates"],
        dates=dates,
        is_range=is_range,
        authors=lists["authors"],
        author_text=",".join(lists["authors"]),
        origin=cleaned["origin"],
        tags=lists["tags"],
        book=cleaned["book"],
        book_author=cleaned["book_author"],
        body=_clean(body, "body", found, strip=False),
        description=_clean(description, "description", found, strip=False).strip("\n"),
        extra=tuple((label, _clean(value, label, found)) for label, value in extra),
        warnings=tuple(Problem(file, record_id, "parse", message, field_, "warning") for field_, message in found),
    )


def _parse_id(line: str) -> str:
    match = _ID_LINE.match(line.strip())
    if not match:
        raise RecordError("the first line must be 'id: <id>' (ASCII colon and a space)", field=ID_LABEL)
    record_id = match.group(1).strip()
    if not SAFE_ID.match(record_id):
        raise RecordError(
            f"id {record_id!r} cannot make a safe IRI or file name; use 1-128 ASCII letters, digits, '-' or '_'",
            field=ID_LABEL,
        )
    return record_id


def _split_header(lines: list[str]) -> tuple[list[str], int]:
    """Header lines (after the id, before 正文：) and the index of the 正文： line."""
    for index, line in enumerate(lines[1:], start=1):
        if _section_label(line) == BODY_LABEL:
            return [l for l in lines[1:index] if l.strip()], index
    raise RecordError("no '正文：' line; the body must follow the header after a blank line", field=BODY_LABEL)


def _section_label(line: str) -> str | None:
    stripped = line.strip()
    for label in (BODY_LABEL, DESCRIPTION_LABEL):
        if stripped == label + "：":
            return label
    return None


def _read_header(header: list[str], found: list) -> tuple[dict[str, str], list[tuple[str, str]]]:
    values: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    order: list[str] = []
    for line in header:
        match = _HEADER.match(line.strip())
        if not match:
            raise RecordError(
                f"header line {line.strip()[:40]!r} has no label; write 'label：value' with a full-width colon",
            )
        label, colon, value = match.groups()
        attr = HEADER_FIELDS.get(label)
        if colon == ":" and attr is not None:
            found.append((label, f"'{label}:' has an ASCII colon; read as '{label}：', write the full-width colon"))
        elif colon == ":":
            raise RecordError(
                f"header line {line.strip()[:40]!r} has no known label; write 'label：value' with a full-width colon",
            )
        if attr is None:
            found.append((label, f"unknown header label '{label}'; its value is kept verbatim as an additional property and no field shifted"))
            extra.append((label, value))
            continue
        if attr in values:
            raise RecordError(f"'{label}：' appears twice; keep one", field=label)
        values[attr] = value
        order.append(label)
    missing = [label for label, attr in HEADER_FIELDS.items() if attr not in values]
    if missing:
        raise RecordError(
            f"missing header line(s) {', '.join(l + '：' for l in missing)}; write each label, even with an empty value",
            field=missing[0],
        )
    if order != list(HEADER_FIELDS):
        found.append((None, "header labels are out of order (" + ",".join(order) + "); read by label, nothing shifted"))
    return values, extra


def _split_sections(lines: list[str], body_at: int) -> tuple[str, str]:
    """Body and description; the LAST bare 描述： line starts the description."""
    description_at = None
    for index in range(len(lines) - 1, body_at, -1):
        if _section_label(lines[index]) == DESCRIPTION_LABEL:
            description_at = index
            break
    if description_at is None:
        raise RecordError("no '描述：' line after the body; end the record with a blank line and '描述：'",
                          field=DESCRIPTION_LABEL)
    body_lines = lines[body_at + 1:description_at]
    # the blank line before 描述： separates sections; it is not part of the body
    if body_lines and body_lines[-1] == "":
        body_lines = body_lines[:-1]
    return "\n".join(body_lines), "\n".join(lines[description_at + 1:])


def _parse_flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "":
        return False
    raise RecordError(f"'{value}' is neither true nor false; write 是否是时间段：true for a range, false otherwise",
                      field=LABEL_OF["is_range"])


def _split_list(value: str, attr: str, found: list) -> tuple[str, ...]:
    items: list[str] = []
    empty = 0
    for item in value.split(","):
        item = item.strip()
        if not item:
            empty += 1
        elif item in items:
            found.append((LABEL_OF[attr], f"'{item}' is listed twice; kept once"))
        else:
            items.append(item)
    if value.strip() and empty:
        found.append((LABEL_OF[attr], f"{empty} empty item(s) between commas dropped"))
    return tuple(items)


def _clean(value: str, attr: str, found: list, *, strip: bool = True) -> str:
    """Text without control characters (warned), trimmed of spaces and U+3000 unless it is a section.

    No Unicode normalisation: NFC would rewrite CJK compatibility ideographs the source chose."""
    if _CONTROL.search(value):
        count = len(_CONTROL.findall(value))
        found.append((LABEL_OF.get(attr, attr), f"{count} control character(s) removed; they cannot be published"))
        value = _CONTROL.sub("", value)
    return value.strip() if strip else value
