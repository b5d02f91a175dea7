"""SPARQL over a release: the local Oxigraph store kept in step with it, queries against that store or any
remote endpoint, and results as a table, CSV, TSV or SPARQL JSON. `pipeline query` and `pipeline serve`."""

from __future__ import annotations

import csv
import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import http.client
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .problems import PipelineError

GRAPH_DUMPS = ("articles.nt", "articles.nt.gz")  # the graph, whichever of the two was downloaded
DESCRIPTION = "void.ttl"  # and the dataset's description: what the store holds
MARKER = "release.sha256"
FORMATS = ("table", "csv", "tsv", "json")
CHUNK_LINES = 200_000


class QueryError(PipelineError):
    """The query is malformed; the message says where."""

    exit_code = 5


class EndpointError(PipelineError):
    """The endpoint or the store could not answer."""


def store_path(release: Path) -> Path:
    """Where the stores of a release live by default: beside it, never inside (the release is replaced)."""
    release = Path(release).resolve()
    return release.parent / f".{release.name}.store"


def release_digest(release: Path) -> str:
    """What identifies the content of a release: its SHA256SUMS lines for the loaded files."""
    sums = Path(release) / "SHA256SUMS"
    if not sums.exists():
        raise EndpointError(f"'{release}' is not a release (no SHA256SUMS); run `pipeline run` first")
    graph = graph_dump(release)
    lines = [line for line in sums.read_text(encoding="utf-8").splitlines()
             if line.split("  ", 1)[-1] in (graph.name, DESCRIPTION)]
    return "\n".join(lines)


def graph_dump(release: Path) -> Path:
    """The N-Triples dump of a release, plain or gzipped: a partial download may hold only the gzip."""
    for name in GRAPH_DUMPS:
        if (Path(release) / name).is_file():
            return Path(release) / name
    raise EndpointError(f"'{release}' holds neither {' nor '.join(GRAPH_DUMPS)}; download one of them (with "
                        f"{DESCRIPTION} and SHA256SUMS) from the release")


# The store root holds one folder per release version (named by its digest) and a lock file for each:
# whoever queries a version holds a shared lock on it, and only versions nobody holds are removed, so a
# new release never deletes the store under a running server or query.
_HELD: dict[Path, int] = {}  # versions this process holds: POSIX locks do not exclude one's own process


def ensure_store(release: Path, store: Path | None = None, *,
                 progress: Callable[[int], None] | None = None) -> tuple[Path, bool]:
    """The store of this version of release, loaded only when it is new. Returns (its path, whether it
    loaded). Other versions that no process holds are removed."""
    release = Path(release)
    root = Path(store) if store else store_path(release)
    digest = release_digest(release)
    version = root / hashlib.sha256(digest.encode("utf-8")).hexdigest()[:16]
    _adopt(root)
    with _exclusive(root / ".loading.lock"):
        loaded = not (version / MARKER).exists()
        if loaded:
            _load(release, version, digest, progress)
        remove_unused_versions(root, keep=version)
    return version, loaded


def _adopt(root: Path) -> None:
    """A store of the earlier layout (one store at the root, with our marker) is ours to replace."""
    if (root / MARKER).is_file() and not any(root.glob("*/" + MARKER)):
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)


def _load(release: Path, version: Path, digest: str, progress) -> None:
    import pyoxigraph

    fresh = version.with_name(version.name + ".loading")
    shutil.rmtree(fresh, ignore_errors=True)
    target = pyoxigraph.Store(str(fresh))
    loaded = 0
    dump = graph_dump(release)
    with (gzip.open(dump, "rb") if dump.suffix == ".gz" else open(dump, "rb")) as stream:
        while True:
            chunk = b"".join(line for _, line in zip(range(CHUNK_LINES), stream))
            if not chunk:
                break
            target.bulk_load(chunk, format=pyoxigraph.RdfFormat.N_TRIPLES)
            loaded += chunk.count(b"\n")
            if progress:
                progress(loaded)
    if (release / DESCRIPTION).is_file():
        target.bulk_load(path=str(release / DESCRIPTION), format=pyoxigraph.RdfFormat.TURTLE)
    target.optimize()  # compacts what the bulk loads wrote: queries run two to three times faster
    target.flush()
    del target
    (fresh / MARKER).write_text(digest, encoding="utf-8")
    shutil.rmtree(version, ignore_errors=True)
    fresh.rename(version)


