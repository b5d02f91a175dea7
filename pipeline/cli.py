"""The command line: thin click wrappers over run.run, validate.validate_graph, sparql and publish.publish.
It translates arguments in and errors out (click.ClickException); it decides nothing itself."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from . import __version__
from .engine import ENGINES as RUN_ENGINES, engine_for
from .problems import OptionError, PipelineError
from .publish import publish, publish_changes
from .sources import DEFAULT_MAX_BYTES
from .release import MARKER
from .options import DEFAULT_BATCH, Options
from .run import run
from .sandbox import Limits
from .describe import parse_label_properties
from .server import Server, is_loopback
from .sparql import FORMATS, ensure_store, query_endpoint, query_store
from .validate import DEFAULT_ENGINE, ENGINES, ParseFailed, load_shapes, read_rdf, validate_graph
from .vocab import DEFAULT_BASE, DEFAULT_LANG, DEFAULT_LICENSE, DEFAULT_PUBLISHER, DEFAULT_RIGHTS, DEFAULT_TITLE

# exit codes (documented in the README)
EXIT_OK = 0          # everything published
EXIT_REJECTS = 1     # the run finished, some records were rejected (see report.json)
EXIT_USAGE = 2       # click: bad arguments
EXIT_FAILED = 3      # the run could not start or finish (input missing, output not writable, bad shapes)
EXIT_STOPPED = 4     # --max-rejects stopped the run early
EXIT_QUERY = 5       # pipeline query: the query is malformed
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
EXIT_TERMINATED = 143   # SIGTERM (128 + SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that the run cleans up as it does for Ctrl-C."""


def _on_sigterm(*_) -> None:
    raise Terminated


class Pipeline(click.Group):
    """The command group: an interrupted command says so in one line and exits 130 (143 for SIGTERM),
    leaving what it was replacing untouched, instead of click's 'Aborted!' and exit 1."""

    def invoke(self, ctx):
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as stop:
            terminated = isinstance(stop, Terminated)
            what = "; nothing was replaced" if ctx.invoked_subcommand == "run" else ""
            click.echo(f"\n{'terminated' if terminated else 'interrupted'}: stopped{what}", err=True)
            ctx.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
        finally:
            signal.signal(signal.SIGTERM, previous)


class Failed(click.ClickException):
    """A PipelineError, as the CLI reports it: the message, and the exit code the error class names."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


def failed(error: PipelineError) -> Failed:
    return Failed(str(error), error.exit_code)


@click.group(cls=Pipeline, context_settings={"help_option_names": ["-h", "--help"]}, epilog="Examples:\n\n\b\n  pipeline run seeds/ -o output/\n  pipeline validate output/articles.ttl\n"
                     "  pipeline query docs/queries/01-articles-by-author.rq\n  pipeline serve output/")
@click.version_option(__version__, "-V", "--version", prog_name="pipeline")
def main() -> None:
    """Publish Chinese historical article records as validated Dublin Core + schema.org linked data."""


@main.command("run", epilog="""Examples:

\b
  pipeline run                                   # seeds/ into output/
  pipeline run corpus/ -o release/ --base https://data.example.org/articles/
  pipeline run one.txt other-folder/ --strict --max-rejects 10
  pipeline run corpus/ --version-label 2.1 --source-url 'https://archive.example/articles/{id}'
  pipeline run corpus/ --engine dask --scheduler local --workers 2
  pipeline run corpus/ --engine dask --scheduler tcp://10.0.0.5:8786 --scratch s3://bucket/tmp/
  pipeline run corpus/ -o release-2/ --since release-1/   # only changed files processed
  pipeline run corpus/ -o once/ --no-record-cache          # no rerun planned: no record cache kept
  pipeline run s3://archive/corpus/ -o release/             # inputs by fsspec URL (pip install s3fs)

