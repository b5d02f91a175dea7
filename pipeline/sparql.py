"""SPARQL over a release: the local Oxigraph store kept in step with it, queries against that store or any
remote endpoint, and results as a table, CSV, TSV or SPARQL JSON. `pipeline query` and `pipeline serve`."""

from __future__ import annotations

import csv
import io
import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LOADED = ("articles.nt", "void.ttl")  # what the store holds: the graph and the dataset's description
MARKER = "release.sha256"
FORMATS = ("table", "csv", "tsv", "json")
CHUNK_LINES = 200_000


class QueryError(Exception):
    """The query is malformed; the message says where."""


class EndpointError(Exception):
    """The endpoint or the store could not answer."""


def store_path(release: Path) -> Path:
    """Where the store of a release lives by default: beside it, never inside (the release is replaced)."""
    release = Path(release).resolve()
    return release.parent / f".{release.name}.store"


def release_digest(release: Path) -> str:
    """What identifies the content of a release: its SHA256SUMS lines for the loaded files."""
    sums = Path(release) / "SHA256SUMS"
    if not sums.exists():
        raise EndpointError(f"'{release}' is not a release (no SHA256SUMS); run `pipeline run` first")
    lines = [line for line in sums.read_text(encoding="utf-8").splitlines() if line.split("  ", 1)[-1] in LOADED]
    return "\n".join(lines)


def ensure_store(release: Path, store: Path | None = None, *,
                 progress: Callable[[int], None] | None = None) -> tuple[Path, bool]:
    """The store of release, loaded only when the release changed. Returns (its path, whether it loaded)."""
    import pyoxigraph

    release = Path(release)
    store = Path(store) if store else store_path(release)
    digest = release_digest(release)
    if (store / MARKER).exists() and (store / MARKER).read_text(encoding="utf-8") == digest:
        return store, False
    fresh = store.with_name(store.name + ".loading")
    shutil.rmtree(fresh, ignore_errors=True)
    target = pyoxigraph.Store(str(fresh))
    loaded = 0
    with open(release / "articles.nt", "rb") as stream:
        while True:
            chunk = b"".join(line for _, line in zip(range(CHUNK_LINES), stream))
            if not chunk:
                break
            target.bulk_load(chunk, format=pyoxigraph.RdfFormat.N_TRIPLES)
            loaded += chunk.count(b"\n")
            if progress:
                progress(loaded)
    target.bulk_load(path=str(release / "void.ttl"), format=pyoxigraph.RdfFormat.TURTLE)
    target.optimize()  # compacts what the bulk loads wrote: queries run two to three times faster
    target.flush()
    del target
    (fresh / MARKER).write_text(digest, encoding="utf-8")
    shutil.rmtree(store, ignore_errors=True)
    fresh.rename(store)
    return store, True


# --------------------------------------------------------------------------- results

@dataclass
class Results:
    """A query's answer: variables and rows of terms (SELECT), a boolean (ASK) or N-Triples (graphs)."""

    kind: str                      # 'select', 'ask' or 'graph'
    variables: list[str]
    rows: list[list[dict | None]]  # SPARQL JSON terms: {'type': 'uri'|'literal'|'bnode', 'value': …}
    boolean: bool | None = None
    ntriples: str = ""

    def render(self, fmt: str) -> str:
        if self.kind == "graph":
            return self.ntriples
        if self.kind == "ask":
            return json.dumps({"head": {}, "boolean": self.boolean}) if fmt == "json" else str(self.boolean).lower()
        if fmt == "json":
            bindings = [{v: t for v, t in zip(self.variables, row) if t is not None} for row in self.rows]
            return json.dumps({"head": {"vars": self.variables}, "results": {"bindings": bindings}},
                              ensure_ascii=False, indent=2)
        if fmt in ("csv", "tsv"):
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
            writer.writerow(self.variables)
            writer.writerows([[_plain(t) for t in row] for row in self.rows])
            return buffer.getvalue().rstrip("\n")
        return _table(self.variables, [[_plain(t) for t in row] for row in self.rows])


def _plain(term: dict | None) -> str:
    return "" if term is None else term["value"]


def _table(variables: list[str], rows: list[list[str]]) -> str:
    clipped = [[value if len(value) <= 60 else value[:57] + "..." for value in row] for row in rows]
    widths = [max([_width(v)] + [_width(row[i]) for row in clipped]) for i, v in enumerate(variables)]
    line = lambda cells: " | ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(variables), "-+-".join("-" * w for w in widths)] + [line(row) for row in clipped]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# --------------------------------------------------------------------------- running queries

