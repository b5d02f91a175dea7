"""Phase two of a run: the shards' buckets sorted, deduplicated and written by every dump writer as one
fragment per partition (in parallel), counted for VoID as they go, then joined in order into the dumps."""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .metadata import Stats
from .serialize import DUMPS, Block, Prefixes, grouped
from .shards import BUCKETS, read_buckets

RECORDS_PER_PARTITION = 2000  # bounds the memory of sorting one piece of the output (~25 MB of lines)


@dataclass(frozen=True)
class PartitionJob:
    index: int
    first: int  # buckets first..last-1
    last: int
    shards: tuple[str, ...]
    work: str
    base: str


def partitions(published: int, shards: list[str], work: Path, base: str) -> list[PartitionJob]:
    """Counted in records, not shard bytes, so that the gzip members (one per partition) depend on the
    input alone, not on batch sizes or workers."""
    parts = max(1, min(BUCKETS, math.ceil(published / RECORDS_PER_PARTITION)))
    size = math.ceil(BUCKETS / parts)
    return [PartitionJob(i, first, min(first + size, BUCKETS), tuple(shards), str(work), base)
            for i, first in enumerate(range(0, BUCKETS, size))]


def fragment_path(work: str | Path, index: int, dump) -> str:
    return os.path.join(work, f"part-{index:05d}-{dump.name}")


def write_partition(_, job: PartitionJob) -> Stats:
    """Sort and deduplicate buckets first..last-1 of every shard; each dump writes its fragment."""
    prefixes = Prefixes(job.base)
    stats = Stats()
    fragments = [dump.fragment(fragment_path(job.work, job.index, dump), prefixes) for dump in DUMPS]
    try:
        for _, lines in read_buckets([Path(s) for s in job.shards], job.first, job.last):
            block = Block(lines, list(grouped(lines)))
            for fragment in fragments:
                fragment.write(block)
            stats.count(block.groups)
    finally:
        for fragment in fragments:
            fragment.close()
    return stats


def assemble(staging: Path, work: Path, parts: int, prefixes: Prefixes) -> None:
    """Join the fragments of every partition, in order, into the dumps, with their companion files."""
    for dump in DUMPS:
        with open(staging / dump.name, "wb") as out:
            out.write(dump.header(prefixes))
            written = False
            for index in range(parts):
                fragment = Path(fragment_path(work, index, dump))
                if fragment.stat().st_size:
                    if written:
                        out.write(dump.separator)
                    _append(out, fragment)
                    written = True
                fragment.unlink()
            out.write(dump.footer())
        for name, data in dump.companions(prefixes).items():
            (staging / name).write_bytes(data)


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