Exit codes: 0 all published, 1 some records rejected, 2 bad arguments,
3 the run failed (nothing written), 4 stopped by --max-rejects.""")
@click.argument("inputs", nargs=-1)  # paths, or fsspec URLs (s3://, gs://): kept as typed (pipeline/remote.py)
@click.option("-o", "--out", default="output", show_default=True, type=click.Path(path_type=Path),
              help="Release folder; replaced as a whole, only when the run succeeds.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base IRI under which every minted IRI lives.")
@click.option("--lang", default=DEFAULT_LANG, show_default=True, help="Language tag of the Chinese literals: auto (each by its script: zh-Hans, zh-Hant or zh), or one tag of the zh family for all.")
@click.option("--shapes", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of SHACL shapes (*.ttl); default: the project's shapes/.")
@click.option("--strict", is_flag=True, help="Reject records that only have warnings.")
@click.option("--max-rejects", type=click.IntRange(min=0), help="Stop when more than N records were rejected.")
@click.option("--max-record-bytes", default=DEFAULT_MAX_BYTES, show_default=True, type=click.IntRange(min=1),
              help="Larger files are rejected unread.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: one per CPU).")
@click.option("--engine", "engine_name", type=click.Choice(RUN_ENGINES), default="local", show_default=True,
              help="What runs the batches: this machine's process pool, or a Dask cluster (--scheduler).")
@click.option("--scheduler", help="With --engine dask: the scheduler's address (tcp://host:8786), or 'local' "
                                  "to start a cluster of --workers processes on this machine.")
@click.option("--validator", type=click.Choice(ENGINES), default=DEFAULT_ENGINE, show_default=True,
              help="SHACL engine: the builtin one (fast, pyshacl-equivalent) or pyshacl itself.")
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(min=1),
              help="Records handed to a worker at a time.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (it is shown only on a terminal anyway).")
@click.option("--title", default=DEFAULT_TITLE, show_default=True, help="The dataset's title (void.ttl, dataset.jsonld).")
@click.option("--license", "license_", default=DEFAULT_LICENSE, show_default=True,
              help="License IRI of the metadata the release publishes.")
@click.option("--rights", default=DEFAULT_RIGHTS, show_default=True,
              help="Rights statement IRI of the article texts, on every printing (rightsstatements.org).")
@click.option("--version-label", help="The release's version (dcat:version) [default: its date].")
@click.option("--authorities", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV of name,iri[,book]: agents get schema:sameAs the IRI; a name given several IRIs "
                   "(by book) becomes several agents.")
@click.option("--source-url", help="IRI template of each record's page at its source, with {id} and/or "
                                   "{container}, e.g. 'https://archive.example/articles/{id}'.")
@click.option("--publisher", default=DEFAULT_PUBLISHER, show_default=True, help="Who publishes the dataset.")
@click.option("--date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Release date [default: SOURCE_DATE_EPOCH, else the previous release's date if the inputs are the same, else today].")
@click.option("--download-base", help="URL the dump files will be downloadable under [default: BASE/dumps/].")
@click.option("--sparql-endpoint", help="Public SPARQL endpoint of the dataset, for void:sparqlEndpoint.")
@click.option("--allow-empty", is_flag=True,
              help="Let a run that publishes no record replace a release that has some.")
@click.option("--since", type=click.Path(path_type=Path, file_okay=False),
              help="A previous release whose unchanged records are reused, not processed again "
                   "[default: the release in --out, when made with the same options].")
@click.option("--full", is_flag=True, help="Process every record; reuse nothing from a previous release.")
@click.option("--no-record-cache", "no_record_cache", is_flag=True,
              help="Keep no record cache in the release (_publisher/records.sqlite, ~5.5 KB a record): a faster "
                   "run and a smaller release, but the next run processes every record again.")
@click.option("--scratch", help="fsspec URL (s3://bucket/tmp/, a shared folder as file://…) where shards go, for "
                                "workers that cannot see this machine's disk [default: beside the output].")
def run_command(inputs, out, base, lang, shapes, strict, max_rejects, max_record_bytes, workers, engine_name,
                scheduler, validator, batch_size, quiet, title, license_, rights, version_label, authorities, source_url, publisher, date,
                download_base, sparql_endpoint, allow_empty, since, full, no_record_cache, scratch) -> None:
    """Convert, validate and publish records.

    INPUTS are record files, or folders searched for *.txt (default: seeds/), as paths or as fsspec URLs
    (s3://bucket/corpus/, gs://…; the protocol's package installed, e.g. s3fs)."""
    options = Options(base=base, lang=lang, shapes=shapes, strict=strict, max_rejects=max_rejects,
                      max_record_bytes=max_record_bytes, workers=workers, validator=validator,
                      batch_size=batch_size, title=title, license=license_, rights=rights,
                      version_label=version_label, authorities=authorities, source_url=source_url,
                      publisher=publisher,
                      date=date.date().isoformat() if date else None, download_base=download_base,
                      sparql_endpoint=sparql_endpoint, allow_empty=allow_empty, record_cache=not no_record_cache)
    started = time.monotonic()
    bar = None if quiet or not sys.stderr.isatty() else ProgressBar(started)
    try:
        if scheduler and engine_name != "dask":
            raise OptionError("--scheduler is for --engine dask; add --engine dask, or leave --scheduler out")
        engine = engine_for(workers, engine=engine_name, scheduler=scheduler)
        if since and full:
            raise OptionError("--since and --full contradict each other; leave one out")
        report = run(inputs or ("seeds",), out, options=options, progress=bar, engine=engine, since=since,
                     reuse=not full, scratch=scratch)
    except PipelineError as error:
        raise Failed(f"{error}\n{_untouched(out)}", error.exit_code) from error
    except OSError as error:  # the disk: full, read-only, gone
        raise Failed(f"{error}\n{_untouched(out)}", EXIT_FAILED) from error
    if bar:
        bar.clear()
    click.echo(summary(report, out, time.monotonic() - started))
    if details(report, out):
        click.echo(details(report, out), err=True)
    if report.stopped:
        sys.exit(EXIT_STOPPED)
    sys.exit(EXIT_REJECTS if report.rejected else EXIT_OK)


def _untouched(out: Path) -> str:
    if (Path(out) / MARKER).exists() or (Path(out) / "report.json").exists():
        return f"Nothing was written; the previous release in '{out}' is untouched."
    return "Nothing was written."


class ProgressBar:
    """Each phase on one terminal line (stderr): done of total, its unit, rate and ETA, redrawn at most
    ten times a second; the clock restarts with each phase, so a rate is that phase's own."""

    UNITS = {"discovering": "files", "records": "records", "writing": "partitions"}

    def __init__(self, started: float):
        self.started = started
        self.drawn = 0.0
        self.phase = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.phase, self.started = phase, now
        if now - self.drawn < 0.1 and done != total:
            return
        self.drawn = now
        unit = self.UNITS.get(phase, "")
        rate = done / max(now - self.started, 1e-9)
        if total:
            width = 24
            filled = int(width * done / total)
            eta = (total - done) / rate if rate else 0
            line = (f"{phase:11} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {unit}"
                    f"  {rate:,.0f}/s  ETA {eta:,.0f} s")
        else:
            line = f"{phase:11} {done:,} {unit} so far  {rate:,.0f}/s"
        click.echo("\r" + line.ljust(78), nl=False, err=True)

    def clear(self) -> None:
        click.echo("\r" + " " * 78 + "\r", nl=False, err=True)


def summary(report, out: Path, seconds: float) -> str:
    """What a run did, for stdout: counts and files."""
    lines = [
        f"read {report.read} records: {report.published} published, {report.rejected} rejected, "
        f"{report.warning_count} warnings ({seconds:.1f} s, {report.read / max(seconds, 1e-9):,.0f} records/s)",
    ]
    if report.reused:
        lines.append(f"{report.reused} unchanged records taken from the previous release, "
                     f"{report.read - report.reused} processed")
    if report.stopped:
        lines.append(f"stopped early, nothing published: {report.stopped}; the previous release in {out}/ is untouched")
    else:
        lines.append(f"{report.triples} triples written to {out}/: " + ", ".join(
            name for name in report.files if name.startswith(("articles", "context"))))
    return "\n".join(lines)


def details(report, out: Path) -> str:
    """The records and files that need a look, for stderr: rejects, placeholders, skipped, warnings."""
    where = "" if report.stopped else f" in {out}/_publisher/report.json"
    lines = [f"  rejected {reject.problems[0]}" for reject in report.rejects[:10]]
    if report.rejected > 10:
        lines.append(f"  ... and {report.rejected - 10} more{where}")
    lines += [f"  placeholder: {notice}" for notice in report.notices]
    if report.cache_note:
        lines.append(f"  {report.cache_note}; pass --full to say that is meant")
    if report.read == 0 and not report.stopped:
        lines.append("  no records found: the inputs hold no *.txt record files")
    lines += [f"  skipped {skipped.name}: {skipped.reason}" for skipped in report.skipped[:5]]
    if report.skipped_count > 5:
        lines.append(f"  ... and {report.skipped_count - 5} more skipped{where}")
    lines += [f"  warning {warning}" for warning in report.warnings[:5]]
    if report.warning_count > 5:
        lines.append(f"  ... and {report.warning_count - 5} more warnings{where}")
    return "\n".join(lines)


@main.command("validate", epilog="""Example:

\b
  pipeline validate output/articles.ttl
  pipeline validate dump.jsonld --shapes my-shapes/

Exit codes: 0 conforms (warnings allowed), 1 violations, 3 a file does not parse.""")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shapes", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of SHACL shapes (*.ttl); default: the project's shapes/.")
@click.option("--validator", type=click.Choice(ENGINES), default="pyshacl", show_default=True,
              help="SHACL engine; pyshacl by default here, since any file may hold blank nodes.")
