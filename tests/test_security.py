"""What serve, query, publish and validate will not do (docs/security.md), against real servers on loopback.

A recording server stands in for "some other host": each test checks that it received nothing (or, where
the user allowed it, that it did), so a leak shows up as a request, not as a guess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import Options, run
from pipeline.cli import EXIT_FAILED, main
from pipeline.publish import PublishError, publish
from pipeline.sandbox import Limits, Worker, _without_network
from pipeline.sparql import ensure_store

from .conftest import BASE, ROOT, SEEDS, QuietHTTPServer

CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^10 rows, flat memory
CARTESIAN_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f LIMIT 1"          # sorts ~6 M rows


class Recorder:
    """An HTTP server on 127.0.0.1 that records every request and answers as told."""

    def __init__(self, answer=None):
        self.requests: list[dict] = []
        self.answer = answer or (lambda handler: (200, {}, b"{}"))
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": body})
                status, headers, data = recorder.answer(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = handle_one

            def log_message(self, *args):
                pass

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.close()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("security") / "release"
    run([SEEDS], out, options=Options(base=BASE))
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(release: Path, store: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(release), "--port", str(port),
                                "--store", str(store), *extra], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    assert first.startswith("SPARQL endpoint: "), first + process.stderr.read()
    return process, f"http://127.0.0.1:{port}"


def post_query(root: str, query: str, accept: str = "application/sparql-results+json"):
    request = urllib.request.Request(f"{root}/query", data=query.encode("utf-8"), method="POST", headers={
        "Content-Type": "application/sparql-query", "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode("utf-8", "replace")


@pytest.fixture
def served(release, tmp_path):
    process, root = start_serve(release, tmp_path / "store", "--timeout", "2", "--memory-limit", "300",
                                "--query-workers", "2")
    yield root, process
    process.terminate()
    process.wait(timeout=10)


# --------------------------------------------------------------------------- runaway queries

def test_a_runaway_query_ends_at_its_time_limit_with_an_error(served):
    root, _ = served
    started = time.monotonic()
    status, headers, body = post_query(root, CARTESIAN_COUNT)
    assert status == 503 and headers["X-Query-Limit"] == "timeout" and "2 s time limit" in body
    assert time.monotonic() - started < 2 + 1
    status, _, body = post_query(root, "ASK { ?s ?p ?o }")  # the server goes on, with a fresh worker
    assert status == 200 and json.loads(body)["boolean"] is True


def test_a_query_past_the_memory_limit_is_stopped_and_its_memory_freed(served):
    root, process = served
    status, headers, body = post_query(root, CARTESIAN_SORT)
    assert status == 503 and headers["X-Query-Limit"] == "memory" and "300 MB" in body

    def worker_rss() -> list[int]:
        pids = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        sizes = []
        for pid in pids:
            try:
                sizes.append(int(open(f"/proc/{pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20)
            except OSError:
                pass  # gone between the listing and the read: the killed one
        return sizes

    deadline = time.monotonic() + 10  # until the replacement is up, and the killed worker's memory is gone
    while (len(worker_rss()) != 2 or max(worker_rss()) >= 300) and time.monotonic() < deadline:
        time.sleep(0.02)
    rss = worker_rss()
    assert len(rss) == 2 and max(rss) < 300, rss


def test_no_answer_is_a_cut_200(served):
    """Whatever the limit, an answer is either complete and valid or an error status (never 200 and cut)."""
    root, _ = served
    for query in (CARTESIAN_COUNT, CARTESIAN_SORT, "SELECT * WHERE { ?s ?p ?o }"):
        status, _, body = post_query(root, query)
        if status == 200:
            json.loads(body)
        else:
            assert status == 503


def test_a_killed_query_worker_is_replaced(served):
    root, process = served
    (victim, *_) = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    subprocess.run(["kill", "-9", victim])
    answers = [post_query(root, "ASK { ?s ?p ?o }")[0] for _ in range(6)]
    assert answers.count(200) >= 5 and process.poll() is None


def test_pipeline_query_on_the_local_store_has_limits_too(release, tmp_path):
    runner = CliRunner()
    common = ["--release", str(release), "--store", str(tmp_path / "store")]
    started = time.monotonic()
    timed = runner.invoke(main, ["query", CARTESIAN_COUNT, *common, "--timeout", "2"])
    assert timed.exit_code == EXIT_FAILED and "time limit" in timed.output and time.monotonic() - started < 10
    memory = runner.invoke(main, ["query", CARTESIAN_SORT, *common, "--memory-limit", "300"])
    assert memory.exit_code == EXIT_FAILED and "memory limit" in memory.output


# --------------------------------------------------------------------------- SERVICE

SERVICE = "SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}"


def test_service_is_refused_by_serve_and_never_sent(served, recorder):
    root, _ = served
    for query in (SERVICE.format(url=recorder.url),
                  "SELECT * WHERE { \\u0053ERVICE <%s/sparql> { ?s ?p ?o } }" % recorder.url,
                  "select * where { # a comment\n service silent <%s/x> { ?s ?p ?o } }" % recorder.url):
        status, _, body = post_query(root, query)
        assert status == 403 and "--allow-service" in body
    assert recorder.requests == []


def test_service_is_refused_by_pipeline_query_local_and_remote(served, release, recorder, tmp_path):
    root, _ = served
    runner = CliRunner()
    query = SERVICE.format(url=recorder.url)
    local = runner.invoke(main, ["query", query, "--release", str(release), "--store", str(tmp_path / "s")])
    remote = runner.invoke(main, ["query", query, "--endpoint", f"{root}/query"])
    assert local.exit_code == remote.exit_code == EXIT_FAILED, local.output + remote.output
    assert "SERVICE is disabled" in local.output and "403" in remote.output
    assert recorder.requests == []


def test_service_goes_out_only_when_allowed(release, tmp_path):
    answer = json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": []}}).encode()
    remote = Recorder(lambda handler: (200, {"Content-Type": "application/sparql-results+json"}, answer))
    try:
        process, root = start_serve(release, tmp_path / "store", "--allow-service")
        try:
            status, _, _ = post_query(root, SERVICE.format(url=remote.url))
        finally:
            process.terminate()
            process.wait(timeout=10)
        assert status == 200 and len(remote.requests) == 1
    finally:
        remote.close()


@pytest.mark.skipif(not _without_network.__doc__, reason="documented behaviour")
def test_a_worker_cannot_reach_the_network_even_past_the_check(release, tmp_path, recorder):
    """Defence in depth: a SERVICE query sent straight to a worker (past the lexical check) reaches no one."""
    probe = subprocess.run([sys.executable, "-c", "from pipeline.sandbox import _without_network as w; "
                            "import sys; sys.exit(0 if w() else 1)"], cwd=ROOT)
    if probe.returncode != 0:
        pytest.skip("this machine allows no network namespace (neither root nor user namespaces)")
    version, _ = ensure_store(release, tmp_path / "store")
    worker = Worker(version, Limits(timeout=5))
    try:
        with pytest.raises(Exception, match="(?i)fail|error|unreachable|network"):
            worker.run(SERVICE.format(url=recorder.url), ["*/*"], time.monotonic() + 5, Limits(timeout=5))
    finally:
        worker.kill()
    assert recorder.requests == []


# --------------------------------------------------------------------------- publish

def test_publish_never_sends_credentials_to_another_origin(release, monkeypatch):
    elsewhere = Recorder()
    store = Recorder(lambda handler: (204, {}, b"") if handler.command == "PUT" else
                     (302, {"Location": f"{elsewhere.url}/query"}, b""))
    monkeypatch.setenv("PIPELINE_ENDPOINT_TOKEN", "s3cret-token")
    try:
        with pytest.raises(PublishError, match="another origin"):
            publish(release, f"{store.url}/store", retries=0)
        assert store.requests[0]["headers"]["Authorization"] == "Bearer s3cret-token"
        assert elsewhere.requests == []
    finally:
        store.close()
        elsewhere.close()


@pytest.mark.parametrize("url,says", [
    ("http://127.0.0.1:99999/store", "not a valid URL"),
    ("http://127.0.0.1:abc/store", "not a valid URL"),
    ("notaurl", "must be an http"),
    ("ftp://127.0.0.1/store", "must be an http"),
    ("http://admin:hunter2@127.0.0.1:9/store", "has credentials in it"),
])
def test_publish_refuses_bad_endpoint_urls_clearly(release, url, says):
    result = CliRunner().invoke(main, ["publish", str(release), "--endpoint", url])
    assert result.exit_code == EXIT_FAILED and says in result.output, result.output
    assert "Traceback" not in result.output and "hunter2" not in result.output


def test_publish_to_a_stalled_store_stops_at_its_deadline(release):
    stalled = Recorder(lambda handler: (time.sleep(30), (204, {}, b""))[1])
    try:
        started = time.monotonic()
        with pytest.raises(PublishError, match="deadline|timed out|attempt"):
            publish(release, f"{stalled.url}/store", timeout=1, deadline=3, retries=10, backoff=0.1)
        assert time.monotonic() - started < 3 + 1 + 1
    finally:
        stalled.close()


def test_query_of_a_cut_or_silent_endpoint_is_a_clear_error():
    cut = Recorder(lambda handler: (200, {"Content-Type": "application/sparql-results+json"},
                                    b'{"head":{"vars":["s"]},"results":{"bindings":[{"s": The SPARQL operation'))
    silent = Recorder(lambda handler: (time.sleep(5), (200, {}, b"{}"))[1])
    try:
        runner = CliRunner()
        first = runner.invoke(main, ["query", "SELECT * WHERE { ?s ?p ?o }", "--endpoint", f"{cut.url}/q"])
        second = runner.invoke(main, ["query", "ASK {}", "--endpoint", f"{silent.url}/q", "--timeout", "1"])
        assert first.exit_code == second.exit_code == EXIT_FAILED
        assert "not SPARQL JSON" in first.output and "did not answer within 1 s" in second.output
    finally:
        cut.close()
        silent.close()


# --------------------------------------------------------------------------- validate

def test_validate_fetches_no_context_and_opens_no_other_file(tmp_path, recorder):
    runner = CliRunner()
    for context in (f"{recorder.url}/context.jsonld", "file:///etc/passwd"):
        document = tmp_path / "doc.jsonld"
        document.write_text(json.dumps({"@context": context, "@id": "http://x/a", "name": "x"}))
        result = runner.invoke(main, ["validate", str(document)])
        assert result.exit_code == EXIT_FAILED and "never fetched" in result.output, result.output
        assert "root:" not in result.output
    assert recorder.requests == []


def test_validate_refuses_entity_bombs_at_once(tmp_path):
    levels = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{levels}]>'
                    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
                    '<rdf:Description rdf:about="http://e/a"><e:p>&l9;</e:p></rdf:Description></rdf:RDF>')
    external = tmp_path / "external.rdf"
    external.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')
    started = time.monotonic()
    for path, says in ((bomb, "refers to other entities"), (external, "external entity")):
        result = CliRunner().invoke(main, ["validate", str(path)])
        assert result.exit_code == EXIT_FAILED and says in result.output and path.name in result.output
    assert time.monotonic() - started < 10


def test_validate_reads_deep_nesting_and_gzip(tmp_path):
    import gzip

    deep = tmp_path / "deep.ttl"
    deep.write_text("<http://x/a> <http://x/p> " + "[ <http://x/p> " * 1000 + "<http://x/o>" + " ]" * 1000 + " .\n")
    packed = tmp_path / "deep.ttl.gz"
    packed.write_bytes(gzip.compress(deep.read_bytes()))
    for path in (deep, packed):
        result = CliRunner().invoke(main, ["validate", str(path)])
        assert result.exit_code == 0 and "1001 triples" in result.output, result.output


# --------------------------------------------------------------------------- linear work

def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def test_reading_a_long_literal_is_linear(tmp_path):
    """Eight times the literal may cost about eight times as much, never sixty-four (quadratic)."""
    from pipeline.validate import read_rdf

    sizes = {}
    for megabytes in (1, 8):
        path = tmp_path / f"{megabytes}.nt"
        path.write_text(f'<http://x/a> <http://x/p> "{"字" * (megabytes << 18)}" .\n', encoding="utf-8")
        sizes[megabytes] = best_of(lambda: read_rdf(path))
    assert sizes[8] < 24 * max(sizes[1], 1e-3), sizes


def test_splitting_a_long_tag_list_is_linear():
    from pipeline.record import parse_text

    def record(tags: int) -> str:
        return (f"id: t1\n标题：标题\n日期：1966-5-16\n是否是时间段：false\n作者：甲\n来源：\n"
                f"标签：{','.join(f'标签{i}' for i in range(tags))}\n书籍：书\n书籍作者：\n\n正文：\n正文\n\n描述：\n")

    small, large = record(5_000), record(40_000)
    times = (best_of(lambda: parse_text(small, file="a.txt")), best_of(lambda: parse_text(large, file="a.txt")))
    assert times[1] < 24 * max(times[0], 1e-4), times


def test_a_file_over_the_size_limit_is_never_read(tmp_path):
    """Counted in bytes read by this process (/proc/self/io), not in seconds: a 2 GB sparse file costs nothing."""
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "huge.txt", "wb") as stream:
        stream.truncate(2 << 30)

    def read_bytes() -> int:
        return int(dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())["rchar"])

    before = read_bytes()
    report = run([folder], tmp_path / "out", options=Options(base=BASE, workers=1))
    assert report.rejected == 1 and "--max-record-bytes" in report.rejects[0].problems[0].message
    assert read_bytes() - before < 200 << 20


# --------------------------------------------------------------------------- serve itself

def test_serve_on_a_taken_port_fails_before_saying_it_is_up(release, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "pipeline", "serve", str(release), "--port", str(port),
                                 "--store", str(tmp_path / "store")], cwd=ROOT, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == EXIT_FAILED and "SPARQL endpoint" not in result.stdout
    assert "in use" in result.stderr and "Traceback" not in result.stderr


def test_serve_warns_when_it_listens_beyond_loopback(release, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(release), "--host", "0.0.0.0",
                                "--port", str(free_port()), "--store", str(tmp_path / "store")], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("SPARQL endpoint")
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "not loopback" in errors and process.returncode == 143


def test_a_running_server_picks_up_a_new_release_and_keeps_its_store(release, tmp_path):
    out = tmp_path / "release"
    run([SEEDS], out, options=Options(base=BASE))
    process, root = start_serve(out, tmp_path / "store")
    said: list[str] = []
    threading.Thread(target=lambda: said.extend(process.stderr), daemon=True).start()
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?a a <http://schema.org/CreativeWork> }"
    try:
        before = json.loads(post_query(root, count)[2])["results"]["bindings"][0]["n"]["value"]
        run([SEEDS / "rmrb"], out, options=Options(base=BASE))
        # pipeline query loads the new version meanwhile: it must not delete the one the server holds
        versions_before = {p.name for p in (tmp_path / "store").iterdir() if p.is_dir()}
        CliRunner().invoke(main, ["query", "ASK {}", "--release", str(out), "--store", str(tmp_path / "store")])
        assert versions_before <= {p.name for p in (tmp_path / "store").iterdir() if p.is_dir()}
        deadline = time.monotonic() + 30
        after = before
        while after == before and time.monotonic() < deadline:
            after = json.loads(post_query(root, count)[2])["results"]["bindings"][0]["n"]["value"]
        assert int(after) < int(before)
        while not any("reloaded" in line for line in said) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(line.startswith(f"reloaded {out}") for line in said), said
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_query_running_when_a_new_release_is_served_still_answers(release, tmp_path):
    """Regression (CI): the old store was removed under a busy worker, whose query then failed."""
    out = tmp_path / "release"
    run([SEEDS], out, options=Options(base=BASE))
    store = tmp_path / "store"
    process, root = start_serve(out, store, "--timeout", "120")
    said: list[str] = []
    threading.Thread(target=lambda: said.extend(process.stderr), daemon=True).start()
    # every pair of triples, twelve times over: several seconds of work, longer than a reload takes
    slow = ("SELECT (COUNT(*) AS ?n) WHERE { VALUES ?k { 1 2 3 4 5 6 7 8 9 10 11 12 } ?a ?b ?c . ?d ?e ?f }")
    answers: list = []
    try:
        triples = int(json.loads(post_query(root, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[2])
                      ["results"]["bindings"][0]["n"]["value"])
        asking = threading.Thread(target=lambda: answers.append(post_query(root, slow)))
        asking.start()
        time.sleep(0.5)
        run([SEEDS / "rmrb"], out, options=Options(base=BASE))
        deadline = time.monotonic() + 60
        while not any("reloaded" in line for line in said) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("reloaded" in line for line in said), said
        asking.join(timeout=120)
        status, _, body = answers[0]
        assert status == 200, body
        assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == 12 * triples ** 2  # the old store's
        # once that query answered, the store it ran on goes; only the served one stays
        while len([p for p in store.iterdir() if p.is_dir()]) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len([p for p in store.iterdir() if p.is_dir()]) == 1
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_query_arguments_that_used_to_crash(release, tmp_path):
    runner = CliRunner()
    common = ["--release", str(release), "--store", str(tmp_path / "store"), "--format", "csv"]
    long_query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o " + " ".join(f"FILTER(?o != {i})" for i in range(40)) + " }"
    assert len(long_query) > 255
    answered = runner.invoke(main, ["query", long_query, *common])
    assert answered.exit_code == 0 and answered.output.startswith("n\n"), answered.output
    wide = tmp_path / "wide.rq"
    wide.write_bytes("ASK { ?s ?p ?o }".encode("utf-16"))
    refused = runner.invoke(main, ["query", str(wide), *common])
    assert refused.exit_code == EXIT_FAILED and "not UTF-8 text" in refused.output
    missing = runner.invoke(main, ["query", str(tmp_path / "nope.rq"), *common])
    assert missing.exit_code == EXIT_FAILED and "no query file" in missing.output
    for result in (answered, refused, missing):  # the output shown: a CI run once found a traceback here
        assert "Traceback" not in result.output, result.output


def test_an_answer_over_the_result_size_limit_is_refused_not_cut(release, tmp_path):
    process, root = start_serve(release, tmp_path / "store", "--max-result-bytes", "5000")
    try:
        status, headers, body = post_query(root, "SELECT * WHERE { ?s ?p ?o }")
        small, _, answer = post_query(root, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert status == 503 and headers["X-Query-Limit"] == "result-size" and "5,000-byte limit" in body
    assert small == 200 and len(json.loads(answer)["results"]["bindings"]) == 1


def test_a_file_that_grows_after_fstat_is_read_up_to_the_limit_only():
    """The first read asks for fstat's size; more that arrives later is read in further chunks, never past
    the limit (a pipe stands for a file that grows: fstat said 0)."""
    from pipeline.sources import _read_at_most

    read_end, write_end = os.pipe()

    def write_more_than_the_limit():
        try:
            os.write(write_end, b"x" * 300_000)
        except BrokenPipeError:  # the reader stopped at the limit and closed its end
            pass
        finally:
            os.close(write_end)

    writer = threading.Thread(target=write_more_than_the_limit)
    writer.start()
    try:
        assert _read_at_most(read_end, 200_001, 0) == b"x" * 200_001
    finally:
        os.close(read_end)
        writer.join()
    some = next(SEEDS.rglob("*.txt"))
    fd = os.open(some, os.O_RDONLY)
    try:
        assert _read_at_most(fd, 1 << 20, os.fstat(fd).st_size) == some.read_bytes()
    finally:
        os.close(fd)
