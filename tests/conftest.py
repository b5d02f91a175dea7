"""Shared fixtures: the project's folders and one pipeline run over the bundled seeds."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline import Options, run

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHAPES = ROOT / "shapes"
BASE = "http://example.org/test/"


class QuietHTTPServer(ThreadingHTTPServer):
    """The tests' loopback HTTP server: a client that went away (a test's timeout or size limit) is no error. A
    handler told to stall 30 s would otherwise print its broken pipe's traceback, when it wakes, into whatever
    output a later test is capturing (CI found one in test_query_arguments_that_used_to_crash)."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def seeds_release(tmp_path_factory):
    """Output folder and report of one run over seeds/ (shared: runs are deterministic)."""
    out = tmp_path_factory.mktemp("release") / "out"
    report = run([SEEDS], out, options=Options(base=BASE))
    return out, report


def seed_files() -> list[Path]:
    return sorted(SEEDS.rglob("*.txt"))


def seed_facts() -> dict:
    """What the seeds hold, counted from the records themselves (so adding a seed breaks no test):
    records, distinct articles, and the warnings a run must report (the parser's, plus one per record
    without a date, which the shapes warn about), with the ids of the records that have any."""
    from pipeline.record import Record, parse_source
    from pipeline.sources import read_sources

    records = [parse_source(source) for source in read_sources(seed_files())]
    assert all(isinstance(record, Record) for record in records)
    warned = {r.id: len(r.warnings) + (0 if r.dates else 1) for r in records}
    return {"records": len(records), "articles": len({r.id for r in records}),
            "warnings": sum(warned.values()), "warned_ids": {i for i, n in warned.items() if n}}


def dump_triples(data: bytes, dump) -> set:
    """The triples of one dump's bytes, parsed strictly by pyoxigraph (gunzipped first if compressed)."""
    import gzip

    import pyoxigraph

    if dump.compression:
        data = gzip.decompress(data)
    fmt = pyoxigraph.RdfFormat.from_media_type(dump.media_type)
    return {(q.subject, q.predicate, q.object) for q in pyoxigraph.parse(data, format=fmt)}