@click.option("--show", default=20, show_default=True, type=click.IntRange(min=0),
              help="Results listed per severity (the rest are counted); 0 lists them all.")
def validate_command(files, shapes, validator, show) -> None:
    """Check RDF files against the SHACL shapes.

    FILES may be Turtle, N-Triples, N-Quads, TriG, JSON-LD or RDF/XML, optionally gzipped (.gz).
    Nothing is fetched: a JSON-LD file with a remote @context is refused."""
    terminal = sys.stderr.isatty()
    try:
        shapes_graph = load_shapes(shapes)
        graph = None
        for file in files:
            if terminal:
                click.echo(f"reading {file} ({file.stat().st_size / 1e6:,.1f} MB)...", err=True)
            part = read_rdf(file)
            graph = part if graph is None else graph + part
        if terminal:
            click.echo(f"validating {len(graph):,} triples...", err=True)
        report = validate_graph(graph, shapes_graph, engine=validator)
    except ParseFailed as error:
        raise Failed(f"does not parse: {error}") from error
    except PipelineError as error:
        raise failed(error) from error
    for kind, results in (("violations", report.violations), ("warnings", report.warnings)):
        shown = results if show == 0 else results[:show]
        for result in shown:
            click.echo(str(result), err=True)
        if len(results) > len(shown):
            click.echo(f"... and {len(results) - len(shown):,} more {kind} (--show 0 lists them all)", err=True)
    click.echo(f"{len(graph)} triples: {len(report.violations)} violations, {len(report.warnings)} warnings"
               f" — {'conforms' if not report.violations else 'does not conform'}")
    sys.exit(1 if report.violations else 0)


