"""Uploading a release into any triple store over the SPARQL 1.1 Graph Store HTTP Protocol (`pipeline
publish`): one streamed PUT replaces the named graph, then a count query checks what the store holds."""

from __future__ import annotations

import base64
import gzip
import http.client
import os
import re
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .problems import OptionError, PipelineError
from .sparql import EndpointError, check_url, graph_dump, query_endpoint

CREDENTIALS = ("PIPELINE_ENDPOINT_USER", "PIPELINE_ENDPOINT_PASSWORD", "PIPELINE_ENDPOINT_TOKEN")
TRANSIENT = {408, 425, 429, 500, 502, 503, 504}  # worth another attempt; None (no answer) is too
CHUNK = 1 << 20


class PublishError(PipelineError):
    """The upload failed or the store does not hold what was sent."""


@dataclass(frozen=True)
class Upload:
    graph: str
    triples: int
    bytes: int
    attempts: int
    seconds: float


def auth_headers(environ=os.environ) -> dict[str, str]:
    """Credentials come from the environment only, never from the command line (it shows in `ps`)."""
    if environ.get("PIPELINE_ENDPOINT_TOKEN"):
        return {"Authorization": f"Bearer {environ['PIPELINE_ENDPOINT_TOKEN']}"}
    if environ.get("PIPELINE_ENDPOINT_USER"):
        pair = f"{environ['PIPELINE_ENDPOINT_USER']}:{environ.get('PIPELINE_ENDPOINT_PASSWORD', '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}
    return {}


def default_query_endpoint(store_endpoint: str) -> str:
    """Oxigraph: /store -> /query; Fuseki: /ds/data -> /ds/query; otherwise the same URL."""
    parts = urllib.parse.urlsplit(store_endpoint)
    for suffix, replacement in (("/store", "/query"), ("/data", "/query"), ("/statements", "")):
        if parts.path.endswith(suffix):
            return urllib.parse.urlunsplit(parts._replace(path=parts.path[: -len(suffix)] + replacement, query=""))
    return store_endpoint


def release_graph(release: Path) -> tuple[str, int, bytes]:
    """The dataset IRI (the default graph name), the triple count, and the description as N-Triples."""
    import pyoxigraph

    void = Path(release) / "void.ttl"
    if not void.exists():
        raise PublishError(f"'{release}' is not a release (no void.ttl); run `pipeline run` first")
    store = pyoxigraph.Store()
    store.load(path=str(void), format=pyoxigraph.RdfFormat.TURTLE)
    (row,) = list(store.query(
        "SELECT ?d ?n WHERE { ?d a <http://rdfs.org/ns/void#Dataset> ; <http://rdfs.org/ns/void#triples> ?n }"))
    description = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=pyoxigraph.DefaultGraph())
    return row[0].value, int(row[1].value), description


def graph_iri(graph: str) -> str:
    """The named graph, checked before it goes into any query or update: `<…>` around a value holding `>`
    would end the IRI, and what follows would run as SPARQL (`--graph 'http://x/g> } } ; DROP ALL ; #'`)."""
    if not _IRIREF.match(graph):
        raise OptionError(f"--graph {graph!r} is not an absolute IRI that SPARQL can hold between < and >: it "
                          "needs a scheme (https:, urn:) and none of space, <>\"{}|^`\\ or control characters")
    return graph


_IRIREF = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>"{}|^`\\]*$')  # SPARQL 1.1's IRIREF, with a scheme


Progress = "Callable[[int, int], None]"  # (bytes sent, bytes in all)


