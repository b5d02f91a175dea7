"""The release folder: what counts as one, the lock that serialises runs on it, staging and the atomic swap.
A folder is replaced only when its marker lists exactly the files found in it: nothing else is ever deleted."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .problems import PipelineError

MARKER = ".zh-articles-release.json"   # written last into every release; lists every file the run wrote
STAGING_MARKER = ".zh-articles-staging"  # written first into every staging folder
PUBLISHER = "_publisher"  # the report and the quarantine: for the publisher, not part of what is published
TOOL = "zh-articles-pipeline"
# what a release written before the marker existed holds (report.json lists its top-level files)
_LEGACY_REJECT = re.compile(r"^\d{4}-.*\.(reason\.txt|record)$")


class OutputError(PipelineError):
    """The output folder cannot be written or replaced; the message says why and what to do."""


@dataclass(frozen=True)
class Previous:
    """What the folder being replaced held: nothing, or a release with this many published records."""

    exists: bool
    published: int = 0
    about: dict = field(default_factory=dict)  # what its marker remembered (date, input digest, dumps, counts)


# --------------------------------------------------------------------------- where the release goes

def resolve_out(out: str | Path) -> Path:
    """The absolute folder a release is written to: a symlink is followed (the link itself stays)."""
    path = Path(os.path.abspath(out))
    if path.is_symlink():
        target = path.resolve()
        if not target.exists() and not target.parent.is_dir():
            raise OutputError(f"output '{out}' is a symlink to '{target}', whose folder does not exist")
        path = target
    else:
        path = path.parent.resolve() / path.name if path.name else path.resolve()
    if path.parent == path:
        raise OutputError(f"output '{out}' is the file-system root; name a folder for the release")
    here = Path.cwd().resolve()
    if path == here or path in here.parents:
        raise OutputError(f"output '{out}' is the current folder or holds it; a release replaces its folder as a "
                          "whole, so name a folder of its own, such as ./release")
    if path.exists() and not path.is_dir():
        raise OutputError(f"output '{out}' is a file; name a folder")
    return path


def check_overlap(inputs: Iterable[Path], out: Path) -> None:
    """No input inside the output (the swap would delete it), no output inside an input (the next run
    would read the release as records)."""
    for item in inputs:
        resolved = Path(item).resolve()
        if resolved == out or out in resolved.parents:
            raise OutputError(f"input '{item}' is inside the output folder '{out}'; the release replaces that "
                              "folder as a whole. Write the release somewhere else (-o)")
        if resolved.is_dir() and resolved in out.parents:
            raise OutputError(f"the output folder '{out}' is inside the input folder '{item}'; the next run would "
                              "read the release as records. Write the release outside the inputs (-o)")


# --------------------------------------------------------------------------- what counts as a release

def inspect(out: Path) -> Previous:
    """What out holds; raises OutputError unless it is missing, empty, or exactly a release we wrote."""
    if not out.exists():
        return Previous(False)
    found = _listing(out)
    if not found:
        return Previous(False)
    marker = out / MARKER
    if marker.is_file():
        return _check_marked(out, marker, found)
    if (out / "report.json").is_file():
        return _check_legacy(out, found)
    shown = ", ".join(sorted(found)[:3]) + (" …" if len(found) > 3 else "")
    raise OutputError(f"output folder '{out}' holds files that no run wrote ({shown}); name an empty or new "
                      "folder, or move those files away")


def _listing(folder: Path) -> dict[str, os.stat_result]:
    """Every entry below folder (files, links, folders) by relative path, links not followed."""
    found: dict[str, os.stat_result] = {}
    for root, folders, files in os.walk(folder, onerror=_raise):
        for name in folders + files:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = os.lstat(path)
    return found


def _raise(error: OSError) -> None:
    raise OutputError(f"cannot look inside the output folder: {error}; check its permissions")


def _check_marked(out: Path, marker: Path, found: dict[str, os.stat_result]) -> Previous:
    try:
        written = json.loads(marker.read_text(encoding="utf-8"))
        files: dict[str, int] = written["files"]
        published = int(written.get("published", 0))
        if written.get("tool") != TOOL:
            raise ValueError("not our marker")
    except (ValueError, KeyError, TypeError, OSError):
        raise OutputError(f"output folder '{out}' has a damaged release marker ({MARKER}); name another "
                          "folder, or empty this one yourself") from None
    newest = marker.lstat().st_mtime_ns
    expected = set(files) | {MARKER} | set(written.get("folders", ()))
    strangers = sorted(set(found) - expected)
    # a file removed since is no loss (nothing of the user's is there); one changed, or replaced, would be
    changed = sorted(name for name, size in files.items() if name in found and (
        found[name].st_size != size or found[name].st_mtime_ns > newest or not _is_plain_file(found[name])))
    if strangers or changed:
        detail = (f"files that no run wrote: {', '.join(strangers[:3])}" if strangers
                  else f"files changed since the run wrote them: {', '.join(changed[:3])}")
        raise OutputError(f"output folder '{out}' is a release, but it holds {detail}; move them away "
                          "(or name another folder) so that nothing of yours is replaced")
    return Previous(True, published, written.get("about", {}))


def _is_plain_file(stat: os.stat_result) -> bool:
    import stat as stat_module

    return stat_module.S_ISREG(stat.st_mode)


def _check_legacy(out: Path, found: dict[str, os.stat_result]) -> Previous:
    """A release of an earlier version: report.json lists its top-level files with their sizes."""
    try:
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        files = dict(report["files"])
        published = int(report.get("published", 0))
    except (ValueError, KeyError, TypeError, OSError):
        files, published = None, 0
    known = {"report.json", "SHA256SUMS", "rejects"}
    strangers = [] if files is not None else sorted(found)
    for name, stat in found.items():
        parts = Path(name).parts
        if files is None or name in known:
            continue
        if len(parts) == 2 and parts[0] == "rejects" and _LEGACY_REJECT.match(parts[1]) and _is_plain_file(stat):
            continue
        if len(parts) == 1 and files.get(name) == stat.st_size and _is_plain_file(stat):
            continue
        strangers.append(name)
    if strangers:
        raise OutputError(f"output folder '{out}' holds files that no run wrote ({', '.join(strangers[:3])}); "
                          "name an empty or new folder, or move those files away")
    return Previous(True, published)


def write_marker(folder: Path, *, read: int, published: int, about: dict | None = None) -> None:
    """The last file of a release: every other file with its size (no times, so reruns stay identical)."""
    listing = {name: stat for name, stat in sorted(_listing(folder).items()) if name != STAGING_MARKER}
    files = {name: stat.st_size for name, stat in listing.items() if _is_plain_file(stat)}
    folders = [name for name, stat in listing.items() if not _is_plain_file(stat)]
    document = {"tool": TOOL, "read": read, "published": published, "about": about or {}, "files": files,
                "folders": folders}
    (folder / MARKER).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- one run at a time

_HELD: set[Path] = set()
_HELD_GUARD = threading.Lock()


class Lock:
    """An exclusive lock on OUT, held for the whole run: a second run on the same OUT stops at once and
    says who holds it. The lock file beside OUT is removed when the run ends."""

    def __init__(self, out: Path):
        self.path = out.parent / f".{out.name}.lock"
        self.out = out
        self.fd: int | None = None

    def __enter__(self) -> "Lock":
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with _HELD_GUARD:  # POSIX locks do not exclude threads of one process: this set does
            if self.path in _HELD:
                raise OutputError(f"another run in this process is writing '{self.out}'; wait for it to finish")
            _HELD.add(self.path)
        try:
            return self._acquire()
        except BaseException:
            _HELD.discard(self.path)
            raise

    def _acquire(self) -> "Lock":
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                # a POSIX record lock belongs to this process alone: forked workers do not inherit it, so a
                # killed run frees OUT at once even while its workers are still dying (flock would not)
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                if error.errno in (errno.EWOULDBLOCK, errno.EACCES):
                    raise OutputError(f"another run is writing '{self.out}' ({holder}); wait for it to finish "
                                      "or stop it, then run again") from None
                raise
            # the holder before us may have removed the file after we opened it: lock the file at the path
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            os.close(self.fd)
            self.fd = None
            _HELD.discard(self.path)


# --------------------------------------------------------------------------- staging and the swap

class Staging:
    """A temporary folder beside out, swapped into place only when everything was written.

    Used under Lock: any other temporary folder of out found then belongs to a run that is gone, and is
    removed (only if it carries a marker of ours)."""

    def __init__(self, out: Path):
        self.out = out
        self.path: Path | None = None

    def __enter__(self) -> "Staging":
        remove_stale(self.out)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=self.out.parent))
        (self.path / STAGING_MARKER).write_text(f"{TOOL} staging for {self.out.name}\n", encoding="utf-8")
        return self

    def __exit__(self, kind, error, trace) -> None:
        if self.path.exists() and (self.path / STAGING_MARKER).exists():  # not published: abandon it
            shutil.rmtree(self.path, ignore_errors=True)

    def publish(self, *, read: int, published: int, about: dict | None = None) -> None:
        """Mark the finished staging folder as a release and swap it into place; the previous one goes."""
        (self.path / STAGING_MARKER).unlink()
        write_marker(self.path, read=read, published=published, about=about)
        os.chmod(self.path, 0o755)
        if not self.out.exists():
            os.rename(self.path, self.out)
        elif _exchange(self.path, self.out):
            shutil.rmtree(self.path)  # now holds the previous release, checked by inspect()
        else:
            old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
            os.rename(self.out, old)
            os.rename(self.path, self.out)
            shutil.rmtree(old, ignore_errors=True)


def remove_stale(out: Path) -> None:
    """Temporary folders of earlier runs on out that did not finish (killed): ours only, by marker."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(tmp|old)-")
    for candidate in out.parent.iterdir():
        if not pattern.match(candidate.name) or candidate.is_symlink() or not candidate.is_dir():
            continue
        if (candidate / STAGING_MARKER).is_file() or (candidate / MARKER).is_file() or not any(candidate.iterdir()):
            shutil.rmtree(candidate, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


# --------------------------------------------------------------------------- the quarantine

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Quarantine:
    """rejects/ of a release: each reject as NNNN-<file>.reason.txt (file, id, every message) and, when
    the record was read, NNNN-<file>.record holding exactly the bytes that were read (never re-read)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True)
        self.count = 0

    def add(self, reject) -> None:
        self.count += 1
        stem = f"{self.count:04d}-" + _UNSAFE_NAME.sub("_", os.path.basename(reject.file))[:80]
        text = [f"file: {reject.file}", f"id: {reject.id or '?'}"] + [f"- {p}" for p in reject.problems]
        (self.folder / f"{stem}.reason.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
        if reject.data is not None:
            (self.folder / f"{stem}.record").write_bytes(reject.data)
