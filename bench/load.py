"""Load test of `pipeline serve`: cheap and runaway clients on loopback for a bounded time.

    python bench/load.py output/ --clients 12 --runaway 4 --seconds 30

Starts `pipeline serve` on the release (a free port on 127.0.0.1), runs example queries of docs/queries/
round-robin from N cheap clients and cartesian-product queries from M runaway clients until the time is
up, samples the resident memory of the server's whole process tree, stops the server, and prints
throughput, latency percentiles, errors and peak memory. An answer counts as a success only when it is
200 with a body that parses as SPARQL JSON; a runaway query must end with an error status within its
limit + 1 s. Only loopback is ever contacted."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOKUPS = "01*,04*,05*,08*,11*,12*"  # the look-up mix: answered in milliseconds on 100k records
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",  # runs for ever, flat memory
           "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f LIMIT 1")         # grows until stopped


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as stream:
                total += int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):  # children belong to the thread that forked them
                with open(f"/proc/{current}/task/{task}/children") as stream:
                    pending += [int(child) for child in stream.read().split()]
        except (OSError, ValueError):
            continue
    return total / (1 << 20)


def ask(connection, query: str) -> tuple[int, bytes]:
    connection.request("POST", "/query", body=query.encode("utf-8"), headers={
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    response = connection.getresponse()
    return response.status, response.read()


def valid_results(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return "boolean" in data or ("head" in data and "bindings" in data.get("results", {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("--clients", type=int, default=12, help="cheap clients")
    parser.add_argument("--runaway", type=int, default=0, help="clients sending runaway queries")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=5, help="query time limit of the server")
    parser.add_argument("--memory-limit", type=int, help="MB per query worker (default: serve's own)")
    parser.add_argument("--query-workers", type=int, help="default: serve's own")
    parser.add_argument("--queries", default=LOOKUPS,
                        help="which docs/queries/ files the cheap clients send: comma-separated globs without .rq")
    args = parser.parse_args()
    folder = ROOT / "docs" / "queries"
    queries = {p.stem: p.read_text(encoding="utf-8")
               for p in sorted({p for pattern in args.queries.split(",") for p in folder.glob(pattern + ".rq")})}
    port = free_port()
    extra = ["--timeout", str(args.timeout)]
    if args.memory_limit is not None:
        extra += ["--memory-limit", str(args.memory_limit)]
    if args.query_workers is not None:
        extra += ["--query-workers", str(args.query_workers)]
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(args.release), "--port", str(port),
                               *extra], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if not line.startswith("SPARQL endpoint"):
        server.terminate()
        raise SystemExit(f"pipeline serve did not start: {line}")
    latencies: dict[str, list[float]] = {name: [] for name in queries}
    runaway_ends: list[float] = []
    errors: list[str] = []
    late: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    memory: list[float] = []

    def sample() -> None:
        while time.monotonic() < deadline:
            memory.append(tree_rss_mb(server.pid))
            time.sleep(0.25)

    def client(offset: int, runaway: bool) -> None:
        """One persistent HTTP/1.1 connection per client, as a real client library keeps."""
        names = list(queries)
        index = offset
        connection = None
        while time.monotonic() < deadline:
            name = "runaway" if runaway else names[index % len(names)]
            text = RUNAWAY[index % len(RUNAWAY)] if runaway else queries[name]
            index += 1
            started = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status, body = ask(connection, text)
                took = time.monotonic() - started
                with lock:
                    if runaway:
                        runaway_ends.append(took)
                        if status == 200:
                            errors.append("a runaway query answered 200")
                        elif took > args.timeout + 1:
                            late.append(took)
                    elif status != 200:
                        errors.append(f"HTTP {status}: {body[:80].decode('utf-8', 'replace')}")
                    elif not valid_results(body):
                        errors.append(f"200 with an invalid body: {body[-60:]!r}")
                    else:
                        latencies[name].append(took)
            except (http.client.HTTPException, OSError) as error:
                if connection is not None:
                    connection.close()
                connection = None
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                time.sleep(0.01)  # a failing server is not to be hammered
        if connection is not None:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i, False)) for i in range(args.clients)]
    threads += [threading.Thread(target=client, args=(i, True)) for i in range(args.runaway)]
    threads.append(threading.Thread(target=sample))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    server.terminate()
    server.wait()
    every = [value for values in latencies.values() for value in values]
    print(f"{args.clients} cheap + {args.runaway} runaway clients for {elapsed:.1f} s against {args.release} "
          f"(time limit {args.timeout:g} s)")
    print(f"cheap: {len(every)} answered, {len(every) / elapsed:.1f} queries/s; latency p50 "
          f"{percentile(every, 0.5) * 1000:.1f} ms, p99 {percentile(every, 0.99) * 1000:.1f} ms")
    for name, values in latencies.items():
        if values:
            print(f"  {name:36} n={len(values):5}  p50 {percentile(values, 0.5) * 1000:8.1f} ms  "
                  f"p99 {percentile(values, 0.99) * 1000:8.1f} ms  mean {statistics.fmean(values) * 1000:8.1f} ms")
    if args.runaway:
        print(f"runaway: {len(runaway_ends)} stopped with an error status; longest {max(runaway_ends, default=0):.2f} s, "
              f"{len(late)} later than the limit + 1 s")
    print(f"server tree RSS: peak {max(memory, default=0):.0f} MB, median {percentile(memory, 0.5):.0f} MB "
          f"({len(memory)} samples)")
    print(f"errors: {len(errors)}")
    for error, count in Counter(errors).most_common(5):
        print(f"  x{count}: {error}")


if __name__ == "__main__":
    main()
