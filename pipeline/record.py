"""The record format (one table of fields), decoding a file's bytes and parsing them into a Record.
Stage 2 of a run; knows nothing of RDF."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .dates import DateError, parse_dates
from .problems import Problem, RecordError, Reject
from .sources import Source

# The record format, in the order a file writes it: the `id:` line, the header fields (`label：value`),
# then the sections. Everything that reads or writes records derives from this table: the parser, the
# label look-ups, format_record (tests and the benchmark corpus), the SHACL-path-to-field map (via the
# mapping's PREDICATES) and the field table of docs/mapping.md (tests check it).
#   kind: id | text (one verbatim value) | list (joined by ',') | dates | flag (true/false) | section
#   required: a missing required label rejects the record; a missing optional one gets the kind's default


@dataclass(frozen=True)
class Field:
    label: str
    attribute: str
    kind: str
    required: bool = True
    about: str = ""


FIELDS: tuple[Field, ...] = (
    Field("id", "id", "id", about="the article's id: 1-128 ASCII letters, digits, '-' or '_'"),
    Field("标题", "title", "text", about="title (must show at least one visible character)"),
    Field("日期", "dates", "dates", about="year-month-day, 0 = unknown; several joined by ','"),
    Field("是否是时间段", "is_range", "flag", about="true: the two dates form a range"),
    Field("作者", "authors", "list", about="authors, joined by ','"),
    Field("来源", "origin", "text", about="origin, verbatim (may contain commas)"),
    Field("标签", "tags", "list", about="tags, joined by ','"),
    Field("书籍", "book", "text", about="book or newspaper"),
    Field("书籍作者", "book_author", "text", about="book author, verbatim (may contain commas)"),
    Field("正文", "body", "section", about="the body, verbatim"),
    Field("描述", "description", "section", about="a description, verbatim"),
)
DEFAULTS = {"text": "", "list": (), "dates": (), "flag": False, "section": ""}


def fields_markdown() -> str:
    """The field table of docs/mapping.md, from FIELDS (`python -m tests.regenerate docs` writes it)."""
    rows = "".join(f"| `{f.label}{'：' if f.kind != 'id' else ':'}` | `{f.attribute}` | {f.kind} | "
                   f"{'yes' if f.required else 'no'} | {f.about} |\n" for f in FIELDS)
    return "| label | attribute | kind | required | what it holds |\n| --- | --- | --- | --- | --- |\n" + rows


def header_fields(fields: tuple[Field, ...] | None = None) -> tuple[Field, ...]:
    return tuple(f for f in (fields or FIELDS) if f.kind not in ("id", "section"))


def field_named(attribute: str) -> Field:
    for f in FIELDS:
        if f.attribute == attribute:
            return f
    raise KeyError(attribute)


class _Labels(dict):
    """attribute -> label, read from FIELDS at each look-up (so a table extended in a test is seen)."""

    def __missing__(self, attribute: str) -> str:
        return field_named(attribute).label

    def get(self, attribute, default=None):
        try:
            return self[attribute]
        except KeyError:
            return default


LABEL_OF = _Labels()
ID_LABEL = field_named("id").label
BODY_LABEL = field_named("body").label
DESCRIPTION_LABEL = field_named("description").label

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_HEADER = re.compile(r"^([^：:\s]{1,20})\s*([：:])\s*(.*)$")
_ID_LINE = re.compile(r"^id\s*[:：]\s*(.*)$")
# Characters never emitted: C0 controls but TAB/LF, DEL, C1 controls, non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
# Kept but warned: they reorder how text displays (the 'Trojan Source' characters).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, eq=True)
class Record:
    """One article as printed in one book: every field of FIELDS as the file gives it (trimmed), read as
    record.<attribute> (record.title, record.dates, …); texts holds the cleaned text of list and date
    fields as written, and extra the header lines whose labels the table does not know."""

    file: str
    values: dict
    texts: dict = field(default_factory=dict)
    extra: tuple[tuple[str, str], ...] = ()
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    def __post_init__(self):
        # each field an attribute of its own, read without a call: through __getattr__, the ~35 reads of a
        # record's fields cost a Python call each (mapping 3,000 records: 104,042 calls, 0.12 s)
        own = self.__dict__
        for name, value in self.values.items():
            if name not in own:
                own[name] = value

    def __getattr__(self, name: str):
        """Only for a name that is no field (every field is an attribute): say so."""
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"a record has no field {name!r}")

    @property
    def date_text(self) -> str:
        return self.texts.get("dates", "")

    @property
    def author_text(self) -> str:
        return ",".join(self.values.get("authors", ()))


def format_record(values: dict, *, fields: tuple[Field, ...] | None = None) -> str:
    """A record file's text from attribute -> text (the inverse of parse_text, for tests and the benchmark
    corpus); a field missing from values is written empty, unless it is optional (then it is left out)."""
    lines = []
    for f in fields or FIELDS:
        if f.kind == "section" or (not f.required and f.attribute not in values):
            continue
        text = values.get(f.attribute, "")
        lines.append(f"id: {text}" if f.kind == "id" else f"{f.label}：{text}")
    for f in fields or FIELDS:
        if f.kind == "section":
            lines += ["", f"{f.label}：", values.get(f.attribute, "")]
    return "\n".join(lines) + "\n"


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
            Problem(source.file, record_id, "parse", str(error), error.field, code=error.code),
        ), data=source.data)


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
        raise RecordError("the file is empty; it needs an 'id:' line, the header fields, 正文： and 描述：",
                          code="decode.empty")
    for prefix, codec, what in _WIDE:
        if data.startswith(prefix):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                raise RecordError(f"broken {codec.upper()} at offset {error.start}; re-save the file as UTF-8",
                                  code="decode.broken-wide") from None
            warnings.append((None, f"decoded as {what}; re-save as UTF-8", "decode.wide"))
            return _lf(text).lstrip("\ufeff"), warnings
    nul = data.find(b"\x00")
    if nul >= 0 and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"id"):
        raise RecordError(f"binary data (a NUL byte at offset {nul}, no 'id:' line); this is not a text record",
                          code="decode.binary")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise RecordError(
                f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}) nor GB18030; "
                "re-save the file as UTF-8", code="decode.invalid"
            ) from None
        warnings.append((None, f"not valid UTF-8 (offset {error.start}); decoded as GB18030, check the text and re-save as UTF-8",
                         "decode.gb18030"))
    return _lf(text), warnings


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# --------------------------------------------------------------------------- parsing

def parse_text(text: str, *, file: str, warnings: Iterable[tuple[str | None, str]] = ()) -> Record:
    """Parse one record's text. Raises RecordError for what makes it unusable."""
    found: list[tuple[str | None, str]] = list(warnings)
    if "\n\ufeff" in text:  # files joined together leave a byte-order mark at the start of a line
        found.append((None, f"{text.count(chr(10) + chr(0xFEFF))} byte-order mark(s) at the start of a line removed",
                      "text.bom"))
        text = text.replace("\n\ufeff", "\n")
    lines = text.split("\n")
    values: dict = {"id": _parse_id(lines[0] if lines else "")}
    header, body_at = _split_header(lines)
    raw, extra = _read_header(header, found)
    body, description = _split_sections(lines, body_at)
    fields = header_fields()

    # one value each first, then the lists: the order warnings are reported in
    cleaned = {f.attribute: _clean(raw[f.attribute], f.attribute, found) for f in fields
               if f.kind != "list" and f.attribute in raw}
    for f in fields:
        if f.kind == "text" and f.attribute == "title":
            _check_title(cleaned["title"])
    texts: dict = {}
    for f in fields:
        if f.attribute not in raw:
            values[f.attribute] = DEFAULTS[f.kind]
        elif f.kind == "text":
            values[f.attribute] = cleaned[f.attribute]
        elif f.kind == "flag":
            values[f.attribute] = _parse_flag(cleaned[f.attribute], f)
    for f in fields:
        if f.kind == "dates" and f.attribute in raw:
            texts[f.attribute] = _ascii_digits(cleaned[f.attribute], found, f)
            is_range = next((values[g.attribute] for g in fields if g.kind == "flag"), False)
            try:
                values[f.attribute] = parse_dates(texts[f.attribute], is_range=is_range)
            except DateError as error:
                raise RecordError(str(error), field=f.label, code=error.code) from None
    for f in fields:
        if f.kind == "list" and f.attribute in raw:
            values[f.attribute] = _split_list(_clean(raw[f.attribute], f.attribute, found), f, found)
    values["body"] = _clean(body, "body", found, strip=False)
    values["description"] = _clean(description, "description", found, strip=False).strip("\n")
    record_id = values["id"]
    return Record(
        file=file,
        values=values,
        texts=texts,
        extra=tuple((label, _clean(value, label, found)) for label, value in extra),
        warnings=tuple(Problem(file, record_id, "parse", message, field_, "warning", code)
                       for field_, message, code in found),
    )


