"""Benchmark an incremental rerun: a release of N records, then 1 % of the files changed, rerun taking the
unchanged records from the release's cache against the same rerun processing every record.

    python bench/incremental.py --records 100000 --changed 0.01 --work /tmp/bench

The corpus comes from bench/generate.py (seeded; made unless it is there); the changed corpus is a copy in
which every (1/changed)-th file gets another title. Both reruns replace a copy of the same first release, so
both write a change set; the script checks that they publish the same bytes and prints wall time, records/s,
summed peak RSS of the process tree and the speed-up."""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchmark import measure  # noqa: E402
from generate import generate  # noqa: E402

PIPELINE = [sys.executable, "-m", "pipeline", "run", "-q", "--date", "2026-12-01"]


def changed_copy(corpus: Path, target: Path, every: int) -> int:
    """A copy of the corpus (hard links) with every every-th file rewritten with another title."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(corpus, target, copy_function=os.link)
    files = sorted(target.rglob("*.txt"))
    for path in files[::every]:
        text = path.read_text(encoding="utf-8")
        path.unlink()  # break the link: the original corpus stays as it was
        path.write_text(text.replace("标题：", "标题：（修订）", 1), encoding="utf-8")
    return len(files[::every])


def same_release(a: Path, b: Path) -> bool:
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file() and not p.name.startswith("."))
    return names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file() and not p.name.startswith(".")) \
        and all(filecmp.cmp(a / name, b / name, shallow=False) for name in names if name != "_publisher/report.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of the files changed")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    corpus = args.work / f"corpus-{args.records}-seed1"
    if not corpus.exists():
        generate(corpus, args.records, 1)
    # the same last component, so that both reruns' reports name the files as the first release's does
    edited = args.work / "changed" / corpus.name
    changed = changed_copy(corpus, edited, round(1 / args.changed))
    first, full = args.work / "incremental-release", args.work / "full-release"
    for folder in (first, full):
        if folder.exists():
            shutil.rmtree(folder)
    workers = ["--workers", str(args.workers)]
    seconds, rss, _ = measure(PIPELINE + [str(corpus), "-o", str(first)] + workers)
    print(f"first release     {args.records:>8,} records  {seconds:7.1f} s  {args.records / seconds:7,.0f} records/s"
          f"  {rss / 2**20:5.0f} MB")
    shutil.copytree(first, full)
    runs = {}
    for name, out, extra in (("incremental rerun", first, []), ("full rerun", full, ["--full"])):
        seconds, rss, _ = measure(PIPELINE + [str(edited), "-o", str(out)]
                                       + workers + extra)
        runs[name] = seconds
        print(f"{name:17} {changed:>8,} changed  {seconds:7.1f} s  {args.records / seconds:7,.0f} records/s"
              f"  {rss / 2**20:5.0f} MB")
    print(f"speed-up {runs['full rerun'] / runs['incremental rerun']:.2f}x; "
          f"same release: {same_release(first, full)}")


if __name__ == "__main__":
    main()
