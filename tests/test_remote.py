"""Inputs named by fsspec URL: a corpus in memory:// (fsspec's in-memory file system) or behind file:// is
discovered in the local walk's order, read under the same limits, and published byte for byte as the same
files on the local disk."""

from __future__ import annotations

import pytest

fsspec = pytest.importorskip("fsspec")

from click.testing import CliRunner  # noqa: E402

from pipeline import Options, run  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.sources import InputError  # noqa: E402

from .conftest import BASE, SEEDS, QuietHTTPServer  # noqa: E402
from .test_release import snapshot  # noqa: E402

DAY = "2026-12-01"


@pytest.fixture()
def memory_corpus():
    """seeds/ copied to memory://archive/seeds (and a file that is not a record beside them)."""
    fs = fsspec.filesystem("memory")
    for path in sorted(SEEDS.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"/archive/seeds/{path.relative_to(SEEDS).as_posix()}", path.read_bytes())
    yield "memory://archive/seeds"
    fs.rm("/archive", recursive=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_memory_corpus_publishes_the_local_corpus_bytes(tmp_path, memory_corpus, workers):
    options = Options(base=BASE, date=DAY, workers=workers)
    local = run([SEEDS], tmp_path / "local", options=options)
    remote = run([memory_corpus], tmp_path / "remote", options=options)
    assert (remote.read, remote.published, remote.rejected) == (local.read, local.published, local.rejected) != (0, 0, 0)
    assert snapshot(tmp_path / "remote") == snapshot(tmp_path / "local")


def test_a_file_url_is_the_local_path_with_its_symlink_policy(tmp_path):
    options = Options(base=BASE, date=DAY, workers=1)
    run([SEEDS / "rmrb"], tmp_path / "local", options=options)
    run([(SEEDS / "rmrb").as_uri()], tmp_path / "url", options=options)
    assert snapshot(tmp_path / "url") == snapshot(tmp_path / "local")


def test_a_remote_file_over_the_size_limit_is_rejected_with_its_code(tmp_path, memory_corpus):
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/archive/seeds/rmrb/huge.txt", b"id: huge\n" + b"x" * 5000)
    report = run([memory_corpus + "/rmrb"], tmp_path / "out", options=Options(base=BASE, workers=1, max_record_bytes=4096))
    (reject,) = [r for r in report.rejects if r.file == "rmrb/huge.txt"]
    assert reject.problems[0].code == "read.too-large"
    assert report.read == report.published + report.rejected


def test_missing_and_unknown_urls_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        run(["memory://nothing/here"], tmp_path / "out", options=Options(base=BASE))
    with pytest.raises(InputError, match="fsspec knows"):
        run(["nosuchprotocol://x/y"], tmp_path / "out", options=Options(base=BASE))
    with pytest.raises(InputError) as raised:
        run(["memory://someone:secret@nothing/here"], tmp_path / "out", options=Options(base=BASE))
    assert "secret" not in str(raised.value)  # credentials in a URL never reach a message
    assert not (tmp_path / "out").exists()


def test_the_cli_keeps_a_url_as_typed(tmp_path, memory_corpus):
    result = CliRunner().invoke(main, ["run", memory_corpus + "/rmrb", "-o", str(tmp_path / "out"), "--base", BASE,
                                       "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "published" in result.output and (tmp_path / "out" / "articles.nt").stat().st_size > 0


def test_an_http_listing_is_not_walked(tmp_path):
    """A page's links may lead to any host: an http(s) input must name one record file, and a folder's URL is
    refused before any request (the server below sees none)."""
    import http.server
    import threading

    seen = []

    class Listing(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()

        def do_GET(self):
            seen.append(self.path)
            body = b'<a href="elsewhere/a.txt">a.txt</a>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/corpus/"
        with pytest.raises(InputError, match="must name one record file"):
            run([url], tmp_path / "out", options=Options(base=BASE, workers=1))
    finally:
        server.shutdown()
    assert seen == []
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- shards below --scratch

def test_shards_below_a_memory_scratch_give_the_same_release_and_are_removed(tmp_path):
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/scratch/keep.txt", b"a user's file")
    options = Options(base=BASE, date=DAY, workers=1)
    run([SEEDS], tmp_path / "local", options=options)
    run([SEEDS], tmp_path / "scratched", options=options, scratch="memory://scratch")
    assert snapshot(tmp_path / "scratched") == snapshot(tmp_path / "local")
    assert [entry["name"] for entry in fs.ls("/scratch")] == ["/scratch/keep.txt"]  # its own folder is gone
    fs.rm("/scratch", recursive=True)


def test_a_stopped_run_removes_its_scratch_folder_too(tmp_path):
    from .conftest import ROOT

    fs = fsspec.filesystem("memory")
    report = run([ROOT / "tests" / "fixtures" / "bad"], tmp_path / "out", options=Options(base=BASE, workers=1,
                 max_rejects=0), scratch="memory://stopped")
    assert report.stopped and not fs.ls("/stopped")
    fs.rm("/stopped", recursive=True)


def test_a_memory_scratch_with_worker_processes_is_refused_before_anything_is_read(tmp_path):
    from pipeline.problems import OptionError

    with pytest.raises(OptionError, match="every worker reaches"):
        run([SEEDS], tmp_path / "out", options=Options(base=BASE, workers=2), scratch="memory://x")
    assert not (tmp_path / "out").exists()


def test_the_cli_takes_a_scratch_url(tmp_path):
    scratch = tmp_path / "shared-scratch"
    scratch.mkdir()
    result = CliRunner().invoke(main, ["run", str(SEEDS / "rmrb"), "-o", str(tmp_path / "out"), "--base", BASE,
                                       "-q", "--workers", "2", "--scratch", scratch.as_uri()])
    assert result.exit_code == 0, result.output
    assert list(scratch.iterdir()) == []


def test_a_local_scratch_inside_the_inputs_or_the_output_is_refused(tmp_path):
    from pipeline.problems import OptionError

    for inside in (SEEDS / "rmrb", tmp_path / "out" / "tmp"):
        with pytest.raises(OptionError, match="inside"):
            run([SEEDS], tmp_path / "out", options=Options(base=BASE, workers=1), scratch=inside.as_uri())
    assert not any(p.name.startswith("zh-articles-scratch-") for p in (SEEDS / "rmrb").iterdir())
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- one record by http(s)

class _Server:
    """A loopback HTTP server for one handler class, counting the body bytes it managed to send."""

    def __init__(self, handler):
        import threading

        self.sent = 0
        handler.owner = self
        self.server = QuietHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _handler(body_chunks, *, length: int | None):
    """A handler that ignores Range (as many servers do) and sends these chunks, with or without a length."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        owner: _Server

        def _head(self):
            self.send_response(200)
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()

        def do_HEAD(self):
            self._head()

        def do_GET(self):
            self._head()
            try:
                for chunk in body_chunks():
                    self.wfile.write(chunk)
                    self.owner.sent += len(chunk)
            except OSError:  # the client stopped reading
                pass

        def log_message(self, *args):
            pass

    return Handler


@pytest.mark.parametrize("length", [True, False], ids=["with-length", "without-length"])
def test_one_record_by_http_is_published_as_the_local_file(tmp_path, length):
    record = SEEDS / "rmrb" / "0000449482.txt"
    data = record.read_bytes()
    handler = _handler(lambda: [data[i:i + 1000] for i in range(0, len(data), 1000)],
                       length=len(data) if length else None)
    options = Options(base=BASE, date=DAY, workers=1)
    local = run([record], tmp_path / "local", options=options)
    with _Server(handler) as server:
        remote = run([f"{server.url}/rmrb/0000449482.txt"], tmp_path / "remote", options=options)
    assert (remote.read, remote.published) == (local.read, local.published) == (1, 1)
    assert (tmp_path / "remote" / "articles.nt").read_bytes() == (tmp_path / "local" / "articles.nt").read_bytes()


def test_an_http_server_that_ignores_range_cannot_send_more_than_the_limit(tmp_path):
    """Regression: fsspec's cat_file asks for a range, and reads the whole body when the server ignores it, so
    a 4 KB limit let 300 MB into memory; the read is now a stream stopped at the limit."""
    chunk = b"x" * 65536
    handler = _handler(lambda: (chunk for _ in range(4096)), length=None)  # 256 MB, no length
    with _Server(handler) as server:
        report = run([f"{server.url}/huge.txt"], tmp_path / "out",
                     options=Options(base=BASE, workers=1, max_record_bytes=4096))
    (reject,) = report.rejects
    assert reject.problems[0].code == "read.too-large"
    assert server.sent < 64 * 2**20  # socket buffers' worth, not the body


def _redirecting(target: str):
    """A handler that answers every request with a 302 to target + the path."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        owner: _Server

        def do_GET(self):
            self.owner.sent += 1
            self.send_response(302)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    return Handler


def test_an_http_redirect_is_followed_within_its_origin_only(tmp_path):
    """A redirect to the same scheme, host and port is followed; one to another host (another port of
    127.0.0.1 here: another origin) is refused before any request reaches it."""
    record = SEEDS / "rmrb" / "0000449482.txt"
    data = record.read_bytes()
    options = Options(base=BASE, date=DAY, workers=1)
    with _Server(_handler(lambda: [data], length=len(data))) as other:
        with _Server(_redirecting(other.url)) as first:
            report = run([f"{first.url}/0000449482.txt"], tmp_path / "refused", options=options)
        assert other.sent == 0  # nothing was asked of the host the redirect named
    (reject,) = report.rejects
    assert reject.problems[0].code == "read.unreadable" and "another host" in reject.problems[0].message
    assert report.read == report.published + report.rejected == 1

    import http.server

    class Moved(http.server.BaseHTTPRequestHandler):
        owner: _Server

        def do_GET(self):
            if self.path == "/old/0000449482.txt":
                self.send_response(301)
                self.send_header("Location", "/new/0000449482.txt")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with _Server(Moved) as server:
        moved = run([f"{server.url}/old/0000449482.txt"], tmp_path / "moved", options=options)
    assert (moved.read, moved.published) == (1, 1)


def test_a_slow_http_server_costs_a_bounded_time(tmp_path, monkeypatch):
    """A server that drips its body is cut off at remote.WEB_SECONDS in all (lowered here), not waited for."""
    import time

    from pipeline import remote

    monkeypatch.setattr(remote, "WEB_SECONDS", 1.0)

    def drip():
        for _ in range(100):
            time.sleep(0.1)
            yield b"x"

    with _Server(_handler(drip, length=None)) as server:
        started = time.monotonic()
        report = run([f"{server.url}/slow.txt"], tmp_path / "out", options=Options(base=BASE, workers=1))
        took = time.monotonic() - started
    (reject,) = report.rejects
    assert reject.problems[0].code == "read.unreadable" and "took more than" in reject.problems[0].message
    assert took < 8  # the drip would take 10 s


def test_an_http_url_that_http_client_refuses_is_a_reject_not_a_crash(tmp_path):
    """Regression: a space in the URL made http.client raise InvalidURL, which is neither OSError nor
    ValueError, and the run ended in a traceback."""
    with _Server(_handler(lambda: [b""], length=0)) as server:
        report = run([f"{server.url}/a b.txt"], tmp_path / "out", options=Options(base=BASE, workers=1))
    (reject,) = report.rejects
    assert reject.problems[0].code == "read.unreadable" and "InvalidURL" in reject.problems[0].message
    assert report.read == report.rejected == 1
