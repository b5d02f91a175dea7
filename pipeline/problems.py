"""What can go wrong with one record, as data: a Problem names file, id, stage, field and the fix.
Stages yield records or rejects; the report (report.py) only counts and lists them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Problem:
    """A reject (severity 'error') or a warning about one record."""

    file: str
    id: str | None
    stage: str
    message: str
    field: str | None = None
    severity: str = "error"
    code: str = ""  # stable, from CODES: tests and scripts match this, never the wording

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file} [{self.id or '?'}]"
        field = f" {self.field}:" if self.field else ""
        code = f" ({self.code})" if self.code else ""
        return f"{where} {self.stage}:{field} {self.message}{code}"


class PipelineError(Exception):
    """Everything the library raises about a run, its inputs, options, stores or endpoints. The CLI
    translates this one type; exit_code says what the command exits with (docs: README, exit codes)."""

    exit_code = 3


class OptionError(PipelineError, ValueError):
    """An option's value cannot work (a base IRI, a language tag, a licence IRI)."""

    exit_code = 2


class RecordError(ValueError):
    """Raised inside a stage for one record; the stage turns it into a reject Problem."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Reject:
    """A record that will not be published, with every reason found."""

    file: str
    id: str | None
    problems: tuple[Problem, ...]
    # the bytes that were read as this record, for the quarantine: never read again from the disk
    data: bytes | None = field(default=None, compare=False, repr=False)


# Every problem code, with what it means. A code names the problem, not its wording: messages may be
# reworded, codes stay. docs/problems.md is generated from this table (tests check it is current).
CODES: dict[str, str] = {
    # reading (sources.py): the file was not read
    "read.too-large": "the file is over --max-record-bytes; split it or raise the limit (never read)",
    "read.unreadable": "the file cannot be opened or read (permissions, disk)",
    "read.not-regular": "not a regular file",
    "read.symlink-outside": "a symlink to a file outside the input folders (never read)",
    # decoding (record.py)
    "decode.empty": "the file is empty",
    "decode.binary": "binary data, not a text record",
    "decode.invalid": "neither UTF-8 nor GB18030",
    "decode.broken-wide": "a UTF-16 or UTF-32 file with broken bytes",
    "decode.wide": "decoded as UTF-16 or UTF-32 (warning): re-save as UTF-8",
    "decode.gb18030": "decoded as GB18030 (warning): re-save as UTF-8",
    "text.bom": "byte-order marks at the start of lines removed (warning)",
    # structure
    "id.missing": "the first line is not 'id: <id>'",
    "id.unsafe": "the id cannot make a safe IRI or file name",
    "header.no-label": "a header line without a 'label：' (or with an ASCII colon and no known label)",
    "header.ascii-colon": "a known label with an ASCII colon, read as the full-width one (warning)",
    "header.unknown": "an unknown label, kept verbatim as an additional property (warning)",
    "header.repeated": "a label appears twice",
    "header.missing": "a required label is missing",
    "header.order": "labels out of order, read by label (warning)",
    "section.no-body": "no '正文：' line",
    "section.no-description": "no '描述：' line after the body",
    # values
    "title.empty": "the title is empty",
    "title.invisible": "the title has only invisible characters",
    "date.invalid": "a date that is not year-month-day",
    "date.no-year": "a month or day without a year",
    "date.month": "a month outside 1-12",
    "date.day-without-month": "a day without a month",
    "date.impossible": "a day the month does not have",
    "date.digits": "non-ASCII digits in a date, read as ASCII (warning)",
    "range.flag": "是否是时间段 is neither true nor false",
    "range.count": "a range without exactly two dates",
    "range.reversed": "a range that ends before it starts",
    "list.duplicate": "an author or tag listed twice, kept once (warning)",
    "list.empty-item": "empty items between commas dropped (warning)",
    "text.control": "control characters removed (warning)",
    "text.bidi": "bidirectional control characters kept (warning)",
    # across records
    "conflict.same-book": "the same id and book as an earlier record, with different content",
    "work.disagreement": "a later printing of an article gives another title or date (warning): the article "
                         "keeps the first printing's, the others stay on their printings and as alternatives",
    "container.disagreement": "a record names its container (书籍, 书籍作者) otherwise than an earlier record of "
                              "the same container folder (warning): the container keeps the first's, this "
                              "printing keeps its own as written",
    # validation (validate.py): shacl.<constraint component>, e.g. shacl.MinCount, shacl.Datatype
    "shacl.*": "a SHACL result of that constraint component (shapes/ say which and why)",
    "strict.warning": "a warning, rejected because of --strict",
}


def known_code(code: str) -> bool:
    return code in CODES or (code.startswith("shacl.") and len(code) > len("shacl."))


def codes_markdown() -> str:
    """docs/problems.md, from CODES (`python -m tests.regenerate docs` writes it)."""
    rows = "".join(f"| `{code}` | {meaning} |\n" for code, meaning in CODES.items())
    return ("# Problem codes\n\nEvery reject and warning in `_publisher/report.json` (and `_publisher/rejects/*.reason.txt`) carries one "
            "of these codes. Codes are stable: match them in scripts, not the messages, which may be reworded.\n"
            "Generated from `pipeline/problems.py` by `python -m tests.regenerate docs`.\n\n"
            "| code | meaning |\n| --- | --- |\n" + rows)
