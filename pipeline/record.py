"""The record format: field labels, decoding and parsing one file into a Record.
Stage 1 and 2 of a run (discover files, parse them); knows nothing of RDF."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .dates import DateError, PartialDate, parse_dates
from .problems import PipelineError, Problem, RecordError, Reject

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
# Kept but warned: they reorder how text displays (the 'Trojan Source' characters).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
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


class InputError(PipelineError):
    """The run cannot start: an input path does not exist or is not readable."""


# --------------------------------------------------------------------------- discovery

@dataclass(frozen=True)
class Found:
    """A file to read as a record: the path to open and the name it is reported under.

    The name is relative to the input as given on the command line (an absolute input contributes only
    its last part), so that no local absolute path reaches a published report. A file that must not be
    read (a symlink pointing outside every input) carries the reason and is rejected unread."""

    path: str
    name: str
    unread: str | None = None


@dataclass(frozen=True)
class Skipped:
    """Something below an input that is not a record and is not read, with why; listed in the report."""

    name: str
    reason: str


def discover(inputs: Iterable[str | Path]) -> Iterator[Found | Skipped]:
    """Files named on the command line, and every *.txt below a named folder, in a stable order.

    A folder's files come first (sorted), then its subfolders (sorted); nothing holds the whole listing.
    Symlinks below a folder are followed only to files inside one of the inputs; symlinked folders are
    not followed (each would publish its records a second time); both, and unreadable folders and
    special files, are reported as skipped."""
    items = [Path(item) for item in inputs]
    roots = [Path(os.path.realpath(item)) for item in items]
    for item in items:
        if os.path.isdir(item):
            yield from _walk(item, roots)
        elif os.path.isfile(item):
            yield Found(str(item), shown_name(item, None))
        elif os.path.lexists(item):
            raise InputError(f"input '{item}' is {_kind(item)}, not a record file or a folder of records")
        else:
            raise InputError(f"input '{item}' does not exist; name a record file or a folder of *.txt records")


def _walk(root: Path, roots: list[Path]) -> Iterator[Found | Skipped]:
    problems: list[OSError] = []
    for folder, folders, files in os.walk(root, onerror=problems.append):
        yield from (_skipped_folder(root, error) for error in problems)
        problems.clear()
        relative_folder = os.path.relpath(folder, root)
        for name in sorted(folders):
            if os.path.islink(os.path.join(folder, name)):
                yield Skipped(shown_name(root, os.path.join(relative_folder, name)),
                              "a symlinked folder is not followed; name its target on the command line")
        folders[:] = sorted(name for name in folders if not os.path.islink(os.path.join(folder, name)))
        for name in sorted(files):
            if not name.lower().endswith(".txt"):
                continue
            path = os.path.join(folder, name)
            shown = shown_name(root, os.path.join(relative_folder, name))
            if os.path.islink(path):
                target = os.path.realpath(path)
                inside = any(target == str(r) or target.startswith(str(r) + os.sep) for r in roots)
                if not inside:
                    yield Found(path, shown, "a symlink to a file outside the input folders; it is not read. "
                                             "Copy the file in, or name it on the command line")
                elif os.path.isfile(target):
                    yield Found(target, shown)
                else:
                    yield Skipped(shown, "a symlink to something that is not a file")
            elif os.path.isfile(path):
                yield Found(path, shown)
            else:
                yield Skipped(shown, f"{_kind(path)}, not a record file")
    yield from (_skipped_folder(root, error) for error in problems)


def _skipped_folder(root: Path, error: OSError) -> Skipped:
    relative = os.path.relpath(error.filename, root) if error.filename else "?"
    return Skipped(shown_name(root, relative), f"cannot list this folder ({error.strerror}); check its permissions")


def _kind(path: str | Path) -> str:
    import stat

    mode = os.lstat(path).st_mode
    for test, kind in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISLNK, "a broken symlink")):
        if test(mode):
            return kind
    return "a special file"


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def shown_name(root: Path, relative: str | None) -> str:
    """The name a file is reported under: the input as typed when it is relative and stays inside the
    working folder, else only its last part; undecodable bytes and control characters escaped."""
    if not root.is_absolute() and ".." not in root.parts:
        base = str(root)
    else:
        base = os.path.basename(os.path.abspath(root)) or str(root)
    name = base if relative in (None, ".") else os.path.normpath(os.path.join(base, relative))
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", name)


def read_sources(found: Iterable[Found | str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Source | Reject]:
    """Each file's bytes, or a reject for a file that must not or cannot be read (never hashed unread).
    A plain path is read and reported under its own name."""
    import stat as stat_module

    for item in found:
        if not isinstance(item, Found):
            item = Found(str(item), str(item))
        if item.unread:
            yield _reject(item.name, None, "read", item.unread)
            continue
        try:
            fd = os.open(item.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as error:
            yield _reject(item.name, None, "read", f"cannot read the file ({error.strerror}); check its permissions")
            continue
        try:
            stat = os.fstat(fd)
            if not stat_module.S_ISREG(stat.st_mode):
                yield _reject(item.name, None, "read", "not a regular file; a record is a plain text file")
                continue
            if stat.st_size > max_bytes:
                yield _too_large(item.name, stat.st_size, max_bytes)
                continue
            data = _read_at_most(fd, max_bytes + 1)
        except OSError as error:
            yield _reject(item.name, None, "read", f"cannot read the file ({error.strerror}); check the disk")
            continue
        finally:
            os.close(fd)
        if len(data) > max_bytes:  # it grew after fstat
            yield _too_large(item.name, len(data), max_bytes)
            continue
        yield Source(item.name, data, stat.st_mtime)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_large(name: str, size: int, max_bytes: int) -> Reject:
    return _reject(name, None, "read", f"file is {size:,} bytes or more, over the {max_bytes:,}-byte limit for one "
                                       "record; split it, or raise the limit with --max-record-bytes")


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
        ), data=source.data)


def _reject(file: str, record_id: str | None, stage: str, message: str, field_: str | None = None) -> Reject:
    return Reject(file, record_id, (Problem(file, record_id, stage, message, field_),))


def _sniff_id(data: bytes) -> str | None:
    """The id as far as it can be read from raw bytes, so that even an undecodable file's reject names it."""
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    match = re.match(rb"^id\s*:\s*([A-Za-z0-9_-]{1,128})$", first)
    return match.group(1).decode("ascii") if match else None