def publish(release: Path, endpoint: str, *, graph: str | None = None, query_url: str | None = None,
            retries: int = 5, backoff: float = 1.0, timeout: float = 60, deadline: float = 1800,
            progress=None) -> Upload:
    """PUT the release (articles.nt, or the gzip dump of a partial download, then its description) as one
    named graph; check the count after.

    timeout bounds each wait for the store (a stalled connection); deadline bounds the whole publish,
    retries and back-off included. Redirects are not followed: a Graph Store that moved says so."""
    try:
        check_url(endpoint)
        if query_url:
            check_url(query_url, "query endpoint")
    except EndpointError as error:
        raise PublishError(str(error)) from None
    release = Path(release)
    dataset, triples, description = release_graph(release)
    graph = graph_iri(graph or dataset)
    try:
        data = graph_dump(release)
    except EndpointError as error:
        raise PublishError(str(error)) from None
    size = _size(data) + len(description)
    expected = triples + description.count(b"\n")
    started = time.monotonic()
    ends = started + deadline
    attempts = 0
    while True:
        attempts += 1
        try:
            status, reason = _put(endpoint, graph, data, description, size, min(timeout, _left(ends)), progress, ends)
        except (OSError, http.client.HTTPException) as error:
            status, reason = None, str(error) or type(error).__name__
        if status is not None and 200 <= status < 300:
            break
        pause = backoff * 2 ** (attempts - 1)
        final = status is not None and status not in TRANSIENT
        out_of_time = time.monotonic() + pause >= ends
        if final or attempts > retries or out_of_time:
            why = f" (the {deadline:g} s deadline is reached)" if out_of_time and not final and attempts <= retries else ""
            raise PublishError(f"uploading to {endpoint} failed after {attempts} attempt(s){why}: "
                               f"{status or ''} {reason}".strip())
        time.sleep(pause)
    count = _count(query_url or default_query_endpoint(endpoint), graph, min(timeout, _left(ends)))
    if count != expected:
        raise PublishError(f"the store holds {count} triples in <{graph}>, not the {expected} sent; "
                           "check that nothing else writes to that graph")
    return Upload(graph, expected, size, attempts, time.monotonic() - started)


def _open(dump: Path):
    return gzip.open(dump, "rb") if dump.suffix == ".gz" else open(dump, "rb")


def _size(dump: Path) -> int:
    """Bytes the PUT will send for the dump: a gzipped one is measured by reading it once (streamed)."""
    if dump.suffix != ".gz":
        return dump.stat().st_size
    total = 0
    with _open(dump) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
    return total


def _left(ends: float) -> float:
    return max(0.5, ends - time.monotonic())


def _put(endpoint: str, graph: str, data: Path, description: bytes, size: int, timeout: float, progress,
         ends: float):
    """One streamed PUT; the file is sent in chunks, never held in memory."""
    parts = urllib.parse.urlsplit(endpoint)
    query = urllib.parse.urlencode({"graph": graph})
    path = (parts.path or "/") + "?" + (f"{parts.query}&{query}" if parts.query else query)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    sent = 0
    try:
        connection.putrequest("PUT", path)
        headers = {"Content-Type": "application/n-triples", "Content-Length": str(size), **auth_headers()}
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        with _open(data) as stream:
            while chunk := stream.read(CHUNK):
                if time.monotonic() > ends:
                    raise TimeoutError("the --deadline passed while uploading")
                connection.send(chunk)
                sent += len(chunk)
                if progress:
                    progress(sent, size)
        connection.send(description)
        if progress:
            progress(size, size)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")[:300]
        if 300 <= response.status < 400:
            where = response.getheader("Location") or "?"
            return response.status, f"the store redirects to {where}; not followed: give that URL as --endpoint"
        return response.status, f"{response.reason} {body}".strip()
    finally:
        connection.close()


def _count(url: str, graph: str, timeout: float) -> int:
    try:
        results = query_endpoint(url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                                 timeout=timeout, headers=auth_headers())
    except EndpointError as error:
        raise PublishError(f"uploaded, but the count check failed: {error}; pass --query-endpoint") from error
    return int(results.rows[0][0]["value"])


# --------------------------------------------------------------------------- a change set instead of the whole

DCTERMS_NS = "http://purl.org/dc/terms/"
OPERATION_TRIPLES = 10_000         # triples per DELETE DATA / INSERT DATA operation
ONE_REQUEST_BYTES = 64 * 1024 * 1024  # up to this, every operation goes in one request: one transaction
MAX_CHANGE_BYTES = 32 * 1024 * 1024   # removed + added, gzip: read into memory (~5x that), so bounded


