"""Engines: map a function over jobs, results in job order, in this process or a pool of worker processes.
The interface a second engine (Dask, a later issue) implements; the stages never know which one runs them.

    with engine_for(workers=2) as engine:
        for result in engine.map(function, jobs, setup=Setup(...)):
            ...

`function(state, job)` runs where the engine puts it; `state` is what `setup()` built once in that
process (setup must be hashable and picklable: a frozen dataclass), or None without a setup."""

from __future__ import annotations

import os
import signal
from collections import deque
from typing import Callable, Hashable, Iterable, Iterator, Protocol


class Engine(Protocol):
    workers: int

    def map(self, function: Callable, jobs: Iterable, *, setup: Callable | None = None) -> Iterator: ...

    def __enter__(self) -> "Engine": ...

    def __exit__(self, *exc) -> None: ...


ENGINES = ("local", "dask")  # what --engine names


def engine_for(workers: int | None, *, engine: str = "local", scheduler: str | None = None) -> Engine:
    """The local engine for this many worker processes (None: one per CPU; 1 runs in this process), or
    the Dask engine on the cluster at scheduler ('local': a LocalCluster of that many workers)."""
    if engine == "dask":
        from .dask_engine import DaskEngine

        if not scheduler:
            from .problems import OptionError

            raise OptionError("--engine dask needs --scheduler: a scheduler's address (tcp://host:8786), or "
                              "'local' for a cluster on this machine")
        return DaskEngine(scheduler, workers=workers)
    count = workers or os.cpu_count() or 1
    return SerialEngine() if count == 1 else PoolEngine(count)


# Each process's states, built by setup() on first use and kept for the life of the process: the
# engine's own storage, filled only when a job needs it (never as a side effect of checking options).
_STATES: dict[Hashable, object] = {}


def _state(setup: Callable | None):
    if setup is None:
        return None
    if setup not in _STATES:
        _STATES[setup] = setup()
    return _STATES[setup]


def _call(function: Callable, setup: Callable | None, job):
    return function(_state(setup), job)


def run_here(function: Callable, job, *, setup: Callable | None = None):
    """One job in this process, with this process's state for setup (built on first use)."""
    return _call(function, setup, job)


class SerialEngine:
    """Every job in this process, one after the other."""

    workers = 1

    def map(self, function: Callable, jobs: Iterable, *, setup: Callable | None = None) -> Iterator:
        for job in jobs:
            yield _call(function, setup, job)

    def __enter__(self) -> "SerialEngine":
        return self

    def __exit__(self, *exc) -> None:
        _STATES.clear()


class PoolEngine:
    """A pool of forked worker processes; at most 2 x workers + 1 jobs in flight, so memory stays flat
    however many jobs there are. Workers die with the parent, however it dies."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None

    def __enter__(self) -> "PoolEngine":
        import multiprocessing

        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        self.pool = context.Pool(self.workers, initializer=_init_worker, initargs=(os.getpid(),))
        return self

    def __exit__(self, kind, *exc) -> None:
        self.pool.terminate() if kind else self.pool.close()
        self.pool.join()

    def map(self, function: Callable, jobs: Iterable, *, setup: Callable | None = None) -> Iterator:
        return in_order(jobs, lambda job: self.pool.apply_async(_call, (function, setup, job)).get,
                        window=2 * self.workers + 1)


def in_order(jobs: Iterable, submit: Callable[[object], Callable[[], object]], *, window: int) -> Iterator:
    """Results in job order, with at most window jobs in flight: submit(job) starts one and returns what
    waits for its result. Memory stays flat however many jobs there are; the order never depends on which
    worker finishes first."""
    pending: deque = deque()
    for job in jobs:
        pending.append(submit(job))
        if len(pending) >= window:
            yield pending.popleft()()
    while pending:
        yield pending.popleft()()


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle, in one line
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: terminate() ends us quietly
    _STATES.clear()  # a forked worker must not reuse states its parent built
    _die_with(parent)


def _die_with(parent: int) -> None:
    """A worker whose run was killed (kill -9) must not go on writing into an abandoned folder."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        return  # elsewhere the pool's own pipes end orphaned workers once their job is done
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the request took effect
