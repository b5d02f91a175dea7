"""One publishing run, composed: discover → (read → parse → map → validate) per batch on an engine →
conflicts checked in input order → shards sorted and written by every dump → description → the release.
This module only wires the stages, the engine and the release folder; each lives in its own module."""

from __future__ import annotations

import datetime
import os
import shutil
from contextlib import ExitStack
from array import array
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .assemble import assemble, partitions, write_partition
from .batch import BatchJob, BatchResult, BatchSetup, process_batch, target_shard
from .cache import FILE as CACHE_FILE, INPUTS, Inputs, Writer, fingerprint, usable as cache_usable
from .changes import FOLDER, INDEX, NTRIPLES, bucket_index, change_set_for, version_iri
from .conflicts import Printings, claim_lines, conflict_reject, container_disagreement, disagreement
from . import remote
from .iris import Minter
from . import kept
from .mapping import Mapper
from .shards import Scratch, open_file, write_shard
from .engine import Engine, engine_for, run_here
from .metadata import (Describe, Stats, checksums, sha256_of, dataset_jsonld, version_triples, void_triples, write_dataset,
                       write_sha256sums, write_void)
from .options import Options
from .problems import OptionError, PipelineError
from .sources import Found, InputError, Skipped, discover
from .readme import Counts, changes, citation_cff, placeholders, readme
from .release import PUBLISHER, Lock, OutputError, Previous, Quarantine, Staging, check_overlap, inspect, resolve_out
from .report import Report
from .resources import queries_dir
from .serialize import DUMP_NAMED, DUMPS, Prefixes
from .validate import PYSHACL_BATCH


CLAIMS_PER_SHARD = 20_000  # records whose claims share one shard (~8 lines each: ~25 MB held at most)

Progress = Callable[[str, int, "int | None"], None]  # (phase, done, total)


class _Stopped(Exception):
    """--max-rejects was exceeded: abandon the staging folder, keep the previous release."""


@dataclass
class _Read:
    """What the run read: its shards and a digest of its input manifest."""

    shards: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # each batch's target shard (batch.target_shard)
    agents: set[str] = field(default_factory=set)     # every agent the published records name
    manifest: object = None  # a hashlib sha256 of the input manifest
    cache: dict = field(default_factory=dict)  # the record cache's fingerprint and SHA-256, for the marker


class Inconsistent(PipelineError):
    """The release-level check found nodes that several records describe and that, merged, break the
    shapes: nothing is published (the previous release stays)."""


def run(inputs: Iterable[str | Path], out: str | Path, *, options: Options = Options(),
        progress: Progress | None = None, engine: Engine | None = None, since: str | Path | None = None,
        reuse: bool = True, scratch: str | None = None) -> Report:
    """Publish every record under inputs into the folder out; returns the report of what happened.

    Records whose file is unchanged since the previous release (the release in since, else the one in out)
    are taken from its record cache instead of being processed again, when it was made with the same code
    and options (cache.py); reuse=False processes every record. What is published is the same either way.
    Shards and fragments go into the staging folder, or below the fsspec URL scratch (shards.Scratch)."""
    inputs = [remote.as_input(item) for item in inputs]
    options.check()
    for item in inputs:
        if not (remote.exists(item) if remote.is_url(item) else os.path.lexists(item)):
            raise InputError(f"input '{remote.shown(str(item))}' does not exist; name a record file or a folder of "
                             "*.txt records")
    out = resolve_out(out)
    check_overlap([item for item in inputs if not remote.is_url(item)], out)
    report = Report()
    since = Path(os.path.abspath(since)).resolve() if since is not None else None
    engine = engine or engine_for(options.workers)
    _check_scratch(scratch, inputs, out)
    if scratch and scratch.lower().startswith("memory://") and engine.workers != 1:
        raise OptionError("--scratch memory://… lives in this process only, and other processes write the shards; "
                          "name a URL every worker reaches (s3://…, a shared folder), or pass --workers 1")
    with Lock(out):
        previous = inspect(out)
        made_by = fingerprint(_setup(options))  # what a cache must have been made under (cache.py)
        earlier = _earlier(out, previous, since) if reuse else None
        setup = _setup_with_cache(options, made_by, earlier, report)
        total = _count(inputs, progress) if progress else None
        try:
            with Staging(out) as staging, engine as workers, ExitStack() as stack:
                work = staging.path / ".work"
                work.mkdir()
                report.log_to(work)
                shared = stack.enter_context(Scratch(scratch, work))
                records = Writer(staging.path / PUBLISHER / CACHE_FILE) if options.record_cache else None
                manifest = Inputs(staging.path / PUBLISHER / INPUTS)
                try:
                    read = _read_phase(inputs, setup, options, workers, work, shared.path, report,
                                       Quarantine(staging.path / PUBLISHER / "rejects"), records, manifest,
                                       progress, total)
                finally:
                    if records:
                        records.close()
                    manifest.close()
                read.cache = {"fingerprint": made_by, "sha256": sha256_of(records.path)} if records else None
                if report.published == 0 and previous.published and not options.allow_empty:
                    raise OutputError(f"no record was published, and '{out}' holds a release of "
                                      f"{previous.published} published records; pass --allow-empty to replace it "
                                      "with an empty release")
                # unchanged buckets are copied by the workers from the earlier release when they see this
                # machine's files (as the shards in the staging folder show they do)
                copy_from = earlier if earlier and not remote.is_url(shared.path) else None
                stats, dump_sums, index, table = _write_phase(read, setup, options, workers, staging.path,
                                                              shared.path, report, progress, copy_from, made_by)
                info = Describe(options, _release_date(options, read, previous))
                # the change set's parts go to the workers when they see this machine's files (as the shards
                # in the staging folder show they do); with shards below a URL, they may not
                parts_engine = None if remote.is_url(shared.path) else workers
                about = _finish(staging.path, work, report, stats, dump_sums, index, info, read, previous, out,
                                parts_engine)
                about["buckets"] = table
                staging.publish(read=report.read, published=report.published, about=about)
        except _Stopped:
            pass
        finally:
            report.close_logs()
    return report


