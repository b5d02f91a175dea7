"""Benchmark `pipeline run` (1 and 2 workers) against the plain-Python yardstick and the straightforward
rdflib + pyshacl path, on the same synthetic corpora, in one invocation.

    python bench/benchmark.py --sizes 10000,100000 --workers 1,2 --baseline-records 5000 --work /tmp/bench

For each size it generates a corpus (bench/generate.py, seeded) unless one is there, runs each command
as a subprocess and prints wall time, records/s, the peak memory of the whole process tree (sampled from
/proc every 0.1 s: the sum over the run and its worker processes), the ratios (to the yardstick, 2 workers
to 1, to the straightforward path on a subset) and, over the sizes, the exponent of time against size
(1.0 = linear).

With --morph-kgc PYTHON (the interpreter of a venv of its own, since morph-kgc pins older rdflib and
pyoxigraph: `python -m venv /tmp/morph-kgc && /tmp/morph-kgc/bin/pip install morph-kgc==2.10.0`) it also
runs morph-kgc on the same corpus: bench/rml/prepare.py turns the records into three CSV tables (timed
on its own), then morph-kgc maps them with bench/rml/mapping.rml.ttl to N-Triples on as many processes
as the pipeline's largest worker count; no validation, one format."""

from __future__ import annotations

import argparse
import math
import os
import re
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


def measure(command: list[str], *, cwd: Path | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak tree RSS in bytes, and what the command printed."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
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
    return seconds, peak[0], output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--baseline-records", type=int, default=5000,
                        help="the straightforward path runs on the first this many records (it is ~100x slower)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--workers", default="1,2", help="the pipeline runs once per count given")
    parser.add_argument("--validator", default="builtin")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the outputs")
    parser.add_argument("--morph-kgc", type=Path, metavar="PYTHON",
                        help="the python of a venv with morph-kgc installed; morph-kgc is run only if given")
    args = parser.parse_args()
    python = sys.executable
    rows = []
    counts = [int(n) for n in args.workers.split(",")]
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = args.work / f"corpus-{size}-seed{args.seed}"
        if not corpus.exists():
            generate(corpus, size, args.seed)
        row = {"size": size, "runs": {}}
        for workers in counts:
            out = args.work / f"out-{size}-{workers}"
            shutil.rmtree(out, ignore_errors=True)
            row["runs"][workers] = measure([python, "-m", "pipeline", "run", str(corpus), "-o", str(out), "--quiet",
                                            "--workers", str(workers), "--validator", args.validator])
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
        yard = args.work / f"yardstick-{size}"
        row["yardstick"] = measure([python, str(HERE / "yardstick.py"), str(corpus), str(yard), "--workers",
                                    str(max(counts))])
        shutil.rmtree(yard, ignore_errors=True)
        if args.baseline_records:
            subset = _subset(corpus, args.work / f"subset-{args.baseline_records}-seed{args.seed}", args.baseline_records)
            base_out = args.work / f"baseline-{args.baseline_records}"
            row["baseline"] = measure([python, str(HERE / "baseline.py"), str(subset), str(base_out)])
            row["baseline_records"] = args.baseline_records
            shutil.rmtree(base_out, ignore_errors=True)
        if args.morph_kgc:
            row["morph_kgc"] = run_morph_kgc(args.morph_kgc, corpus, args.work / f"morph-kgc-{size}", max(counts))
        rows.append(row)
        report(row)
    if len(rows) > 1:
        top = max(counts)
        first, last = rows[0], rows[-1]
        exponent = math.log(last["runs"][top][0] / first["runs"][top][0]) / math.log(last["size"] / first["size"])
        print(f"time grows as size^{exponent:.2f} from {first['size']:,} to {last['size']:,} records "
              f"({top} workers); peak memory {first['runs'][top][1] / 2**20:,.0f} MB -> "
              f"{last['runs'][top][1] / 2**20:,.0f} MB")


