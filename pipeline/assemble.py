"""Phase two of a run: the shards' buckets sorted, deduplicated, written by every dump writer as one fragment
per partition (in parallel), counted, nodes that several records describe validated merged; then joined."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .metadata import Stats, hash_into
from .iris import Minter
from .kept import COPIED, Bucket, Copier, digest
from .serialize import DUMPS, Block, Prefixes, as_term, grouped, parse_object, split_line
from .shacl import Result
from .remote import is_url
from .shards import BUCKETS, open_file, read_buckets, remove, size_of
from .terms import Triple, nt_bytes
from .vocab import FOAF, SKOS

RECORDS_PER_PARTITION = 2000  # bounds the memory of sorting one piece of the output (~25 MB of lines)


@dataclass(frozen=True)
class PartitionJob:
    index: int
    first: int  # buckets first..last-1
    last: int
    shards: tuple[str, ...]
    work: str
    base: str
    targets: tuple[str, ...] = ()  # the batches' target shards (batch.target_shard)
    agents: str | None = None      # a file of every agent IRI of the release, one a line
    previous: str | None = None    # the folder of a release whose unchanged buckets are copied (kept.py)
    kept: tuple[Bucket, ...] = ()  # its buckets first..last-1


@dataclass(frozen=True)
class PartitionResult:
    stats: Stats
    inconsistent: tuple[Result, ...]  # what the release-level check found on nodes several records describe
    shared: int                       # how many such nodes it looked at
    sizes: tuple[tuple[int, int], ...] = ()  # (bucket, bytes) of each bucket in the N-Triples dump
    buckets: tuple[Bucket, ...] = ()  # each bucket as written, its spans counted in the fragments
    copied: int = 0                   # buckets whose bytes were copied from the previous release


def partitions(published: int, shards: list[str], work: str, base: str,
               targets: list[str] = (), agents: str | None = None, previous: str | None = None,
               kept: dict[int, Bucket] | None = None) -> list[PartitionJob]:
    """Counted in records, not shard bytes, so that the gzip members (one per partition) depend on the
    input alone, not on batch sizes or workers. previous, kept: a release and its buckets (kept.read_table)."""
    parts = max(1, min(BUCKETS, math.ceil(published / RECORDS_PER_PARTITION)))
    size = math.ceil(BUCKETS / parts)
    kept = kept or {}
    return [PartitionJob(i, first, min(first + size, BUCKETS), tuple(shards), str(work), base, tuple(targets), agents,
                         previous if kept else None,
                         tuple(kept[n] for n in range(first, min(first + size, BUCKETS)) if n in kept))
            for i, first in enumerate(range(0, BUCKETS, size))]


def fragment_path(work: str | Path, index: int, dump) -> str:
    return os.path.join(work, f"part-{index:05d}-{dump.name}")


def write_partition(context, job: PartitionJob) -> PartitionResult:
    """Sort and deduplicate buckets first..last-1 of every shard; each dump writes its fragment (a bucket
    unchanged since the previous release copies its Turtle and JSON-LD bytes); the nodes that several
    records describe are validated once more, merged (context: a BatchContext)."""
    prefixes = Prefixes(job.base)
    stats = Stats()
    shared: list[Triple] = []
    fragments = [dump.fragment(fragment_path(job.work, job.index, dump), prefixes) for dump in DUMPS]
    copier = Copier(job.previous, job.kept)
    sizes: list[tuple[int, int]] = []
    written: list[Bucket] = []
    copied = 0
    try:
        focus = ConceptFocus(job.base, job.agents)
        for bucket, lines, repeated in read_buckets(list(job.shards), job.first, job.last):
            lines = focus.link(lines)
            ntriples = nt_bytes(lines)
            sizes.append((bucket, len(ntriples)))  # for the bucket index (changes.bucket_index)
            hashed = digest(ntriples)
            found = copier.copy(bucket, hashed)
            if found is None:
                block = Block(lines, list(grouped(lines)), ntriples)
                counted = Stats()
                counted.count(block.groups)
                rendered = {dump.name: dump.render(block, prefixes) for dump in COPIED}
                hashes = {name: digest(data) for name, data in rendered.items()}
            else:
                earlier, copies = found  # their digests checked as they were read
                counted = earlier.stats
                rendered = {dump.name: data for dump, data in zip(COPIED, copies)}
                hashes = {dump.name: span[2] for dump, span in zip(COPIED, earlier.spans)}
                copied += 1
            spans = []  # in DUMPS order, which is COPIED's
            for fragment in fragments:
                name = fragment.dump.name
                if fragment.dump.copied:
                    spans.append((fragment.write(rendered[name]), len(rendered[name]), hashes[name]))
                else:
                    fragment.write(ntriples)
            stats.add(counted)
            shared.extend(_shared_triples(lines, repeated))
            written.append(Bucket(bucket, hashed, tuple(spans), counted))
    finally:
        copier.close()
        for fragment in fragments:
            fragment.close()
    subjects = {s for s, _, _ in shared}
    results = context.validator.across(shared, _objects_of(job, subjects)) if shared else []
    return PartitionResult(stats, tuple(sorted(set(results), key=lambda r: r.key)), len(subjects), tuple(sizes),
                           tuple(written), copied)


class ConceptFocus:
    """A topic tag that names an agent of the release (毛泽东 the tag, 毛泽东 the author) gets foaf:focus to
    it. Which agents exist is known only once every batch is read, so the link is made here."""

    def __init__(self, base: str, agents: str | None):
        self.concepts = f"<{base}concept/"
        self.minter = Minter(base)
        self.agents = _agents(agents) if agents else frozenset()

    def link(self, lines: list[str]) -> list[str]:
        """The bucket's sorted lines, with a foaf:focus line for each such concept (sorted again)."""
        if not self.agents:
            return lines
        added = []
        for line in lines:
            if line.startswith(self.concepts) and f"> <{_PREF_LABEL}> " in line:
                subject, _, obj = split_line(line)
                agent = self.minter.agent(parse_object(obj)[1])
                if agent in self.agents:
                    added.append(f"<{subject}> <{_FOCUS}> <{agent}> .")
        return sorted(set(lines).union(added)) if added else lines


