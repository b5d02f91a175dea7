"""The Dask engine on a real LocalCluster on loopback: the local engine's bytes whatever the cluster's size
and the batches, and a worker killed mid-run costs a retry, not the run."""

from __future__ import annotations

import os
import signal

import pytest

from pipeline import Options, run

from .conftest import BASE, ROOT, SEEDS
from .test_release import snapshot

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed: pip install -e '.[dask]'")

from pipeline.dask_engine import LOOPBACK, DaskEngine  # noqa: E402

INPUTS = [SEEDS, ROOT / "tests" / "fixtures" / "bad", ROOT / "tests" / "golden"]


@pytest.fixture(scope="module")
def local_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    report = run(INPUTS, out, options=Options(base=BASE, workers=1))
    return out, report


@pytest.mark.parametrize("workers, batch", [(1, 500), (2, 3)])
def test_a_dask_cluster_publishes_the_local_engines_bytes(local_release, tmp_path, workers, batch):
    local, expected = local_release
    with DaskEngine("local", workers=workers) as engine:
        assert engine.workers == workers
        report = run(INPUTS, tmp_path / "out", options=Options(base=BASE, batch_size=batch), engine=engine)
    assert snapshot(tmp_path / "out") == snapshot(local)
    assert (report.read, report.published, report.rejected) == (expected.read, expected.published, expected.rejected)
    assert report.read == report.published + report.rejected


def test_a_worker_killed_mid_run_costs_a_retry_not_the_run(local_release, tmp_path):
    local, expected = local_release
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, silence_logs=50, **LOOPBACK) as cluster, \
            distributed.Client(cluster) as client:
        before = client.run(os.getpid)

        def kill_a_busy_worker(phase: str, done: int, total) -> None:
            if killed or phase != "records":
                return
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                os.kill(before[busy[0]], signal.SIGKILL)
                killed.append(before[busy[0]])

        with DaskEngine(cluster.scheduler_address) as engine:
            report = run(INPUTS, tmp_path / "out", options=Options(base=BASE, batch_size=2), engine=engine,
                         progress=kill_a_busy_worker)
        client.wait_for_workers(2, timeout=60)  # the nanny started another in its place
        after = client.run(os.getpid)
    assert killed and killed[0] not in after.values()
    assert snapshot(tmp_path / "out") == snapshot(local)
    assert (report.read, report.published, report.rejected) == (expected.read, expected.published, expected.rejected)


def test_dask_errors_say_what_to_do(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["run", str(SEEDS), "-o", str(tmp_path / "a"), "--engine", "dask"])
    assert result.exit_code == 2 and "--scheduler" in result.output
    result = runner.invoke(main, ["run", str(SEEDS), "-o", str(tmp_path / "b"), "--scheduler", "local"])
    assert result.exit_code == 2 and "--engine dask" in result.output
    result = runner.invoke(main, ["run", str(SEEDS), "-o", str(tmp_path / "c"), "--engine", "dask",
                                  "--scheduler", "not an address"])
    assert result.exit_code == 2 and "tcp://HOST:PORT" in result.output and "Traceback" not in result.output
    assert not any((tmp_path / name).exists() for name in "abc")


def _listening() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket on this machine, from /proc/net/tcp and tcp6."""
    found = set()
    for name, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = open(name).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                address, port = fields[1].split(":")
                found.add((address, int(port, 16)))
    return found


def test_a_local_cluster_listens_on_loopback_only():
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as /proc writes them
    before = _listening()
    with DaskEngine("local", workers=2):
        opened = _listening() - before
    assert len(opened) >= 3  # the scheduler, its HTTP server, the workers
    assert {address for address, _ in opened} <= loopback, opened


def test_a_rerun_on_a_dask_cluster_takes_unchanged_records_from_the_cache(local_release, tmp_path):
    """The workers open the previous release's record cache themselves (spawned, not forked from the run)."""
    import shutil

    local, expected = local_release
    shutil.copytree(local, tmp_path / "out")
    with DaskEngine("local", workers=2) as engine:
        report = run(INPUTS, tmp_path / "out", options=Options(base=BASE, batch_size=7), engine=engine)
    # every record that was validated comes from the cache: the published, and those the parent then found
    # to conflict with an earlier printing
    conflicting = sum(r.problems[0].code == "conflict.same-book" for r in expected.rejects)
    assert report.reused == expected.published + conflicting > expected.published
    assert report.read - report.reused == expected.rejected - conflicting  # the rejects are read again
    assert snapshot(tmp_path / "out") == snapshot(local)


def test_a_dask_cluster_with_shards_below_a_scratch_url_publishes_the_local_bytes(local_release, tmp_path):
    """The workers write the shards and fragments through fsspec below --scratch (a file:// URL here, as
    a cluster's shared folder would be), the parent joins them from there, and removes its folder."""
    local, expected = local_release
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with DaskEngine("local", workers=2) as engine:
        report = run(INPUTS, tmp_path / "out", options=Options(base=BASE, batch_size=5), engine=engine,
                     scratch=scratch.as_uri())
    assert snapshot(tmp_path / "out") == snapshot(local)
    assert report.read == expected.read == report.published + report.rejected
    assert list(scratch.iterdir()) == []