@dataclass(frozen=True)
class ChangeUpload:
    """What `publish --changes` did: applied the change set (removed, added) in requests (atomic when one),
    or fell back to replacing the graph, and why."""

    graph: str
    triples: int
    removed: int
    added: int
    requests: int
    atomic: bool
    fell_back: str | None
    seconds: float


def default_update_endpoint(store_endpoint: str) -> str:
    """Oxigraph: /store -> /update; Fuseki: /ds/data -> /ds/update."""
    parts = urllib.parse.urlsplit(store_endpoint)
    for suffix, replacement in (("/store", "/update"), ("/data", "/update")):
        if parts.path.endswith(suffix):
            return urllib.parse.urlunsplit(parts._replace(path=parts.path[: -len(suffix)] + replacement, query=""))
    return store_endpoint


def publish_changes(release: Path, endpoint: str, *, graph: str | None = None, query_url: str | None = None,
                    update_url: str | None = None, timeout: float = 60, **full) -> ChangeUpload:
    """Apply the release's change set (changes/) to a store whose graph holds the previous release, in
    SPARQL 1.1 Update operations of bounded size; the dataset description is replaced whole. When the
    store does not hold the previous release (its version marker and triple count), or the release has no
    change set, replace the graph as `publish` does, and say why."""
    from .changes import FOLDER, REMOVED, ADDED

    release = Path(release)
    started = time.monotonic()
    dataset, triples, description = release_graph(release)
    graph = graph_iri(graph or dataset)
    query_url = query_url or default_query_endpoint(endpoint)
    update_url = update_url or default_update_endpoint(endpoint)
    for url, what in ((endpoint, "endpoint"), (query_url, "query endpoint"), (update_url, "update endpoint")):
        try:
            check_url(url, what)
        except EndpointError as error:
            raise PublishError(str(error)) from None
    version, previous = _versions(description, dataset)
    files = [release / FOLDER / name for name in (REMOVED, ADDED)]
    removed = added = []
    if previous is None or not all(path.is_file() for path in files):
        reason = "the release has no change set (it replaced no earlier release in its folder)"
    elif sum(path.stat().st_size for path in files) > MAX_CHANGE_BYTES:
        reason = (f"the change set is over {MAX_CHANGE_BYTES >> 20} MB compressed (it is read into memory); "
                  "replacing the graph is the better upload for a change that large")
    else:
        removed, added = (_lines(path) for path in files)
        reason = _holds_previous(query_url, graph, dataset, previous, triples - len(added) + len(removed), timeout)
    if reason:
        done = publish(release, endpoint, graph=graph, query_url=query_url, timeout=timeout, **full)
        return ChangeUpload(graph, done.triples, 0, 0, done.attempts, True, reason, time.monotonic() - started)
    operations = [_delete_description(graph, dataset)]
    operations += [f"DELETE DATA {{ GRAPH <{graph}> {{\n{chunk}\n}} }}" for chunk in _chunks(removed)]
    operations += [f"INSERT DATA {{ GRAPH <{graph}> {{\n{chunk}\n}} }}" for chunk in _chunks(added)]
    operations += [f"INSERT DATA {{ GRAPH <{graph}> {{\n{chunk}\n}} }}"
                   for chunk in _chunks(_description_lines(description))]
    requests = _batches(operations)
    for text in requests:
        _update(update_url, text, timeout)
    expected = triples + description.count(b"\n")
    count = _count(query_url, graph, timeout)
    if count != expected or _holds_previous(query_url, graph, dataset, version, triples, timeout):
        raise PublishError(f"the change set was applied, but the store holds {count} triples in <{graph}> where "
                           f"{expected} were expected, or not this release's version marker; publish without "
                           "--changes to replace the graph")
    return ChangeUpload(graph, expected, len(removed), len(added), len(requests), len(requests) == 1, None,
                        time.monotonic() - started)


