"""Input preparation for morph-kgc: the corpus's records as three CSV tables (articles, authors, tags),
since an RML engine reads tables, not the record format. Parsed by the pipeline's own parser.

    python bench/rml/prepare.py CORPUS TABLES [--workers 2]

Each worker parses a contiguous slice of the files and writes its part of each table; the parent joins
the parts under one header. Prints one line: records, seconds, records/s."""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.problems import RecordError  # noqa: E402
from pipeline.record import decode, parse_text  # noqa: E402

TABLES = {
    "articles": ("id", "book", "title", "date", "book_name", "origin", "body", "description"),
    "authors": ("id", "book", "name"),
    "tags": ("id", "book", "tag"),
}


def rows_of(path: str) -> dict[str, list[tuple]] | None:
    """One record's rows in each table; None for a record the parser rejects (morph-kgc would not see it)."""
    book = os.path.basename(os.path.dirname(path))
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text, _ = decode(data)
        record = parse_text(text, file=path)
    except RecordError:
        return None
    dates = record.dates
    date = dates[0].lexical if len(dates) == 1 and dates[0].day else ""
    return {
        "articles": [(record.id, book, record.title, date, record.book, record.origin, record.body,
                      record.description)],
        "authors": [(record.id, book, name) for name in record.authors],
        "tags": [(record.id, book, tag) for tag in record.tags],
    }


def work(job: tuple[list[str], str]) -> int:
    paths, part = job
    handles = {name: open(f"{part}.{name}.csv", "w", encoding="utf-8", newline="") for name in TABLES}
    writers = {name: csv.writer(handle) for name, handle in handles.items()}
    count = 0
    for path in paths:
        rows = rows_of(path)
        if rows is None:
            continue
        count += 1
        for name, table in rows.items():
            writers[name].writerows(table)
    for handle in handles.values():
        handle.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("tables", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    started = time.monotonic()
    paths = sorted(str(p) for p in args.corpus.glob("*/*.txt"))
    args.tables.mkdir(parents=True, exist_ok=True)
    size = -(-len(paths) // args.workers)
    parts = [str(args.tables / f"part{n}") for n in range(args.workers)]
    jobs = [(paths[n * size:(n + 1) * size], parts[n]) for n in range(args.workers)]
    with get_context("fork").Pool(args.workers) as pool:
        count = sum(pool.map(work, jobs))
    for name, columns in TABLES.items():
        with open(args.tables / f"{name}.csv", "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerow(columns)
            for part in parts:
                with open(f"{part}.{name}.csv", encoding="utf-8", newline="") as piece:
                    shutil.copyfileobj(piece, out)
                os.remove(f"{part}.{name}.csv")
    seconds = time.monotonic() - started
    print(f"{count} records in {seconds:.1f} s ({count / seconds:,.0f} records/s) as tables in {args.tables}")


if __name__ == "__main__":
    main()
