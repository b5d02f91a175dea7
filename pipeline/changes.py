"""A release's change set against the release it replaces: the triples removed and added, as sorted N-Triples
(gzip) and as one RDF Patch, in changes/; each release's version IRI; applying a patch to N-Triples lines."""

from __future__ import annotations

import contextlib
import os
import shutil
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .metadata import read_sha256sums, sha256_of
from .serialize import NTriples, gzip_text
from .shards import BUCKETS, bucket_of

FOLDER = "changes"
NTRIPLES = NTriples.name  # the dump a change set compares
REMOVED, ADDED, PATCH = "removed.nt.gz", "added.nt.gz", "changes.rdfp"
INDEX = "articles.nt.buckets"  # in the publisher's folder: where each bucket starts in the N-Triples dump
# Every file of a change set: name -> (media type, what it holds). RDF Patch has no registered media type;
# application/rdf-patch is the one its specification and Apache Jena's RDF Delta use.
FILES = {
    REMOVED: ("application/n-triples", "the triples the previous release had and this one has not, N-Triples, gzip"),
    ADDED: ("application/n-triples", "the triples this release has and the previous one had not, N-Triples, gzip"),
    PATCH: ("application/rdf-patch", "the same change as one RDF Patch transaction (H id this release, H prev "
                                     "the previous one), to apply to a store holding the previous release"),
}


def version_iri(base: str, ntriples_sha256: str) -> str:
    """The IRI of one release (one version of the dataset), named by the digest of its N-Triples dump: a
    rerun that publishes the same triples is the same version."""
    return f"{base}dataset/version/{ntriples_sha256[:16]}"


@dataclass(frozen=True)
class ChangeSet:
    """A change set in changes/: the two versions it goes between and how many triples it moves."""

    version: str
    previous: str
    removed: int
    added: int

    def as_dict(self) -> dict:
        return {"version": self.version, "previous": self.previous, "removed": self.removed, "added": self.added}

    @classmethod
    def from_dict(cls, about: dict) -> "ChangeSet | None":
        try:
            return cls(about["version"], about["previous"], int(about["removed"]), int(about["added"]))
        except (KeyError, TypeError, ValueError):
            return None


def bucket_index(sizes) -> array:
    """Where each bucket starts in the N-Triples dump (BUCKETS + 1 offsets) from (bucket, bytes) pairs."""
    counts = [0] * BUCKETS
    for bucket, size in sizes:
        counts[bucket] += size
    offsets, position = array("q", [0] * (BUCKETS + 1)), 0
    for bucket, size in enumerate(counts):
        offsets[bucket] = position
        position += size
    offsets[BUCKETS] = position
    return offsets


def read_index(path: Path, expected_sha256: str | None) -> array | None:
    """A release's bucket index, if it is the one its run wrote (its SHA-256 is in the marker)."""
    if not sha256_matches(path, expected_sha256):
        return None
    offsets = array("q")
    offsets.frombytes(path.read_bytes())
    return offsets if len(offsets) == BUCKETS + 1 else None


def change_set_for(staging: Path, out: Path, previous: dict, *, version: str, ntriples_sha: str,
                   base: str, index: array | None = None, previous_index: Path | None = None) -> ChangeSet | None:
    """changes/ in staging against the release in out that it replaces (previous: what out's marker
    remembered), read before out is replaced. None for a first release, or when out's N-Triples dump is not
    the one its marker recorded (edited, removed): a change set must not vouch for a file the tool did not
    write. With both dumps' bucket indexes (index: this one's; previous_index: the file of out's), the dumps
    are compared a bucket at a time as bytes, and only the buckets that differ line by line."""
    before = (previous.get("dumps") or {}).get(NTRIPLES)
    if not before:
        return None
    if before == ntriples_sha:
        return _same_release(staging, out, previous)
    if not sha256_matches(out / NTRIPLES, before):
        return None
    old_index = read_index(previous_index, previous.get("bucket_index")) if previous_index and index else None
    if old_index and old_index[BUCKETS] != (out / NTRIPLES).stat().st_size:
        old_index = None  # not the index of that dump: compare line by line
    return write_change_set(staging / FOLDER, out / NTRIPLES, staging / NTRIPLES, version=version,
                            previous=previous.get("version") or version_iri(base, before),
                            indexes=(old_index, index) if old_index else None)


def _same_release(staging: Path, out: Path, previous: dict) -> ChangeSet | None:
    """The same triples as the release in out: the same version, so the same change set. Its files are this
    tool's own, kept only when each still has the digest out's SHA256SUMS gives it."""
    change = ChangeSet.from_dict(previous.get("change_set") or {})
    listed = read_sha256sums(out)
    names = [f"{FOLDER}/{name}" for name in FILES]
    if change is None or not all(sha256_matches(out / name, listed.get(name)) for name in names):
        return None
    (staging / FOLDER).mkdir()
    for name in names:
        shutil.copyfile(out / name, staging / name)
    return change


