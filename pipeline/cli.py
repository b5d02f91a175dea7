"""The command line: thin click wrappers over run.run and validate.validate_graph.
It translates arguments in and errors out (click.ClickException); it decides nothing itself."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rdflib import Graph

from . import __version__
from .iris import BaseIRIError
from .mapping import LanguageTagError
from .record import DEFAULT_MAX_BYTES, InputError
from .run import Options, OutputError, run
from .validate import DEFAULT_BATCH, ShapesError, load_shapes, validate_graph
from .vocab import DEFAULT_BASE, DEFAULT_LANG, PARSERS

# exit codes (documented in the README)
EXIT_OK = 0          # everything published
EXIT_REJECTS = 1     # the run finished, some records were rejected (see report.json)
EXIT_USAGE = 2       # click: bad arguments
EXIT_FAILED = 3      # the run could not start or finish (input missing, output not writable, bad shapes)
EXIT_STOPPED = 4     # --max-rejects stopped the run early


class RunFailed(click.ClickException):
    exit_code = EXIT_FAILED


@click.group(epilog="Example:\n\n\b\n  pipeline run seeds/ -o output/\n  pipeline validate output/articles.ttl")
@click.version_option(__version__, prog_name="pipeline")
def main() -> None:
    """Publish Chinese historical article records as validated Dublin Core + schema.org linked data."""


@main.command("run", epilog="""Examples:

\b
  pipeline run                                   # seeds/ into output/
  pipeline run corpus/ -o release/ --base https://data.example.org/articles/
  pipeline run one.txt other-folder/ --strict --max-rejects 10

Exit codes: 0 all published, 1 some records rejected, 2 bad arguments,
3 the run failed (nothing written), 4 stopped by --max-rejects.""")
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--out", default="output", show_default=True, type=click.Path(path_type=Path),
              help="Release folder; replaced as a whole, only when the run succeeds.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base IRI under which every minted IRI lives.")
@click.option("--lang", default=DEFAULT_LANG, show_default=True, help="Language tag of the Chinese literals.")
@click.option("--shapes", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of SHACL shapes (*.ttl); default: the project's shapes/.")
@click.option("--strict", is_flag=True, help="Reject records that only have warnings.")
@click.option("--max-rejects", type=click.IntRange(min=0), help="Stop when more than N records were rejected.")
@click.option("--max-record-bytes", default=DEFAULT_MAX_BYTES, show_default=True, type=click.IntRange(min=1),
              help="Larger files are rejected unread.")
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(min=1),
              help="Records validated together in one SHACL run.")
def run_command(inputs, out, base, lang, shapes, strict, max_rejects, max_record_bytes, batch_size) -> None:
    """Convert, validate and publish records (files, or folders searched for *.txt; default seeds/)."""
    options = Options(base=base, lang=lang, shapes=shapes, strict=strict, max_rejects=max_rejects,
                      max_record_bytes=max_record_bytes, batch_size=batch_size)
    started = time.monotonic()
    try:
        report = run(inputs or ("seeds",), out, options=options)
    except (InputError, OutputError, ShapesError, BaseIRIError, LanguageTagError, OSError) as error:
        raise RunFailed(f"{error}\nNothing was written; the previous release in '{out}' is untouched.") from error
    click.echo(summary(report, out, time.monotonic() - started))
    if report.stopped:
        sys.exit(EXIT_STOPPED)
    sys.exit(EXIT_REJECTS if report.rejected else EXIT_OK)


def summary(report, out: Path, seconds: float) -> str:
    lines = [
        f"read {report.read} records: {report.published} published, {report.rejected} rejected, "
        f"{len(report.warnings)} warnings ({seconds:.1f} s)",
    ]
    if report.stopped:
        lines.append(f"stopped early, nothing published: {report.stopped}; the previous release in {out}/ is untouched")
    else:
        lines.append(f"{report.triples} triples written to {out}/: " + ", ".join(
            name for name in report.files if name.startswith(("articles", "context"))))
    for reject in report.rejects[:10]:
        lines.append(f"  rejected {reject.problems[0]}")
    if report.rejected > 10:
        lines.append(f"  ... and {report.rejected - 10} more" + ("" if report.stopped else f" in {out}/report.json"))
    for warning in report.warnings[:5]:
        lines.append(f"  warning {warning}")
    if len(report.warnings) > 5:
        lines.append(f"  ... and {len(report.warnings) - 5} more warnings" + ("" if report.stopped else f" in {out}/report.json"))
    return "\n".join(lines)


@main.command("validate", epilog="""Example:

\b
  pipeline validate output/articles.ttl
  pipeline validate dump.jsonld --shapes my-shapes/

Exit codes: 0 conforms (warnings allowed), 1 violations, 3 a file does not parse.""")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shapes", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of SHACL shapes (*.ttl); default: the project's shapes/.")
def validate_command(files, shapes) -> None:
    """Validate RDF files (Turtle, N-Triples, JSON-LD, RDF/XML) against the SHACL shapes."""
    try:
        shapes_graph = load_shapes(shapes)
        graph = Graph()
        for file in files:
            graph.parse(file, format=PARSERS.get(file.suffix, "turtle"))
    except ShapesError as error:
        raise RunFailed(str(error)) from error
    except Exception as error:  # rdflib parsers raise many kinds; all mean 'does not parse'
        raise RunFailed(f"cannot parse {error}; check the file's syntax and extension") from error
    report = validate_graph(graph, shapes_graph)
    for result in report.results:
        click.echo(str(result))
    click.echo(f"{len(graph)} triples: {len(report.violations)} violations, {len(report.warnings)} warnings"
               f" — {'conforms' if not report.violations else 'does not conform'}")
    sys.exit(1 if report.violations else 0)
