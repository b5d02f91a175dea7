"""`pipeline serve`: one process that binds, loads the release into its store, serves web.py's app under
uvicorn, and switches to a new release by itself when it is complete. The parts a request reads are a View."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Callable, Iterator

from .iris import check_iri
from .describe import LABEL_PROPERTIES, Graph, open_store
from .pages import Pages, Release, example_queries
from .sandbox import Limits, Pool, PoolClosed, QueryFailed
from .sparql import EndpointError, ensure_store, hold, let_go, release_digest, remove_unused_versions, store_path

LOOPBACK = ("127.0.0.1", "::1", "localhost")
WATCH_SECONDS = 2.0  # how often the release is checked for a new version


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def url_host(host: str) -> str:
    """How to write a bind address in a URL a browser can open."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class View:
    """One release version as the server reads it: its store (for pages) and query pool (for SPARQL).
    Requests hold it while they run, so a replaced version goes only once its last request answered."""

    def __init__(self, release: Path, version: Path, *, workers: int, limits: Limits,
                 label_properties: tuple[str, ...]):
        self.folder = Path(release)
        self.version = version
        self.graph = Graph(open_store(version), label_properties=label_properties)
        if not self.graph.base:
            raise EndpointError(f"'{release}' has no void:uriSpace in void.ttl: it is not a release this tool "
                                "wrote, or void.ttl is missing; run `pipeline run` again")
        self.release = Release.read(release)
        self.pages = Pages(self.graph, self.release)
        self.graph.catalogue()  # the landing page's numbers: built now, not on the first visitor's time
        self.pool = Pool(version, size=workers, limits=limits)
        self._busy = 0
        self._idle = threading.Condition()

    def enter(self) -> None:
        with self._idle:
            self._busy += 1

    def leave(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float | None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        self.graph = self.pages = None  # the store closes with its last reference


class Server:
    """A bound, not yet serving, HTTP server for one release. Binding happens here, so that a taken port
    is an error before anything says the server is up."""

    def __init__(self, release: Path, *, host: str = "127.0.0.1", port: int = 7878, store: Path | None = None,
                 limits: Limits = Limits(), workers: int = 4, on_event: Callable[[str], None] | None = None,
                 progress: Callable[[int], None] | None = None, public_base: str | None = None,
                 label_properties: tuple[str, ...] = LABEL_PROPERTIES):
        self.release = Path(release)
        self.root = Path(store) if store else store_path(self.release)
        self.limits = limits
        self.workers = workers
        self.label_properties = tuple(label_properties)
        self.on_event = on_event or (lambda message: None)
        self.examples = example_queries()
        self.socket = _bind(host, port)
        try:
            version, self.loaded = ensure_store(self.release, self.root, progress=progress)
            hold(version)
            try:
                self.view = View(self.release, version, workers=workers, limits=limits,
                                 label_properties=self.label_properties)
            except (QueryFailed, OSError) as error:
                let_go(version)
                raise EndpointError(str(error)) from None
        except BaseException:
            self.socket.close()
            raise
        self.prefix = local_prefix(public_base or self.view.graph.base)
        self.digest = release_digest(self.release)
        self.host, self.port = host, self.socket.getsockname()[1]
        self.stopping = threading.Event()
        self._uvicorn = None

    @property
    def version(self) -> Path:
        return self.view.version

    @property
    def pool(self) -> Pool:
        return self.view.pool

    @property
    def url(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def home(self) -> str:
        """The landing page of the release's own IRIs on this server."""
        return self.url + self.prefix

    @contextlib.contextmanager
    def current(self) -> Iterator[View]:
        view = self.view
        view.enter()
        try:
            yield view
        finally:
            view.leave()

    def serve_forever(self) -> None:
        import uvicorn

        from .web import app_for

        config = uvicorn.Config(app_for(self), log_level="warning", access_log=False, lifespan="off",
                                server_header=False, timeout_keep_alive=5, limit_concurrency=512)
        self._uvicorn = uvicorn.Server(config)
        watcher = threading.Thread(target=self._watch, name="release-watcher", daemon=True)
        watcher.start()
        try:
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self.stopping.set()
            self.close()

    def shutdown(self) -> None:
        self.stopping.set()
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True

    def close(self) -> None:
        self.socket.close()
        self.view.pool.kill()
        let_go(self.view.version)

    def execute(self, query: str, accept: list[str]):
        for _ in range(3):  # a pool closed by a reload under our feet: the next one answers
            try:
                return self.view.pool.execute(query, accept=accept)
            except PoolClosed:
                continue
        return self.view.pool.execute(query, accept=accept)

    def _watch(self) -> None:
        """Serve a new release as soon as it is complete: load it beside the old store, then swap."""
        while not self.stopping.wait(WATCH_SECONDS):
            try:
                digest = release_digest(self.release)
            except (EndpointError, OSError):
                continue  # between releases, or removed: keep serving what we have
            if digest == self.digest:
                continue
            try:
                self._switch(digest)
            except (EndpointError, QueryFailed, OSError) as error:
                self.on_event(f"a new release in {self.release} could not be loaded ({error}); still serving the "
                              "previous one")
                self.digest = digest

    def _switch(self, digest: str) -> None:
        started = time.monotonic()
        version, _ = ensure_store(self.release, self.root)
        hold(version)
        try:
            view = View(self.release, version, workers=self.workers, limits=self.limits,
                        label_properties=self.label_properties)
        except BaseException:
            let_go(version)
            raise
        old, self.view, self.digest = self.view, view, digest
        self.on_event(f"reloaded {self.release}: a new release ({time.monotonic() - started:.1f} s)")
        threading.Thread(target=self._retire, args=(old,), name="retire-store", daemon=True).start()

    def _retire(self, view: View) -> None:
        """Remove a replaced store only once the queries and pages still running on it have answered:
        removing it under a busy worker kills that worker's query (seen in CI as "the query worker stopped
        unexpectedly")."""
        grace = self.limits.timeout + 30 if self.limits.timeout else None
        view.pool.close()
        if not view.pool.wait_closed(timeout=grace):
            view.pool.kill()
        view.wait_idle(grace)
        view.close()
        let_go(view.version)
        remove_unused_versions(self.root, keep=self.view.version)


def local_prefix(base: str) -> str:
    """The path under which this server answers for the base's IRIs: the same path as the IRIs (so that
    behind a reverse proxy for the real host, links are the canonical IRIs themselves), or the path of
    --public-base."""
    path = urllib.parse.urlsplit(check_iri(base, "--public-base")).path or "/"
    path = urllib.parse.quote(path, safe="/%:@!$&'()*+,;=-._~")
    return path if path.endswith("/") else path + "/"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without, a keep-alive answer sent as headers then body waited
    # for the client's delayed ACK (measured: 44 ms per landing page on a reused connection, 2 ms with it)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as error:
        sock.close()
        raise EndpointError(f"cannot listen on {host}:{port}: {error.strerror}; is another server using "
                            "that port? Choose another with --port") from None
    sock.set_inheritable(False)
    return sock