def query_kind(text: str) -> str:
    """'select', 'ask' or 'graph' — by running the query on an empty store, which also checks its syntax."""
    import pyoxigraph

    try:
        result = pyoxigraph.Store().query(text)
    except SyntaxError as error:
        raise QueryError(f"malformed query: {error}") from None
    if isinstance(result, pyoxigraph.QueryBoolean):
        return "ask"
    return "select" if isinstance(result, pyoxigraph.QuerySolutions) else "graph"


def query_store(store: Path, text: str, *, timeout: float | None = None) -> Results:
    """Run a query against a local store, read-only (a server may have it open too)."""
    import pyoxigraph

    kind = query_kind(text)
    try:
        result = pyoxigraph.Store.read_only(str(store)).query(text)
    except OSError as error:
        raise EndpointError(f"cannot open the store '{store}': {error}") from None
    if kind == "ask":
        return Results("ask", [], [], boolean=bool(result))
    if kind == "graph":
        return Results("graph", [], [], ntriples="".join(f"{t} .\n" for t in result))
    data = json.loads(result.serialize(format=pyoxigraph.QueryResultsFormat.JSON))
    return _from_json(data)


def query_endpoint(url: str, text: str, *, timeout: float = 60, headers: dict | None = None) -> Results:
    """Run a query against a SPARQL 1.1 Protocol endpoint (POST, application/sparql-query)."""
    kind = query_kind(text)
    accept = "application/n-triples" if kind == "graph" else "application/sparql-results+json"
    request = urllib.request.Request(url, data=text.encode("utf-8"), method="POST", headers={
        "Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        if error.code == 400:
            raise QueryError(f"the endpoint refused the query: {detail}") from None
        raise EndpointError(f"{url} answered {error.code} {error.reason}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise EndpointError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
    if kind == "graph":
        return Results("graph", [], [], ntriples=body)
    return _from_json(json.loads(body))


def _from_json(data: dict) -> Results:
    if "boolean" in data:
        return Results("ask", [], [], boolean=data["boolean"])
    variables = data["head"]["vars"]
    rows = [[binding.get(v) for v in variables] for binding in data["results"]["bindings"]]
    return Results("select", variables, rows)


# --------------------------------------------------------------------------- the server

def oxigraph_binary() -> str:
    """The `oxigraph` server installed with the project (PyPI package oxigraph)."""
    import sys

    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise EndpointError("the oxigraph server is not installed; `pip install oxigraph` (make run does)")
    return found


DEFAULT_TIMEOUT = 5  # see start_server: x the query rate it must stay well under ~16,000


def start_server(store: Path, *, host: str = "127.0.0.1", port: int = 7878, timeout: float = DEFAULT_TIMEOUT,
                 wait: float = 30):
    """Start `oxigraph serve-read-only` on the store; return the process once it answers queries.

    Oxigraph enforces the time limit with one thread per query that sleeps for the whole limit, so the
    query rate x the limit must stay well under ~16,000 (Linux's default vm.max_map_count of 65,530 over
    four mappings a thread), or the server dies (measured in bench/README.md); 0 means no limit."""
    import subprocess
    import time

    command = [oxigraph_binary(), "serve-read-only", "--location", str(store), "--bind", f"{host}:{port}"]
    if timeout > 0:
        command += ["--timeout-s", str(max(1, round(timeout)))]
    log = Path(f"{store}.log")  # never a pipe: nobody would drain it, and a full pipe stalls the server
    with open(log, "wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, preexec_fn=_stop_with_parent)
    process.log = log
    url = f"http://{url_host(host)}:{port}/query"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise EndpointError(f"the oxigraph server stopped at once (is port {port} in use?):\n{output}")
        try:
            query_endpoint(url, "ASK { ?s ?p ?o }", timeout=2)
            return process
        except EndpointError:
            time.sleep(0.1)
    process.terminate()
    raise EndpointError(f"the oxigraph server did not answer on {url} within {wait:.0f} s")


def _stop_with_parent() -> None:
    """In the server's process: end when `pipeline serve` ends, however it ends (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def url_host(host: str) -> str:
    """How to write a bind address in a URL a browser can open."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