class _exclusive:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.lockf(self.fd, fcntl.LOCK_EX)  # waits: another process is loading the same store
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def hold(version: Path) -> None:
    """Take a shared lock on a store version for as long as this process uses it."""
    if version in _HELD:
        return
    fd = os.open(f"{version}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.lockf(fd, fcntl.LOCK_SH)
    _HELD[version] = fd


def let_go(version: Path) -> None:
    fd = _HELD.pop(version, None)
    if fd is not None:
        os.close(fd)


def remove_unused_versions(root: Path, *, keep: Path) -> None:
    """Every store version under root but keep that no process holds (and that carries our marker)."""
    for candidate in root.iterdir():
        if candidate == keep or candidate in _HELD or not candidate.is_dir() or not (candidate / MARKER).exists():
            continue
        lock = Path(f"{candidate}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a server or query still uses it
        shutil.rmtree(candidate, ignore_errors=True)
        lock.unlink(missing_ok=True)
        os.close(fd)


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

_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_kind(text: str) -> str:
    """'select', 'ask' or 'graph'. The syntax is checked by running the query on an empty store, except
    when it holds SERVICE, which even an empty store would send out: then the form keyword decides."""
    import pyoxigraph

    from .sandbox import _NOT_CODE, uses_service

    if uses_service(text):
        form = _FORM.search(_NOT_CODE.sub(" ", text))
        if not form:
            raise QueryError("malformed query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
        name = form.group(1).upper()
        return "select" if name == "SELECT" else "ask" if name == "ASK" else "graph"
    try:
        result = pyoxigraph.Store().query(text)
    except SyntaxError as error:
        raise QueryError(f"malformed query: {error}") from None
    if isinstance(result, pyoxigraph.QueryBoolean):
        return "ask"
    return "select" if isinstance(result, pyoxigraph.QuerySolutions) else "graph"


def query_store(store: Path, text: str, *, limits=None) -> Results:
    """Run a query against a local store version, read-only, in a worker that the limits can stop."""
    from .sandbox import Limits, LimitExceeded, MalformedQuery, Pool, QueryFailed, ServiceRefused

    limits = limits or Limits(timeout=60, memory_mb=2048)
    from .sandbox import check_query

    try:
        check_query(text, limits)
    except (ServiceRefused, MalformedQuery) as error:
        raise (QueryError if isinstance(error, MalformedQuery) else LimitError)(str(error)) from None
    kind = query_kind(text)
    hold(Path(store))
    try:
        pool = Pool(store, size=1, limits=limits)
        try:
            accept = ["application/n-triples"] if kind == "graph" else ["application/sparql-results+json"]
            answer = pool.execute(text, accept=accept)
        finally:
            pool.kill()
    except MalformedQuery as error:
        raise QueryError(str(error)) from None
    except (ServiceRefused, LimitExceeded) as error:
        raise LimitError(str(error)) from None
    except QueryFailed as error:
        raise EndpointError(str(error)) from None
    finally:
        let_go(Path(store))
    if kind == "graph":
        return Results("graph", [], [], ntriples=answer.body.decode("utf-8"))
    return _from_json(json.loads(answer.body))


class LimitError(EndpointError):
    """The query was stopped at a limit (time, memory, result size) or refused (SERVICE)."""


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port: credentials never go elsewhere."""

    def redirect_request(self, request, stream, code, message, headers, new_url):
        old, new = urllib.parse.urlsplit(request.full_url), urllib.parse.urlsplit(new_url)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise EndpointError(f"{request.full_url} redirected ({code}) to another origin, {_origin(new_url)}; "
                                "not followed, so that no credentials or query leave for a host you did not "
                                "name. Use the address it redirects to, if you trust it")
        return super().redirect_request(request, stream, code, message, headers, new_url)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def opener() -> urllib.request.OpenerDirector:
    """urllib with same-origin redirects only (proxies from the environment still apply: the user set them)."""
    return urllib.request.build_opener(_SameOrigin())


def check_url(url: str, what: str = "endpoint") -> urllib.parse.SplitResult:
    """An http(s) URL with a host and a valid port and no credentials in it; else EndpointError."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise EndpointError(f"{what} '{_redacted(url)}' is not a valid URL ({error}); write http://host:port/path") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{what} '{_redacted(url)}' must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise EndpointError(f"{what} '{_redacted(url)}' has credentials in it; remove them and set "
                            "PIPELINE_ENDPOINT_USER/PIPELINE_ENDPOINT_PASSWORD or PIPELINE_ENDPOINT_TOKEN")
    if port == 0:
        raise EndpointError(f"{what} '{url}' has port 0; write the server's port")
    return parts


def _redacted(url: str) -> str:
    """The URL without user and password (never echoed back)."""
    return re.sub(r"//[^/@]*@", "//…@", url)


def query_endpoint(url: str, text: str, *, timeout: float = 60, headers: dict | None = None) -> Results:
    """Run a query against a SPARQL 1.1 Protocol endpoint (POST, application/sparql-query)."""
    check_url(url)
    kind = query_kind(text)
    accept = "application/n-triples" if kind == "graph" else "application/sparql-results+json"
    request = urllib.request.Request(url, data=text.encode("utf-8"), method="POST", headers={
        "Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept, **(headers or {})})
    try:
        with opener().open(request, timeout=timeout) as response:
            body = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        if error.code == 400:
            raise QueryError(f"the endpoint refused the query: {detail}") from None
        raise EndpointError(f"{url} answered {error.code} {error.reason}: {detail}") from None
    except (TimeoutError, socket.timeout):
        raise EndpointError(f"{url} did not answer within {timeout:g} s; try --timeout, or a narrower query") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise EndpointError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
    if kind == "graph":
        return Results("graph", [], [], ntriples=body)
    try:
        return _from_json(json.loads(body))
    except (ValueError, KeyError, TypeError):
        raise EndpointError(f"{url} answered with something that is not SPARQL JSON results "
                            f"(starts {body[:120]!r}); a cut answer often means the endpoint timed out") from None


def _from_json(data: dict) -> Results:
    if "boolean" in data:
        return Results("ask", [], [], boolean=data["boolean"])
    variables = data["head"]["vars"]
    rows = [[binding.get(v) for v in variables] for binding in data["results"]["bindings"]]
    return Results("select", variables, rows)


def oxigraph_binary() -> str:
    """The `oxigraph` command installed with the project (PyPI package oxigraph): a writable store for
    `pipeline publish` to upload into, and a bulk loader (docs/bulk-loading.md)."""
    import sys

    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise EndpointError("the oxigraph server is not installed; `pip install oxigraph` (make run does)")
    return found
