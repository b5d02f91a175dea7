"""Conflicts across batches: two records of the same printing (id and book) with different content.
The first one published wins; the parent checks each batch in input order, so the winner never depends on
the engine, the workers or the batch size."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

from .batch import BatchResult
from .problems import Problem, Reject

_INDEX_BITS = 40  # a file's position in the run; the content digest's top 48 bits sit above it


_UINT32 = next(code for code in "ILQ" if array(code).itemsize >= 4)  # 'I' on every platform we know


class PackedMap:
    """setdefault over 64-bit keys (digests: uniformly spread) and values of up to 96 bits, kept in arrays
    with open addressing and linear probing (slots of 21 bytes, at most 70 % used). A dict holds two int
    objects an entry: a million random entries traced 109 MB in a dict, 42 MB here (63 MB while it last
    grows), at 2.6 us a call against 0.4, growth included; the parent makes three calls a record."""

    _LOAD = 0.7

    def __init__(self, capacity: int = 1 << 12):
        self._mask = capacity - 1
        self._used = bytearray(capacity)
        self._keys = array("Q", [0]) * capacity
        self._low = array("Q", [0]) * capacity   # the value's low 64 bits
        self._high = array(_UINT32, [0]) * capacity  # and the 32 above them
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def setdefault(self, key: int, value: int) -> int:
        """The value kept for key: the one given first."""
        if value >> 96 or key >> 64 or key < 0 or value < 0:
            raise ValueError("a PackedMap holds 64-bit keys and 96-bit values, not negative")
        used, keys, mask = self._used, self._keys, self._mask
        slot = key & mask
        while used[slot]:
            if keys[slot] == key:
                return self._high[slot] << 64 | self._low[slot]
            slot = (slot + 1) & mask
        self._put(slot, key, value)
        self._size += 1
        if self._size > self._LOAD * (mask + 1):
            self._grow()
        return value

    def _put(self, slot: int, key: int, value: int) -> None:
        self._used[slot] = 1
        self._keys[slot] = key
        self._low[slot] = value & 0xFFFF_FFFF_FFFF_FFFF
        self._high[slot] = value >> 64

    def _grow(self) -> None:
        """Twice the slots, every entry moved (reading the old arrays: no list of entries in between)."""
        used, keys, low, high = self._used, self._keys, self._low, self._high
        size = self._size
        self.__init__(2 * len(used))
        new_used, new_keys, mask = self._used, self._keys, self._mask
        for old in range(len(used)):
            if used[old]:
                slot = keys[old] & mask
                while new_used[slot]:
                    slot = (slot + 1) & mask
                new_used[slot] = 1
                new_keys[slot] = keys[old]
                self._low[slot] = low[old]
                self._high[slot] = high[old]
        self._size = size


class Printings:
    """Which printing was published first, and a digest of what it said.

    Two packed integers per printing and work (PackedMap), so a million records cost tens of megabytes; the
    first file's name is looked up in the run's manifest (one JSON line per file, in order) only when a
    conflict is found."""

    def __init__(self, manifest: Path):
        self.seen = PackedMap()  # printing -> content digest (48 bits) << 40 | file index
        self.works = PackedMap()  # work -> title (24 bits) << 64 | dates (24 bits) << 40 | file index
        self.containers = PackedMap()  # container -> its wording (48 bits) << 40 | file index
        self.manifest = manifest
        self.files = open(manifest, "wb")
        # where each file's line starts: a conflict's first file is read back at once, not by a scan of every
        # line before it (1,005 scans took 12 s of a 100k run; 8 bytes a file)
        self.offsets = array("q")
        self.count = 0  # files in the manifest so far

    def conflicts(self, batch: BatchResult) -> dict[int, str]:
        """Records of the batch whose printing was published before with other content:
        position in the batch -> the file published first."""
        return self._first_said_otherwise(self.seen, batch, {}, lambda o: (o.printing, o.content))

    def disagreements(self, batch: BatchResult, excluded: dict[int, str]) -> dict[int, tuple[str, bool, bool]]:
        """Printings of the batch whose work an earlier printing (in input order) gave another title or
        other dates: position -> (the first printing's file, title differs, dates differ)."""
        found = {}
        for position, outcome in enumerate(batch.outcomes):
            if outcome.kind != "published" or position in excluded:
                continue
            packed = (outcome.title >> 40) << 64 | (outcome.dates >> 40) << _INDEX_BITS | (self.count + position)
            first = self.works.setdefault(outcome.work, packed)
            title, dates = first >> 64 != packed >> 64, (first >> _INDEX_BITS) & 0xFFFFFF != outcome.dates >> 40
            if title or dates:
                found[position] = (self._file(first & ((1 << _INDEX_BITS) - 1), batch), title, dates)
        return found

    def container_disagreements(self, batch: BatchResult, excluded: dict[int, str]) -> dict[int, str]:
        """Records of the batch that name their container otherwise than its first record (in input
        order) did: position -> that first record's file."""
        return self._first_said_otherwise(self.containers, batch, excluded, lambda o: (o.container, o.container_text))

    def _first_said_otherwise(self, first: PackedMap, batch: BatchResult, excluded, key_and_value) -> dict[int, str]:
        """position -> the file that first gave the same key another value (48 bits of its digest)."""
        found = {}
        for position, outcome in enumerate(batch.outcomes):
            if outcome.kind != "published" or position in excluded:
                continue
            key, value = key_and_value(outcome)
            packed = (value >> 16) << _INDEX_BITS | (self.count + position)
            earlier = first.setdefault(key, packed)
            if earlier >> _INDEX_BITS != packed >> _INDEX_BITS:
                found[position] = self._file(earlier & ((1 << _INDEX_BITS) - 1), batch)
        return found

    def add(self, batch: BatchResult) -> None:
        """The batch is settled: its files join the manifest."""
        position = self.files.tell()
        for line in batch.manifest.split("\n")[:-1]:  # not splitlines(): a name may hold U+2028
            data = (line + "\n").encode("utf-8")
            self.offsets.append(position)
            self.files.write(data)
            position += len(data)
        self.count += len(batch.outcomes)

    def close(self) -> None:
        self.files.close()

    def _file(self, index: int, batch: BatchResult) -> str:
        if index >= self.count:
            return batch.outcomes[index - self.count].file
        self.files.flush()
        with open(self.manifest, "rb") as lines:
            lines.seek(self.offsets[index])
            return json.loads(lines.readline().decode("utf-8"))[1]


def conflict_reject(file: str, record_id: str | None, first_file: str, data: bytes | None) -> Reject:
    message = (f"same id and book as {first_file} but different content; keep one version, "
               f"or correct the book name (书籍) if they are different books")
    return Reject(file, record_id, (Problem(file, record_id, "conflict", message, "书籍", code="conflict.same-book"),),
                  data=data)


def disagreement(file: str, record_id: str | None, first_file: str, title: bool, dates: bool) -> Problem:
    what = " and ".join(word for word, differs in (("title", title), ("date", dates)) if differs)
    message = (f"the same article as {first_file} (another book) with another {what}: the article keeps "
               f"{first_file}'s; this printing keeps its own" + (", and its title is an alternative of the "
                                                                  "article's" if title else "")
               + "; correct whichever is wrong, or give different articles different ids")
    return Problem(file, record_id, "conflict", message, "标题" if title else "日期", "warning", "work.disagreement")


def container_disagreement(file: str, record_id: str | None, first_file: str) -> Problem:
    message = (f"names its container (书籍, 书籍作者) otherwise than {first_file}, from the same container folder: "
               f"the container keeps {first_file}'s; this printing keeps its own as written; correct whichever "
               "is wrong")
    return Problem(file, record_id, "conflict", message, "书籍", "warning", "container.disagreement")


def claim_lines(batch: BatchResult, later: dict[int, tuple[str, bool, bool]], later_containers: dict[int, str],
                mapper) -> list[tuple[int, str]]:
    """(bucket, line) of what each published record of the batch says of its work (title, dates): as
    is for a first printing, as alternatives (title) or not at all (dates) for a later one that disagrees;
    and of its container, unless an earlier record named it otherwise (then its own naming, as a note
    on its printing). The parent writes these, in input order, so no batch is processed twice."""
    from .batch import rows
    from .mapping import as_later_printing

    lines = []
    for position, outcome in enumerate(batch.outcomes):
        if outcome.kind != "published":
            continue
        if position in later:
            _, title, dates = later[position]
            claims = list(outcome.claims)
            lines += rows(as_later_printing(claims, claims[0][0], title, dates))
        else:
            lines += outcome.claim_rows
        lines += rows(mapper.container_notes(*outcome.container_note)) if position in later_containers \
            else outcome.container_rows
    return lines
