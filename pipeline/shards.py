"""Intermediate storage of a run: each batch's N-Triples lines in a shard file, bucketed by subject, in the
staging folder or under a --scratch URL every worker reaches (Scratch). Buckets let the final sort and
deduplication run in parallel pieces of bounded size, in a fixed order."""

from __future__ import annotations

import os
import uuid
import zlib
from array import array
from pathlib import Path
from typing import Iterable, Iterator

from .terms import nt_bytes

BUCKETS = 4096  # fixed: the output order (bucket, then line) must not depend on workers or batch size


def bucket_of(subject: str) -> int:
    return zlib.crc32(subject.encode("utf-8")) % BUCKETS


class Scratch:
    """Where a run's shards and fragments go: the staging folder's .work, or with a URL a folder of the run's
    own below it (a new, unique name), which every worker must reach, and which is removed when the run ends
    (nothing else below the URL is touched)."""

    PREFIX = "zh-articles-scratch-"

    def __init__(self, url: str | None, local: Path):
        self.fs = None
        if url is None:
            self.path = str(local)
            return
        from .remote import filesystem

        self.fs, root = filesystem(url, what="--scratch")
        self.folder = f"{root.rstrip('/')}/{self.PREFIX}{uuid.uuid4().hex}"
        self.fs.makedirs(self.folder, exist_ok=False)
        self.path = self.fs.unstrip_protocol(self.folder)

    def __enter__(self) -> "Scratch":
        return self

    def __exit__(self, kind, *exc) -> None:
        try:
            if self.fs is not None and self.fs.exists(self.folder):
                self.fs.rm(self.folder, recursive=True)
        except OSError:
            if kind is None:
                raise
            # the run already failed: its own error is the one to report, not the cleanup's


def _remote(path: str | Path):
    """(file system, path on it) when path is an fsspec URL (below --scratch), else None."""
    from .remote import is_url

    if not is_url(str(path)):
        return None
    import fsspec.core

    return fsspec.core.url_to_fs(str(path))


def open_file(path: str | Path, mode: str, **text):
    """A file of the run's intermediate storage, local or at an fsspec URL."""
    found = _remote(path)
    return found[0].open(found[1], mode, **text) if found else open(path, mode, **text)


def read_range(path: str | Path, start: int, end: int) -> bytes:
    found = _remote(path)
    if found:
        return found[0].cat_file(found[1], start=start, end=end)
    with open(path, "rb") as stream:
        stream.seek(start)
        return stream.read(end - start)


def size_of(path: str | Path) -> int:
    found = _remote(path)
    return found[0].size(found[1]) if found else os.stat(path).st_size


def remove(path: str | Path) -> None:
    found = _remote(path)
    if found:
        found[0].rm_file(found[1])
    else:
        os.unlink(path)


def chunked(lines: Iterable[tuple[int, str]]) -> tuple[tuple[int, bytes], ...]:
    """(bucket, its lines as one UTF-8 chunk) for (bucket, line) pairs, buckets ascending."""
    by_bucket: dict[int, list[str]] = {}
    for bucket, line in lines:
        by_bucket.setdefault(bucket, []).append(line)
    return tuple((bucket, nt_bytes(by_bucket[bucket])) for bucket in sorted(by_bucket))


def write_shard(path: str | Path, lines: Iterable[tuple[int, str]]) -> None:
    """Write (bucket, line) pairs grouped by bucket, with an index of where each bucket starts."""
    write_chunks(path, {bucket: [chunk] for bucket, chunk in chunked(lines)})


def write_chunks(path: str | Path, chunks: dict[int, list[bytes]]) -> None:
    """Write each bucket's chunks (UTF-8 lines, each ending in a newline) in bucket order, with an index of
    where each bucket starts."""
    offsets = array("q", [0] * (BUCKETS + 1))
    position = 0
    with open_file(path, "wb") as stream:
        for bucket in range(BUCKETS):
            offsets[bucket] = position
            if bucket in chunks:
                data = b"".join(chunks[bucket])
                stream.write(data)
                position += len(data)
        offsets[BUCKETS] = position
    with open_file(f"{path}.idx", "wb") as stream:
        stream.write(offsets.tobytes())


def read_offsets(path: str | Path) -> array:
    offsets = array("q")
    with open_file(f"{path}.idx", "rb") as stream:
        offsets.frombytes(stream.read())
    if len(offsets) != BUCKETS + 1:
        raise ValueError(f"shard index {path}.idx is cut short")
    return offsets


def read_buckets(shards: list, first: int, last: int) -> Iterator[tuple[int, list[str], set[str]]]:
    """(bucket, its sorted unique lines from every shard, the lines found more than once) for buckets
    first..last-1."""
    pieces: dict[int, list[bytes]] = {}
    for shard in shards:
        offsets = read_offsets(shard)
        start, end = offsets[first], offsets[last]
        if start == end:
            continue
        data = read_range(shard, start, end)
        for bucket in range(first, last):
            a, b = offsets[bucket] - start, offsets[bucket + 1] - start
            if a != b:
                pieces.setdefault(bucket, []).append(data[a:b])
    for bucket in range(first, last):
        if bucket in pieces:
            text = b"".join(pieces.pop(bucket)).decode("utf-8")
            every = text.split("\n")  # not splitlines(): U+2028 and friends may stand raw in literals
            lines = set(every)
            lines.discard("")
            repeated = set() if len(lines) == len(every) - 1 else _repeated(every)
            yield bucket, sorted(lines), repeated


def _repeated(lines: list[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for line in lines:
        if line in seen:
            repeated.add(line)
        else:
            seen.add(line)
    repeated.discard("")
    return repeated
