"""The release folder: deterministic bytes, atomic replacement (kill -9 included), nothing written outside it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    assert len(list((out / "_publisher" / "rejects").glob("*.reason.txt"))) == report.rejected


def _big_corpus(folder: Path, copies: int) -> None:
    """Enough records that a run lasts long enough to be killed mid-way."""
    folder.mkdir()
    template = (SEEDS / "8bad3e691d.txt").read_text(encoding="utf-8")
    for i in range(copies):
        (folder / f"{i:05d}.txt").write_text(template.replace("8bad3e691d", f"k{i:09d}"), encoding="utf-8")


def _signal_when(process: subprocess.Popen, ready, signum: int, timeout: float = 60) -> bool:
    """Send signum to the process once ready() holds; False if it ended first."""
    deadline = time.monotonic() + timeout
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    finished = process.poll() is not None
    process.send_signal(signum)
    process.wait(timeout=60)
    return not finished


# what a signal must make the run exit with (SIGKILL cannot be handled: the next run cleans up)
EXIT_ON = {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 143, signal.SIGINT: 130}


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_in_any_phase_leaves_the_previous_release_untouched(tmp_path, signum):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    corpus = tmp_path / "corpus"
    _big_corpus(corpus, 3000)

    def staged(pattern: str):
        return lambda: any(p for t in tmp_path.glob(".out.tmp-*") for p in t.glob(pattern))

    moments = {
        "while reading and validating (shards)": staged(".work/shard-*"),
        "while sorting into fragments": staged(".work/part-*"),
        "while joining the dumps": staged("articles.nt"),
    }
    for moment, ready in moments.items():
        for _ in range(3):  # a fast machine may finish a short phase before it is seen: try again
            before = snapshot(out)
            process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(corpus), "-o", str(out)],
                                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            signalled = _signal_when(process, ready, signum)
            if signalled:
                break
        assert signalled, f"the run always ended before it could be signalled {moment}"
        assert process.returncode == EXIT_ON[signum], (moment, process.stderr.read())
        assert "Traceback" not in process.stderr.read().decode()
        assert snapshot(out) == before, moment
        if signum != signal.SIGKILL:  # a handled signal cleans up after itself
            assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "out"], moment
    # the next run cleans up what the killed ones left beside out
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "out"]


def test_failed_write_leaves_the_previous_release(tmp_path, monkeypatch):
    import importlib

    serialize = importlib.import_module("pipeline.serialize")
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    before = snapshot(out)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialize.Fragment, "write", broken)
    try:
        run([SEEDS], out, options=Options(base=BASE, workers=1))
    except OSError:
        pass
    else:
        raise AssertionError("the write error was swallowed")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_is_identical_whatever_the_workers_and_batches(tmp_path):
    """1 worker in-process, 2 and 3 worker processes, and batches small enough to make many shards."""
    inputs = [SEEDS, BAD, ROOT / "tests" / "golden"]
    releases = {}
    for workers, batch in ((1, 500), (2, 7), (3, 1)):
        out = tmp_path / f"w{workers}"
        run(inputs, out, options=Options(base=BASE, workers=workers, batch_size=batch))
        releases[(workers, batch)] = snapshot(out)
    first, *others = releases.values()
    assert all(other == first for other in others)


def test_many_partitions_join_into_valid_files(tmp_path, monkeypatch):
    """Force many partitions: the joined dumps equal those of one partition (the gzip file differs only
    in how its members are cut) and still parse and agree."""
    import gzip
    import importlib

    import pyoxigraph

    assemble = importlib.import_module("pipeline.assemble")
    monkeypatch.setattr(assemble, "RECORDS_PER_PARTITION", 3)
    run([SEEDS], tmp_path / "many", options=Options(base=BASE, workers=2))
    monkeypatch.undo()
    run([SEEDS], tmp_path / "one", options=Options(base=BASE, workers=2))
    many, one = snapshot(tmp_path / "many"), snapshot(tmp_path / "one")
    for name in ("articles.nt", "articles.ttl", "articles.jsonld", "context.jsonld"):
        assert many[name] == one[name], name
    assert gzip.decompress(many["articles.nt.gz"]) == gzip.decompress(one["articles.nt.gz"]) == one["articles.nt"]
    graphs = []
    for name, fmt in (("articles.nt", pyoxigraph.RdfFormat.N_TRIPLES), ("articles.ttl", pyoxigraph.RdfFormat.TURTLE),
                      ("articles.jsonld", pyoxigraph.RdfFormat.JSON_LD)):
        graphs.append({(q.subject, q.predicate, q.object) for q in
                       pyoxigraph.parse(many[name], format=fmt)})
    assert graphs[0] == graphs[1] == graphs[2] and len(graphs[0]) > 2000
