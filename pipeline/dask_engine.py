"""The Dask engine: the same jobs as engine.py's pool, as tasks on a Dask distributed cluster (an address,
or a LocalCluster on loopback for `--scheduler local`). An optional extra: `pip install '…[dask]'`."""

from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator

from .engine import _call, in_order
from .problems import OptionError

INSTALL = "pip install 'zh-articles-pipeline[dask]'"
# Every socket of a LocalCluster on loopback, its HTTP servers included: the scheduler and each worker
# start one even without a dashboard, and with no address they listen on every interface.
LOOPBACK = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0", "worker_dashboard_address": "127.0.0.1:0"}


class DaskEngine:
    """Jobs submitted in order, at most 2 x workers + 1 in flight, results taken in job order, so the
    output is the local engine's whatever the cluster's size. Each worker process builds a job's setup
    once (engine._call). A task whose worker dies is run again by the scheduler on another worker: jobs
    write files of fixed names, so a second try replaces what the first left."""

    def __init__(self, scheduler: str, *, workers: int | None = None):
        self.scheduler = scheduler
        self.requested = workers or os.cpu_count() or 1
        self.workers = self.requested
        self.client = None
        self.cluster = None

    def __enter__(self) -> "DaskEngine":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise OptionError(f"--engine dask needs Dask's distributed scheduler: {INSTALL}") from None
        try:
            if self.scheduler == "local":
                self.cluster = LocalCluster(n_workers=self.requested, threads_per_worker=1, processes=True,
                                            silence_logs=40, **LOOPBACK)
                self.client = Client(self.cluster)
            else:
                self.client = Client(self.scheduler, timeout=10)
        except ValueError as error:  # Dask's own word for an address it cannot parse
            self.close()
            raise OptionError(f"--scheduler {self.scheduler!r} is not a scheduler address ({error}); give "
                              "tcp://HOST:PORT, or 'local'") from None
        except OSError as error:
            self.close()
            raise OptionError(f"cannot reach the Dask scheduler at {self.scheduler}: {error}; start one "
                              "(`dask scheduler`), or pass --scheduler local for a cluster on this machine") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def map(self, function: Callable, jobs: Iterable, *, setup: Callable | None = None) -> Iterator:
        # pure=False: two equal jobs (a rerun of a batch without its conflicts) are two tasks
        return in_order(jobs, lambda job: self.client.submit(_call, function, setup, job, pure=False).result,
                        window=2 * self.workers + 1)
