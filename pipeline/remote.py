"""Inputs named by fsspec URL (s3://, gs://, memory://; an http(s) URL names one file, read in one bounded GET):
discovery below them in the local walk's order, and each file's bytes under the same size limit. A file:// URL
is a local path, so the local discovery and its symlink policy apply to it."""

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
        size, data = (_read_web if _is_web(found.path) else _read_store)(found.path, max_bytes + 1)
    except (OSError, ValueError) as error:
        return _reject(found.name, None, "read", f"cannot read the file ({error}); check the URL and its "
                                                 "credentials", code="read.unreadable")
    if size is not None and size > max_bytes:
        return _too_large(found.name, size, max_bytes)
    if len(data) > max_bytes:
        return _too_large(found.name, len(data), max_bytes)
    return Source(found.name, data)


# An http(s) file: one GET, at most this long in all and between two reads of the socket, so a server that
# sends slowly costs a worker a minute at most, not the run.
WEB_SECONDS, WEB_SOCKET_SECONDS = 60.0, 20.0


class RedirectRefused(OSError):
    """An http(s) input redirected to another origin: a request to a host the user did not name."""


def _read_store(url: str, limit: int) -> tuple[int | None, bytes]:
    """(the size the store gives, at most limit bytes; none when the size is over it) of a file in an fsspec
    file system: object stores answer a range request with the range."""
    fs, path = filesystem(url)
    size = fs.size(path)
    if size is not None and size >= limit:
        return size, b""  # too large: not read
    return size, fs.cat_file(path, start=0, end=limit)


def _read_web(url: str, limit: int) -> tuple[int | None, bytes]:
    """(the Content-Length the server gave, at most limit bytes) of an http(s) file, in one GET read as a
    stream. Not fsspec's cat_file: when a server ignores its Range header it reads the whole body into
    memory (a 4 KB limit let 300 MB in, tests/test_remote.py), and it follows redirects to any host.
    Redirects are followed within the URL's own origin (scheme, host, port) only."""
    import http.client

    try:
        return _get(url, limit)
    except http.client.HTTPException as error:  # a URL http.client refuses (a space in it), a broken answer
        raise OSError(f"{type(error).__name__}: {error}") from None


def _get(url: str, limit: int) -> tuple[int | None, bytes]:
    import time
    import urllib.request

    deadline = time.monotonic() + WEB_SECONDS
    opener = urllib.request.build_opener(_same_origin_handler())
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with opener.open(request, timeout=WEB_SOCKET_SECONDS) as response:
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None
        if size is not None and size >= limit:
            return size, b""  # too large: the body is not read
        parts, total = [], 0
        while total < limit:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server took more than {WEB_SECONDS:.0f} s to send it")
            chunk = response.read1(min(limit - total, 1 << 16))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    return size, b"".join(parts)


def _origin(url: str) -> tuple[str, str, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(
        parts.scheme.lower())


def _same_origin_handler():
    import urllib.request

    class SameOrigin(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if _origin(newurl) != _origin(req.full_url):
                raise RedirectRefused(f"the server redirects to {shown(newurl)}, another host; name that URL "
                                      "if you trust it")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return SameOrigin()


def shown(url: str) -> str:
    """A URL as messages show it: without any user:password@ it holds."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)