def _check_scratch(scratch: str | None, inputs: list, out: Path) -> None:
    """A local --scratch must be outside the inputs (the next run would find agents.txt there) and outside
    OUT (the release replaces that folder as a whole)."""
    if not scratch:
        return
    local = remote.as_input(scratch)
    if remote.is_url(local):
        return
    folder = Path(os.path.abspath(local)).resolve()
    for item in [*(i for i in inputs if not remote.is_url(i)), out]:
        held = Path(item).resolve()
        if folder == held or held in folder.parents:
            raise OptionError(f"--scratch '{scratch}' is inside '{item}'; name a folder outside the inputs and "
                              "the output")


def _earlier(out: Path, previous: Previous, since: Path | None) -> tuple[Path, dict] | None:
    """The release this run may take unchanged records and buckets from, with its marker's record: the one
    named by since, else the one in out, if any."""
    if since is None:
        return (out, previous.about) if previous.exists else None
    try:
        found = inspect(since) if since.is_dir() else Previous(False)
    except OutputError as error:
        raise OutputError(f"--since '{since}' is not a release as this tool wrote it ({error})") from None
    if not found.exists:
        raise OutputError(f"--since '{since}' holds no release; name the folder of a release this tool wrote")
    return since, found.about


def _setup_with_cache(options: Options, made_by: str, earlier: tuple[Path, dict] | None,
                      report: Report) -> BatchSetup:
    """The workers' setup, naming the earlier release's record cache when this run may use it (else
    report.cache_note says why not)."""
    setup = _setup(options)
    if earlier is None:
        return setup
    path, why = cache_usable(*earlier, made_by)
    if path is None:
        report.cache_note = f"every record processed: {why}"
        return setup
    return replace(setup, cache=str(path))


def _read_phase(inputs, setup: BatchSetup, options: Options, engine: Engine, work: Path, shared: str,
                report: Report, quarantine: Quarantine, records: Writer | None, manifest: Inputs, progress,
                total) -> _Read:
    """work: the parent's own folder; shared: where shards go (work, or below --scratch)."""
    import hashlib

    jobs = (BatchJob(number, tuple(chunk), shared)
            for number, chunk in enumerate(_batched(_found(inputs, report), options.batch_size)))
    printings = Printings(work / "manifest.txt")
    read = _Read(manifest=hashlib.sha256())
    claims = _Claims(shared, read.shards)
    notes = Mapper(Minter(options.base), lang=options.lang)  # a renamed container's naming, on its printing
    for batch in engine.map(process_batch, jobs, setup=setup):
        conflicts = printings.conflicts(batch)
        if conflicts:  # the conflicting records are already in the shard: write it again, here, without them
            batch = run_here(process_batch, BatchJob(batch.job.number, batch.job.files, shared,
                                                     frozenset(conflicts)), setup=setup)
        later = printings.disagreements(batch, conflicts)
        renamed = printings.container_disagreements(batch, conflicts)
        claims.add(claim_lines(batch, later, renamed, notes), len(batch.outcomes))
        _account(batch, conflicts, later, renamed, report, quarantine, options.max_rejects)
        printings.add(batch)
        if records:
            records.add(batch.pieces)
        report.reused += batch.reused
        manifest.add(batch)
        read.shards.append(batch.shard)
        read.targets.append(target_shard(batch.shard))
        read.agents |= batch.agents
        read.manifest.update(batch.manifest.encode("utf-8"))
        if progress:
            progress("records", report.read, total)
    claims.flush()
    printings.close()
    return read


