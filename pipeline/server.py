"""The HTTP server of `pipeline serve`: the SPARQL 1.1 Protocol at /query over sandboxed query workers, a
query page at /, read-only, reloading by itself when the release it serves changes."""

from __future__ import annotations

import html
import json
import socket
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from .resources import queries_dir
from .sandbox import MAX_QUERY_BYTES, Limits, Pool, PoolClosed, QueryFailed
from .sparql import EndpointError, ensure_store, hold, let_go, release_digest, remove_unused_versions, store_path

DEFAULT_QUERY = "SELECT ?article ?title WHERE {\n  ?article a <http://schema.org/CreativeWork> ;\n" \
                "           <http://purl.org/dc/terms/title> ?title .\n} LIMIT 20"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
WATCH_SECONDS = 2.0  # how often the release is checked for a new version


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def url_host(host: str) -> str:
    """How to write a bind address in a URL a browser can open."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def parse_accept(header: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (quality, then order); q=0 ranges dropped."""
    if not header:
        return ["*/*"]
    ranges = []
    for index, part in enumerate(header.split(",")):
        media, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranges.append((-quality, index, media.lower()))
    return [media for _, _, media in sorted(ranges)] or ["*/*"]


class Server:
    """A bound, not yet serving, HTTP server for one release. Binding happens here, so that a taken port
    is an error before anything says the server is up."""

    def __init__(self, release: Path, *, host: str = "127.0.0.1", port: int = 7878, store: Path | None = None,
                 limits: Limits = Limits(), workers: int = 4, on_event: Callable[[str], None] | None = None,
                 progress: Callable[[int], None] | None = None):
        self.release = Path(release)
        self.root = Path(store) if store else store_path(self.release)
        self.limits = limits
        self.workers = workers
        self.on_event = on_event or (lambda message: None)
        self.loaded = False
        try:
            self.httpd = _HTTPServer((host, port), _Handler)
        except OSError as error:
            raise EndpointError(f"cannot listen on {host}:{port}: {error.strerror}; is another server using "
                                "that port? Choose another with --port") from None
        self.httpd.app = self
        self.version, self.loaded = ensure_store(self.release, self.root, progress=progress)
        hold(self.version)
        try:
            self.pool = Pool(self.version, size=workers, limits=limits)
        except QueryFailed as error:
            self.httpd.server_close()
            raise EndpointError(str(error)) from None
        self.digest = release_digest(self.release)
        self.host, self.port = host, self.httpd.server_address[1]
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    def serve_forever(self) -> None:
        watcher = threading.Thread(target=self._watch, name="release-watcher", daemon=True)
        watcher.start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stopping.set()
            self.close()

    def shutdown(self) -> None:
        self.stopping.set()
        threading.Thread(target=self.httpd.shutdown, daemon=True).start()

    def close(self) -> None:
        self.httpd.server_close()
        self.pool.kill()
        let_go(self.version)

    def execute(self, query: str, accept: list[str]):
        for _ in range(3):  # a pool closed by a reload under our feet: the next one answers
            try:
                return self.pool.execute(query, accept=accept)
            except PoolClosed:
                continue
        return self.pool.execute(query, accept=accept)

    def _watch(self) -> None:
        """Serve a new release as soon as it is complete: load it beside the old store, then swap."""
        while not self.stopping.wait(WATCH_SECONDS):
            try:
                digest = release_digest(self.release)
            except (EndpointError, OSError):
                continue  # between releases, or removed: keep serving what we have
            if digest == self.digest:
                continue
            try:
                self._switch(digest)
            except (EndpointError, QueryFailed, OSError) as error:
                self.on_event(f"a new release in {self.release} could not be loaded ({error}); still serving the "
                              "previous one")
                self.digest = digest

    def _switch(self, digest: str) -> None:
        started = time.monotonic()
        version, _ = ensure_store(self.release, self.root)
        hold(version)
        pool = Pool(version, size=self.workers, limits=self.limits)
        old_pool, old_version = self.pool, self.version
        self.pool, self.version, self.digest = pool, version, digest
        self.on_event(f"reloaded {self.release}: a new release ({time.monotonic() - started:.1f} s)")
        threading.Thread(target=self._retire, args=(old_pool, old_version), name="retire-store", daemon=True).start()

    def _retire(self, pool: Pool, version: Path) -> None:
        """Remove a replaced store only once the queries still running on it have answered: removing it
        under a busy worker kills that worker's query (seen in CI as "the query worker stopped unexpectedly")."""
        pool.close()
        if not pool.wait_closed(timeout=self.limits.timeout + 30 if self.limits.timeout else None):
            pool.kill()
        let_go(version)
        remove_unused_versions(self.root, keep=self.version)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: Server

    def server_bind(self) -> None:
        if ":" in self.server_address[0]:
            self.address_family = socket.AF_INET6
            self.socket = socket.socket(self.address_family, self.socket_type)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
    # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the client's
    # delayed ACK held every answer for ~40 ms (measured: 49 ms p50 for a trivial query, 1-3 ms with it)
    disable_nagle_algorithm = True
    server_version = "zh-articles-pipeline"
    sys_version = ""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass  # no access log on stderr; errors are answered to the client

    # ------------------------------------------------------------------ routing

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        params = urllib.parse.parse_qs(query)
        if path == "/query":
            if "query" not in params:
                return self._text(HTTPStatus.BAD_REQUEST, "GET /query needs a ?query= parameter (SPARQL 1.1 Protocol)")
            return self._sparql(params["query"][0])
        if path == "/":
            return self._page(params)
        if path in ("/update", "/store"):
            return self._read_only()
        self._text(HTTPStatus.NOT_FOUND, f"nothing at {path}; the SPARQL endpoint is /query, the query page /")

    def do_POST(self) -> None:
        path = self.path.partition("?")[0]
        if path in ("/update", "/store") or path.startswith("/store"):
            return self._read_only(drain=True)
        if path != "/query":
            self._drain()
            return self._text(HTTPStatus.NOT_FOUND, f"nothing at {path}; the SPARQL endpoint is /query")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_QUERY_BYTES:
            self.close_connection = True
            return self._text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the query is over {MAX_QUERY_BYTES:,} bytes")
        body = self.rfile.read(length)
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/sparql-query":
            text = body.decode("utf-8", "replace")
        elif kind == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            if "update" in form:
                return self._read_only()
            if "query" not in form:
                return self._text(HTTPStatus.BAD_REQUEST, "the form has no query= field")
            text = form["query"][0]
        else:
            return self._text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                              "send the query as application/sparql-query or application/x-www-form-urlencoded")
        self._sparql(text)

    def do_PUT(self) -> None:
        self._read_only(drain=True)

    do_DELETE = do_PATCH = do_PUT

    # ------------------------------------------------------------------ answers

    def _sparql(self, text: str) -> None:
        try:
            answer = self.server.app.execute(text, parse_accept(self.headers.get("Accept")))
        except QueryFailed as error:
            return self._text(error.status, str(error), limit=error.limit)
        except Exception as error:  # never drop a connection without an answer
            return self._text(HTTPStatus.INTERNAL_SERVER_ERROR, f"the server failed on this query: {error}")
        self._send(HTTPStatus.OK, answer.body, answer.media_type + ("; charset=utf-8" if "json" in
                                                                     answer.media_type or "text" in answer.media_type else ""))

    def _page(self, params: dict) -> None:
        query = params.get("query", [None])[0]
        example = params.get("example", [None])[0]
        if example and not query:
            query = _examples().get(example)
        results = ""
        if query and "query" in params:
            try:
                answer = self.server.app.execute(query, ["application/sparql-results+json"])
                results = _results_table(answer)
            except QueryFailed as error:
                results = f'<p class="error" role="alert">{html.escape(str(error))}</p>'
        page = _PAGE.format(query=html.escape(query or DEFAULT_QUERY), results=results,
                            examples="".join(f'<li><a href="/?example={urllib.parse.quote(name)}">{html.escape(name)}</a></li>'
                                             for name in _examples()))
        self._send(HTTPStatus.OK, page.encode("utf-8"), "text/html; charset=utf-8")

    def _read_only(self, *, drain: bool = False) -> None:
        if drain:
            self._drain()
        self._text(HTTPStatus.FORBIDDEN, "this server is read-only: updates and Graph Store writes are refused; "
                                         "publish into a writable store with `pipeline publish`")

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_QUERY_BYTES:
            self.close_connection = True
        else:
            self.rfile.read(length)

    def _text(self, status: int, message: str, *, limit: str | None = None) -> None:
        headers = {"X-Query-Limit": limit} if limit else {}
        self._send(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8", headers)

    def _send(self, status: int, body: bytes, media_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _examples() -> dict[str, str]:
    folder = queries_dir()
    if not folder.is_dir():
        return {}
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.rq"))}


def _results_table(answer) -> str:
    data = json.loads(answer.body)
    if "boolean" in data:
        return f"<p>{'true' if data['boolean'] else 'false'}</p>"
    variables = data["head"]["vars"]
    rows = data["results"]["bindings"]
    head = "".join(f"<th>{html.escape(v)}</th>" for v in variables)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(row[v]['value']) if v in row else ''}</td>"
                                    for v in variables) + "</tr>" for row in rows[:1000])
    more = f"<p>showing 1,000 of {len(rows):,} rows</p>" if len(rows) > 1000 else f"<p>{len(rows):,} rows</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SPARQL query</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}}
textarea{{width:100%;font-family:monospace}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:.2rem .4rem;text-align:left;vertical-align:top}}.error{{color:#a00}}</style></head>
<body><main><h1>SPARQL query</h1>
<form method="get" action="/"><label for="query">Query</label>
<textarea id="query" name="query" rows="12">{query}</textarea>
<p><button type="submit">Run</button> (read-only; the endpoint for programs is <code>/query</code>)</p></form>
{results}
<h2>Example queries</h2><ul>{examples}</ul></main></body></html>
"""