@main.command("query", epilog="""Examples:

\b
  pipeline query docs/queries/01-articles-by-author.rq
  pipeline query 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }' --format csv
  pipeline query docs/queries/10-counts-per-year.rq --endpoint http://127.0.0.1:7878/query

On the local store the query runs in a worker that is stopped at --timeout or --memory-limit.
Exit codes: 0 answered, 3 the store or endpoint could not answer (or a limit stopped the query),
5 the query is malformed.""")
@click.argument("query")
@click.option("--endpoint", help="A SPARQL endpoint URL; default: the local store of the release (no server).")
@click.option("--release", "release", default="output", show_default=True, type=click.Path(path_type=Path),
              help="The release whose local store is queried.")
@click.option("--store", type=click.Path(path_type=Path), help="The store folder [default: beside the release].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds the query may take (local store) or to wait for the endpoint; 0: no limit (local only).")
@click.option("--memory-limit", default=2048, show_default=True, type=click.IntRange(min=0),
              help="MB of memory the query may use on the local store; 0: no limit.")
@click.option("--allow-service", is_flag=True, help="Let SERVICE send requests to other endpoints (local store).")
def query_command(query, endpoint, release, store, fmt, timeout, memory_limit, allow_service) -> None:
    """Run a SPARQL query and print the results.

    QUERY is the query text or a file holding it."""
    text = _query_text(query)
    try:
        if endpoint:
            results = query_endpoint(endpoint, text, timeout=timeout or 60)
        else:
            terminal = sys.stderr.isatty()
            location, loaded = ensure_store(release, store, progress=_loading if terminal else None)
            if loaded and terminal:
                click.echo(f"\rloaded {release} into {location}".ljust(60), err=True)
            limits = Limits(timeout=timeout, memory_mb=memory_limit, allow_service=allow_service,
                            result_bytes=1 << 30)
            results = query_store(location, text, limits=limits)
    except PipelineError as error:
        raise failed(error) from error
    click.echo(results.render(fmt))