def run_morph_kgc(python: Path, corpus: Path, work: Path, processes: int) -> dict:
    """The preparation's and morph-kgc's measurements and the triples morph-kgc wrote."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prepare = measure([sys.executable, str(HERE / "rml" / "prepare.py"), str(corpus), str(work),
                       "--workers", str(processes)])
    config = work / "config.ini"
    config.write_text(f"[CONFIGURATION]\noutput_file: {work / 'morph-kgc.nt'}\noutput_format: N-TRIPLES\n"
                      f"number_of_processes: {processes}\nlogging_level: WARNING\n"
                      f"[Corpus]\nmappings: {HERE / 'rml' / 'mapping.rml.ttl'}\n", encoding="utf-8")
    mapped = measure([str(python), "-m", "morph_kgc", str(config)], cwd=work)
    with open(work / "morph-kgc.nt", "rb") as dump:
        triples = sum(chunk.count(b"\n") for chunk in iter(lambda: dump.read(1 << 24), b""))
    shutil.rmtree(work, ignore_errors=True)
    return {"prepare": prepare, "map": mapped, "triples": triples, "processes": processes}


def _triples(output: str) -> int | None:
    """The triple count the pipeline printed ('14915 triples written to …')."""
    found = re.search(r"^(\d+) triples written", output, re.MULTILINE)
    return int(found.group(1)) if found else None


def _subset(corpus: Path, folder: Path, count: int) -> Path:
    """The first count records of corpus (in path order), copied: the same records the full run reads."""
    if not folder.exists():
        staging = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        for path in sorted(corpus.glob("*/*.txt"))[:count]:
            (staging / path.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, staging / path.parent.name / path.name)
        staging.rename(folder)
    return folder


def report(row: dict) -> None:
    size = row["size"]
    yard_seconds = row["yardstick"][0]
    print(f"{size:>9,} records", flush=True)
    for workers, (seconds, peak, output) in row["runs"].items():
        print(f"  pipeline, {workers} worker(s): {seconds:7.1f} s {size / seconds:8,.0f} records/s  peak tree RSS "
              f"{peak / 2**20:6,.0f} MB  {seconds / yard_seconds:5.1f}x the yardstick's time", flush=True)
        print(f"      {output.splitlines()[0] if output else ''}", flush=True)
    if len(row["runs"]) > 1:
        times = [seconds for seconds, _, _ in row["runs"].values()]
        print(f"  {max(row['runs'])} workers take {times[-1] / times[0]:.2f} of {min(row['runs'])} worker's time "
              f"({times[0] / times[-1]:.2f}x)", flush=True)
    print(f"  yardstick: {yard_seconds:7.1f} s {size / yard_seconds:8,.0f} records/s  peak tree RSS "
          f"{row['yardstick'][1] / 2**20:6,.0f} MB", flush=True)
    if "baseline" in row:
        seconds, peak, _ = row["baseline"]
        rate = row["baseline_records"] / seconds
        best = max(size / s for s, _, _ in row["runs"].values())
        print(f"  straightforward rdflib + pyshacl on the first {row['baseline_records']:,}: {seconds:7.1f} s "
              f"{rate:8,.0f} records/s  peak {peak / 2**20:6,.0f} MB; the pipeline's rate is {best / rate:,.0f}x "
              f"that", flush=True)
    if "morph_kgc" in row:
        report_morph_kgc(row)


def report_morph_kgc(row: dict) -> None:
    size, morph = row["size"], row["morph_kgc"]
    (prepared, prepare_peak, _), (mapped, map_peak, _) = morph["prepare"], morph["map"]
    total = prepared + mapped
    ours = row["runs"][max(row["runs"])]
    triples = _triples(ours[2])
    print(f"  morph-kgc, {morph['processes']} processes: {mapped:7.1f} s + {prepared:.1f} s preparing the tables = "
          f"{total:.1f} s {size / total:8,.0f} records/s  peak tree RSS {max(prepare_peak, map_peak) / 2**20:6,.0f} MB  "
          f"{morph['triples']:,} triples (the pipeline: {triples or 0:,}, validated, four formats); the pipeline's "
          f"rate is {total / ours[0]:.2f}x that", flush=True)


if __name__ == "__main__":
    main()
