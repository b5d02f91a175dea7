"""The release folder: deterministic bytes, atomic replacement (kill -9 included), nothing written outside it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline import Options, run

from .conftest import BASE, ROOT, SEEDS

BAD = ROOT / "tests" / "fixtures" / "bad"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_are_byte_identical(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    inputs = [SEEDS, BAD]
    run(inputs, first, options=Options(base=BASE))
    run(inputs, second, options=Options(base=BASE))
    assert snapshot(first) == snapshot(second)
    assert len(snapshot(first)) > 10


def test_rerun_replaces_the_release_in_place(tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    small = (out / "articles.nt").read_bytes()
    run([SEEDS], out, options=Options(base=BASE))
    assert (out / "articles.nt").read_bytes() != small
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folders left behind


def test_nothing_is_written_outside_out(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    hostile_names = ["..%2f..%2fescape.txt", "a b <c>.txt", "名字 含 空格.txt", "-rf.txt", ".hidden.txt"]
    for name in hostile_names:
        (inputs / name).write_text("id: ../../escape\n标题：x\n", encoding="utf-8")
    (inputs / "nested").mkdir()
    (inputs / "nested" / "..txt").write_text("id: a/b\n", encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    out = tmp_path / "release" / "out"
    report = run([inputs], out, options=Options(base=BASE))
    assert report.rejected == len(hostile_names) + 1
    after = {p for p in tmp_path.rglob("*")}
    new = after - before
    assert new and all(p == out.parent or out in p.parents or p == out for p in new), sorted(map(str, new))
    assert len(list((out / "rejects").glob("*.reason.txt"))) == report.rejected


def _big_corpus(folder: Path, copies: int) -> None:
    """Enough records that a run lasts long enough to be killed mid-way."""
    folder.mkdir()
    template = (SEEDS / "8bad3e691d.txt").read_text(encoding="utf-8")
    for i in range(copies):
        (folder / f"{i:05d}.txt").write_text(template.replace("8bad3e691d", f"k{i:09d}"), encoding="utf-8")


def _kill_when(process: subprocess.Popen, ready, timeout: float = 60) -> bool:
    """SIGKILL the process once ready() holds; False if it ended first."""
    deadline = time.monotonic() + timeout
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return not finished


def test_kill_9_leaves_the_previous_release_untouched(tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    before = snapshot(out)
    corpus = tmp_path / "corpus"
    _big_corpus(corpus, 3000)
    started = time.monotonic()
    moments = {
        "while reading and validating": lambda: time.monotonic() - started > 0.5,
        "while writing the release": lambda: any(p.name.startswith(".out.tmp-") for p in tmp_path.iterdir()),
    }
    for moment, ready in moments.items():
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(corpus), "-o", str(out)],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert _kill_when(process, ready), f"the run ended before it could be killed {moment}"
        assert snapshot(out) == before, moment
    # the next run cleans up what the killed ones left beside out
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "out"]


def test_failed_write_leaves_the_previous_release(tmp_path, monkeypatch):
    import importlib

    run_module = importlib.import_module("pipeline.run")
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    before = snapshot(out)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_module, "write_jsonld_groups", broken)
    try:
        run([SEEDS], out, options=Options(base=BASE, workers=1))
    except OSError:
        pass
    else:
        raise AssertionError("the write error was swallowed")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
