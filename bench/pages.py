"""Page latency of `pipeline serve` under concurrent clients, and the server's memory.

    python bench/pages.py RELEASE [--clients 16] [--requests 4000] [--store DIR]

Starts `pipeline serve RELEASE` on loopback, waits until it answers, then has CLIENTS threads (each
with its own keep-alive connection, in a process of their own) fetch random article pages (.html), the
same number of printing pages, Turtle documents and 303 answers, and prints p50/p99 per kind, pages per
second and the summed RSS of the server's process tree (parent and query workers). The numbers are in
bench/README.md."""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_rss(pid: int) -> int:
    """Resident kB of pid and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def article_ids(release: Path, count: int, seed: int) -> tuple[list[tuple[str, str]], str]:
    """(work path, printing path) of random articles, and the path of the tag with the most works and
    printings (the longest list a page shows), read from the N-Triples dump."""
    works, tags = [], Counter()
    with open(release / "articles.nt", encoding="utf-8") as dump:
        for line in dump:
            if "<http://schema.org/workExample>" in line:
                subject, _, obj = line.split(" ", 2)
                works.append((urllib.parse.urlsplit(subject[1:-1]).path, urllib.parse.urlsplit(obj.strip()[1:-3]).path))
            elif "<http://schema.org/about>" in line:
                tags[line.split(" ", 2)[2].strip()[1:-3]] += 1
    rng = random.Random(seed)
    return [rng.choice(works) for _ in range(count)], urllib.parse.urlsplit(tags.most_common(1)[0][0]).path


def fetch_all(port: int, jobs: list[tuple[str, str, str]], clients: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    failures: list[str] = []
    lock = threading.Lock()
    queue = list(jobs)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                kind, path, accept = queue.pop()
            started = time.perf_counter()
            connection.request("GET", path, headers={"Accept": accept})
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status not in (200, 303):
                with lock:
                    failures.append(f"{path}: {response.status}")
                    queue.clear()
                break
            with lock:
                timings.setdefault(kind, []).append(elapsed)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"failed: {failures[:3]}")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000, help="of each kind")
    parser.add_argument("--store", type=Path)
    parser.add_argument("--port", type=int, default=7979)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    command = [sys.executable, "-m", "pipeline", "serve", str(args.release), "--port", str(args.port)]
    if args.store:
        command += ["--store", str(args.store)]
    started = time.monotonic()
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = server.stdout.readline()
        if not first.startswith("SPARQL endpoint"):
            raise SystemExit(f"the server did not start: {first}")
        print(f"server up in {time.monotonic() - started:.1f} s (store load included); RSS {tree_rss(server.pid) / 1024:.0f} MB")
        pairs, largest = article_ids(args.release, args.requests, args.seed)
        jobs = []
        for work, printing in pairs:
            jobs += [("article page", work + ".html", "text/html"), ("printing page", printing + ".html", "text/html"),
                     ("article .ttl", work + ".ttl", "text/turtle"), ("303", work, "text/html")]
        random.Random(args.seed).shuffle(jobs)
        fetch_all(args.port, jobs[:200], args.clients)  # warm the connections and caches of the code, not data
        began = time.perf_counter()
        timings = fetch_all(args.port, jobs, args.clients)
        wall = time.perf_counter() - began
        rss = tree_rss(server.pid)
        for kind, values in sorted(timings.items()):
            values.sort()
            p50 = statistics.median(values) * 1000
            p99 = values[int(len(values) * 0.99) - 1] * 1000
            print(f"{kind:14} n={len(values):6}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
        print(f"{len(jobs)} requests from {args.clients} clients in {wall:.1f} s: {len(jobs) / wall:.0f} requests/s; "
              f"server tree RSS {rss / 1024:.0f} MB")
        single = [("article page", work + ".html", "text/html") for work, _ in pairs[:300]]
        alone = sorted(fetch_all(args.port, single, 1)["article page"])
        print(f"article page, one client: p50 {statistics.median(alone) * 1000:.1f} ms, "
              f"p99 {alone[int(len(alone) * 0.99) - 1] * 1000:.1f} ms")
        for when in ("first view", "next view"):  # pages are answered in turn: the first blocks the others
            began = time.perf_counter()
            fetch_all(args.port, [("tag", largest + ".html", "text/html")], 1)
            print(f"largest tag page, {when}: {(time.perf_counter() - began) * 1000:.0f} ms")
        landing = time.perf_counter()
        fetch_all(args.port, [("landing", "/", "text/html")] * 50, 1)
        print(f"landing page: {(time.perf_counter() - landing) / 50 * 1000:.1f} ms each (one client)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
