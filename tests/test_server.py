"""`pipeline serve`, `pipeline query` and `pipeline publish` against real Oxigraph servers on loopback."""

from __future__ import annotations

import json
from pathlib import Path
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner

from pipeline import Options, run
from pipeline.cli import EXIT_FAILED, EXIT_QUERY, main
from pipeline.publish import PublishError, auth_headers, default_query_endpoint, publish
from pipeline.sparql import ensure_store, oxigraph_binary

from .conftest import BASE, ROOT, SEEDS, seed_facts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url: str, *, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


@pytest.fixture
def release(tmp_path):
    out = tmp_path / "release"
    run([SEEDS], out, options=Options(base=BASE))
    return out


@pytest.fixture
def served(release, tmp_path):
    """`pipeline serve` as a user runs it, in its own process."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(release), "--port", str(port),
                                "--store", str(tmp_path / "store"), "--timeout", "5"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    assert first.startswith("SPARQL endpoint: "), first + process.stderr.read()
    yield f"http://127.0.0.1:{port}", process, first
    process.terminate()
    process.wait(timeout=10)


def test_serve_answers_sparql_json_and_refuses_updates(served):
    root, process, first = served
    assert f"{root}/query" in first
    query = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://schema.org/CreativeWork> }"})
    status, body = http(f"{root}/query?{query}", headers={"Accept": "application/sparql-results+json"})
    assert status == 200
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(seed_facts()["articles"])
    status, _ = http(f"{root}/update", data=b"INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
                     headers={"Content-Type": "application/sparql-update"}, method="POST")
    assert status >= 400
    status, _ = http(f"{root}/store", data=b"<http://x/a> <http://x/b> <http://x/c> .",
                     headers={"Content-Type": "application/n-triples"}, method="POST")
    assert status >= 400
    status, page = http(f"{root}/")
    assert status == 200 and "<html" in page.lower()


def test_serve_stops_its_server_when_it_stops(served):
    _, process, _ = served
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert children
    process.terminate()
    process.wait(timeout=10)
    deadline = time.monotonic() + 10  # wait for the condition itself, not for a guessed time
    while any(Path(f"/proc/{child}").exists() for child in children) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [child for child in children if Path(f"/proc/{child}").exists()]


def test_query_command_against_the_endpoint_and_the_local_store(served, release, tmp_path):
    root, _, _ = served
    runner = CliRunner()
    query = str(ROOT / "docs" / "queries" / "05-articles-in-a-book.rq")
    remote = runner.invoke(main, ["query", query, "--endpoint", f"{root}/query", "--format", "csv"])
    local = runner.invoke(main, ["query", query, "--release", str(release), "--store", str(tmp_path / "store"),
                                 "--format", "csv"])
    assert remote.exit_code == 0 and local.exit_code == 0, remote.output + local.output
    assert remote.output == local.output and remote.output.startswith("id,date,title\n")
    assert len(remote.output.splitlines()) == 13
    table = runner.invoke(main, ["query", "ASK { ?s ?p ?o }", "--endpoint", f"{root}/query"])
    assert table.output.strip() == "true"


def test_malformed_query_and_unreachable_endpoint(release, tmp_path):
    runner = CliRunner()
    bad = runner.invoke(main, ["query", "SELECT ?x WHERE { ?x", "--release", str(release),
                               "--store", str(tmp_path / "s")])
    assert bad.exit_code == EXIT_QUERY and "malformed query" in bad.output
    gone = runner.invoke(main, ["query", "ASK {}", "--endpoint", f"http://127.0.0.1:{free_port()}/query"])
    assert gone.exit_code == EXIT_FAILED and "cannot reach" in gone.output


@pytest.mark.parametrize("fmt,start", [("json", '{\n  "head"'), ("tsv", "id\tdate\ttitle"), ("table", "id ")])
def test_query_formats(release, tmp_path, fmt, start):
    result = CliRunner().invoke(main, ["query", str(ROOT / "docs" / "queries" / "05-articles-in-a-book.rq"),
                                       "--release", str(release), "--store", str(tmp_path / "s"), "--format", fmt])
    assert result.exit_code == 0 and result.output.startswith(start), result.output


def test_store_reloads_only_when_the_release_changed(release, tmp_path):
    store = tmp_path / "store"
    assert ensure_store(release, store)[1] is True
    assert ensure_store(release, store)[1] is False
    run([SEEDS / "rmrb"], release, options=Options(base=BASE))
    assert ensure_store(release, store)[1] is True


# --------------------------------------------------------------------------- publish

@pytest.fixture
def writable_store(tmp_path):
    port = free_port()
    process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(tmp_path / "rw"),
                                "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def graph_count(root: str, graph: str) -> int:
    query = urllib.parse.urlencode({"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    _, body = http(f"{root}/query?{query}", headers={"Accept": "application/sparql-results+json"})
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_publish_replaces_the_graph_without_stale_triples(writable_store, release, tmp_path):
    done = publish(release, f"{writable_store}/store")
    assert done.graph == f"{BASE}dataset" and graph_count(writable_store, done.graph) == done.triples > 2000
    smaller = tmp_path / "smaller"
    run([SEEDS / "rmrb"], smaller, options=Options(base=BASE))
    title = "时刻保持党同群众的血肉联系——学习党的十三届六中全会精神的体会"  # the seed record is not in rmrb
    present = urllib.parse.urlencode({"query": f'ASK {{ GRAPH ?g {{ ?s ?p ?o FILTER(str(?o) = "{title}") }} }}'})
    _, body = http(f"{writable_store}/query?{present}", headers={"Accept": "application/sparql-results+json"})
    assert json.loads(body)["boolean"] is True  # so that the ASK after the replacement can fail
    again = publish(smaller, f"{writable_store}/store")
    assert again.triples < done.triples
    assert graph_count(writable_store, done.graph) == again.triples
    query = urllib.parse.urlencode({"query": f'ASK {{ GRAPH ?g {{ ?s ?p ?o FILTER(str(?o) = "{title}") }} }}'})
    _, body = http(f"{writable_store}/query?{query}", headers={"Accept": "application/sparql-results+json"})
    assert json.loads(body)["boolean"] is False


def test_publish_into_a_named_graph_through_the_cli(writable_store, release):
    result = CliRunner().invoke(main, ["publish", str(release), "--endpoint", f"{writable_store}/store",
                                       "--graph", "http://example.org/graphs/articles"])
    assert result.exit_code == 0, result.output
    assert "the store's count matches" in result.output
    assert graph_count(writable_store, "http://example.org/graphs/articles") > 2000


def store_graph(root: str, graph: str) -> set:
    """Every triple of the graph as the store holds it (CONSTRUCT, N-Triples parsed by pyoxigraph)."""
    import pyoxigraph

    query = urllib.parse.urlencode({"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    _, body = http(f"{root}/query?{query}", headers={"Accept": "application/n-triples"})
    return {(q.subject, q.predicate, q.object) for q in pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.N_TRIPLES)}


def release_triples(release: Path) -> set:
    import pyoxigraph

    found = set()
    for name, fmt in (("articles.nt", pyoxigraph.RdfFormat.N_TRIPLES), ("void.ttl", pyoxigraph.RdfFormat.TURTLE)):
        found |= {(q.subject, q.predicate, q.object) for q in pyoxigraph.parse(path=str(release / name), format=fmt)}
    return found


def published_then_changed(store: str, tmp_path: Path) -> Path:
    """Release 1 (rmrb, whb) published into the store; release 2 (whb out, cnd in: both ways) run after it
    in the same folder, so it has a change set against what the store holds."""
    out = tmp_path / "out"
    run([SEEDS / "rmrb", SEEDS / "whb"], out, options=Options(base=BASE))
    publish(out, f"{store}/store")
    run([SEEDS / "rmrb", SEEDS / "cnd"], out, options=Options(base=BASE))
    return out


def test_publish_changes_applies_the_change_set_and_the_store_equals_the_new_release(writable_store, tmp_path):
    from pipeline.publish import publish_changes

    out = published_then_changed(writable_store, tmp_path)
    done = publish_changes(out, f"{writable_store}/store")
    assert done.fell_back is None and done.removed > 100 and done.added > 20 and done.atomic
    assert store_graph(writable_store, done.graph) == release_triples(out)
    # the store now holds this release, not its predecessor: a second try falls back, and says why
    again = publish_changes(out, f"{writable_store}/store")
    assert again.fell_back and "previous release" in again.fell_back
    assert store_graph(writable_store, done.graph) == release_triples(out)


def test_publish_changes_keeps_a_description_literal_that_holds_u2028_whole(writable_store, tmp_path):
    """The description's lines were split with str.splitlines(), which also splits at U+2028: a --title
    holding one went into INSERT DATA cut in two."""
    from pipeline.publish import publish_changes

    options = Options(base=BASE, title="文革文章\u2028第二行")
    out = tmp_path / "out"
    run([SEEDS / "rmrb", SEEDS / "whb"], out, options=options)
    publish(out, f"{writable_store}/store")
    run([SEEDS / "rmrb", SEEDS / "cnd"], out, options=options)
    done = publish_changes(out, f"{writable_store}/store")
    assert done.fell_back is None
    assert store_graph(writable_store, done.graph) == release_triples(out)


def test_a_large_change_set_goes_in_bounded_requests(writable_store, tmp_path, monkeypatch):
    import pipeline.publish as publishing

    out = published_then_changed(writable_store, tmp_path)
    monkeypatch.setattr(publishing, "OPERATION_TRIPLES", 50)
    monkeypatch.setattr(publishing, "ONE_REQUEST_BYTES", 20_000)
    done = publishing.publish_changes(out, f"{writable_store}/store")
    assert done.fell_back is None and done.requests > 3 and not done.atomic
    assert store_graph(writable_store, done.graph) == release_triples(out)


def test_publish_changes_falls_back_to_a_full_replace_and_says_so(writable_store, tmp_path):
    out = tmp_path / "out"
    run([SEEDS / "rmrb"], out, options=Options(base=BASE))
    result = CliRunner().invoke(main, ["publish", str(out), "--endpoint", f"{writable_store}/store", "--changes"])
    assert result.exit_code == 0, result.output
    assert "no change set applied" in result.output and "has no change set" in result.output
    run([SEEDS / "rmrb", SEEDS / "whb"], out, options=Options(base=BASE))  # a change set, but an empty store
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["publish", str(out), "--endpoint", f"{writable_store}/store", "--changes",
                                       "--graph", "http://example.org/graphs/other"])
    assert result.exit_code == 0 and "does not hold the previous release" in result.output
    assert store_graph(writable_store, "http://example.org/graphs/other") == release_triples(out)


def test_a_change_set_too_large_to_hold_is_not_read(writable_store, tmp_path, monkeypatch):
    import pipeline.publish as publishing

    out = published_then_changed(writable_store, tmp_path)
    monkeypatch.setattr(publishing, "MAX_CHANGE_BYTES", 100)
    done = publishing.publish_changes(out, f"{writable_store}/store")
    assert done.fell_back and "over" in done.fell_back
    assert store_graph(writable_store, done.graph) == release_triples(out)


@pytest.mark.parametrize("changes", [False, True])
def test_a_graph_iri_that_would_break_out_of_its_brackets_is_refused_before_any_request(release, changes):
    """It goes into the count query and, with --changes, into SPARQL Update: `>` would end the IRI there."""
    hostile = "http://example.org/g> } } ; DROP ALL ; #"
    port = free_port()  # nothing listens: a request would fail with 'connection refused', not this
    result = CliRunner().invoke(main, ["publish", str(release), "--endpoint", f"http://127.0.0.1:{port}/store",
                                       "--graph", hostile, "--retries", "0"] + (["--changes"] if changes else []))
    assert result.exit_code == 2 and "--graph" in result.output and "refused" not in result.output
    from pipeline.publish import graph_iri

    assert graph_iri("urn:x:articles") == "urn:x:articles"  # any absolute IRI SPARQL can hold still goes


def test_publish_retries_then_says_why(release):
    started = time.monotonic()
    with pytest.raises(PublishError, match="after 3 attempt"):
        publish(release, f"http://127.0.0.1:{free_port()}/store", retries=2, backoff=0.05)
    assert time.monotonic() - started >= 0.15  # it waited between the attempts


def test_credentials_come_from_the_environment_only():
    assert auth_headers({}) == {}
    assert auth_headers({"PIPELINE_ENDPOINT_TOKEN": "t"}) == {"Authorization": "Bearer t"}
    assert auth_headers({"PIPELINE_ENDPOINT_USER": "u", "PIPELINE_ENDPOINT_PASSWORD": "p"}) == \
        {"Authorization": "Basic dTpw"}
    help_text = CliRunner().invoke(main, ["publish", "--help"]).output
    assert "--password" not in help_text and "--token" not in help_text


@pytest.mark.parametrize("store,query", [
    ("http://h:7878/store", "http://h:7878/query"),
    ("http://h/fuseki/articles/data", "http://h/fuseki/articles/query"),
    ("http://h/rdf4j/repositories/r/statements", "http://h/rdf4j/repositories/r"),
])
def test_query_endpoint_is_guessed_from_the_store_endpoint(store, query):
    assert default_query_endpoint(store) == query


def test_publish_from_a_partial_download(writable_store, release, tmp_path):
    """Only articles.nt.gz and void.ttl: the gzip dump is streamed, the count still matches."""
    import shutil

    partial = tmp_path / "download"
    partial.mkdir()
    for name in ("articles.nt.gz", "void.ttl"):
        shutil.copy(release / name, partial / name)
    done = publish(partial, f"{writable_store}/store", graph="http://example.org/graphs/partial")
    assert graph_count(writable_store, "http://example.org/graphs/partial") == done.triples > 2000