def _setup(options: Options) -> BatchSetup:
    return BatchSetup(options.base, options.lang, options.shapes, options.validator,
                      min(options.batch_size, PYSHACL_BATCH), options.strict, options.max_record_bytes,
                      options.rights, options.source_url,
                      str(Path(options.authorities).resolve()) if options.authorities else None,
                      keep_pieces=options.record_cache)


class _Claims:
    """What records say of their works, written by the parent into shards of their own: one per
    CLAIMS_PER_SHARD records, not one per batch, since every partition reads the index of every shard."""

    def __init__(self, work: str, shards: list[str]):
        self.work, self.shards = work, shards
        self.lines: list[tuple[int, str]] = []
        self.records = 0

    def add(self, lines: list[tuple[int, str]], records: int) -> None:
        self.lines += lines
        self.records += records
        if self.records >= CLAIMS_PER_SHARD:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            path = os.path.join(self.work, f"claims-{len(self.shards):07d}.nt")
            write_shard(path, self.lines)
            self.shards.append(path)
        self.lines, self.records = [], 0


def _account(batch: BatchResult, conflicts: dict[int, str], later: dict[int, tuple], renamed: dict[int, str],
             report: Report, quarantine: Quarantine, max_rejects: int | None) -> None:
    for position, outcome in enumerate(batch.outcomes):
        if outcome.kind == "published":
            extra = (disagreement(outcome.file, outcome.id, *later[position]),) if position in later else ()
            if position in renamed:
                extra += (container_disagreement(outcome.file, outcome.id, renamed[position]),)
            report.add_published(outcome.warnings + extra)
            continue
        reject = outcome.reject or conflict_reject(outcome.file, outcome.id, conflicts[position], outcome.data)
        report.add_reject(reject)
        quarantine.add(reject)
        if max_rejects is not None and report.rejected > max_rejects:
            report.stopped = f"more than {max_rejects} records rejected (--max-rejects)"
            raise _Stopped


def _count(inputs, progress) -> int:
    """How many files there are to read, saying so as they are found (a large tree takes a while)."""
    found = 0
    for item in discover(inputs):
        if isinstance(item, Found):
            found += 1
            if found % 1000 == 0:
                progress("discovering", found, None)
    return found


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


def _write_phase(read: _Read, setup: BatchSetup, options: Options, engine: Engine, staging: Path, work: str,
                 report: Report, progress, earlier: tuple[Path, dict] | None, made_by: str
                 ) -> tuple[Stats, dict[str, str], "array | None", dict]:
    """Every dump written, each bucket unchanged since the earlier release copied from it where it can
    (kept.py); returns what was counted, each dump's SHA-256, the N-Triples dump's bucket index (None if it
    does not fit the file: then the next change set is found line by line) and the marker's record of the
    bucket table this release keeps."""
    agents = os.path.join(work, "agents.txt")  # for tags that name an agent (assemble.ConceptFocus)
    with open_file(agents, "w", encoding="utf-8", newline="\n") as stream:
        stream.write("".join(f"{iri}\n" for iri in sorted(read.agents)))
    table = kept.read_table(*earlier, made_by) if earlier else {}
    jobs = partitions(report.published, read.shards, work, options.minted_base, read.targets, agents,
                      str(earlier[0]) if earlier else None, table)
    stats = Stats()
    inconsistent, sizes, buckets = [], [], []
    for done, part in enumerate(engine.map(write_partition, jobs, setup=setup), start=1):
        stats.add(part.stats)
        sizes += part.sizes
        buckets += [(done - 1, bucket) for bucket in part.buckets]
        inconsistent.extend(part.inconsistent)
        report.shared_checked += part.shared
        report.copied_buckets += part.copied
        if progress:
            progress("writing", done, len(jobs))
    if inconsistent:
        raise Inconsistent(_inconsistent_message(inconsistent))
    report.triples = stats.triples
    sums, starts = assemble(staging, work, len(jobs), Prefixes(options.minted_base))
    path = staging / PUBLISHER / kept.FILE
    kept.write_table(path, [bucket.moved(tuple(starts[dump.name][part] for dump in kept.COPIED))
                            for part, bucket in buckets])
    index = bucket_index(sizes)
    return (stats, sums, index if index[-1] == (staging / NTRIPLES).stat().st_size else None,
            {"fingerprint": made_by, "sha256": sha256_of(path)})


