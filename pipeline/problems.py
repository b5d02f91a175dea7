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

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file} [{self.id or '?'}]"
        field = f" {self.field}:" if self.field else ""
        return f"{where} {self.stage}:{field} {self.message}"


class PipelineError(Exception):
    """Everything the library raises about a run, its inputs, options, stores or endpoints. The CLI
    translates this one type; exit_code says what the command exits with (docs: README, exit codes)."""

    exit_code = 3


class OptionError(PipelineError, ValueError):
    """An option's value cannot work (a base IRI, a language tag, a licence IRI)."""

    exit_code = 2


class RecordError(ValueError):
    """Raised inside a stage for one record; the stage turns it into a reject Problem."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Reject:
    """A record that will not be published, with every reason found."""

    file: str
    id: str | None
    problems: tuple[Problem, ...]
    # the bytes that were read as this record, for the quarantine: never read again from the disk
    data: bytes | None = field(default=None, compare=False, repr=False)
