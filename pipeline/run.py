"""One publishing run: records stream through read → parse → map → validate in worker processes, a batch
at a time, into bucketed shards; the buckets are then sorted, deduplicated and written as the release.
This module wires the stages, the workers and the output folder; the stages know nothing of each other."""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import hashlib
import json
import math
import os
import shutil
from collections import deque
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .iris import Minter, check_iri
from .mapping import Mapper
from .problems import Problem, Reject
from .record import DEFAULT_MAX_BYTES, Found, InputError, Skipped, discover, parse, read_sources
from .release import Lock, OutputError, Quarantine, Staging, check_overlap, inspect, resolve_out
from .report import Report
from .serialize import (JSONLD_FOOTER, RDF_TYPE_IRI, Prefixes, grouped, jsonld_context, jsonld_header, turtle_header,
                        write_jsonld_groups, write_ntriples, write_turtle_groups)
from .metadata import (Describe, Stats, checksums, dataset_jsonld, void_triples, write_dataset,
                       write_sha256sums, write_void)
from .shards import BUCKETS, bucket_of, read_buckets, write_shard
from .terms import nt_line
from .validate import DEFAULT_ENGINE, Published, Validator, load_shapes
from .vocab import DUMPS, DEFAULT_BASE, DEFAULT_LANG, DEFAULT_LICENSE, DEFAULT_PUBLISHER, DEFAULT_TITLE

OUTPUT_README = Path(__file__).with_name("output_readme.md")
DEFAULT_BATCH = 500           # records per unit of work handed to a worker
RECORDS_PER_PARTITION = 2000  # bounds the memory of sorting one piece of the output (~25 MB of lines)
GZIP_LEVEL = 1  # the fastest level: ~170 MB/s per core at 26 % of the size (level 6: 68 MB/s, 23 %)
ARTICLE_CLASS = "<http://schema.org/Article>"  # as it stands in an article's rdf:type line

Progress = Callable[[str, int, "int | None"], None]  # (phase, done, total)


@dataclass(frozen=True)
class Options:
    base: str = DEFAULT_BASE
    lang: str = DEFAULT_LANG
    shapes: str | Path | None = None
    max_record_bytes: int = DEFAULT_MAX_BYTES
    batch_size: int = DEFAULT_BATCH
    validator: str = DEFAULT_ENGINE
    workers: int | None = None  # None: one per CPU
    strict: bool = False
    max_rejects: int | None = None
    # what the dataset description says (void.ttl, dataset.jsonld)
    title: str = DEFAULT_TITLE
    license: str = DEFAULT_LICENSE
    publisher: str = DEFAULT_PUBLISHER
    date: str | None = None  # YYYY-MM-DD; default SOURCE_DATE_EPOCH, else the newest input file's date
    download_base: str | None = None  # default {base}dumps/
    sparql_endpoint: str | None = None
    allow_empty: bool = False  # may a release with no published record replace one that had some?


class _Stopped(Exception):
    """--max-rejects was exceeded: abandon the staging folder, keep the previous release."""


def run(inputs: Iterable[str | Path], out: str | Path, *, options: Options = Options(),
        progress: Progress | None = None) -> Report:
    """Publish every record under inputs into the folder out; returns the report of what happened."""
    inputs = [Path(item) for item in inputs]
    _init_worker(options)  # fails early on a bad base IRI, language tag or shapes; conflicts re-run here
    for value, what in ((options.license, "--license"), (options.download_base, "--download-base"),
                        (options.sparql_endpoint, "--sparql-endpoint")):
        if value:
            check_iri(value, what)
    for item in inputs:
        if not os.path.lexists(item):
            raise InputError(f"input '{item}' does not exist; name a record file or a folder of *.txt records")
    out = resolve_out(out)
    check_overlap(inputs, out)
    report = Report()
    with Lock(out):
        previous = inspect(out)
        total = sum(1 for item in discover(inputs) if isinstance(item, Found)) if progress else None
        try:
            with Staging(out) as staging:
                work = staging.path / ".work"
                work.mkdir()
                report.log_to(work)
                quarantine = Quarantine(staging.path / "rejects")
                with _Pool(options) as pool:
                    shards, source = _map_phase(inputs, options, pool, work, report, quarantine, progress, total)
                    if report.published == 0 and previous.published and not options.allow_empty:
                        raise OutputError(
                            f"no record was published, and '{out}' holds a release of {previous.published} "
                            "published records; pass --allow-empty to replace it with an empty release")
                    stats = _write_phase(shards, options, pool, staging.path, work, report, progress)
                _finish(staging.path, work, report, stats, _describe(options, source), source)
                staging.publish(read=report.read, published=report.published)
        except _Stopped:
            pass
        finally:
            report.close_logs()
    return report


# --------------------------------------------------------------------------- workers

