"""SPARQL queries in worker processes that can be killed: a time, memory and result-size limit that holds,
and no outbound requests (SERVICE) unless allowed. `pipeline serve` and `pipeline query` both run here.

A query runs in a child process holding the store open read-only. The parent waits for its answer and
watches the child's resident memory; past the time or memory limit it kills the child (the only way to
stop a query inside Oxigraph) and starts a fresh one, so a runaway query ends, frees its memory and
answers an error, never a truncated 200."""

from __future__ import annotations

import json
import os
import queue
import select
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .problems import PipelineError

# result media types by kind, in order of preference; the first that the client accepts is used
RESULT_TYPES = {
    "select": ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values"),
    "graph": ("application/n-triples", "text/turtle", "application/ld+json", "application/rdf+xml"),
}
RESULT_TYPES["ask"] = RESULT_TYPES["select"][:2]
MAX_QUERY_BYTES = 1 << 20  # a query text longer than this is refused before it is parsed


@dataclass(frozen=True)
class Limits:
    """What one query may take. The memory limit is the worker's resident size (a worker at rest is
    about 45 MB), checked every 20 ms, so a query can overshoot it by what it allocates in that time."""

    timeout: float = 5.0                 # seconds, waiting for a worker included; 0: none
    memory_mb: int = 512                 # resident memory of a worker; 0: none
    result_bytes: int = 64 * 1024 * 1024  # serialised answer; larger answers are refused, not cut
    allow_service: bool = False          # SERVICE makes the server send requests: off unless asked


class QueryFailed(PipelineError):
    """A query that has no answer: the status an HTTP server should give and a message for the user."""

    status = 500
    limit: str | None = None


class MalformedQuery(QueryFailed):
    status = 400


class ServiceRefused(QueryFailed):
    status = 403
    limit = "service"


class LimitExceeded(QueryFailed):
    """Stopped at a limit (time, memory, result size) or no worker was free in time."""

    status = 503

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


class StoreFailed(QueryFailed):
    status = 500


class WorkerGone(Exception):
    """A worker that was dead before it received the query (safe to ask another)."""


@dataclass(frozen=True)
class Answer:
    kind: str        # 'select', 'ask' or 'graph'
    media_type: str
    body: bytes


# --------------------------------------------------------------------------- SERVICE

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_NOT_CODE = re.compile(r'#[^\n]*|"""(?:[^\\]|\\.)*?"""|\'\'\'(?:[^\\]|\\.)*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
                       r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>", re.DOTALL)
_SERVICE = re.compile(r"(?<![\w?$:])SERVICE(?![\w:-])", re.IGNORECASE)


def uses_service(query: str) -> bool:
    """Does the query hold the SERVICE keyword (outside strings, IRIs and comments)? Codepoint escapes
    are decoded first, as SPARQL parsers do before anything else, so \\u0053ERVICE is found too."""
    text = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)
    return bool(_SERVICE.search(_NOT_CODE.sub(" ", text)))


def check_query(query: str, limits: Limits) -> None:
    if len(query.encode("utf-8")) > MAX_QUERY_BYTES:
        raise MalformedQuery(f"the query is over {MAX_QUERY_BYTES:,} bytes; send a shorter one")
    if not limits.allow_service and uses_service(query):
        raise ServiceRefused("SERVICE is disabled here: it would make this server send requests to other "
                             "hosts. Query the other endpoint yourself, or start the server with --allow-service")


def choose_type(kind: str, accept: list[str]) -> str | None:
    """The media type for an answer of this kind: the first of accept (already ordered by preference)
    that we can write, '*/*' and 'type/*' included; None when nothing fits."""
    offered = RESULT_TYPES[kind]
    for wanted in accept:
        if wanted in ("*/*", ""):
            return offered[0]
        for media in offered:
            if wanted == media or (wanted.endswith("/*") and media.startswith(wanted[:-1])):
                return media
        if wanted in ("application/json", "text/json") and kind != "graph":
            return offered[0]
    return None


# --------------------------------------------------------------------------- one worker process

def _frame(header: dict, body: bytes = b"") -> bytes:
    data = json.dumps(header).encode("utf-8")
    return struct.pack(">II", len(data), len(body)) + data + body


def _read_frame(stream) -> tuple[dict, bytes]:
    prefix = stream.read(8)
    if len(prefix) < 8:
        raise EOFError
    size, body = struct.unpack(">II", prefix)
    return json.loads(stream.read(size)), stream.read(body)


