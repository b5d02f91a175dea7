"""Intermediate storage of a run: each batch's N-Triples lines in a shard file, bucketed by subject.
Buckets let the final sort and deduplication run in parallel pieces of bounded size, in a fixed order."""

from __future__ import annotations

import zlib
from array import array
from pathlib import Path
from typing import Iterable, Iterator

BUCKETS = 4096  # fixed: the output order (bucket, then line) must not depend on workers or batch size


def bucket_of(subject: str) -> int:
    return zlib.crc32(subject.encode("utf-8")) % BUCKETS


def write_shard(path: Path, lines: Iterable[tuple[int, str]]) -> int:
    """Write (bucket, line) pairs grouped by bucket, with an index of where each bucket starts."""
    by_bucket: dict[int, list[str]] = {}
    for bucket, line in lines:
        by_bucket.setdefault(bucket, []).append(line)
    offsets = array("q", [0] * (BUCKETS + 1))
    position = 0
    with open(path, "wb") as stream:
        for bucket in range(BUCKETS):
            offsets[bucket] = position
            if bucket in by_bucket:
                data = ("\n".join(by_bucket[bucket]) + "\n").encode("utf-8")
                stream.write(data)
                position += len(data)
        offsets[BUCKETS] = position
    with open(f"{path}.idx", "wb") as stream:
        offsets.tofile(stream)
    return sum(len(v) for v in by_bucket.values())


def read_offsets(path: Path) -> array:
    offsets = array("q")
    with open(f"{path}.idx", "rb") as stream:
        offsets.fromfile(stream, BUCKETS + 1)
    return offsets


def read_buckets(shards: list[Path], first: int, last: int) -> Iterator[tuple[int, list[str], set[str]]]:
    """(bucket, its sorted unique lines from every shard, the lines found more than once) for buckets
    first..last-1."""
    pieces: dict[int, list[bytes]] = {}
    for shard in shards:
        offsets = read_offsets(shard)
        start, end = offsets[first], offsets[last]
        if start == end:
            continue
        with open(shard, "rb") as stream:
            stream.seek(start)
            data = stream.read(end - start)
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
