"""The account of a run: how many records were read, published and rejected, and every problem.
It counts what the stages yield; every reject and warning goes to JSON-lines files beside the release
(so memory stays flat), and report.json is assembled from them at the end."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .problems import Problem, Reject

KEPT = 1000  # rejects and warnings kept in memory for the summary and the library caller; all are on disk


def reject_entry(reject: Reject) -> dict:
    return {"file": reject.file, "id": reject.id, "stage": reject.problems[0].stage,
            "message": "; ".join(p.message for p in reject.problems),
            "problems": [p.as_dict() for p in reject.problems]}


@dataclass
class Report:
    read: int = 0
    published: int = 0
    rejected: int = 0
    warning_count: int = 0
    skipped_count: int = 0
    triples: int = 0
    shared_checked: int = 0  # resources several records describe, validated again once merged
    # how the run went, not what it published: kept out of report.json, so that a rerun that reuses records
    # writes the same release, byte for byte, as one that processes them all
    # records taken from a previous release's record cache (cache.py), not processed: the published, and
    # those the parent then leaves out as conflicting printings; the other read - reused records were processed
    reused: int = 0
    cache_note: str | None = None  # why a previous release's cache was not used, when there was one to use
    copied_buckets: int = 0  # buckets whose Turtle and JSON-LD were copied from the previous release (kept.py)
    rejects: list[Reject] = field(default_factory=list)      # the first KEPT
    warnings: list[Problem] = field(default_factory=list)    # the first KEPT
    files: dict[str, int] = field(default_factory=dict)      # written file -> bytes
    stopped: str | None = None  # why the run stopped early (--max-rejects), if it did
    skipped: list = field(default_factory=list)  # record.Skipped: below the inputs, not records, not read
    notices: list = field(default_factory=list)  # what the release left at a placeholder (readme.placeholders)
    _reject_log: IO[str] | None = field(default=None, repr=False)
    _warning_log: IO[str] | None = field(default=None, repr=False)

    def log_to(self, folder: Path) -> None:
        """Write every reject and warning to JSON-lines files in folder as they come."""
        self._reject_log = open(folder / "rejects.jsonl", "w", encoding="utf-8")
        self._warning_log = open(folder / "warnings.jsonl", "w", encoding="utf-8")

    def add_reject(self, reject: Reject) -> None:
        self.read += 1
        self.rejected += 1
        if len(self.rejects) < KEPT:
            self.rejects.append(reject)
        if self._reject_log:
            self._reject_log.write(json.dumps(reject_entry(reject), ensure_ascii=False) + "\n")

    def add_published(self, warnings) -> None:
        self.read += 1
        self.published += 1
        for warning in warnings:
            self.warning_count += 1
            if len(self.warnings) < KEPT:
                self.warnings.append(warning)
            if self._warning_log:
                self._warning_log.write(json.dumps(warning.as_dict(), ensure_ascii=False) + "\n")

    def add_skipped(self, skipped) -> None:
        if len(self.skipped) < KEPT:
            self.skipped.append(skipped)
        self.skipped_count += 1

    def close_logs(self) -> None:
        for log in (self._reject_log, self._warning_log):
            if log:
                log.close()

    def counts(self) -> dict:
        return {"read": self.read, "published": self.published, "rejected": self.rejected,
                "warnings": self.warning_count, "skipped": self.skipped_count, "triples": self.triples,
                "shared_checked": self.shared_checked, "stopped": self.stopped}

    def write_json(self, path: Path, logs: Path) -> None:
        """report.json: the counts, every reject and warning (streamed from the logs), the files."""
        with open(path, "w", encoding="utf-8") as stream:
            stream.write("{\n")
            for key, value in self.counts().items():
                stream.write(f"  {json.dumps(key)}: {json.dumps(value)},\n")
            for key, log in (("rejects", logs / "rejects.jsonl"), ("warning_list", logs / "warnings.jsonl")):
                stream.write(f'  "{key}": [')
                with open(log, encoding="utf-8") as entries:
                    for index, line in enumerate(entries):
                        stream.write(("\n    " if index == 0 else ",\n    ") + line.rstrip("\n"))
                stream.write("\n  ],\n")
            stream.write('  "notices": ' + json.dumps(self.notices, ensure_ascii=False) + ",\n")
            stream.write('  "skipped_list": ' + json.dumps([{"file": s.name, "reason": s.reason} for s in self.skipped],
                                                          ensure_ascii=False) + ",\n")
            stream.write('  "files": ' + json.dumps(dict(sorted(self.files.items())), ensure_ascii=False) + "\n}\n")
