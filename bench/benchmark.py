"""Benchmark `pipeline run` against the straightforward rdflib + pyshacl path on synthetic corpora.

    python bench/benchmark.py --sizes 10000,100000 --baseline-up-to 100000 --work /tmp/bench

For each size it generates a corpus (bench/generate.py, seeded) unless one is there, runs each command
as a subprocess and prints wall time, records/s, the peak memory of the whole process tree (sampled from
/proc every 0.1 s: the sum over the run and its worker processes) and, over the sizes, the exponent of
time against size (1.0 = linear)."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def measure(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak tree RSS in bytes, and the last line printed."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.communicate()[0]
    seconds = time.monotonic() - started
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    return seconds, peak[0], output.strip().splitlines()[0] if output.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--baseline-up-to", type=int, default=100_000, help="skip the slow baseline above this")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--validator", default="builtin")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the outputs")
    args = parser.parse_args()
    python = sys.executable
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = args.work / f"corpus-{size}-seed{args.seed}"
        if not corpus.exists():
            generate(corpus, size, args.seed)
        out = args.work / f"out-{size}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, peak, line = measure([python, "-m", "pipeline", "run", str(corpus), "-o", str(out), "--quiet",
                                       "--workers", str(args.workers), "--validator", args.validator])
        row = {"size": size, "seconds": seconds, "peak": peak, "line": line}
        if size <= args.baseline_up_to:
            base_out = args.work / f"baseline-{size}"
            row["base_seconds"], row["base_peak"], row["base_line"] = measure(
                [python, str(HERE / "baseline.py"), str(corpus), str(base_out)])
            shutil.rmtree(base_out, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
        rows.append(row)
        report(row)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        exponent = math.log(last["seconds"] / first["seconds"]) / math.log(last["size"] / first["size"])
        print(f"time grows as size^{exponent:.2f} from {first['size']:,} to {last['size']:,} records; "
              f"peak memory {first['peak'] / 2**20:,.0f} MB -> {last['peak'] / 2**20:,.0f} MB")


def report(row: dict) -> None:
    size = row["size"]
    text = (f"{size:>9,} records  pipeline {row['seconds']:7.1f} s {size / row['seconds']:8,.0f} rec/s "
            f"peak {row['peak'] / 2**20:6,.0f} MB")
    if "base_seconds" in row:
        text += (f" | baseline {row['base_seconds']:7.1f} s {size / row['base_seconds']:6,.0f} rec/s "
                 f"peak {row['base_peak'] / 2**20:6,.0f} MB | {row['base_seconds'] / row['seconds']:.1f}x faster")
    print(text, flush=True)
    print(f"           {row['line']}", flush=True)


if __name__ == "__main__":
    main()