_PREF_LABEL, _FOCUS = SKOS.prefLabel, FOAF.focus


def _agents(path: str) -> frozenset[str]:
    """Read per partition, not cached: a later run in the same process may reuse the path."""
    with open_file(path, "r", encoding="utf-8", newline="\n") as stream:
        return frozenset(line.rstrip("\n") for line in stream)


def _shared_triples(lines: list[str], repeated: set[str]) -> Iterator[Triple]:
    """The triples of every subject with a line that came from more than one record (a repeated line: each
    batch writes a line a second time when a second record says it, and batches write their own shards),
    found in the bucket's sorted lines by bisection: a subject's lines are contiguous."""
    for head in sorted({line[:line.index(">") + 2] for line in repeated}):  # "<subject> "
        at = bisect_left(lines, head)
        while at < len(lines) and lines[at].startswith(head):
            subject, predicate, obj = split_line(lines[at])
            yield (subject, predicate, as_term(obj))
            at += 1


def _objects_of(job: PartitionJob, subjects: set[str]) -> dict[str, set[str]]:
    """predicate -> the shared nodes that some record has as its object (for sh:targetObjectsOf)."""
    found: dict[str, set[str]] = {}
    for _, lines, _ in read_buckets(list(job.targets), job.first, job.last):
        for line in lines:
            node, predicate = line.rsplit(" ", 1)
            if node in subjects:
                found.setdefault(predicate, set()).add(node)
    return found


def assemble(staging: Path, work: str, parts: int, prefixes: Prefixes) -> tuple[dict[str, str], dict[str, list[int]]]:
    """Join the fragments of every partition, in order, into the dumps, with their companion files; returns
    each dump's SHA-256, taken from the fragments as they are joined, and where in it each fragment starts.
    One thread per dump: copying and hashing let go of the GIL (measured on the 3 GB of a 100k release:
    joined one dump after the other then hashed, 4.1-4.5 s; a thread per dump, 2.0 s; bench/README.md)."""
    with ThreadPoolExecutor(max_workers=len(DUMPS)) as pool:
        joined = list(pool.map(lambda dump: _join(staging, work, parts, prefixes, dump), DUMPS))
    return ({dump.name: digest for dump, (digest, _) in zip(DUMPS, joined)},
            {dump.name: starts for dump, (_, starts) in zip(DUMPS, joined)})


def _join(staging: Path, work: str, parts: int, prefixes: Prefixes, dump) -> tuple[str, list[int]]:
    digest = hashlib.sha256()
    starts = []
    position = 0  # counted, not out.tell(): the kernel's copy_file_range moves the file past the buffer's view
    with open(staging / dump.name, "wb") as out:
        def put(data: bytes) -> None:
            nonlocal position
            digest.update(data)
            out.write(data)
            position += len(data)

        put(dump.header(prefixes))
        written = False
        for index in range(parts):
            fragment = fragment_path(work, index, dump)
            size = size_of(fragment)
            if size:
                if written:
                    put(dump.separator)
                starts.append(position)
                if is_url(fragment):  # in --scratch: copied through this process, hashed on the way
                    with open_file(fragment, "rb") as stream:
                        while chunk := stream.read(1 << 22):
                            put(chunk)
                else:
                    hash_into(digest, Path(fragment))
                    _append(out, Path(fragment))
                    position += size
                written = True
            else:
                starts.append(position)
            remove(fragment)
        put(dump.footer())
    for name, data in dump.companions(prefixes).items():
        (staging / name).write_bytes(data)
    return digest.hexdigest(), starts


def _append(stream, fragment: Path) -> None:
    """Copy a file onto the end of stream, in the kernel where it can (copy_file_range)."""
    stream.flush()
    with open(fragment, "rb") as source:
        remaining = os.fstat(source.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(source.fileno(), stream.fileno(), remaining)
                if copied == 0:
                    break
                remaining -= copied
        except (AttributeError, OSError):
            pass  # not Linux, or a file system without it: copy in user space from where it stopped
        if remaining > 0:
            shutil.copyfileobj(source, stream, 1 << 20)