def _versions(description: bytes, dataset: str) -> tuple[str | None, str | None]:
    """This release's version IRI and the one it replaces, from its description (metadata.version_triples)."""
    versions, replaces = set(), {}
    for line in _description_lines(description):
        s, p, o = line.split(" ", 2)
        if p == f"<{DCTERMS_NS}hasVersion>" and s == f"<{dataset}>":
            versions.add(o[1:-3])
        elif p == f"<{DCTERMS_NS}replaces>":
            replaces[s[1:-1]] = o[1:-3]
    current = [v for v in versions if v not in replaces.values()]
    version = current[0] if len(current) == 1 else None
    return version, replaces.get(version) if version else None


def _description_lines(description: bytes) -> list[str]:
    """The description's N-Triples lines: split at newlines only, since str.splitlines() also splits at
    U+2028 and friends, which may stand raw in a literal (a --title holding one)."""
    return [line for line in description.decode("utf-8").split("\n") if line.strip()]


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as stream:
        return [line.rstrip("\n") for line in stream if line.strip()]


def _in_description(dataset: str) -> str:
    """Whether ?s is a subject of the dataset description: the dataset IRI and IRIs under it, and the
    publisher (metadata.void_triples); no published record mints one."""
    publisher = dataset.rsplit("dataset", 1)[0] + "publisher"
    return f'(STRSTARTS(STR(?s), "{dataset}") || ?s = <{publisher}>)'


def _delete_description(graph: str, dataset: str) -> str:
    return (f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
            f"FILTER{_in_description(dataset)} }} }}")


def _holds_previous(query_url: str, graph: str, dataset: str, version: str, data_triples: int,
                    timeout: float) -> str | None:
    """None when the graph holds that version as the current one, with that many triples besides its
    description; otherwise why not."""
    marker = (f"ASK {{ GRAPH <{graph}> {{ <{version}> <{DCTERMS_NS}isVersionOf> <{dataset}> "
              f"FILTER NOT EXISTS {{ ?newer <{DCTERMS_NS}replaces> <{version}> }} }} }}")
    counted = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
               f"FILTER(!{_in_description(dataset)}) }} }}")
    try:
        if not query_endpoint(query_url, marker, timeout=timeout, headers=auth_headers()).boolean:
            return f"the store's graph <{graph}> does not hold the previous release <{version}> as its current version"
        found = int(query_endpoint(query_url, counted, timeout=timeout, headers=auth_headers()).rows[0][0]["value"])
    except EndpointError as error:
        raise PublishError(f"cannot check what the store holds: {error}; pass --query-endpoint") from error
    if found != data_triples:
        return (f"the store's graph <{graph}> holds {found} triples besides its description, not the "
                f"{data_triples} of the previous release")
    return None


def _chunks(lines: list[str]) -> Iterator[str]:
    for start in range(0, len(lines), OPERATION_TRIPLES):
        yield "\n".join(lines[start:start + OPERATION_TRIPLES])


def _batches(operations: list[str]) -> list[str]:
    """One request holding every operation (one transaction in Oxigraph, Fuseki and most stores) when it
    stays under ONE_REQUEST_BYTES; otherwise requests of operations up to that size, in order."""
    requests, current, size = [], [], 0
    for operation in operations:
        if current and size + len(operation) > ONE_REQUEST_BYTES:
            requests.append(" ;\n".join(current))
            current, size = [], 0
        current.append(operation)
        size += len(operation.encode("utf-8")) + 3
    if current:
        requests.append(" ;\n".join(current))
    return requests


def _update(url: str, text: str, timeout: float) -> None:
    import urllib.error
    import urllib.request

    from .sparql import opener

    request = urllib.request.Request(url, data=text.encode("utf-8"), method="POST", headers={
        "Content-Type": "application/sparql-update; charset=utf-8", **auth_headers()})
    try:
        with opener().open(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:300]
        raise PublishError(f"{url} refused the update ({error.code} {error.reason}): {detail}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise PublishError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
