"""`pipeline site`: a release as static files for any web host (every resource as .html, .ttl, .jsonld, .nt
and .rdf, the indexes, the landing page, the dumps) and the content-negotiation rules for nginx and Apache."""

from __future__ import annotations

import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .describe import LABEL_PROPERTIES, Graph, open_store
from .negotiation import FORMATS, HTML, RDF_FORMATS, rdf_document
from .pages import ASSETS, INDEXES, OWN_NAMES, Pages, Release, SiteLinks, file_name, page_name, titles_script
from .problems import PipelineError
from .release import Lock, Staging, check_overlap, inspect, resolve_out
from .sparql import ensure_store, hold, let_go

SERVER_CONFIG = "_server"  # the generated nginx and Apache rules; not served themselves (see nginx.conf)
ASSET_FILES = ("style.css", "search.js")


class SiteError(PipelineError):
    """The site cannot be written; the message says why."""


@dataclass(frozen=True)
class SiteReport:
    folder: Path
    resources: int
    files: int
    skipped: tuple[str, ...]  # IRIs under the base that cannot be a file name (said, never written)


def build_site(release: Path, out: Path, *, store: Path | None = None,
               label_properties: tuple[str, ...] = LABEL_PROPERTIES, sparql: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> SiteReport:
    """Write the static site of release into out, replacing only a folder this tool wrote."""
    release = Path(release)
    out = resolve_out(out)
    check_overlap([release], out)
    with Lock(out):
        inspect(out)  # raises unless out is missing, empty or written by this tool
        version, _ = ensure_store(release, store)
        hold(version)
        try:
            with Staging(out) as staging:
                report = _write(release, version, staging.path, out, label_properties, sparql, progress)
                staging.publish(read=report.resources, published=report.resources)
        finally:
            let_go(version)
    return report


def _write(release: Path, version: Path, folder: Path, final: Path, label_properties, sparql, progress) -> SiteReport:
    graph = Graph(open_store(version), label_properties=label_properties)
    if not graph.base:
        raise SiteError(f"'{release}' has no void:uriSpace in void.ttl; run `pipeline run` again")
    pages = Pages(graph, Release.read(release))
    base = graph.base
    subjects = sorted(_subjects(graph, base))
    written, skipped = 0, []
    taken: set[str] = set()
    for index, iri in enumerate(subjects):
        name = iri[len(base):]
        if not safe_name(name) or any(name + fmt.extension in taken for fmt in FORMATS):
            skipped.append(iri)
            continue
        written += _write_resource(folder, pages, graph, iri, name, sparql, taken)
        if progress and index % 1000 == 0:
            progress(index, len(subjects))
    written += _write_own_pages(folder, pages, graph, base, sparql)
    written += _copy_downloads(folder, release, pages.release)
    written += _write_server_config(folder, final, base)
    return SiteReport(final, len(subjects) - len(skipped), written, tuple(skipped))


def _subjects(graph: Graph, base: str) -> set[str]:
    import pyoxigraph

    found = set()
    for quad in graph.store.quads_for_pattern(None, None, None, pyoxigraph.DefaultGraph()):
        subject = quad.subject
        if isinstance(subject, pyoxigraph.NamedNode) and subject.value.startswith(base) and subject.value != base:
            found.add(subject.value)
    return found


def safe_name(name: str) -> bool:
    """A local name that is a relative file path inside the site: no empty, '.' or '..' segment, none
    starting with '.', no NUL or backslash, and not one of the site's own names."""
    segments = name.split("/")
    if not name or "\\" in name or "\x00" in name or any(not s or s.startswith(".") for s in segments):
        return False
    return segments[0] not in ("index.html", "search.html", *OWN_NAMES) and not segments[0].startswith("_")


def _put(folder: Path, relative: str, data: bytes | str) -> int:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return 1


def _write_resource(folder: Path, pages: Pages, graph: Graph, iri: str, name: str, sparql, taken: set) -> int:
    count = 0
    links = SiteLinks(pages.base, name, sparql=sparql)
    body = pages.resource(iri, links)
    if body is None:
        return 0
    count += _put(folder, name + HTML.extension, body)
    page = 2
    while True:
        more = pages.resource(iri, SiteLinks(pages.base, page_name(name, page), sparql=sparql), page=page, name=name)
        if more is None:
            break
        count += _put(folder, file_name(page_name(name, page)), more)
        page += 1
    triples = graph.describe(iri)
    for fmt in RDF_FORMATS:
        count += _put(folder, name + fmt.extension, rdf_document(fmt, triples, pages.prefixes))
    taken.update(name + fmt.extension for fmt in FORMATS)
    return count


def _write_own_pages(folder: Path, pages: Pages, graph: Graph, base: str, sparql) -> int:
    count = _put(folder, "index.html", pages.landing(SiteLinks(base, "", sparql=sparql)))
    count += _put(folder, "search.html", pages.search("", SiteLinks(base, "search", sparql=sparql)))
    names = [f"browse/{name}" for name in INDEXES]
    names += [f"browse/years/{year}" for year in sorted(graph.catalogue().years)]
    for name in names:
        page = 1
        while True:
            here = page_name(name, page)
            body = pages.index(name[len("browse/"):], SiteLinks(base, here, sparql=sparql), page=page)
            if body is None:
                break
            count += _put(folder, file_name(here), body)
            page += 1
    for asset in ASSET_FILES:
        count += _put(folder, f"assets/{asset}", (ASSETS / asset).read_bytes())
    links = SiteLinks(base, "search", sparql=sparql)
    count += _put(folder, "assets/titles.js", titles_script(graph, links.resource))
    return count


def _copy_downloads(folder: Path, release: Path, files: Release) -> int:
    """The release's files as listed in its SHA256SUMS, and nothing else from its folder."""
    target = folder / "dumps"
    target.mkdir(exist_ok=True)
    for name, *_ in files.downloads:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(release / name, target / name)
    if (release / "SHA256SUMS").is_file():
        shutil.copyfile(release / "SHA256SUMS", target / "SHA256SUMS")
    return len(files.downloads) + 1


# --------------------------------------------------------------------------- web server rules

def _write_server_config(folder: Path, final: Path, base: str) -> int:
    prefix = urllib.parse.urlsplit(base).path or "/"
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    return (_put(folder, f"{SERVER_CONFIG}/nginx.conf", nginx_config(final, prefix, base))
            + _put(folder, f"{SERVER_CONFIG}/htaccess", apache_config(prefix)))


def nginx_config(folder: Path, prefix: str, base: str) -> str:
    types = "\n".join(f"        {fmt.media_type} {fmt.extension[1:]};" for fmt in FORMATS)
    # nginx and Apache cannot weigh quality values: the types are tested in the table's order, HTML first
    # (what browsers name), then each RDF type (docs/pages.md)
    maps = "\n".join(f'    "~*{_regex(media)}" {fmt.extension};' for fmt in FORMATS
                     for media in fmt.media_types)
    return f"""# nginx rules for this static site, written by `pipeline site` (docs/pages.md).
# Include this file in nginx's http block, then set `listen` and `server_name` for {base}
# (and move the `alias` if the folder moves). An IRI answers 303 See Other to its document, chosen by
# Accept; a document answers 200 with Vary: Accept and its alternates.
map $http_accept $zh_articles_ext {{
    default .html;
{maps}
}}

server {{
    listen 80;
    server_name {urllib.parse.urlsplit(base).hostname};
    absolute_redirect off;  # a relative Location: behind a proxy nothing redirects to an inner host

    location {prefix}{SERVER_CONFIG}/ {{ return 404; }}
    location {prefix} {{
        alias {folder}/;
        index index.html;
        charset utf-8;
        charset_types text/turtle application/ld+json application/n-triples application/rdf+xml;
        types {{
{types}
            text/css css;
            text/javascript js;
            application/gzip gz;
        }}
        default_type application/octet-stream;
        add_header Vary Accept always;
        add_header X-Content-Type-Options nosniff always;
        if (-f $request_filename.html) {{
            return 303 $uri$zh_articles_ext;
        }}
    }}
}}
"""


def _regex(media_type: str) -> str:
    return media_type.replace("+", "\\+").replace(".", "\\.")


def apache_config(prefix: str) -> str:
    rules = []
    for fmt in FORMATS:  # in the table's order, HTML first, as in nginx_config
        accepted = "|".join(_regex(media) for media in fmt.media_types)
        rules.append(f"RewriteCond %{{HTTP_ACCEPT}} ({accepted}) [NC]\n"
                     "RewriteCond %{REQUEST_FILENAME} !-f\n"
                     f"RewriteCond %{{REQUEST_FILENAME}}.html -f\n"
                     f"RewriteRule ^(.+)$ $1{fmt.extension} [R=303,L]")
    types = "\n".join(f"AddType {fmt.media_type} {fmt.extension}" for fmt in FORMATS)
    return f"""# Apache rules for this static site, written by `pipeline site` (docs/pages.md): copy to
# .htaccess in the folder served at {prefix} (needs mod_rewrite and mod_headers, AllowOverride All).
{types}
AddCharset utf-8 .html .ttl .jsonld .nt .rdf
Header always append Vary Accept
Header always set X-Content-Type-Options nosniff
RewriteEngine On
RewriteBase {prefix}
RewriteRule ^{SERVER_CONFIG}/ - [R=404,L]
{chr(10).join(rules)}
RewriteCond %{{REQUEST_FILENAME}} !-f
RewriteCond %{{REQUEST_FILENAME}}.html -f
RewriteRule ^(.+)$ $1.html [R=303,L]
"""
