"""Inputs named by fsspec URL (s3://, gs://, memory://; an http(s) URL names one file): discovery below them in
the local walk's order, and each file's bytes under the same size limit. A file:// URL is a local path, so the
local discovery and its symlink policy apply to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(item) -> bool:
    return isinstance(item, str) and bool(_URL.match(item))


def as_input(item: str | Path) -> str | Path:
    """What a run reads for an input as given: a URL stays a string, a file:// URL becomes its local path,
    anything else a Path."""
    if is_url(item):
        if item.lower().startswith("file://"):
            from urllib.parse import unquote, urlparse

            return Path(unquote(urlparse(item).path))
        return item
    return Path(item)


def filesystem(url: str, *, what: str = "input"):
    """(fsspec file system, path on it) for a URL; InputError when fsspec, or the package the protocol
    needs (s3fs, gcsfs…), is not installed."""
    from .sources import InputError

    try:
        import fsspec.core
    except ImportError:
        raise InputError(f"{what} '{shown(url)}' is a URL: reading URLs needs fsspec; "
                         "pip install 'zh-articles-pipeline[remote]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as error:
        raise InputError(f"{what} '{shown(url)}' needs a package fsspec names: {error}") from None
    except ValueError as error:
        raise InputError(f"{what} '{shown(url)}': {error}; name a folder or file by a URL fsspec knows "
                         "(s3://, gs://, memory://, file://)") from None


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def exists(url: str) -> bool:
    """Whether the URL names something; an http(s) URL is not asked before it is read (discover)."""
    if _is_web(url):
        return True
    fs, path = filesystem(url)
    try:
        return fs.exists(path)
    except OSError:
        return False


def discover(url: str, shown_name) -> Iterator:
    """Found for each *.txt file below the URL (a folder's files sorted, then its subfolders sorted, as the
    local walk), reported as the URL's last part and the path below it."""
    from .sources import Found, InputError, Skipped

    if _is_web(url):
        # a page's links may lead to any host: an http(s) input is one file, fetched when read, never listed
        if not url.split("?", 1)[0].lower().endswith(".txt"):
            raise InputError(f"input '{shown(url)}': an http(s) URL must name one record file (*.txt), since a "
                             "listing's links may lead anywhere; download the folder, or name it by s3://, gs:// "
                             "or a local path")
        yield Found(url, shown_name(url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]))
        return
    fs, root = filesystem(url)
    root = root.rstrip("/")
    base = root.rsplit("/", 1)[-1] or root
    try:
        if fs.isfile(root):
            yield Found(url, shown_name(base))
            return
        if not fs.isdir(root):
            raise InputError(f"input '{shown(url)}' does not exist; name a record file or a folder of "
                             "*.txt records")
    except OSError as error:
        raise InputError(f"input '{shown(url)}' cannot be listed ({error}); check the URL and its "
                         "credentials") from None
    problems: list[OSError] = []
    for folder, folders, files in fs.walk(root, on_error=problems.append):
        for error in problems:
            yield Skipped(shown_name(base), f"cannot list a folder below it ({error}); check its permissions")
        problems.clear()
        folders[:] = sorted(folders)
        relative = folder[len(root):].strip("/")
        for name in sorted(files):
            if name.lower().endswith(".txt"):
                below = f"{relative}/{name}" if relative else name
                yield Found(fs.unstrip_protocol(f"{folder}/{name}"), shown_name(f"{base}/{below}"))


def read(found, max_bytes: int):
    """The file's bytes as a Source, or a reject naming why it could not be read (size checked first)."""
    from .sources import Source, _reject, _too_large

    try:
        fs, path = filesystem(found.path)
        size = fs.size(path)
        if size is not None and size > max_bytes:
            return _too_large(found.name, size, max_bytes)
        if _is_web(found.path):
            data = _read_web(fs, path, max_bytes + 1)
        else:  # object stores answer a range request with the range
            data = fs.cat_file(path, start=0, end=max_bytes + 1)
    except (OSError, ValueError) as error:
        return _reject(found.name, None, "read", f"cannot read the file ({error}); check the URL and its "
                                                 "credentials", code="read.unreadable")
    if len(data) > max_bytes:
        return _too_large(found.name, len(data), max_bytes)
    return Source(found.name, data)


def _read_web(fs, path: str, limit: int) -> bytes:
    """At most limit bytes of an http(s) file, streamed: a server may ignore the Range header cat_file sends
    and answer with the whole body, which fsspec then reads into memory whatever its size (a 4 KB limit let
    300 MB in, tests/test_remote.py); a stream read stops at the limit whatever the server sends."""
    parts, total = [], 0
    with fs.open(path, "rb", block_size=0) as stream:
        while total < limit:
            chunk = stream.read(limit - total)  # up to that many bytes: what the connection has so far
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    return b"".join(parts)


def shown(url: str) -> str:
    """A URL as messages show it: without any user:password@ it holds."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)