# --------------------------------------------------------------------------- decoding

# byte patterns of a record in a wide encoding (its first line starts with 'id'), checked in this order
_WIDE = (
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 (it has a UTF-32 byte-order mark)"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 (it has a UTF-32 byte-order mark)"),
    (b"\xff\xfe", "utf-16", "UTF-16 (it has a UTF-16 byte-order mark)"),
    (b"\xfe\xff", "utf-16", "UTF-16 (it has a UTF-16 byte-order mark)"),
    (b"i\x00\x00\x00d\x00\x00\x00", "utf-32-le", "UTF-32 little-endian (no byte-order mark)"),
    (b"\x00\x00\x00i\x00\x00\x00d", "utf-32-be", "UTF-32 big-endian (no byte-order mark)"),
    (b"i\x00d\x00", "utf-16-le", "UTF-16 little-endian (no byte-order mark)"),
    (b"\x00i\x00d", "utf-16-be", "UTF-16 big-endian (no byte-order mark)"),
)


def decode(data: bytes) -> tuple[str, list[tuple[str | None, str]]]:
    """Text of a file: UTF-8 (a BOM is dropped), else UTF-16/32 or GB18030, with a warning; LF line ends."""
    warnings: list[tuple[str | None, str]] = []
    if not data.strip():
        raise RecordError("the file is empty; it needs an 'id:' line, the header fields, 正文： and 描述：")
    for prefix, codec, what in _WIDE:
        if data.startswith(prefix):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                raise RecordError(f"broken {codec.upper()} at offset {error.start}; re-save the file as UTF-8") from None
            warnings.append((None, f"decoded as {what}; re-save as UTF-8"))
            return _lf(text).lstrip("\ufeff"), warnings
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
    if "\n\ufeff" in text:  # files joined together leave a byte-order mark at the start of a line
        found.append((None, f"{text.count(chr(10) + chr(0xFEFF))} byte-order mark(s) at the start of a line removed"))
        text = text.replace("\n\ufeff", "\n")
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
    if not _visible(cleaned["title"]):
        raise RecordError("the title has only invisible characters (zero-width, format or space characters); "
                          "write the article's title after 标题：", field=LABEL_OF["title"])
    cleaned["dates"] = _ascii_digits(cleaned["dates"], found)
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
    items: dict[str, None] = {}  # ordered and O(1) to look up: 100k tags split in linear time
    empty = 0
    for item in value.split(","):
        item = item.strip()
        if not item:
            empty += 1
        elif item in items:
            found.append((LABEL_OF[attr], f"'{item}' is listed twice; kept once"))
        else:
            items[item] = None
    if value.strip() and empty:
        found.append((LABEL_OF[attr], f"{empty} empty item(s) between commas dropped"))
    return tuple(items)


_INVISIBLE = {"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"}


def _visible(text: str) -> bool:
    """Has text a character that shows (not a control, format, space or separator character)?
    Private-use and unassigned characters count as visible: a font may well draw them."""
    return any(unicodedata.category(char) not in _INVISIBLE for char in text)


def _ascii_digits(value: str, found: list) -> str:
    """Dates written with full-width (１９６６) or other non-ASCII digits, read as ASCII, with a warning."""
    if value.isascii():
        return value
    converted = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else
                        (unicodedata.normalize("NFKC", c) if unicodedata.normalize("NFKC", c) in "-," else c)
                        for c in value)
    if converted != value:
        found.append((LABEL_OF["dates"], f"'{value}' has full-width or non-ASCII digits; read as '{converted}'; "
                                         "write ASCII digits"))
    return converted


def _clean(value: str, attr: str, found: list, *, strip: bool = True) -> str:
    """Text without control characters (warned), trimmed of spaces and U+3000 unless it is a section.

    No Unicode normalisation: NFC would rewrite CJK compatibility ideographs the source chose."""
    if _CONTROL.search(value):
        count = len(_CONTROL.findall(value))
        found.append((LABEL_OF.get(attr, attr), f"{count} control character(s) removed; they cannot be published"))
        value = _CONTROL.sub("", value)
    if _BIDI.search(value):
        codes = sorted({f"U+{ord(c):04X}" for c in _BIDI.findall(value)})
        found.append((LABEL_OF.get(attr, attr), f"{len(_BIDI.findall(value))} bidirectional control character(s) "
                      f"({', '.join(codes)}) kept; they can make text display in a misleading order, remove them "
                      "unless the text needs them"))
    return value.strip() if strip else value
