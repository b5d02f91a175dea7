"""Phase one of a run, for one batch of files: read → parse → map → validate, published lines into a shard.
Runs wherever the engine puts it; what it needs per process is built once by BatchSetup."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .iris import Minter
from .mapping import PROVENANCE, WORK_CLAIMS, Mapper, container_claim
from .problems import Problem, Reject
from .record import parse
from .sources import Found, read_sources
from .shards import bucket_of, chunked, write_chunks, write_shard
from .terms import Triple, nt_line, nt_term
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
    cache: str | None = None  # a previous release's record cache (cache.py) to take unchanged records from
    keep_pieces: bool = True  # send each record's encoded piece to the parent, for this release's cache

    def __call__(self) -> "BatchContext":
        from .cache import Reader

        minter = Minter(self.base)
        return BatchContext(self, minter, Mapper(minter, lang=self.lang, rights=self.rights,
                                                 source_url=self.source_url, authorities=self.authorities),
                            Validator(load_shapes(self.shapes), engine=self.validator,
                                      batch_size=self.pyshacl_batch, strict=self.strict),
                            Reader(self.cache) if self.cache else None)


@dataclass(frozen=True)
class BatchContext:
    setup: BatchSetup
    minter: Minter
    mapper: Mapper
    validator: Validator
    cache: object = None  # a cache.Reader, or None


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
    # (bucket, line) of claims and container_claims as they are, made where the batch runs: the parent writes
    # them as they are for nearly every record (formatting them there cost it ~45 us a record)
    claim_rows: tuple = ()
    container_rows: tuple = ()
    data: bytes | None = field(default=None, repr=False)  # what was read, for the quarantine


@dataclass(frozen=True)
class BatchResult:
    job: BatchJob
    outcomes: tuple[Outcome, ...]
    shard: str
    manifest: str = ""   # one JSON line [sha256, file] per input file, in order
    agents: frozenset[str] = frozenset()  # the agents its published records name (for tags that name one)
    # (file, sha256, encoded Piece, taken from the cache?) of each validated record, in order, for the next
    # run's cache: a piece taken from the cache comes back as it was read (the parent does not fetch it again);
    # none when the release keeps no cache (BatchSetup.keep_pieces)
    pieces: tuple = ()
    reused: int = 0  # records taken from the previous release's cache
    sizes: tuple = ()    # each input's size in bytes (-1: not read)


@dataclass(frozen=True)
class Piece:
    """What one published record contributes whatever batch it is in: its outcome, its lines (deduplicated
    within the record), what it says of its container with whether the statement is the container's own,
    its targetObjectsOf nodes and its agents. A pure function of the file's name, bytes and the setup, so
    the record cache (cache.py) may keep it for the next run."""

    outcome: Outcome  # container_claims left empty: the batch chooses which to send
    # its lines as one UTF-8 chunk per bucket ("line\n" each), buckets ascending: what a shard holds, so a
    # cached piece reaches its shard without its lines being decoded, split and joined again
    chunks: tuple[tuple[int, bytes], ...]
    container_claims: tuple[tuple[Triple, bool], ...]
    targets: tuple[tuple[int, str], ...]
    agents: tuple[str, ...]


def process_batch(context: BatchContext, job: BatchJob) -> BatchResult:
    """Read, parse, map and validate one batch (a record the cache holds is taken from it); write its
    published lines into a shard."""
    from .cache import encode  # cache imports this module

    sources = list(read_sources((Found(path, name, unread) for path, name, unread in job.files),
                                max_bytes=context.setup.max_record_bytes))
    shas = [hashlib.sha256(source.data).hexdigest() if not isinstance(source, Reject) else "unread"
            for source in sources]
    cached = context.cache.pieces(sources, shas) if context.cache else {}
    # every stage yields one item per input, in order
    fresh = iter(context.validator(context.mapper(parse(
        source for position, source in enumerate(sources) if position not in cached))))
    batch = _Batch(context)
    outcomes: list[Outcome] = []
    pieces: list[tuple[str, str, bytes, bool]] = []
    for position, source in enumerate(sources):
        data = None if isinstance(source, Reject) else source.data
        piece, blob = cached.get(position, (None, None))
        if piece is None:
            item = next(fresh)
            if not isinstance(item, Validated):
                outcomes.append(Outcome("rejected", item.file, item.id, reject=dataclasses.replace(item, data=data)))
                continue
            piece = piece_of(context, item)
            if context.setup.keep_pieces:  # encoding costs ~95 us a record (bench/README.md)
                pieces.append((source.file, shas[position], encode(piece), False))
        elif context.setup.keep_pieces:  # a renamed piece is encoded again: its stored bytes name another file
            pieces.append((source.file, shas[position], blob if blob is not None else encode(piece), True))
        if position in job.excluded:
            outcomes.append(Outcome("excluded", piece.outcome.file, piece.outcome.id, data=data))
            continue
        outcomes.append(batch.add(piece))
    shard = os.path.join(job.work, f"shard-{job.number:07d}.nt")
    write_chunks(shard, batch.chunks)
    write_shard(target_shard(shard), sorted(batch.targets))
    manifest = "".join(json.dumps([sha, source.file], ensure_ascii=False) + "\n" for sha, source in zip(shas, sources))
    return BatchResult(job, tuple(outcomes), shard, manifest, frozenset(batch.agents), pieces=tuple(pieces),
                       reused=len(cached),
                       sizes=tuple(
                           -1 if isinstance(source, Reject) else len(source.data) for source in sources))


def piece_of(context: BatchContext, item: Validated) -> Piece:
    """One validated record's piece: its lines as N-Triples, once each, and the digests conflict detection needs."""
    record = item.record
    work = context.minter.work(record.id)
    claims, container_claims, lines, content, targets = [], [], [], [], set()
    record_lines = set()
    sources = {o for _, p, o in item.triples if p in PROVENANCE}
    book, whole = context.mapper.container_subjects(record)
    object_targets = context.validator.object_targets
    agents = set()
    # a record's ~70 triples have ~12 subjects, and its title is the object of six: what depends on the
    # subject alone and each object's N-Triples form are made once a record: 284-352 -> 238-307 us a record
    # (3,000 records, one core, old and new alternating; ~102 triples a record before deduplication)
    subjects: dict[str, tuple] = {}
    objects: dict = {}
    buckets: dict[str, int] = {}
    issue_prefix = book + "/issue/"
    for triple in item.triples:
        subject, predicate, obj = triple
        about = subjects.get(subject)
        if about is None:
            bucket = buckets.get(subject)
            if bucket is None:
                bucket = buckets[subject] = bucket_of(subject)
            about = subjects[subject] = (
                bucket, f"<{subject}> <", subject in sources, subject == work,
                subject == book or subject == whole or subject.startswith(issue_prefix))
        bucket, head, from_source, is_work, maybe_container = about
        term = objects.get(obj)
        if term is None:
            term = objects[obj] = nt_term(obj)
        line = f"{head}{predicate}> {term} ."
        if line in record_lines:
            continue
        record_lines.add(line)
        if predicate not in PROVENANCE and not from_source:
            content.append(line)
        if predicate == RDF_TYPE and obj in AGENT_CLASSES:
            agents.add(subject)
        if predicate in object_targets and type(obj) is str:
            target_bucket = buckets.get(obj)
            if target_bucket is None:
                target_bucket = buckets[obj] = bucket_of(obj)
            targets.add((target_bucket, f"{obj} {predicate}"))
        if is_work and predicate in WORK_CLAIMS:
            claims.append(triple)  # which printing's title and dates the work keeps is the parent's call
        elif maybe_container and container_claim(triple, book, whole):
            # and so is which record's naming its container keeps
            container_claims.append((triple, subject in (book, whole)))
        else:
            lines.append((bucket, line))
    printing = context.minter.printing_of(record)
    outcome = Outcome("published", record.file, record.id, item.warnings, printing=digest(printing),
                      content=digest("\n".join(sorted(content))), work=digest(record.id),
                      title=digest(record.title), dates=digest(f"{record.date_text}\x1f{record.is_range}"),
                      claims=tuple(claims), container=digest(book),
                      container_text=digest(f"{record.book}\x1f{record.book_author}"),
                      container_note=(printing, record.book, record.book_author))
    return Piece(outcome, chunked(lines), tuple(container_claims), tuple(sorted(targets)), tuple(sorted(agents)))