def _check_title(title: str) -> None:
    if not title:
        raise RecordError("the title is empty; write the article's title after 标题：", field=LABEL_OF["title"],
                          code="title.empty")
    if not _visible(title):
        raise RecordError("the title has only invisible characters (zero-width, format or space characters); "
                          "write the article's title after 标题：", field=LABEL_OF["title"], code="title.invisible")


def _parse_id(line: str) -> str:
    match = _ID_LINE.match(line.strip())
    if not match:
        raise RecordError("the first line must be 'id: <id>' (ASCII colon and a space)", field=ID_LABEL,
                          code="id.missing")
    record_id = match.group(1).strip()
    if not SAFE_ID.match(record_id):
        raise RecordError(
            f"id {record_id!r} cannot make a safe IRI or file name; use 1-128 ASCII letters, digits, '-' or '_'",
            field=ID_LABEL, code="id.unsafe",
        )
    return record_id


def _split_header(lines: list[str]) -> tuple[list[str], int]:
    """Header lines (after the id, before 正文：) and the index of the 正文： line."""
    for index, line in enumerate(lines[1:], start=1):
        if _section_label(line) == BODY_LABEL:
            return [l for l in lines[1:index] if l.strip()], index
    raise RecordError("no '正文：' line; the body must follow the header after a blank line", field=BODY_LABEL,
                      code="section.no-body")