class Worker:
    """One child process with the store open, answering one query at a time."""

    def __init__(self, store: Path, limits: Limits):
        command = [sys.executable, "-m", "pipeline.sandbox", str(store), str(os.getpid()),
                   "service" if limits.allow_service else "no-service", str(limits.result_bytes)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        header, _ = _read_frame(self.process.stdout)
        if header.get("ready") is not True:
            self.kill()
            raise StoreFailed(f"cannot open the store '{store}': {header.get('error')}")

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.process.pid}/statm") as stream:
                return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
        except (OSError, ValueError):
            return 0.0

    def run(self, query: str, accept: list[str], deadline: float | None, limits: Limits) -> Answer:
        try:
            self.process.stdin.write(_frame({"accept": accept}, query.encode("utf-8")))
            self.process.stdin.flush()
        except OSError:  # it died while idle (killed from outside): nothing was asked of it yet
            self.kill()
            raise WorkerGone from None
        # wait on the pipe itself, checking the limits every 20 ms: one answer per request, written in one
        # flush, so nothing of it waits in the reader's buffer before the first byte is readable
        while not select.select([self.process.stdout], [], [], 0.02)[0]:
            if deadline is not None and time.monotonic() > deadline:
                self.kill()
                raise LimitExceeded(f"the query ran past the {limits.timeout:g} s time limit and was stopped; "
                                    "narrow it (a LIMIT, more specific patterns) or raise --timeout", "timeout")
            if limits.memory_mb and self.rss_mb() > limits.memory_mb:
                self.kill()
                raise LimitExceeded(f"the query needed more than the {limits.memory_mb} MB memory limit and was "
                                    "stopped; narrow it or raise --memory-limit", "memory")
        try:
            header, body = _read_frame(self.process.stdout)
        except (EOFError, OSError, ValueError):
            self.kill()
            raise StoreFailed("the query worker stopped unexpectedly; the query may be too large for this machine") from None
        if header["status"] == "ok":
            return Answer(header["kind"], header["media_type"], body)
        failure = {"malformed": MalformedQuery, "store": StoreFailed}.get(header["status"])
        if failure:
            raise failure(header["message"])
        if header["status"] == "not-acceptable":
            error = QueryFailed(header["message"])
            error.status = 406
            raise error
        raise LimitExceeded(header["message"], header["status"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


# --------------------------------------------------------------------------- a pool of them

class Pool:
    """N workers on one store; a killed or dead worker is replaced in the background.

    Every worker is started by one thread that lives as long as the pool: Linux delivers a child's
    parent-death signal when the *thread* that forked it ends, so short-lived starter threads would
    take their workers with them."""

    def __init__(self, store: Path, *, size: int = 4, limits: Limits = Limits()):
        self.store = Path(store)
        self.limits = limits
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.closed = False
        self.all: list[Worker] = []
        self.lock = threading.Lock()
        self.emptied = threading.Condition(self.lock)
        self.requests: queue.Queue[int | None] = queue.Queue()
        self.failures = 0
        self.spawner = threading.Thread(target=self._spawn, name="query-worker-spawner", daemon=True)
        self.spawner.start()
        for _ in range(size):
            self.requests.put(1)
        deadline = time.monotonic() + 60
        while self.idle.qsize() + self.failures < size and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.idle.qsize() < size:
            self.close()
            raise StoreFailed(f"cannot start the query workers on '{store}'")

    def _spawn(self) -> None:
        while self.requests.get() is not None:
            try:
                worker = Worker(self.store, self.limits)
            except (QueryFailed, OSError, EOFError):
                self.failures += 1
                continue
            with self.lock:
                if self.closed:
                    worker.kill()
                    continue
                self.all.append(worker)
            self.idle.put(worker)
        # this thread's end sends every worker it started its parent-death signal: a closed pool's busy
        # workers would die mid-query (seen in CI on a reload), so it outlives them
        self.wait_closed()

    def _replace(self, worker: Worker) -> None:
        with self.lock:
            if worker in self.all:
                self.all.remove(worker)
            self.emptied.notify_all()
        if not self.closed:
            self.requests.put(1)

    def execute(self, query: str, *, accept: list[str] = ("*/*",)) -> Answer:
        check_query(query, self.limits)
        started = time.monotonic()
        deadline = started + self.limits.timeout if self.limits.timeout else None
        for _ in range(3):  # a worker found dead before it got the query: another one takes it
            worker = self._take(deadline)
            try:
                answer = worker.run(query, list(accept), deadline, self.limits)
            except WorkerGone:
                self._give_back(worker)
                continue
            except BaseException:
                self._give_back(worker)
                raise
            self._give_back(worker)
            return answer
        raise StoreFailed("the query workers keep dying before they can answer; check the server's memory")

    def _take(self, deadline: float | None) -> Worker:
        while True:
            if self.closed:
                raise PoolClosed("this pool was closed (a new release is being served); ask again")
            wait = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if wait <= 0:
                raise LimitExceeded(f"every query worker was busy for the whole {self.limits.timeout:g} s time "
                                    "limit; try again shortly", "busy")
            try:
                return self.idle.get(timeout=wait)
            except queue.Empty:
                continue

    def _give_back(self, worker: Worker) -> None:
        if worker.alive() and not self.closed:
            self.idle.put(worker)
            return
        worker.kill()
        self._replace(worker)

    def close(self) -> None:
        """Stop the idle workers now; a busy one finishes its query and then stops (see _give_back)."""
        with self.lock:
            self.closed = True
        self.requests.put(None)
        while True:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                break
            worker.kill()
            with self.lock:
                if worker in self.all:
                    self.all.remove(worker)
                self.emptied.notify_all()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """After close(): wait until the busy workers have finished and stopped; False if some still run."""
        with self.lock:
            return self.emptied.wait_for(lambda: not self.all, timeout)

    def kill(self) -> None:
        """Stop every worker at once, busy or not (the server is going away)."""
        self.close()
        with self.lock:
            workers, self.all = self.all, []
            self.emptied.notify_all()
        for worker in workers:
            worker.kill()


class PoolClosed(QueryFailed):
    status = 503


# --------------------------------------------------------------------------- inside the child

def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: end with the server, however it ends
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _without_network() -> bool:
    """Leave every network (a network namespace of our own, Linux): even a query that got past the SERVICE
    check can reach no host. Needs root or unprivileged user namespaces; elsewhere the check alone holds."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        clone_newnet, clone_newuser = 0x40000000, 0x10000000
        return libc.unshare(clone_newnet) == 0 or libc.unshare(clone_newuser | clone_newnet) == 0
    except (OSError, AttributeError):
        return False


class _Capped:
    """A writable stream that refuses to grow past a size: a huge answer is stopped, not truncated."""

    def __init__(self, cap: int):
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflowed = False  # pyoxigraph may wrap the exception below in one of its own

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.cap:
            self.overflowed = True
            raise _TooLarge
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


class _TooLarge(Exception):
    pass


def _answer(store, query: str, accept: list[str], cap: int) -> dict:
    import pyoxigraph

    try:
        result = store.query(query)
    except SyntaxError as error:
        return {"status": "malformed", "message": f"malformed query: {error}"}
    except OSError as error:
        return {"status": "store", "message": f"the query failed: {error}"}
    if isinstance(result, pyoxigraph.QueryBoolean):
        kind = "ask"
    else:
        kind = "select" if isinstance(result, pyoxigraph.QuerySolutions) else "graph"
    media = choose_type(kind, accept)
    if media is None:
        return {"status": "not-acceptable", "message": f"cannot answer a {kind.upper()} query in "
                f"{', '.join(accept)}; accept one of {', '.join(RESULT_TYPES[kind])}"}
    writer = _Capped(cap)
    try:
        if kind == "graph":
            result.serialize(writer, format=pyoxigraph.RdfFormat.from_media_type(media))
        else:
            result.serialize(writer, format=pyoxigraph.QueryResultsFormat.from_media_type(media))
    except (_TooLarge, OSError, ValueError) as error:
        if writer.overflowed:
            return {"status": "result-size", "message": f"the answer is larger than the {cap:,}-byte limit; "
                                                         "add a LIMIT or select fewer variables"}
        return {"status": "store", "message": f"the query failed: {error}"}
    return {"status": "ok", "kind": kind, "media_type": media, "body": b"".join(writer.chunks)}


def _child(store_path: str, parent: int, service: bool, cap: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # below the server in CPU priority: with runaway queries on every core, the thread that must stop
    # them at their limit was starved and fired up to 1.2 s late (bench/README.md); at nice 10 it is not
    os.nice(10)
    if not service:
        _without_network()
    out, source = sys.stdout.buffer, sys.stdin.buffer
    try:
        import pyoxigraph

        store = pyoxigraph.Store.read_only(store_path)
    except Exception as error:  # whatever stops the store from opening is reported to the parent
        out.write(_frame({"ready": False, "error": str(error)}))
        out.flush()
        return
    out.write(_frame({"ready": True}))
    out.flush()
    while True:
        try:
            header, body = _read_frame(source)
        except EOFError:
            return
        answer = _answer(store, body.decode("utf-8"), header["accept"], cap)
        data = answer.pop("body", b"")
        out.write(_frame(answer, data))
        out.flush()


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "service", int(sys.argv[4]))
