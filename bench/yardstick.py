"""The machine's practical limit for this job, as a yardstick: N processes read, parse and write N-Triples with
string formatting; no validation, no deduplication, one format. Nothing of the pipeline is used.

    python bench/yardstick.py CORPUS OUT [--workers 2]

Each worker writes its own part file for a contiguous slice of the records; the parent joins the parts.
Prints one line: records, seconds, records/s. What a full release does on top of this (validation, four
formats, metadata, checksums) is what bench/README.md compares against it."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from multiprocessing import get_context
from pathlib import Path

BASE = "https://example.org/zh-articles/"
DC, SDO, XSD = "http://purl.org/dc/terms/", "http://schema.org/", "http://www.w3.org/2001/XMLSchema#"
HEADER = {"标题": "title", "日期": "date", "作者": "authors", "来源": "origin", "标签": "tags", "书籍": "book",
          "书籍作者": "book_author"}


def literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"@zh'


def record_lines(path: str) -> list[str]:
    text = open(path, encoding="utf-8").read()
    head, _, rest = text.partition("\n正文：")
    body, _, description = rest.partition("\n描述：")
    fields = {"id": os.path.basename(path)[:-4]}
    for line in head.splitlines():
        if line.startswith("id:"):
            fields["id"] = line[3:].strip()
        label, sep, value = line.partition("：")
        if sep and label in HEADER:
            fields[HEADER[label]] = value.strip()
    article = f"<{BASE}article/{fields['id']}>"
    book = f"<{BASE}book/{os.path.basename(os.path.dirname(path))}>"
    lines = [f"{article} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SDO}Article> .",
             f"{article} <{DC}title> {literal(fields.get('title', ''))} .",
             f"{article} <{SDO}isPartOf> {book} .",
             f"{book} <{SDO}name> {literal(fields.get('book', ''))} .",
             f"{article} <{SDO}text> {literal(body.strip())} ."]
    if fields.get("date"):
        lines.append(f'{article} <{DC}date> "{fields["date"]}" .')
    if description.strip():
        lines.append(f"{article} <{DC}description> {literal(description.strip())} .")
    for name in filter(None, fields.get("authors", "").split(",")):
        lines.append(f"{article} <{SDO}author> <{BASE}agent/{name.strip().encode('utf-8').hex()[:16]}> .")
    for tag in filter(None, fields.get("tags", "").split(",")):
        lines.append(f"{article} <{SDO}about> <{BASE}concept/{tag.strip().encode('utf-8').hex()[:16]}> .")
    return lines


def work(job: tuple[list[str], str]) -> int:
    paths, part = job
    with open(part, "w", encoding="utf-8") as out:
        for path in paths:
            out.write("\n".join(record_lines(path)) + "\n")
    return len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    started = time.monotonic()
    paths = sorted(str(p) for p in args.corpus.glob("*/*.txt"))
    args.out.mkdir(parents=True, exist_ok=True)
    size = -(-len(paths) // (args.workers * 8)) or 1
    jobs = [(paths[i:i + size], str(args.out / f"part-{i:09d}.nt")) for i in range(0, len(paths), size)]
    with get_context("fork").Pool(args.workers) as pool:
        done = sum(pool.map(work, jobs))
    with open(args.out / "articles.nt", "wb") as joined:
        for _, part in jobs:
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, joined, 1 << 20)
            os.unlink(part)
    seconds = time.monotonic() - started
    print(f"{done} records in {seconds:.1f} s: {done / seconds:,.0f} records/s (yardstick, {args.workers} processes)")


if __name__ == "__main__":
    sys.exit(main())