class _Worker:
    """What one process needs to turn a batch of files into shard lines: built once per process."""

    def __init__(self, options: Options):
        self.options = options
        self.minter = Minter(options.base)
        self.mapper = Mapper(self.minter, lang=options.lang)
        self.validator = Validator(load_shapes(options.shapes), engine=options.validator,
                                   batch_size=min(options.batch_size, 1000), strict=options.strict)


_WORKER: _Worker | None = None


def _init_worker(options: Options, parent: int | None = None) -> None:
    global _WORKER
    if parent is not None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle, in one line
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: pool.terminate() ends us quietly
        _die_with(parent)
    _WORKER = _Worker(options)


def _die_with(parent: int) -> None:
    """A worker whose run was killed (kill -9) must not go on writing into an abandoned folder."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        return  # elsewhere the pool's own pipes end orphaned workers once their batch is done
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the request took effect


@dataclass
class _Batch:
    number: int
    outcomes: list  # per record, in input order: ("published", file, id, key, digest, warnings), Reject,
    # or ("excluded", file, id, data)
    shard: str
    manifest: str = ""  # one JSON line [sha256, file] per input file, in order
    newest: float = 0.0  # the newest modification time among its files
    jobs: list = dataclasses.field(default_factory=list)  # what it was asked to read: (path, name, unread)


def _process_batch(job: tuple[int, list[tuple[str, str]], str, frozenset]) -> _Batch:
    """Read, parse, map and validate one batch; write its published lines into a shard."""
    number, files, work, excluded = job
    worker = _WORKER
    manifest = _Manifest()
    found = [Found(path, name) if unread is None else Found(path, name, unread) for path, name, unread in files]
    items = worker.validator(worker.mapper(parse(manifest.tap(read_sources(
        found, max_bytes=worker.options.max_record_bytes)))))
    outcomes: list = []
    lines: list[tuple[int, str]] = []
    emitted: set[str] = set()  # agents, books and tags recur within a batch: write each line once
    buckets: dict[str, int] = {}
    # every stage yields one item per input, in order: item i was read as manifest.data[i]
    for position, item in enumerate(items):
        if not isinstance(item, Published):
            outcomes.append(dataclasses.replace(item, data=manifest.data[position]))
            continue
        record = item.record
        if position in excluded:
            outcomes.append(("excluded", record.file, record.id, manifest.data[position]))
            continue
        record_lines = set()
        for triple in item.triples:
            subject = triple[0]
            bucket = buckets.get(subject)
            if bucket is None:
                bucket = buckets[subject] = bucket_of(subject)
            line = nt_line(triple)
            record_lines.add(line)
            if line not in emitted:
                emitted.add(line)
                lines.append((bucket, line))
        printing = worker.minter.printing(record.id, record.book, record.book_author)
        outcomes.append(("published", record.file, record.id, _digest(printing),
                         _digest("\n".join(sorted(record_lines))), item.warnings))
    shard = os.path.join(work, f"shard-{number:07d}.nt")
    write_shard(Path(shard), lines)
    return _Batch(number, outcomes, shard, "".join(manifest.lines), manifest.newest, files)


class _Manifest:
    """One JSON line [sha256, file] per input as it streams past, hashing the bytes already read; a file
    rejected unread (too large, unreadable, a link out of the inputs) is never opened or hashed."""

    def __init__(self):
        self.lines: list[str] = []
        self.data: list[bytes | None] = []  # what was read of each input, in order
        self.newest = 0.0

    def tap(self, sources: Iterable) -> Iterator:
        for source in sources:
            if isinstance(source, Reject):
                sha, data = "unread", None
            else:
                sha, data = hashlib.sha256(source.data).hexdigest(), source.data
                self.newest = max(self.newest, source.mtime)
            self.lines.append(json.dumps([sha, source.file], ensure_ascii=False) + "\n")
            self.data.append(data)
            yield source


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _write_partition(job: tuple[int, int, int, list[str], str, str]) -> tuple[int, Stats]:
    """Sort and deduplicate buckets first..last-1 of every shard; write them as four fragments, counting."""
    index, first, last, shards, work, base = job
    prefixes = Prefixes(base)
    stem = os.path.join(work, f"part-{index:05d}")
    stats = Stats()
    with open(stem + ".nt", "w", encoding="utf-8", newline="\n") as nt, \
            open(stem + ".ttl", "w", encoding="utf-8", newline="\n") as ttl, \
            open(stem + ".jsonld", "w", encoding="utf-8", newline="\n") as jsonld, \
            open(stem + ".nt.gz", "wb") as raw, \
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as gz:
        written = False
        for _, lines in read_buckets([Path(s) for s in shards], first, last):
            count = write_ntriples(lines, nt)
            gz.write(("\n".join(lines) + "\n").encode("utf-8"))
            groups = list(grouped(lines))
            write_turtle_groups(groups, ttl, prefixes)
            if written:
                jsonld.write(",")
            write_jsonld_groups(groups, jsonld, prefixes)
            written = True
            stats.triples += count
            stats.subjects += len(groups)
            for subject, pairs in groups:
                for predicate, obj in pairs:
                    stats.properties[predicate] = stats.properties.get(predicate, 0) + 1
                    if predicate == RDF_TYPE_IRI:
                        cls = obj[1:-1]
                        stats.classes[cls] = stats.classes.get(cls, 0) + 1
                        if obj == ARTICLE_CLASS and (stats.example is None or subject < stats.example):
                            stats.example = subject
    return index, stats


class _Done:
    def __init__(self, result):
        self.result = result

    def get(self):
        return self.result


class _SerialPool:
    """The pool interface, run in this process (--workers 1)."""

    def apply_async(self, function, args) -> _Done:
        return _Done(function(*args))


class _Pool:
    def __init__(self, options: Options):
        self.workers = options.workers or os.cpu_count() or 1
        self.options = options

    def __enter__(self):
        if self.workers == 1:
            self.pool = _SerialPool()
        else:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(
                self.workers, initializer=_init_worker, initargs=(self.options, os.getpid()))
        self.pool.workers = self.workers
        return self.pool

    def __exit__(self, *exc):
        if self.workers > 1:
            self.pool.terminate() if exc[0] else self.pool.close()
            self.pool.join()


def _ordered(pool, function, jobs: Iterable, window: int) -> Iterator:
    """Results of function over jobs, in order, with at most `window` jobs in flight (flat memory)."""
    pending: deque = deque()
    for job in jobs:
        pending.append(pool.apply_async(function, (job,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


# --------------------------------------------------------------------------- phase 1: records to shards

@dataclass
class _Source:
    """What the run read: a digest of its manifest and the newest file's time."""

    digest: "hashlib._Hash"
    newest: float = 0.0

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