def _section_label(line: str) -> str | None:
    stripped = line.strip()
    for label in (BODY_LABEL, DESCRIPTION_LABEL):
        if stripped == label + "：":
            return label
    return None


def _read_header(header: list[str], found: list) -> tuple[dict[str, str], list[tuple[str, str]]]:
    by_label = {f.label: f for f in header_fields()}
    values: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    order: list[str] = []
    for line in header:
        match = _HEADER.match(line.strip())
        if not match:
            raise RecordError(
                f"header line {line.strip()[:40]!r} has no label; write 'label：value' with a full-width colon",
                code="header.no-label",
            )
        label, colon, value = match.groups()
        known = by_label.get(label)
        if colon == ":" and known is not None:
            found.append((label, f"'{label}:' has an ASCII colon; read as '{label}：', write the full-width colon",
                          "header.ascii-colon"))
        elif colon == ":":
            raise RecordError(
                f"header line {line.strip()[:40]!r} has no known label; write 'label：value' with a full-width colon",
                code="header.no-label",
            )
        if known is None:
            found.append((label, f"unknown header label '{label}'; its value is kept verbatim as an additional property and no field shifted",
                          "header.unknown"))
            extra.append((label, value))
            continue
        if known.attribute in values:
            raise RecordError(f"'{label}：' appears twice; keep one", field=label, code="header.repeated")
        values[known.attribute] = value
        order.append(label)
    missing = [f.label for f in by_label.values() if f.required and f.attribute not in values]
    if missing:
        raise RecordError(
            f"missing header line(s) {', '.join(l + '：' for l in missing)}; write each label, even with an empty value",
            field=missing[0], code="header.missing",
        )
    if order != [label for label in by_label if label in order]:
        found.append((None, "header labels are out of order (" + ",".join(order) + "); read by label, nothing shifted",
                      "header.order"))
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
                          field=DESCRIPTION_LABEL, code="section.no-description")
    body_lines = lines[body_at + 1:description_at]
    # the blank line before 描述： separates sections; it is not part of the body
    if body_lines and body_lines[-1] == "":
        body_lines = body_lines[:-1]
    return "\n".join(body_lines), "\n".join(lines[description_at + 1:])


def _parse_flag(value: str, f: Field) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "":
        return False
    raise RecordError(f"'{value}' is neither true nor false; write {f.label}：true for a range, false otherwise",
                      field=f.label, code="range.flag")


def _split_list(value: str, f: Field, found: list) -> tuple[str, ...]:
    items: dict[str, None] = {}  # ordered and O(1) to look up: 100k tags split in linear time
    empty = 0
    for item in value.split(","):
        item = item.strip()
        if not item:
            empty += 1
        elif item in items:
            found.append((f.label, f"'{item}' is listed twice; kept once", "list.duplicate"))
        else:
            items[item] = None
    if value.strip() and empty:
        found.append((f.label, f"{empty} empty item(s) between commas dropped", "list.empty-item"))
    return tuple(items)


_INVISIBLE = {"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"}


def _visible(text: str) -> bool:
    """Has text a character that shows (not a control, format, space or separator character)?
    Private-use and unassigned characters count as visible: a font may well draw them."""
    return any(unicodedata.category(char) not in _INVISIBLE for char in text)


def _ascii_digits(value: str, found: list, f: Field) -> str:
    """Dates written with full-width (１９６６) or other non-ASCII digits, read as ASCII, with a warning."""
    if value.isascii():
        return value
    converted = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else
                        (unicodedata.normalize("NFKC", c) if unicodedata.normalize("NFKC", c) in "-," else c)
                        for c in value)
    if converted != value:
        found.append((f.label, f"'{value}' has full-width or non-ASCII digits; read as '{converted}'; "
                                         "write ASCII digits", "date.digits"))
    return converted


def _clean(value: str, attr: str, found: list, *, strip: bool = True) -> str:
    """Text without control characters (warned), trimmed of spaces and U+3000 unless it is a section.

    No Unicode normalisation: NFC would rewrite CJK compatibility ideographs the source chose."""
    if _CONTROL.search(value):
        count = len(_CONTROL.findall(value))
        found.append((LABEL_OF.get(attr, attr), f"{count} control character(s) removed; they cannot be published",
                      "text.control"))
        value = _CONTROL.sub("", value)
    if _BIDI.search(value):
        codes = sorted({f"U+{ord(c):04X}" for c in _BIDI.findall(value)})
        found.append((LABEL_OF.get(attr, attr), f"{len(_BIDI.findall(value))} bidirectional control character(s) "
                      f"({', '.join(codes)}) kept; they can make text display in a misleading order, remove them "
                      "unless the text needs them", "text.bidi"))
    return value.strip() if strip else value
