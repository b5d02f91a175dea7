"""Finding and reading record files: discovery below the inputs (with the symlink policy), the names
files are reported under, and their bytes (size-limited, never read twice). Stage 1 of a run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .problems import PipelineError, Problem, Reject

DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One input file's bytes and the name it is reported under."""

    file: str
    data: bytes


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
    from . import remote

    items = [remote.as_input(item) for item in inputs]
    roots = [Path(os.path.realpath(item)) for item in items if not remote.is_url(item)]
    for item in items:
        if remote.is_url(item):
            yield from remote.discover(item, clean_name)
        elif os.path.isdir(item):
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
    return clean_name(base if relative in (None, ".") else os.path.normpath(os.path.join(base, relative)))


def clean_name(name: str) -> str:
    """Undecodable bytes and control characters escaped, so that a name prints as one line."""
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", name)


def read_sources(found: Iterable[Found | str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Source | Reject]:
    """Each file's bytes, or a reject for a file that must not or cannot be read (never hashed unread).
    A plain path is read and reported under its own name."""
    import stat as stat_module

    from .remote import is_url, read

    for item in found:
        if not isinstance(item, Found):
            item = Found(str(item), str(item))
        if item.unread:
            yield _reject(item.name, None, "read", item.unread, code="read.symlink-outside")
            continue
        if is_url(item.path):
            yield read(item, max_bytes)
            continue
        try:
            fd = os.open(item.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as error:
            yield _reject(item.name, None, "read", f"cannot read the file ({error.strerror}); check its permissions",
                          code="read.unreadable")
            continue
        try:
            stat = os.fstat(fd)
            if not stat_module.S_ISREG(stat.st_mode):
                yield _reject(item.name, None, "read", "not a regular file; a record is a plain text file",
                              code="read.not-regular")
                continue
            if stat.st_size > max_bytes:
                yield _too_large(item.name, stat.st_size, max_bytes)
                continue
            data = _read_at_most(fd, max_bytes + 1, stat.st_size)
        except OSError as error:
            yield _reject(item.name, None, "read", f"cannot read the file ({error.strerror}); check the disk",
                          code="read.unreadable")
            continue
        finally:
            os.close(fd)
        if len(data) > max_bytes:  # it grew after fstat
            yield _too_large(item.name, len(data), max_bytes)
            continue
        yield Source(item.name, data)


def _read_at_most(fd: int, limit: int, expected: int) -> bytes:
    """Up to limit bytes. The first read asks for the size fstat gave, plus one so that the end shows at the
    next call: os.read allocates all it is asked for, and a 1 MiB buffer for each ~7 KB record took 12-50 us
    a file against 8-9 (5,000 files in the page cache; too little to show in a whole run's time)."""
    chunks, size, wanted = [], 0, expected + 1
    while size < limit:
        chunk = os.read(fd, min(wanted, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        wanted = 1 << 16  # it grew after fstat
    return b"".join(chunks)


def _too_large(name: str, size: int, max_bytes: int) -> Reject:
    return _reject(name, None, "read", f"file is {size:,} bytes or more, over the {max_bytes:,}-byte limit for one "
                                       "record; split it, or raise the limit with --max-record-bytes",
                   code="read.too-large")


def _reject(file: str, record_id: str | None, stage: str, message: str, *, code: str) -> Reject:
    return Reject(file, record_id, (Problem(file, record_id, stage, message, None, code=code),))