class _Batch:
    """The pieces of one batch combined: what depends on which records share the batch."""

    def __init__(self, context: BatchContext):
        self.chunks: dict[int, list[bytes]] = {}
        # agents, books and tags recur within a batch: a record's chunk of a bucket is written once, and a
        # second time when another record has the same chunk, so that the partition still sees every line that
        # several records say as repeated (assemble.py). Records of one book or author have the same chunk of
        # its bucket, and shards are as large as with lines deduplicated (274.0 MB against 273.8 at 20k); a
        # rerun's reading phase took 4.3-5.2 s against 5.6-6.7 with lines (20k, 1 % changed, bench/README.md)
        self.emitted: dict[bytes, int] = {}
        self.targets: set[tuple[int, str]] = set()  # (bucket, "node predicate") for sh:targetObjectsOf predicates
        self.agents: set[str] = set()
        self.worded: dict[tuple[int, int], int] = {}  # (container, wording) -> records of the batch that sent it

    def add(self, piece: Piece) -> Outcome:
        emitted, chunks = self.emitted, self.chunks
        for bucket, chunk in piece.chunks:
            times = emitted.get(chunk, 0)
            if times < 2:
                emitted[chunk] = times + 1
                chunks.setdefault(bucket, []).append(chunk)
        self.targets.update(piece.targets)
        self.agents.update(piece.agents)
        outcome = piece.outcome
        key = (outcome.container, outcome.container_text)
        # the container's own statements are the same for every record that words it alike (an issue's name
        # is per issue): sent by two records of the batch at most, as lines are, enough to show it is shared
        sent = self.worded.get(key, 0)
        self.worded[key] = sent + 1
        claims = tuple(triple for triple, own in piece.container_claims if sent < 2 or not own)
        return dataclasses.replace(outcome, container_claims=claims, claim_rows=rows(outcome.claims),
                                   container_rows=rows(claims))


def rows(triples) -> tuple[tuple[int, str], ...]:
    """(bucket, N-Triples line) of each triple, as shards hold them."""
    return tuple((bucket_of(triple[0]), nt_line(triple)) for triple in triples)


def target_shard(shard: str) -> str:
    """Where a shard's "node predicate" lines are: nodes that are objects of a targetObjectsOf predicate."""
    return shard[:-3] + ".targets"


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
