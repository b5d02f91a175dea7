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
                   base: str, index: array | None = None, previous_index: Path | None = None,
                   engine=None) -> ChangeSet | None:
    """changes/ in staging against the release in out that it replaces (previous: what out's marker
    remembered), read before out is replaced. None for a first release, or when out's N-Triples dump is not
    the one its marker recorded (edited, removed): a change set must not vouch for a file the tool did not
    write. With both dumps' bucket indexes (index: this one's; previous_index: the file of out's), the dumps
    are compared a bucket at a time as bytes, and only the buckets that differ line by line, in PARTS ranges
    of buckets that the engine's workers take (given one: they must see this machine's files)."""
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
                            indexes=(old_index, index) if old_index else None, engine=engine)


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


# A change set is written in this many parts, each a range of buckets giving one gzip member of each .nt.gz
# file and a run of the patch's rows; the same parts whoever writes them (the parent, or the engine's
# workers: 2 on this machine), so the same bytes. 16: enough for a few workers, ~30 bytes a member.
PARTS = 16
_PART_BUCKETS = BUCKETS // PARTS


@dataclass(frozen=True)
class Part:
    """One range of buckets of a change set, compared by the dumps' bucket indexes: where it lies in each
    dump (its buckets' offsets, one more than buckets) and the folder its files go to."""

    number: int
    old: str
    new: str
    old_offsets: tuple[int, ...]
    new_offsets: tuple[int, ...]
    folder: str


def write_change_set(folder: Path, old: Path, new: Path, *, version: str, previous: str,
                     indexes: tuple[array, array] | None = None, engine=None) -> ChangeSet:
    """Compare two N-Triples dumps of this tool (both sorted by subject bucket, then line), one bucket in
    memory at a time, and write the three files of FILES into folder: part by part (PARTS), then joined."""
    folder.mkdir()
    parts = folder / ".parts"
    parts.mkdir()
    if indexes:
        _check_fit(old, new, *indexes)
        jobs = [Part(number, str(old), str(new), tuple(indexes[0][first:first + _PART_BUCKETS + 1]),
                     tuple(indexes[1][first:first + _PART_BUCKETS + 1]), str(parts))
                for number, first in enumerate(range(0, BUCKETS, _PART_BUCKETS))]
        counts = list(engine.map(write_part, jobs)) if engine else [write_part(None, job) for job in jobs]
    else:
        counts = _parts_in_order(parts, diff_buckets(old, new))
    _join_parts(folder, parts, version, previous)
    return ChangeSet(version, previous, sum(r for r, _ in counts), sum(a for _, a in counts))


def _parts_in_order(parts: Path, changed: Iterator[tuple[int, list[str], list[str]]]) -> list[tuple[int, int]]:
    """Every part's files from a diff that comes in bucket order (the line-by-line fallback), one pass."""
    pending = next(changed, None)
    counts = []
    for number in range(PARTS):
        def this_part() -> Iterator[tuple[list[str], list[str]]]:
            nonlocal pending
            while pending is not None and pending[0] // _PART_BUCKETS == number:
                yield pending[1], pending[2]
                pending = next(changed, None)

        counts.append(_write_part_files(parts, number, this_part()))
    return counts


def write_part(state, part: Part) -> tuple[int, int]:
    """An engine's job: one part's files; (removed, added) lines."""
    return _write_part_files(Path(part.folder), part.number,
                             _diff_span(part.old, part.new, part.old_offsets, part.new_offsets))


def _part_name(number: int, name: str) -> str:
    return f"{number:02d}-{name}"


def _write_part_files(parts: Path, number: int, changed: Iterable[tuple[list[str], list[str]]]) -> tuple[int, int]:
    """A part's removed and added lines (one gzip member each, no file when there are none) and patch rows,
    written as each bucket comes: memory stays one bucket, however much of the release changed."""
    counts = {REMOVED: 0, ADDED: 0}
    streams: dict[str, object] = {}

    def put(name: str, lines: list[str]) -> None:
        if lines:
            if name not in streams:
                streams[name] = gzip_text(parts / _part_name(number, name))
            streams[name].write("\n".join(lines) + "\n")
            counts[name] += len(lines)

    try:
        with open(parts / _part_name(number, PATCH), "w", encoding="utf-8", newline="\n") as patch:
            for lost, gained in changed:
                put(REMOVED, lost)
                put(ADDED, gained)
                # within one transaction the order of D and A rows is free: the two sets are disjoint
                patch.write("".join(f"D {line}\n" for line in lost) + "".join(f"A {line}\n" for line in gained))
    finally:
        for stream in streams.values():
            stream.close()
    return counts[REMOVED], counts[ADDED]


