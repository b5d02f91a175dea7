"""The HTTP face of `pipeline serve`, as a Starlette app: every IRI of the release dereferenced with content
negotiation (303 to a document), the pages, the downloads, and SPARQL at /query; read-only throughout."""

from __future__ import annotations

import re
import urllib.parse
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .negotiation import BY_EXTENSION, FORMATS, HTML, RDF_FORMATS, choose, link_header, ranked, rdf_document
from .pages import ASSETS, OWN_NAMES, Links
from .sandbox import MAX_QUERY_BYTES, QueryFailed

if TYPE_CHECKING:
    from .server import Server, View

READ_ONLY = ("this server is read-only: updates and Graph Store writes are refused; publish into a writable "
             "store with `pipeline publish`")
_PAGED = re.compile(r"^(.*)/page/([1-9][0-9]{0,6})(\.html)?$")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# headers on every answer; pages load nothing from elsewhere, and say so to the browser
COMMON = {"Vary": "Accept", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
PAGE_POLICY = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; " \
              "base-uri 'none'; frame-ancestors 'none'"


def app_for(server: "Server") -> Starlette:
    async def endpoint(request: Request) -> Response:
        return await dispatch(server, request)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


# --------------------------------------------------------------------------- IRIs and addresses

def iri_candidates(raw: str) -> list[str]:
    """The local part of an IRI that a request path (as sent, percent-encoded) may stand for: as sent with
    UTF-8 escapes of non-ASCII turned back into characters (RFC 3987 3.2), then with escapes of unreserved
    characters decoded too (RFC 3986 6.2.2.2). `%2F` stays `%2F`: it is not a slash."""
    first = _decode(raw, lambda char: ord(char) > 127)
    second = _decode(raw, lambda char: ord(char) > 127 or char in _UNRESERVED)
    third = normalized(raw)
    return list(dict.fromkeys((first, second, third)))


def _decode(raw: str, keep) -> str:
    """Decode the escapes whose characters keep() accepts; the others stay escaped (upper-case hex)."""
    out, position = [], 0
    for run in _ESCAPES.finditer(raw):
        out.append(raw[position:run.start()])
        position = run.end()
        octets = bytes(int(run.group(0)[i + 1:i + 3], 16) for i in range(0, len(run.group(0)), 3))
        try:
            decoded = octets.decode("utf-8")
        except UnicodeDecodeError:
            out.append(run.group(0).upper())
            continue
        out.extend(char if keep(char) else "".join(f"%{b:02X}" for b in char.encode("utf-8")) for char in decoded)
    out.append(raw[position:])
    return "".join(out)


def normalized(path: str) -> str:
    """Escapes of characters that need none decoded (RFC 3986 6.2.2): `v1%3A2` and `v1:2` are one path."""
    return _decode(path, lambda char: ord(char) > 127 or (char not in "/?#[]%" and ord(char) > 32))


def under(path: str, prefix: str) -> str | None:
    """What follows prefix in path, as sent, or after normalising both; None when path is elsewhere."""
    if path.startswith(prefix):
        return path[len(prefix):]
    path, prefix = normalized(path), normalized(prefix)
    return path[len(prefix):] if path.startswith(prefix) else None


def raw_path(request: Request) -> str:
    """The path as the client sent it: escapes kept, so that %2F is not taken for a slash."""
    raw = request.scope.get("raw_path")
    if not raw:
        return urllib.parse.quote(request.url.path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return urllib.parse.quote(raw.decode("latin-1"), safe="/%:@!$&'()*+,;=-._~")


# --------------------------------------------------------------------------- dispatch

async def dispatch(server: "Server", request: Request) -> Response:
    path = raw_path(request)
    method = request.method
    if path == "/query" and method in ("GET", "HEAD", "POST"):
        return await sparql_endpoint(server, request)
    if path in ("/update", "/store") or path.startswith("/store/"):
        await _drain(request)
        return text(HTTPStatus.FORBIDDEN, READ_ONLY)
    if method == "POST":
        await _drain(request)
        return text(HTTPStatus.METHOD_NOT_ALLOWED, f"{path} answers GET and HEAD; the SPARQL endpoint, /query, "
                                                    "also answers POST", headers={"Allow": "GET, HEAD"})
    if method not in ("GET", "HEAD"):
        await _drain(request)
        return text(HTTPStatus.FORBIDDEN, READ_ONLY)
    if path == "/sparql":  # it waits for the query pool: off the event loop
        return await run_in_threadpool(_get, server, request, path)
    # A page or document is ~1 ms of Python under the GIL: answered on the event loop, in arrival order.
    # Measured (bench/pages.py, 100k records, 16 clients): 525 requests/s through Starlette's thread pool
    # (its threads queue for the GIL and hand it back and forth), 817 with one render thread, 1,019 here.
    return _get(server, request, path)


def _get(server: "Server", request: Request, path: str) -> Response:
    with server.current() as view:
        links = Links(view.pages.base, server.prefix)
        if path == "/sparql":
            return sparql_page(server, view, request, links)
        if path == "/" or path == server.prefix:
            return html(view.pages.landing(links))
        rest = under(path, server.prefix)
        if rest is None:
            return not_found(view, request, links, path)
        head, _, tail = rest.partition("/")
        if head in OWN_NAMES:
            return own_page(view, request, links, head, tail, path)
        return dereference(view, request, links, rest, path)


def own_page(view: "View", request: Request, links: Links, head: str, tail: str, path: str) -> Response:
    if head == "assets":
        file = ASSETS / tail
        if tail and "/" not in tail and file.is_file():
            return FileResponse(file, headers={**COMMON, "Cache-Control": "max-age=3600"})
    elif head == "dumps":
        name = urllib.parse.unquote(tail)
        if name in view.release.names():  # only the files the release lists, never any other path
            return FileResponse(view.folder / name, headers=dict(COMMON))
    elif head == "search" and not tail:
        return html(view.pages.search(request.query_params.get("q", "")[:200], links))
    elif head == "browse":
        name, page = tail.removesuffix(".html"), 1
        paged = _PAGED.match(name)
        if paged:
            name, page = paged.group(1), int(paged.group(2))
        body = view.pages.index(urllib.parse.unquote(name), links, page=page)
        if body is not None:
            return html(body)
    return not_found(view, request, links, path)


def dereference(view: "View", request: Request, links: Links, rest: str, path: str) -> Response:
    """An IRI: 303 See Other to the document chosen by Accept. A document (IRI + extension, or a page of
    its lists): 200. Anything else: 404."""
    base = view.pages.base
    iri = known(view, rest)
    if iri:
        return see_other(request, iri, path)
    for extension, fmt in BY_EXTENSION.items():
        iri = known(view, rest[:-len(extension)]) if rest.endswith(extension) else None
        if iri:
            return document(view, iri, fmt, links, path)
    paged = _PAGED.match(rest)
    iri = known(view, paged.group(1)) if paged else None
    if iri:
        body = view.pages.resource(iri, links, page=int(paged.group(2)), name=iri[len(base):])
        if body is not None:
            return html(body, headers={"Link": _alternates(path.rsplit("/page/", 1)[0])})
    return not_found(view, request, links, path, iri=base + iri_candidates(rest)[0])


def known(view: "View", local: str) -> str | None:
    """The release's IRI that a request's local part stands for, if the release describes it."""
    for candidate in iri_candidates(local):
        if view.graph.exists(view.pages.base + candidate):
            return view.pages.base + candidate
    return None


def _leaf(path: str) -> str:
    """The last segment of a request path, as a relative reference ('./' keeps a ':' from reading as a
    scheme)."""
    return "./" + path.rsplit("/", 1)[-1]


def _alternates(path: str) -> str:
    return link_header(_leaf(path), FORMATS)


def see_other(request: Request, iri: str, path: str) -> Response:
    """Cool URIs for the Semantic Web, 303 URIs: the IRI names the thing (an article, a person), never a
    document, so it answers 303 to the document the client asked for; the Location is relative, so a
    proxy's host is kept and nothing redirects to localhost."""
    fmt = choose(request.headers.get("accept"))
    headers = {"Link": _alternates(path)}
    if fmt is None:
        return not_acceptable(headers)
    location = _leaf(path) + fmt.extension
    return Response(f"See {location}\n", status_code=HTTPStatus.SEE_OTHER, media_type="text/plain",
                    headers={**COMMON, **headers, "Location": location})


def document(view: "View", iri: str, fmt, links: Links, path: str) -> Response:
    leaf = path[: -len(fmt.extension)]
    headers = {"Link": _alternates(leaf) + f', <{iri}>; rel="canonical"'}
    if fmt is HTML:
        return html(view.pages.resource(iri, links), headers=headers)
    body = rdf_document(fmt, view.graph.describe(iri), view.pages.prefixes)
    return Response(body, media_type=_with_charset(fmt.media_type), headers={**COMMON, **headers})


def not_acceptable(headers: dict) -> Response:
    offered = ", ".join(fmt.media_type for fmt in FORMATS)
    return Response(f"none of the formats this IRI is available in is acceptable: {offered}; send one of "
                    "them in Accept, or add its extension (.html, .ttl, .jsonld, .nt, .rdf) to the address\n",
                    status_code=HTTPStatus.NOT_ACCEPTABLE, media_type="text/plain; charset=utf-8",
                    headers={**COMMON, **headers})


def not_found(view: "View", request: Request, links: Links, path: str, *, iri: str | None = None) -> Response:
    if choose(request.headers.get("accept"), (HTML, *RDF_FORMATS)) is HTML:
        return html(view.pages.not_found(urllib.parse.unquote(path), links, iri=iri), status=HTTPStatus.NOT_FOUND)
    return text(HTTPStatus.NOT_FOUND, f"nothing at {urllib.parse.unquote(path)}: the release describes no such "
                                      "resource; the SPARQL endpoint is /query, the landing page /")


# --------------------------------------------------------------------------- SPARQL

async def sparql_endpoint(server: "Server", request: Request) -> Response:
    if request.method == "POST":
        length = int(request.headers.get("content-length") or 0)
        body = await _read(request) if length <= MAX_QUERY_BYTES else None  # the header, or the bytes, say too big
        if body is None:
            return text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the query is over {MAX_QUERY_BYTES:,} bytes",
                        headers={"Connection": "close"})
        kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if kind == "application/sparql-query":
            query = body.decode("utf-8", "replace")
        elif kind == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            if "update" in form:
                return text(HTTPStatus.FORBIDDEN, READ_ONLY)
            if "query" not in form:
                return text(HTTPStatus.BAD_REQUEST, "the form has no query= field")
            query = form["query"][0]
        else:
            return text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                        "send the query as application/sparql-query or application/x-www-form-urlencoded")
    else:
        query = request.query_params.get("query")
        if query is None:
            if choose(request.headers.get("accept"), (HTML,)) is HTML and "html" in (request.headers.get("accept") or ""):
                return Response("See /sparql\n", status_code=HTTPStatus.SEE_OTHER, media_type="text/plain",
                                headers={**COMMON, "Location": "/sparql"})
            return text(HTTPStatus.BAD_REQUEST, "GET /query needs a ?query= parameter (SPARQL 1.1 Protocol); the "
                                                "query page for people is /sparql")
    return await run_in_threadpool(_answer, server, query, request.headers.get("accept"))


