"""One publishing run: discover → read → parse → map → validate → write, streamed stage to stage.
This module wires the stages and owns the output folder; the stages themselves know nothing of each other."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .iris import Minter
from .mapping import Mapper
from .problems import Problem, Reject
from .record import DEFAULT_MAX_BYTES, discover, parse, read_sources
from .report import Report
from .serialize import Prefixes, jsonld_context, nt_line, write_jsonld, write_ntriples, write_turtle
from .validate import DEFAULT_BATCH, DEFAULT_ENGINE, Published, Validator, load_shapes
from .vocab import DEFAULT_BASE, DEFAULT_LANG

RELEASE_MARKER = "report.json"  # a folder holding this was written by a run and may be replaced
OUTPUT_README = Path(__file__).with_name("output_readme.md")


class OutputError(Exception):
    """The output folder cannot be written or replaced."""


@dataclass(frozen=True)
class Options:
    base: str = DEFAULT_BASE
    lang: str = DEFAULT_LANG
    shapes: str | Path | None = None
    max_record_bytes: int = DEFAULT_MAX_BYTES
    batch_size: int = DEFAULT_BATCH
    validator: str = DEFAULT_ENGINE
    strict: bool = False
    max_rejects: int | None = None


def run(inputs: Iterable[str | Path], out: str | Path, *, options: Options = Options()) -> Report:
    """Publish every record under inputs into the folder out; returns the report of what happened."""
    out = Path(out)
    minter = Minter(options.base)
    mapper = Mapper(minter, lang=options.lang)
    shapes = load_shapes(options.shapes)
    _check_replaceable(out)
    stages = Validator(shapes, engine=options.validator, batch_size=options.batch_size, strict=options.strict)(
        reject_conflicts(mapper(
            parse(read_sources(discover(inputs), max_bytes=options.max_record_bytes))
        ), minter)
    )
    report = Report()
    lines: set[str] = set()
    for outcome in stages:
        if isinstance(outcome, Published):
            lines.update(nt_line(t) for t in outcome.triples)
            report.add_published(outcome.warnings)
        else:
            report.add_reject(outcome)
        if options.max_rejects is not None and report.rejected > options.max_rejects:
            report.stopped = f"more than {options.max_rejects} records rejected (--max-rejects)"
            break
    report.triples = len(lines)
    if report.stopped:
        return report  # a stopped run publishes nothing: the previous release stays
    with _staging(out) as staging:
        _write_release(staging, sorted(lines), report, Prefixes(minter.base))
    return report


def reject_conflicts(items: Iterable, minter: Minter) -> Iterator:
    """Stage: two files with the same id and book must say the same thing, or the later one is rejected.

    Identical files pass (their triples coincide); it runs before validation so that two versions of one
    printing are never validated, or published, as one."""
    seen: dict[str, tuple[str, bytes]] = {}  # printing IRI -> (first file, digest of its triples)
    for item in items:
        if isinstance(item, Reject):
            yield item
            continue
        record, triples = item
        printing = str(minter.printing(record.id, record.book, record.book_author))
        digest = hashlib.sha256("\n".join(sorted(nt_line(t) for t in triples)).encode()).digest()[:16]
        first_file, first_digest = seen.setdefault(printing, (record.file, digest))
        if first_digest == digest:
            yield item
            continue
        message = (f"same id and book as {first_file} but different content; keep one version, "
                   f"or correct the book name (书籍) if they are different books")
        yield Reject(record.file, record.id, (Problem(record.file, record.id, "conflict", message, "书籍"),))


# --------------------------------------------------------------------------- the output folder

def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"output '{out}' is a file; name a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / RELEASE_MARKER).exists() and \
            {p.name for p in out.iterdir()} != {"README.md"}:
        raise OutputError(f"output folder '{out}' holds files that no run wrote; name an empty or new folder")


class _staging:
    """A temporary folder beside out, swapped into place only when everything was written.

    A run killed at any point leaves out as it was; its temporary folder is removed by the next run."""

    def __init__(self, out: Path):
        self.out = out

    def __enter__(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(self.out)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-{os.getpid()}-", dir=self.out.parent))
        return self.path

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        os.chmod(self.path, 0o755)
        if not self.out.exists():
            os.rename(self.path, self.out)
        elif _exchange(self.path, self.out):
            shutil.rmtree(self.path)  # now holds the previous release
        else:
            old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
            os.rename(self.out, old)
            os.rename(self.path, self.out)
            shutil.rmtree(old, ignore_errors=True)


def _remove_stale(out: Path) -> None:
    """Temporary folders of runs whose process is gone (killed runs)."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(tmp|old)-(\d+)")
    for candidate in out.parent.iterdir():
        match = pattern.match(candidate.name)
        if match and candidate.is_dir() and not _alive(int(match.group(2))):
            shutil.rmtree(candidate, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _write_release(folder: Path, lines: list[str], report: Report, prefixes: Prefixes) -> None:
    with open(folder / "articles.nt", "w", encoding="utf-8", newline="\n") as stream:
        write_ntriples(lines, stream)
    with open(folder / "articles.ttl", "w", encoding="utf-8", newline="\n") as stream:
        write_turtle(lines, stream, prefixes)
    with open(folder / "articles.jsonld", "w", encoding="utf-8", newline="\n") as stream:
        write_jsonld(lines, stream, prefixes)
    (folder / "context.jsonld").write_text(
        json.dumps({"@context": jsonld_context(prefixes)}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(OUTPUT_README.read_text(encoding="utf-8"), encoding="utf-8")
    _write_rejects(folder / "rejects", report.rejects)
    report.files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}
    (folder / RELEASE_MARKER).write_text(
        json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _write_rejects(folder: Path, rejects: list[Reject]) -> None:
    """Each reject as NNNN-<file>.reason.txt, with a copy of the record's file when it is readable."""
    folder.mkdir()
    for number, reject in enumerate(rejects, start=1):
        stem = f"{number:04d}-" + _UNSAFE_NAME.sub("_", Path(reject.file).name)[:80]
        lines = [f"file: {reject.file}", f"id: {reject.id or '?'}"] + [f"- {p}" for p in reject.problems]
        (folder / f"{stem}.reason.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        source = Path(reject.file)
        if source.is_file() and source.stat().st_size <= DEFAULT_MAX_BYTES:
            shutil.copyfile(source, folder / f"{stem}.record")