def _join_parts(folder: Path, parts: Path, version: str, previous: str) -> None:
    """The parts joined in order: each .nt.gz file its parts' gzip members (one empty member when no part
    has lines, so that every reader sees a gzip file), the patch between its header and its commit row."""
    for name in (REMOVED, ADDED):
        members = [parts / _part_name(n, name) for n in range(PARTS) if (parts / _part_name(n, name)).exists()]
        if not members:
            gzip_text(folder / name).close()
            continue
        with open(folder / name, "wb") as joined:
            for member in members:
                with open(member, "rb") as piece:
                    shutil.copyfileobj(piece, joined, 1 << 20)
    with open(folder / PATCH, "w", encoding="utf-8", newline="\n") as patch:
        patch.write(f"H id <{version}> .\nH prev <{previous}> .\nTX .\n")
        for number in range(PARTS):
            with open(parts / _part_name(number, PATCH), encoding="utf-8", newline="\n") as piece:
                shutil.copyfileobj(piece, patch, 1 << 20)
        patch.write("TC .\n")
    shutil.rmtree(parts)


def diff(old: Path, new: Path) -> Iterator[tuple[list[str], list[str]]]:
    """(removed, added) lines per subject bucket, in bucket order, each sorted: the dumps' own order."""
    for _, lost, gained in diff_buckets(old, new):
        yield lost, gained


def diff_buckets(old: Path, new: Path) -> Iterator[tuple[int, list[str], list[str]]]:
    """diff() with each bucket's number, reading both dumps line by line (no bucket index)."""
    olds, news = _buckets(old), _buckets(new)
    a, b = next(olds, None), next(news, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a[0], sorted(a[1]), []
            a = next(olds, None)
        elif a is None or b[0] < a[0]:
            yield b[0], [], sorted(b[1])
            b = next(news, None)
        else:
            before, after = set(a[1]), set(b[1])
            if before != after:
                yield a[0], sorted(before - after), sorted(after - before)
            a, b = next(olds, None), next(news, None)


def diff_indexed(old: Path, new: Path, old_index: array, new_index: array) -> Iterator[tuple[list[str], list[str]]]:
    """diff() from the dumps' bucket indexes: a bucket whose bytes are the same in both is skipped with one
    comparison, only the others are split into lines (sorted as bytes: UTF-8 keeps code-point order). On
    the 1.3 GB dumps of 100k records the line-by-line diff took ~15 s (bench/README.md)."""
    _check_fit(old, new, old_index, new_index)
    return _diff_span(old, new, tuple(old_index), tuple(new_index))


def _check_fit(old: Path, new: Path, old_index: array, new_index: array) -> None:
    if os.path.getsize(old) != old_index[BUCKETS] or os.path.getsize(new) != new_index[BUCKETS]:
        raise ValueError("a bucket index that does not fit its dump")


def _diff_span(old: str | Path, new: str | Path, old_offsets: tuple[int, ...],
               new_offsets: tuple[int, ...]) -> Iterator[tuple[list[str], list[str]]]:
    """diff_indexed() over consecutive buckets whose offsets in each dump are given (one more than buckets)."""
    with open(old, "rb") as before, open(new, "rb") as after:
        # read in order, a bucket at a time: memory stays one bucket of each (a map of the two 1.3 GB dumps
        # counted 2.8 GB in the run's resident memory)
        before.seek(old_offsets[0])
        after.seek(new_offsets[0])
        for bucket in range(len(old_offsets) - 1):
            was = before.read(old_offsets[bucket + 1] - old_offsets[bucket])
            now = after.read(new_offsets[bucket + 1] - new_offsets[bucket])
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