def _query_text(query: str) -> str:
    """The argument is a query file when it names one, else the query itself."""
    looks_like_text = any(c in query for c in "{}\n") or len(query.encode("utf-8")) > 255
    path = Path(query)
    try:
        is_file = not looks_like_text and path.is_file()
    except OSError:
        is_file = False
    if is_file:
        data = path.read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise Failed(f"query file '{query}' is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
                            f"{error.start}); re-save it as UTF-8") from None
    if not looks_like_text and (path.suffix in (".rq", ".sparql", ".txt") or "/" in query) and " " not in query:
        raise Failed(f"no query file '{query}'; give a file that exists, or the query text itself")
    return query


def _upload_progress(sent: int, size: int) -> None:
    click.echo(f"\ruploading {sent / 1e6:,.1f} of {size / 1e6:,.1f} MB ({100 * sent / max(size, 1):.0f} %)",
               nl=False, err=True)


def _loading(triples: int) -> None:
    click.echo(f"\rloading {triples:,} triples into the store...", nl=False, err=True)


@main.command("serve", epilog="""Examples:

\b
  pipeline serve                      # output/ on http://127.0.0.1:7878/
  pipeline serve release/ --port 8000 --timeout 10
  curl -i http://127.0.0.1:7878/zh-articles/article/8bad3e691d          # 303 to ./8bad3e691d.html
  curl -L -H 'Accept: text/turtle' http://127.0.0.1:7878/zh-articles/article/8bad3e691d
  curl -H 'Accept: application/sparql-results+json' \\
       --data-urlencode 'query=SELECT * WHERE { ?s ?p ?o } LIMIT 3' http://127.0.0.1:7878/query

Every IRI of the release answers at the same path here (https://example.org/zh-articles/article/X at
/zh-articles/article/X): 303 See Other to X.html, X.ttl, X.jsonld, X.nt or X.rdf by the Accept header
(docs/pages.md). The landing page is /, the query page /sparql, the SPARQL endpoint /query.
The store is kept beside the release; a new release is picked up by itself.
Updates are refused: the server is read-only. Each query runs in a worker process that is
stopped at --timeout or --memory-limit and answers 503 with the reason (docs/security.md).""")
@click.argument("release", default="output", type=click.Path(path_type=Path, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the release to the network.")
@click.option("--port", default=7878, show_default=True, type=click.IntRange(1, 65535))
@click.option("--store", type=click.Path(path_type=Path), help="The store folder [default: beside the release].")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds a query may take, waiting included; 0 for no limit.")
@click.option("--memory-limit", default=512, show_default=True, type=click.IntRange(min=0),
              help="MB of resident memory per query worker; 0 for no limit.")
@click.option("--query-workers", default=6, show_default=True, type=click.IntRange(1, 64),
              help="Queries answered at once, each in its own process.")
@click.option("--max-result-bytes", default=64 * 1024 * 1024, show_default=True, type=click.IntRange(min=1),
              help="Larger answers are refused with 503 (never cut).")
@click.option("--allow-service", is_flag=True, help="Let SERVICE send requests to other endpoints (off: SSRF).")
@click.option("--public-base", metavar="URL",
              help="Where the release's base is served from when not at the base's own path, e.g. "
                   "http://127.0.0.1:7878/ to answer /article/X for <BASE>article/X [default: the base].")
@click.option("--label-properties", metavar="P1,P2,...",
              help="Where labels are read from, first match wins: compact (skos:prefLabel) or full IRIs "
                   "[default: skos:prefLabel,schema:name,dcterms:title,rdfs:label,foaf:name,schema:headline,"
                   "dcterms:identifier].")
def serve_command(release, host, port, store, timeout, memory_limit, query_workers, max_result_bytes,
                  allow_service, public_base, label_properties) -> None:
    """Serve a release read-only: its IRIs as pages and RDF, and SPARQL.

    Dereferenceable IRIs with content negotiation, a landing page and a SPARQL 1.1 endpoint for
    RELEASE (default: output/)."""
    started = time.monotonic()
    limits = Limits(timeout=timeout, memory_mb=memory_limit, result_bytes=max_result_bytes,
                    allow_service=allow_service)
    try:
        server = Server(release, host=host, port=port, store=store, limits=limits, workers=query_workers,
                        on_event=lambda message: click.echo(message, err=True),
                        progress=_loading if sys.stderr.isatty() else None,
                        public_base=public_base, label_properties=parse_label_properties(label_properties))
    except PipelineError as error:
        raise failed(error) from error
    if server.loaded:
        click.echo(f"\rloaded {release} into {server.version} ({time.monotonic() - started:.1f} s)", err=True)
    if not is_loopback(host):
        click.echo(f"warning: listening on {host}, not loopback: anyone who can reach this machine can query the "
                   "release (read-only, within the limits). Put it behind a reverse proxy for the public; see "
                   "docs/security.md", err=True)
    limit = f"queries stop after {timeout:g} s" if timeout else "no query time limit"
    click.echo(f"SPARQL endpoint: {server.url}/query   (read-only; {limit}, {memory_limit or 'no'} MB each)")
    click.echo(f"landing page:    {server.url}/   (the release's IRIs under {server.home})")
    click.echo(f"query page:      {server.url}/sparql")
    click.echo("Ctrl-C stops the server.", nl=True)
    sys.stdout.flush()
    server.serve_forever()


@main.command("site", epilog="""Examples:

\b
  pipeline site output/ -o site/
  xdg-open site/index.html                     # works from disk: every link is relative
  pipeline site output/ -o site/ --sparql https://data.example.net/query

Writes every resource of the release as NAME.html, NAME.ttl, NAME.jsonld, NAME.nt and NAME.rdf at the
path of its IRI under the base, the landing page (index.html), browse indexes, a search page, the
dumps, and web-server rules for content negotiation in site/_server/ (nginx.conf, htaccess; see
docs/pages.md). Reruns on the same release are byte-identical. SITE is replaced only when this tool
wrote it.""")
@click.argument("release", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="The site folder.")
@click.option("--store", type=click.Path(path_type=Path), help="The store folder [default: beside the release].")
@click.option("--sparql", metavar="URL", help="A SPARQL endpoint of this release to link from the pages.")
@click.option("--label-properties", metavar="P1,P2,...",
              help="Where labels are read from, first match wins (as for `pipeline serve`).")
def site_command(release, out, store, sparql, label_properties) -> None:
    """Write a release as a static site with content-negotiation rules.

    Every IRI of RELEASE as pages and RDF documents, for plain static hosting."""
    from .site import build_site

    started = time.monotonic()
    try:
        report = build_site(release, out, store=store, sparql=sparql,
                            label_properties=parse_label_properties(label_properties))
    except PipelineError as error:
        raise failed(error) from error
    click.echo(f"wrote {report.files:,} files for {report.resources:,} resources to {out}/ "
               f"({time.monotonic() - started:.1f} s); open {out}/index.html")
    for iri in report.skipped[:20]:
        click.echo(f"  skipped {iri}: its path cannot be a file name", err=True)


@main.command("publish", epilog="""Examples:

\b
  oxigraph serve --location store/ --bind 127.0.0.1:7879 &      # a writable store
  pipeline publish output/ --endpoint http://127.0.0.1:7879/store
  pipeline publish output/ --endpoint http://127.0.0.1:7879/store --changes   # after the next run
  PIPELINE_ENDPOINT_USER=admin PIPELINE_ENDPOINT_PASSWORD=secret \\
    pipeline publish release/ --endpoint https://fuseki.example.org/articles/data \\
                              --graph https://data.example.org/articles

Credentials come from PIPELINE_ENDPOINT_USER and PIPELINE_ENDPOINT_PASSWORD (Basic)
or PIPELINE_ENDPOINT_TOKEN (Bearer), never from the command line.
Exit codes: 0 published and checked, 3 the upload or the check failed.""")
@click.argument("release", default="output", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--endpoint", required=True, help="Graph Store Protocol URL (Oxigraph: /store, Fuseki: /DATASET/data).")
@click.option("--graph", help="Named graph IRI to replace [default: the dataset IRI of void.ttl].")
@click.option("--query-endpoint", help="SPARQL query URL for the check [default: guessed from --endpoint].")
@click.option("--retries", default=5, show_default=True, type=click.IntRange(min=0),
              help="Retries on connection errors and 408/429/5xx answers, with exponential back-off.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds to wait for the store at any one moment (a stalled upload or answer).")
@click.option("--deadline", default=1800.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds the whole publish may take, retries included.")
@click.option("--changes", is_flag=True,
              help="Apply only the release's change set (changes/) with SPARQL Update, when the store holds the "
                   "previous release; otherwise replace the graph, and say so.")
@click.option("--update-endpoint", help="SPARQL Update URL for --changes [default: guessed from --endpoint].")
def publish_command(release, endpoint, graph, query_endpoint, retries, timeout, deadline, changes,
                    update_endpoint) -> None:
    """Upload a release into a triple store.

    Replaces one named graph over the Graph Store Protocol, then checks the store holds it.
    Redirects are not followed, so credentials go only to the URL you name."""
    bar = _upload_progress if sys.stderr.isatty() else None
    if changes:
        try:
            done = publish_changes(release, endpoint, graph=graph, query_url=query_endpoint,
                                   update_url=update_endpoint, timeout=timeout, retries=retries, deadline=deadline)
        except PipelineError as error:
            raise failed(error) from error
        if done.fell_back:
            click.echo(f"no change set applied: {done.fell_back}; replaced the graph instead", err=True)
            click.echo(f"published {done.triples:,} triples into <{done.graph}> at {endpoint} in {done.seconds:.1f} s; "
                       "the store's count matches")
        else:
            click.echo(f"applied the change set to <{done.graph}> at {endpoint}: {done.removed:,} triples removed, "
                       f"{done.added:,} added, in {done.requests} request{'s' if done.requests > 1 else ''}"
                       f"{' (one transaction)' if done.atomic else ''}, {done.seconds:.1f} s; the store holds the "
                       f"{done.triples:,} triples of this release")
        return
    try:
        done = publish(release, endpoint, graph=graph, query_url=query_endpoint, retries=retries,
                       timeout=timeout, deadline=deadline, progress=bar)
    except PipelineError as error:
        raise failed(error) from error
    if bar:
        click.echo("\r" + " " * 60 + "\r", nl=False, err=True)
    click.echo(f"published {done.triples:,} triples ({done.bytes:,} bytes) into <{done.graph}> at {endpoint} "
               f"in {done.seconds:.1f} s ({done.attempts} attempt{'s' if done.attempts > 1 else ''}); "
               "the store's count matches")
