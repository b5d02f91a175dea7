"""What a release keeps of each bucket it wrote, for the next run: the digest of its lines, where its bytes are in
each copied dump (Turtle, JSON-LD) with their digest, and what Stats counted of it; and copying them back.

A bucket of the next run whose lines have the same digest, under the same fingerprint (code, options, shapes),
renders to the same bytes, so they are copied from the previous release's dump instead of rendered again
(rendering Turtle and JSON-LD is most of the write phase). The copied bytes must have the digest the table
gives, and the table the SHA-256 the release marker gives; otherwise the bucket is rendered, as in a full run."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .metadata import Stats, sha256_of
from .serialize import DUMPS

FILE = "buckets.json.gz"  # in the publisher's folder of a release
COPIED = tuple(dump for dump in DUMPS if dump.copied)  # the dumps whose bytes are kept by bucket


def digest(data: bytes) -> str:
    """128 bits of SHA-256: 1.66 GB/s on this machine, where BLAKE2b gave 0.74 (SHA extensions)."""
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass(frozen=True)
class Bucket:
    """One bucket of a release as written: spans are (start, length, digest) in each COPIED dump, the start
    counted in its partition's fragment while the partition is written and in the dump once joined."""

    number: int
    lines: str  # digest of its N-Triples bytes: its sorted, unique lines
    spans: tuple[tuple[int, int, str], ...]
    stats: Stats

    def as_json(self) -> str:
        # the counts by hand, not dataclasses.asdict: its deep copy made writing the table 0.35 s of the
        # parent's time at 4,096 buckets
        s = self.stats
        return json.dumps([self.number, self.lines, self.spans, [s.triples, s.subjects, s.classes, s.properties,
                                                                 s.example]],
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def of_json(cls, text: str) -> "Bucket":
        number, lines, spans, (triples, subjects, classes, properties, example) = json.loads(text)
        return cls(number, lines, tuple(tuple(span) for span in spans),
                   Stats(triples, subjects, classes, properties, example))

    def moved(self, starts: tuple[int, ...]) -> "Bucket":
        """The same bucket with each span's start moved by its fragment's start in the joined dump."""
        spans = tuple((start + shift, length, hashed) for (start, length, hashed), shift in zip(self.spans, starts))
        return Bucket(self.number, self.lines, spans, self.stats)


def write_table(path: Path, buckets: list[Bucket]) -> None:
    """One JSON line per bucket, in bucket order, gzip-compressed (~8 MB of JSON at 4,096 buckets)."""
    from .serialize import gzip_text

    stream = gzip_text(path)
    try:
        stream.write("".join(bucket.as_json() + "\n" for bucket in buckets))
    finally:
        stream.close()


def read_table(folder: Path, about: dict, wanted: str) -> dict[int, Bucket]:
    """The buckets of the release in folder, by number, when its table was made under the fingerprint wanted
    and is as its run wrote it; else none (every bucket is rendered)."""
    import gzip

    from .release import PUBLISHER

    kept = about.get("buckets") or {}
    path = folder / PUBLISHER / FILE
    if kept.get("fingerprint") != wanted or not path.is_file() or sha256_of(path) != kept.get("sha256"):
        return {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            return {bucket.number: bucket for bucket in map(Bucket.of_json, stream)}
    except (OSError, EOFError, ValueError, TypeError):
        return {}


class Copier:
    """A previous release's copied dumps, open for reading the buckets of one partition."""

    def __init__(self, folder: str | None, buckets: tuple[Bucket, ...]):
        self.buckets = {bucket.number: bucket for bucket in buckets}
        self.files = {}
        if folder and self.buckets:
            try:
                for dump in COPIED:
                    self.files[dump.name] = open(os.path.join(folder, dump.name), "rb")
            except OSError:  # gone since: every bucket is rendered, and what was opened is closed
                self.close()
                self.buckets = {}

    def copy(self, number: int, lines: str) -> tuple[Bucket, list[bytes]] | None:
        """Bucket number of the previous release with its bytes in each COPIED dump, if that release wrote the
        same lines there and its bytes are still the ones it wrote; else None."""
        bucket = self.buckets.get(number)
        if bucket is None or bucket.lines != lines:
            return None
        found = []
        for dump, (start, length, hashed) in zip(COPIED, bucket.spans):
            stream = self.files[dump.name]
            stream.seek(start)
            data = stream.read(length)
            if len(data) != length or digest(data) != hashed:
                return None
            found.append(data)
        return bucket, found

    def close(self) -> None:
        for stream in self.files.values():
            stream.close()
