"""Inputs and shards on S3, against a real S3 server on loopback (moto's): a corpus below s3:// is listed,
read and published byte for byte as the same files on the local disk, with the shards below an s3:// --scratch
that every worker (forked pool or Dask cluster) reaches and that is removed afterwards, nothing else touched."""

from __future__ import annotations

import subprocess
import sys

import pytest

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("s3fs", reason="s3:// needs s3fs: pip install s3fs")
pytest.importorskip("moto.server", reason="the S3 server of these tests is moto's: pip install 'moto[server]'")

from pipeline import Options, run  # noqa: E402
from pipeline.sources import InputError  # noqa: E402

from .conftest import BASE, SEEDS  # noqa: E402
from .test_release import snapshot  # noqa: E402

DAY = "2026-12-01"
SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test closes it
"""


@pytest.fixture(scope="module")
def s3():
    """An S3 server on 127.0.0.1 that this process and its workers are pointed at (botocore's
    AWS_ENDPOINT_URL, fixed test credentials), with seeds/ copied to s3://archive/seeds."""
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(server.stdout.readline())
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test",
                                "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                                "AWS_EC2_METADATA_DISABLED": "true"}.items():
                patch.setenv(name, value)
            fs = fsspec.filesystem("s3", skip_instance_cache=True)
            fs.mkdir("archive")
            for path in sorted(SEEDS.rglob("*")):
                if path.is_file():
                    fs.pipe_file(f"archive/seeds/{path.relative_to(SEEDS).as_posix()}", path.read_bytes())
            fs.pipe_file("archive/scratch/keep.txt", b"not the run's")
            yield fs
            _close_s3_sessions()
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def _close_s3_sessions() -> None:
    """Close the connections this process's S3 file systems keep open while their server still answers:
    left for the garbage collector after the server is gone, their errors would be logged with a traceback
    into whatever output a later test happens to capture."""
    import gc

    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    gc.collect()  # runs each file system's finalizer, which closes its client


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    return out, run([SEEDS], out, options=Options(base=BASE, date=DAY, workers=1))


def _scratch_left(fs) -> list[str]:
    fs.invalidate_cache()
    return sorted(fs.find("archive/scratch"))


def test_an_s3_corpus_with_s3_shards_publishes_the_local_bytes(s3, local, tmp_path):
    out, expected = local
    report = run(["s3://archive/seeds"], tmp_path / "out", options=Options(base=BASE, date=DAY, workers=2),
                 scratch="s3://archive/scratch")
    assert (report.read, report.published, report.rejected) == (expected.read, expected.published, expected.rejected)
    assert snapshot(tmp_path / "out") == snapshot(out)
    assert _scratch_left(s3) == ["archive/scratch/keep.txt"]  # the run's folder is gone, nothing else


def test_a_rerun_of_an_s3_corpus_takes_the_unchanged_records_from_its_release(s3, local, tmp_path):
    options = Options(base=BASE, date=DAY, workers=2)
    run(["s3://archive/seeds"], tmp_path / "out", options=options)
    again = run(["s3://archive/seeds"], tmp_path / "out", options=options)
    assert again.reused == again.published == local[1].published
    assert snapshot(tmp_path / "out") == snapshot(local[0])


def test_a_dask_cluster_reads_s3_and_writes_its_shards_there(s3, local, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from pipeline.dask_engine import DaskEngine

    with DaskEngine("local", workers=2) as engine:
        report = run(["s3://archive/seeds"], tmp_path / "out", options=Options(base=BASE, date=DAY, batch_size=5),
                     engine=engine, scratch="s3://archive/scratch")
    assert report.read == local[1].read == report.published + report.rejected
    assert snapshot(tmp_path / "out") == snapshot(local[0])
    assert _scratch_left(s3) == ["archive/scratch/keep.txt"]


def test_a_missing_s3_folder_is_refused_before_anything_is_written(s3, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        run(["s3://archive/no-such-folder"], tmp_path / "out", options=Options(base=BASE, workers=1))
    assert not (tmp_path / "out").exists()