def _map_phase(inputs, options: Options, pool, work: Path, report: Report, quarantine: Quarantine, progress,
               total) -> tuple[list[str], _Source]:
    jobs = ((number, chunk, str(work), frozenset())
            for number, chunk in enumerate(_batched(_found(inputs, report), options.batch_size)))
    printings = _Printings(work / "manifest.txt")
    shards = []
    source = _Source(hashlib.sha256())
    for batch in _ordered(pool, _process_batch, jobs, window=2 * pool.workers + 1):
        conflicts = printings.conflicts(batch, first_index=batch.number * options.batch_size)
        if conflicts:
            # the conflicting records are already in the shard: write it again without them
            batch = _process_batch((batch.number, batch.jobs, str(work), frozenset(conflicts)))
        for position, outcome in enumerate(batch.outcomes):
            if isinstance(outcome, Reject):
                report.add_reject(outcome)
                quarantine.add(outcome)
            elif outcome[0] == "excluded":
                _, file, record_id, data = outcome
                reject = _conflict_reject(file, record_id, conflicts[position], data)
                report.add_reject(reject)
                quarantine.add(reject)
            else:
                report.add_published(outcome[5])
            if options.max_rejects is not None and report.rejected > options.max_rejects:
                report.stopped = f"more than {options.max_rejects} records rejected (--max-rejects)"
                raise _Stopped
        shards.append(batch.shard)
        printings.files.write(batch.manifest)
        source.digest.update(batch.manifest.encode("utf-8"))
        source.newest = max(source.newest, batch.newest)
        if progress:
            progress("records", report.read, total)
    printings.files.close()
    return shards, source


def _found(inputs, report: Report) -> Iterator[tuple[str, str, str | None]]:
    """What discovery found, as picklable jobs; what it skipped goes to the report."""
    for item in discover(inputs):
        if isinstance(item, Skipped):
            report.add_skipped(item)
        else:
            yield (item.path, item.name, item.unread)


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _files_of(batch: _Batch) -> list[str]:
    return [o.file if isinstance(o, Reject) else o[1] for o in batch.outcomes]


