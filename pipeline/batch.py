"""Phase one of a run, for one batch of files: read → parse → map → validate, published lines into a shard.
Runs wherever the engine puts it; what it needs per process is built once by BatchSetup."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .iris import Minter
from .mapping import PROVENANCE, WORK_CLAIMS, Mapper, container_claim
from .problems import Problem, Reject
from .record import parse
from .sources import Found, read_sources
from .shards import bucket_of, write_shard
from .terms import nt_line
from .validate import Validated, Validator, load_shapes
from .vocab import RDF_TYPE, SCHEMA

AGENT_CLASSES = (SCHEMA.Person, SCHEMA.Organization)


@dataclass(frozen=True)
class BatchSetup:
    """What a process needs to turn batches into shards; hashable, so an engine builds it once per process."""

    base: str
    lang: str
    shapes: str | Path | None
    validator: str
    pyshacl_batch: int
    strict: bool
    max_record_bytes: int
    rights: str | None = None
    source_url: str | None = None
    authorities: str | None = None

    def __call__(self) -> "BatchContext":
        minter = Minter(self.base)
        return BatchContext(self, minter, Mapper(minter, lang=self.lang, rights=self.rights,
                                                 source_url=self.source_url, authorities=self.authorities),
                            Validator(load_shapes(self.shapes), engine=self.validator,
                                      batch_size=self.pyshacl_batch, strict=self.strict))


@dataclass(frozen=True)
class BatchContext:
    setup: BatchSetup
    minter: Minter
    mapper: Mapper
    validator: Validator


@dataclass(frozen=True)
class BatchJob:
    number: int
    files: tuple[tuple[str, str, str | None], ...]  # (path, reported name, why it is not read)
    work: str                                       # the folder shards are written to
    excluded: frozenset[int] = frozenset()           # positions to leave out (conflicts found by the parent)


@dataclass(frozen=True)
class Outcome:
    """What became of one input file: published (with the printing key and content digest that conflict
    detection needs), rejected, or excluded (published first, then found to conflict)."""

    kind: str  # 'published', 'rejected' or 'excluded'
    file: str
    id: str | None
    warnings: tuple[Problem, ...] = ()
    reject: Reject | None = None
    printing: int = 0   # digest of the printing IRI
    content: int = 0    # digest of the record's sorted lines
    work: int = 0       # digest of the work IRI
    title: int = 0      # digests of what the record says of its work, as written: its title
    dates: int = 0      # and its dates
    claims: tuple = ()  # those statements themselves: the parent writes them (conflicts.claim_lines)
    container: int = 0        # digest of the container IRI
    container_text: int = 0   # digest of how the record names it (书籍, 书籍作者)
    container_claims: tuple = ()  # what it says of it (sent twice per batch and wording at most)
    container_note: tuple = ()    # (printing IRI, 书籍, 书籍作者): for the note when the parent keeps another's
    data: bytes | None = field(default=None, repr=False)  # what was read, for the quarantine


@dataclass(frozen=True)
class BatchResult:
    job: BatchJob
    outcomes: tuple[Outcome, ...]
    shard: str
    manifest: str = ""   # one JSON line [sha256, file] per input file, in order
    agents: frozenset[str] = frozenset()  # the agents its published records name (for tags that name one)


def process_batch(context: BatchContext, job: BatchJob) -> BatchResult:
    """Read, parse, map and validate one batch; write its published lines into a shard."""
    manifest = _Manifest()
    found = [Found(path, name, unread) for path, name, unread in job.files]
    items = context.validator(context.mapper(parse(manifest.tap(read_sources(
        found, max_bytes=context.setup.max_record_bytes)))))
    outcomes: list[Outcome] = []
    lines: list[tuple[int, str]] = []
    # agents, books and tags recur within a batch: a line is written once, and a second time when another
    # record says it too, so that the partition sees which nodes several records describe (assemble.py)
    emitted: dict[str, int] = {}
    targets: set[tuple[int, str]] = set()  # (bucket, "node predicate") for sh:targetObjectsOf predicates
    object_targets = context.validator.object_targets
    buckets: dict[str, int] = {}
    agents: set[str] = set()
    worded: dict[tuple[int, int], int] = {}  # (container, wording) -> records of the batch that sent it
    # every stage yields one item per input, in order: item i was read as manifest.data[i]
    for position, item in enumerate(items):
        data = manifest.data[position]
        if not isinstance(item, Validated):
            outcomes.append(Outcome("rejected", item.file, item.id, reject=dataclasses.replace(item, data=data)))
            continue
        record = item.record
        if position in job.excluded:
            outcomes.append(Outcome("excluded", record.file, record.id, data=data))
            continue
        work = context.minter.work(record.id)
        claims = []
        record_lines = set()
        sources = {o for _, p, o in item.triples if p in PROVENANCE}
        content = []
        book, whole = context.mapper.container_subjects(record)
        container, wording = digest(book), digest(f"{record.book}\x1f{record.book_author}")
        # sent by two records at most, as lines are (emitted above): enough to show it is shared
        sent = worded.get((container, wording), 0)
        worded[(container, wording)] = sent + 1
        container_claims = []
        for triple in item.triples:
            subject = triple[0]
            bucket = buckets.get(subject)
            if bucket is None:
                bucket = buckets[subject] = bucket_of(subject)
            line = nt_line(triple)
            if line in record_lines:
                continue
            record_lines.add(line)
            if triple[1] not in PROVENANCE and subject not in sources:
                content.append(line)
            if triple[1] == RDF_TYPE and triple[2] in AGENT_CLASSES:
                agents.add(subject)
            if triple[1] in object_targets and type(triple[2]) is str:
                targets.add((bucket_of(triple[2]), f"{triple[2]} {triple[1]}"))
            if subject == work and triple[1] in WORK_CLAIMS:
                claims.append(triple)  # which printing's title and dates the work keeps is the parent's call
                continue
            if container_claim(triple, book, whole):
                # and so is which record's naming its container keeps; the container's own statements are
                # the same for every record that words it alike, an issue's name is per issue
                if sent < 2 or subject not in (book, whole):
                    container_claims.append(triple)
                continue
            times = emitted.get(line, 0)
            if times < 2:
                emitted[line] = times + 1
                lines.append((bucket, line))
        printing = context.minter.printing_of(record)
        outcomes.append(Outcome("published", record.file, record.id, item.warnings, printing=digest(printing),
                                content=digest("\n".join(sorted(content))), work=digest(record.id),
                                title=digest(record.title), dates=digest(f"{record.date_text}\x1f{record.is_range}"),
                                claims=tuple(claims), container=container, container_text=wording,
                                container_claims=tuple(container_claims),
                                container_note=(printing, record.book, record.book_author)))
    shard = os.path.join(job.work, f"shard-{job.number:07d}.nt")
    write_shard(Path(shard), lines)
    write_shard(Path(target_shard(shard)), sorted(targets))
    return BatchResult(job, tuple(outcomes), shard, "".join(manifest.lines), frozenset(agents))


def target_shard(shard: str) -> str:
    """Where a shard's "node predicate" lines are: nodes that are objects of a targetObjectsOf predicate."""
    return shard[:-3] + ".targets"


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


class _Manifest:
    """One JSON line [sha256, file] per input as it streams past, hashing the bytes already read; a file
    rejected unread (too large, unreadable, a link out of the inputs) is never opened or hashed."""

    def __init__(self):
        self.lines: list[str] = []
        self.data: list[bytes | None] = []  # what was read of each input, in order

    def tap(self, sources: Iterable) -> Iterator:
        for source in sources:
            if isinstance(source, Reject):
                sha, data = "unread", None
            else:
                sha, data = hashlib.sha256(source.data).hexdigest(), source.data
            self.lines.append(json.dumps([sha, source.file], ensure_ascii=False) + "\n")
            self.data.append(data)
            yield source