def _inconsistent_message(results: list) -> str:
    shown = "\n".join(f"  {result}" for result in results[:10])
    more = f"\n  … and {len(results) - 10} more" if len(results) > 10 else ""
    return (f"{len(results)} violation(s) on resources that several records describe, found only once they are "
            f"merged, so nothing was published:\n{shown}{more}\nThe records that name these resources disagree "
            "(search the inputs for the values shown) or a shape counts what several records add up to; correct "
            "the records or the shapes and run again.")


def _release_date(options: Options, read: _Read, previous: Previous) -> str:
    """--date, else SOURCE_DATE_EPOCH, else the previous release's date when the inputs are the same
    (so that a rerun is byte-identical), else today (UTC): the day the release was made."""
    if options.date:
        return options.date
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # the reproducible-builds convention
    if epoch and epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date().isoformat()
    if previous.about.get("input_sha256") == read.manifest.hexdigest() and previous.about.get("date"):
        return previous.about["date"]
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def _finish(staging: Path, work: Path, report: Report, stats: Stats, dump_sums: dict[str, str], index, info: Describe,
            read: _Read, previous: Previous, out: Path, engine: Engine | None = None) -> dict:
    """The change set, the dataset description, README, citation, example queries, the publisher's report
    and SHA256SUMS, counted from the files; returns what the marker keeps for the next release."""
    prefixes = Prefixes(info.base)
    dumps = [staging / dump.name for dump in DUMPS]
    sums = dict(dump_sums)  # taken as the dumps were joined
    files = {path.name: (path.stat().st_size, sums[path.name]) for path in dumps}
    version = version_iri(info.base, sums[NTRIPLES])
    change = change_set_for(staging, out, previous.about if previous.exists else {}, version=version,
                            ntriples_sha=sums[NTRIPLES], base=info.base, index=index,
                            previous_index=out / PUBLISHER / INDEX, engine=engine)
    if index is not None:
        (staging / PUBLISHER / INDEX).write_bytes(index.tobytes())
    change_files = checksums(sorted((staging / FOLDER).glob("*")), root=staging) if change else {}
    sized = {name: ((staging / name).stat().st_size, sha) for name, sha in change_files.items()}
    sums.update(change_files)
    write_void(staging / "void.ttl", void_triples(info, stats, files, report.read, read.manifest.hexdigest())
               + version_triples(info, version, change, sized), prefixes)
    write_dataset(staging / "dataset.jsonld", dataset_jsonld(info, files, report.read, stats))
    (staging / "queries").mkdir()
    for query in sorted(queries_dir().glob("*.rq")):
        shutil.copyfile(query, staging / "queries" / query.name)
    (staging / "CITATION.cff").write_text(citation_cff(info), encoding="utf-8")
    counts = Counts.of(report, stats)
    public = _public_files(staging)
    sums.update(checksums([staging / name for name in public if name not in sums], root=staging))
    unchanged = previous.about.get("dumps") == {name: sums[name] for name in DUMP_NAMED}
    change_text = previous.about.get("changes", "") if unchanged and previous.about else \
        changes(previous.about or None, counts, sums, change)
    listed = {name: ((staging / name).stat().st_size, sums[name]) for name in public}
    (staging / "README.md").write_text(readme(info, counts, listed, change_text), encoding="utf-8")
    report.notices = placeholders(info.options)
    report.close_logs()
    report.files = {name: (staging / name).stat().st_size for name in _public_files(staging)}
    report.write_json(staging / PUBLISHER / "report.json", work)
    shutil.rmtree(work)
    sums.update(checksums([staging / "README.md"], root=staging))
    write_sha256sums(staging, {name: sums[name] for name in _public_files(staging)})
    return {"input_sha256": read.manifest.hexdigest(), "date": info.date, "counts": counts.as_dict(),
            "dumps": {name: sums[name] for name in DUMP_NAMED}, "changes": change_text,
            "version": version, "change_set": change.as_dict() if change else None, "cache": read.cache,
            "bucket_index": sha256_of(staging / PUBLISHER / INDEX) if index is not None else None}


def _public_files(staging: Path) -> list[str]:
    """Every file a downloader gets: all but the marker, SHA256SUMS and the publisher's folder."""
    found = []
    for path in staging.rglob("*"):
        parts = path.relative_to(staging).parts
        if path.is_file() and path.name != "SHA256SUMS" and parts[0] != PUBLISHER \
                and not any(part.startswith(".") for part in parts):
            found.append(str(path.relative_to(staging)))
    return sorted(found)