def write_change_set(folder: Path, old: Path, new: Path, *, version: str, previous: str,
                     indexes: tuple[array, array] | None = None) -> ChangeSet:
    """Compare two N-Triples dumps of this tool (both sorted by subject bucket, then line) in one streaming
    pass, one bucket in memory at a time, and write the three files of FILES into folder."""
    folder.mkdir()
    changed = diff_indexed(old, new, *indexes) if indexes else diff(old, new)
    removed = added = 0
    with contextlib.closing(gzip_text(folder / REMOVED)) as gone, \
            contextlib.closing(gzip_text(folder / ADDED)) as came, \
            open(folder / PATCH, "w", encoding="utf-8", newline="\n") as patch:
        patch.write(f"H id <{version}> .\nH prev <{previous}> .\nTX .\n")
        for lost, gained in changed:
            removed += len(lost)
            added += len(gained)
            _write_lines(gone, lost)
            _write_lines(came, gained)
            # within one transaction the order of D and A rows is free: the two sets are disjoint
            patch.write("".join(f"D {line}\n" for line in lost) + "".join(f"A {line}\n" for line in gained))
        patch.write("TC .\n")
    return ChangeSet(version, previous, removed, added)


def _write_lines(stream, lines: list[str]) -> None:
    if lines:
        stream.write("\n".join(lines) + "\n")


def diff(old: Path, new: Path) -> Iterator[tuple[list[str], list[str]]]:
    """(removed, added) lines per subject bucket, in bucket order, each sorted: the dumps' own order."""
    olds, news = _buckets(old), _buckets(new)
    a, b = next(olds, None), next(news, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield sorted(a[1]), []
            a = next(olds, None)
        elif a is None or b[0] < a[0]:
            yield [], sorted(b[1])
            b = next(news, None)
        else:
            before, after = set(a[1]), set(b[1])
            if before != after:
                yield sorted(before - after), sorted(after - before)
            a, b = next(olds, None), next(news, None)


def diff_indexed(old: Path, new: Path, old_index: array, new_index: array) -> Iterator[tuple[list[str], list[str]]]:
    """diff() from the dumps' bucket indexes: a bucket whose bytes are the same in both is skipped with one
    comparison, only the others are split into lines (sorted as bytes: UTF-8 keeps code-point order). On
    the 1.3 GB dumps of 100k records the line-by-line diff took ~15 s (bench/README.md)."""
    with open(old, "rb") as before, open(new, "rb") as after:
        # read in order, a bucket at a time: memory stays one bucket of each (a map of the two 1.3 GB dumps
        # counted 2.8 GB in the run's resident memory)
        if os.fstat(before.fileno()).st_size != old_index[BUCKETS] or \
                os.fstat(after.fileno()).st_size != new_index[BUCKETS]:
            raise ValueError("a bucket index that does not fit its dump")
        for bucket in range(BUCKETS):
            was = before.read(old_index[bucket + 1] - old_index[bucket])
            now = after.read(new_index[bucket + 1] - new_index[bucket])
            if was == now:
                continue
            lost, gained = set(was.split(b"\n")), set(now.split(b"\n"))
            lost.discard(b"")
            gained.discard(b"")
            if lost != gained:
                yield ([line.decode("utf-8") for line in sorted(lost - gained)],
                       [line.decode("utf-8") for line in sorted(gained - lost)])


def _buckets(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(bucket, its lines) of an N-Triples dump, whose lines are grouped by bucket and, within it, by subject
    (the bucket of a subject is computed once per run of its lines)."""
    current, lines, subject, bucket = None, [], None, None
    with open(path, encoding="utf-8", newline="\n") as stream:
        for line in stream:
            line = line[:-1] if line.endswith("\n") else line
            if not line:
                continue
            this = line[1:line.index(">")]
            if this != subject:
                subject, bucket = this, bucket_of(this)
            if bucket != current:
                if lines:
                    yield current, lines
                current, lines = bucket, []
            lines.append(line)
    if lines:
        yield current, lines


def apply_patch(lines: Iterable[str], patch: Iterable[str]) -> set[str]:
    """The N-Triples lines of a graph after an RDF Patch of this tool's (D and A rows of whole lines)."""
    graph = set(lines)
    for row in patch:
        row = row.rstrip("\n")
        if row.startswith("D "):
            graph.discard(row[2:])
        elif row.startswith("A "):
            graph.add(row[2:])
    return graph


def sha256_matches(path: Path, expected: str | None) -> bool:
    return bool(expected) and path.is_file() and sha256_of(path) == expected
