"""Load test of `pipeline serve`: concurrent clients on loopback for a bounded time.

    python bench/load.py output/ --clients 8 --seconds 20

Starts `pipeline serve` on the release (a free port on 127.0.0.1), runs the example queries of
docs/queries/ round-robin from N client threads until the time is up, stops the server, and prints
throughput, latency percentiles per query and the errors. Only loopback is ever contacted."""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
from collections import Counter
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, help="query time limit of the server (default: serve's own)")
    parser.add_argument("--queries", default="*",
                        help="which docs/queries/ files: comma-separated globs without .rq (default: all)")
    args = parser.parse_args()
    folder = ROOT / "docs" / "queries"
    queries = {p.stem: p.read_text(encoding="utf-8")
               for p in sorted({p for pattern in args.queries.split(",") for p in folder.glob(pattern + ".rq")})}
    port = free_port()
    limit = ["--timeout", str(args.timeout)] if args.timeout is not None else []
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(args.release), "--port", str(port),
                               *limit], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    if not line.startswith("SPARQL endpoint"):
        server.terminate()
        raise SystemExit(f"pipeline serve did not start: {line}")
    url = f"http://127.0.0.1:{port}/query"
    latencies: dict[str, list[float]] = {name: [] for name in queries}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client(offset: int) -> None:
        """One persistent HTTP/1.1 connection per client, as a real client library keeps."""
        names = list(queries)
        index = offset
        connection = None
        while time.monotonic() < deadline:
            name = names[index % len(names)]
            index += 1
            started = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                connection.request("POST", "/query", body=queries[name].encode("utf-8"), headers={
                    "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise OSError(f"HTTP {response.status}")
                with lock:
                    latencies[name].append(time.monotonic() - started)
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
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    server.terminate()
    server.wait()
    every = [value for values in latencies.values() for value in values]
    print(f"{args.clients} clients for {elapsed:.1f} s against {url} ({args.release})")
    print(f"{len(every)} queries answered, {len(every) / elapsed:.1f} queries/s, {len(errors)} errors; "
          f"latency p50 {percentile(every, 0.5) * 1000:.1f} ms, p99 {percentile(every, 0.99) * 1000:.1f} ms")
    for name, values in latencies.items():
        if values:
            print(f"  {name:36} n={len(values):5}  p50 {percentile(values, 0.5) * 1000:8.1f} ms  "
                  f"p99 {percentile(values, 0.99) * 1000:8.1f} ms  mean {statistics.fmean(values) * 1000:8.1f} ms")
    for error, count in Counter(errors).most_common(5):
        print(f"  error x{count}: {error}")


if __name__ == "__main__":
    main()