class _Printings:
    """Which printing (same id and book) was published first, and a digest of what it said.

    One int per printing, so a million records cost tens of megabytes; the first file's name is looked up
    in the run's manifest (one line per file, in order) only when a conflict is found."""

    def __init__(self, manifest: Path):
        self.seen: dict[int, int] = {}  # printing -> content digest (48 bits) << 40 | file index
        self.manifest = manifest
        self.files = open(manifest, "w", encoding="utf-8")

    def conflicts(self, batch: _Batch, *, first_index: int) -> dict[int, str]:
        """Records of the batch whose printing was published before with other content: position -> first file."""
        found = {}
        for position, outcome in enumerate(batch.outcomes):
            if isinstance(outcome, Reject):
                continue
            _, file, _, key, digest, _ = outcome
            packed = (digest >> 16) << 40 | (first_index + position)
            first = self.seen.setdefault(key, packed)
            if first >> 40 != packed >> 40:
                found[position] = self._file(first & ((1 << 40) - 1), batch, first_index)
        return found

    def _file(self, index: int, batch: _Batch, first_index: int) -> str:
        if index >= first_index:
            return _files_of(batch)[index - first_index]
        self.files.flush()
        with open(self.manifest, encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                if number == index:
                    return json.loads(line)[1]
        raise AssertionError(f"file {index} is not in the manifest")


def _conflict_reject(file: str, record_id: str, first_file: str, data: bytes | None) -> Reject:
    message = (f"same id and book as {first_file} but different content; keep one version, "
               f"or correct the book name (书籍) if they are different books")
    return Reject(file, record_id, (Problem(file, record_id, "conflict", message, "书籍"),), data=data)


# --------------------------------------------------------------------------- phase 2: shards to the release

def _write_phase(shards: list[str], options: Options, pool, staging: Path, work: Path, report: Report,
                 progress) -> Stats:
    # counted in records, not shard bytes, so that the gzip members (one per partition) depend on the
    # input alone, not on batch sizes or workers
    parts = max(1, min(BUCKETS, math.ceil(report.published / RECORDS_PER_PARTITION)))
    size = math.ceil(BUCKETS / parts)
    ranges = [(i, first, min(first + size, BUCKETS)) for i, first in enumerate(range(0, BUCKETS, size))]
    base = Minter(options.base).base
    jobs = ((i, first, last, shards, str(work), base) for i, first, last in ranges)
    stats = Stats()
    for done, (_, part) in enumerate(_ordered(pool, _write_partition, jobs, window=2 * pool.workers), start=1):
        stats.add(part)
        if progress:
            progress("writing", done, len(ranges))
    report.triples = stats.triples
    _assemble(staging, work, len(ranges), Prefixes(base))
    return stats


def _assemble(staging: Path, work: Path, parts: int, prefixes: Prefixes) -> None:
    """Join the fragments of every partition, in order, into the three dumps."""
    with open(staging / "articles.nt", "wb") as nt, open(staging / "articles.ttl", "wb") as ttl, \
            open(staging / "articles.jsonld", "wb") as jsonld, open(staging / "articles.nt.gz", "wb") as gz:
        ttl.write(turtle_header(prefixes).encode("utf-8"))
        jsonld.write(jsonld_header(prefixes).encode("utf-8"))
        written = False
        for index in range(parts):
            stem = work / f"part-{index:05d}"
            _append(nt, Path(f"{stem}.nt"))
            _append(gz, Path(f"{stem}.nt.gz"))  # gzip members, concatenated, are one gzip file
            _append(ttl, Path(f"{stem}.ttl"))
            if Path(f"{stem}.jsonld").stat().st_size:
                if written:
                    jsonld.write(b",")
                _append(jsonld, Path(f"{stem}.jsonld"))
                written = True
        jsonld.write(JSONLD_FOOTER.encode("utf-8"))
    (staging / "context.jsonld").write_text(
        json.dumps({"@context": jsonld_context(prefixes)}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")


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
        fragment.unlink()


def _describe(options: Options, source: _Source) -> Describe:
    date = options.date
    if date is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")  # the reproducible-builds convention
        stamp = int(epoch) if epoch and epoch.isdigit() else source.newest
        date = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).date().isoformat()
    return Describe(base=Minter(options.base).base, title=options.title, license=options.license,
                    publisher=options.publisher, date=date, download_base=options.download_base,
                    sparql_endpoint=options.sparql_endpoint, lang=options.lang)


def _finish(staging: Path, work: Path, report: Report, stats: Stats, info: Describe, source: _Source) -> None:
    """The dataset description, README, rejects, report.json and SHA256SUMS, counted from the files."""
    prefixes = Prefixes(info.base)
    dumps = [staging / name for name in DUMPS]
    sums = checksums(dumps)
    files = {path.name: (path.stat().st_size, sums[path.name]) for path in dumps}
    write_void(staging / "void.ttl", void_triples(info, stats, files, report.read, source.sha256), prefixes)
    write_dataset(staging / "dataset.jsonld", dataset_jsonld(info, files, report.read, stats))
    (staging / "README.md").write_text(OUTPUT_README.read_text(encoding="utf-8"), encoding="utf-8")
    report.close_logs()
    report.files = {p.name: p.stat().st_size for p in sorted(staging.iterdir())
                    if p.is_file() and not p.name.startswith(".")}
    report.write_json(staging / "report.json", work)
    shutil.rmtree(work)
    others = [p for p in sorted(staging.iterdir()) if p.is_file() and p.name not in sums and not p.name.startswith(".")]
    write_sha256sums(staging, {**sums, **checksums(others)})
