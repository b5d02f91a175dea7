"""Regenerate what the tests compare against: the golden folders' expected.ttl and the bad-input fixtures.

    python -m tests.regenerate golden    # tests/golden/*/expected.ttl from the pipeline as it is now
    python -m tests.regenerate bad       # tests/fixtures/bad/ from tests/fixtures/make_bad.py
    python -m tests.regenerate check     # exit 1 and name what differs (tests/test_regenerate.py does this)

Regenerate only when a change of the output is intended, and read the diff before committing it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
BAD = ROOT / "tests" / "fixtures" / "bad"
MAKE_BAD = ROOT / "tests" / "fixtures" / "make_bad.py"
GOLDEN_BASE = "http://example.org/golden/"


def golden_cases() -> list[Path]:
    return sorted(p for p in GOLDEN.iterdir() if p.is_dir() and list(p.glob("*.txt")))


def golden_expected(case: Path) -> bytes:
    """The Turtle dump the pipeline writes for the records of one golden folder."""
    from pipeline import Options, run

    with tempfile.TemporaryDirectory() as folder:
        run([case], Path(folder) / "out", options=Options(base=GOLDEN_BASE, workers=1))
        return (Path(folder) / "out" / "articles.ttl").read_bytes()


def bad_fixtures(folder: Path) -> None:
    subprocess.run([sys.executable, str(MAKE_BAD), str(folder)], check=True)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def differences() -> list[str]:
    found = [f"{case.name}/expected.ttl" for case in golden_cases()
             if golden_expected(case) != (case / "expected.ttl").read_bytes()]
    with tempfile.TemporaryDirectory() as folder:
        bad_fixtures(Path(folder))
        fresh, committed = snapshot(Path(folder)), snapshot(BAD)
    found += [f"fixtures/bad/{name}" for name in sorted(set(fresh) | set(committed))
              if fresh.get(name) != committed.get(name)]
    return found


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "check"
    if what == "golden":
        for case in golden_cases():
            (case / "expected.ttl").write_bytes(golden_expected(case))
        return 0
    if what == "bad":
        bad_fixtures(BAD)
        return 0
    if what == "check":
        found = differences()
        for name in found:
            print(f"differs from a fresh regeneration: tests/{name}")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