def _answer(server: "Server", query: str, accept: str | None) -> Response:
    try:
        answer = server.execute(query, ranked(accept))
    except QueryFailed as error:
        return text(error.status, str(error), headers={"X-Query-Limit": error.limit} if error.limit else None)
    except Exception as error:  # never drop a connection without an answer
        return text(HTTPStatus.INTERNAL_SERVER_ERROR, f"the server failed on this query: {error}")
    return Response(answer.body, media_type=_with_charset(answer.media_type), headers=dict(COMMON))


def sparql_page(server: "Server", view: "View", request: Request, links: Links) -> Response:
    """The query page: the release's prefixes written out, each example query one click away (and run),
    results with IRIs linking to their pages here."""
    import json

    examples = server.examples
    query = request.query_params.get("query")
    example = request.query_params.get("example")
    if example and not query:
        query = examples.get(example)
    results, error = None, None
    if query and ("query" in request.query_params or example):
        try:
            answer = server.execute(query, ["application/sparql-results+json"])
            results = json.loads(answer.body)
        except QueryFailed as failure:
            error = str(failure)
    return html(view.pages.sparql(links, query=query or view.pages.default_query(), results=results, error=error,
                                  examples=examples))


# --------------------------------------------------------------------------- answers

def html(body: str, *, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers={**COMMON, "Content-Security-Policy": PAGE_POLICY, **(headers or {})})


def text(status: int, message: str, *, headers: dict | None = None) -> Response:
    return Response(message + "\n", status_code=status, media_type="text/plain; charset=utf-8",
                    headers={**COMMON, **(headers or {})})


def _with_charset(media_type: str) -> str:
    if ("json" in media_type or "text" in media_type or "xml" in media_type or "triples" in media_type) \
            and "charset" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


async def _read(request: Request) -> bytes | None:
    """The body, or None past MAX_QUERY_BYTES (whatever Content-Length said)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_QUERY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Request) -> None:
    length = int(request.headers.get("content-length") or 0)
    if 0 < length <= MAX_QUERY_BYTES:
        await _read(request)
