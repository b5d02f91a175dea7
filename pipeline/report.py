"""The account of a run: how many records were read, published and rejected, and every problem.
It only counts what the stages yield; report.json is its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field

from .problems import Problem, Reject


@dataclass
class Report:
    read: int = 0
    published: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    triples: int = 0
    files: dict[str, int] = field(default_factory=dict)  # written file -> bytes
    stopped: str | None = None  # why the run stopped early (--max-rejects), if it did

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    @property
    def balanced(self) -> bool:
        return self.read == self.published + self.rejected

    def add_reject(self, reject: Reject) -> None:
        self.read += 1
        self.rejects.append(reject)

    def add_published(self, warnings) -> None:
        self.read += 1
        self.published += 1
        self.warnings.extend(warnings)

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "published": self.published,
            "rejected": self.rejected,
            "warnings": len(self.warnings),
            "triples": self.triples,
            "stopped": self.stopped,
            "rejects": [
                {"file": r.file, "id": r.id,
                 "stage": r.problems[0].stage, "message": "; ".join(p.message for p in r.problems),
                 "problems": [p.as_dict() for p in r.problems]}
                for r in self.rejects
            ],
            "warning_list": [w.as_dict() for w in self.warnings],
            "files": dict(sorted(self.files.items())),
        }
