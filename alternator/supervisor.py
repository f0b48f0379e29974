"""``--workers N``: N server processes sharing the ports, kept alive by this one.

A worker that dies is started again (after a growing pause, if it keeps dying at once). A
worker ends with its supervisor however the supervisor ends: the kernel sends it SIGTERM when
the supervisor dies (PR_SET_PDEATHSIG, Linux) and it also watches for being re-parented. SIGTERM
or SIGINT to the supervisor stops every worker the graceful way: they stop listening, finish the
requests in flight for up to ``limits.shutdown_timeout`` seconds, and exit; a worker still
there a few seconds past that is killed. Pinned by tests/test_processes.py.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.process import BaseProcess

from alternator.config import Config
from alternator.metrics import exposition

log = logging.getLogger("alternator")

PR_SET_PDEATHSIG = 1
# A worker that lived less than this is restarted after a pause, doubled each time (at most
# MAX_RESTART_PAUSE seconds), so that one failing at startup does not spin.
QUICK_DEATH_SECONDS = 5.0
MAX_RESTART_PAUSE = 5.0
# What SIGTERM allows a worker beyond its shutdown timeout before it is killed.
EXIT_GRACE_SECONDS = 5.0


def run_worker(config: Config, parent: int) -> None:
    """One worker process: serve until SIGTERM or until the supervisor ``parent`` is gone."""
    from alternator.runner import run, serve_until_signal

    _die_with_parent(parent)
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(serve_until_signal(config, parent=parent))


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the worker's parent watch (runner._watch_parent) remains
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        raise SystemExit(0)


class Supervisor:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, BaseProcess] = {}
        self._started: dict[int, float] = {}
        self._pause: dict[int, float] = {}
        self._stopping = False
        self._shared: str | None = None

    def _start(self, index: int) -> None:
        worker = self._context.Process(
            target=run_worker,
            args=(replace(self.config, worker_id=index, shared_dir=self._shared), os.getpid()),
            name=f"alternator-worker-{index}", daemon=True)
        worker.start()
        self._workers[index] = worker
        self._started[index] = time.monotonic()

    def stop(self, signum: int = signal.SIGTERM, frame: object = None) -> None:
        self._stopping = True

    def run(self, started: Callable[[], None] | None = None) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        config = self.config
        # Every worker keeps its metrics in shared files; this process serves their sum.
        shared = self._shared = exposition.use_shared_files()
        stop_metrics = None
        try:
            if config.prometheus_port is not None:
                stop_metrics = exposition.serve_shared(
                    config.prometheus_address or config.address, config.prometheus_port)
            for index in range(config.workers):
                self._start(index)
            if started is not None:
                started()
            while not self._stopping:
                sentinels = [w.sentinel for w in self._workers.values()]
                multiprocessing.connection.wait(sentinels, timeout=0.5)
                if not self._stopping:
                    self._restart_dead()
        finally:
            self._stop_workers()
            if stop_metrics is not None:
                stop_metrics()
            exposition.remove_shared_files(shared)

    def _restart_dead(self) -> None:
        for index, worker in list(self._workers.items()):
            if worker.is_alive():
                continue
            worker.join()
            lived = time.monotonic() - self._started[index]
            pause = 0.0
            if lived < QUICK_DEATH_SECONDS:
                pause = min(MAX_RESTART_PAUSE, max(0.25, 2 * self._pause.get(index, 0.0)))
            self._pause[index] = pause
            log.warning("worker %d (pid %s) exited with code %s after %.1f s; restarting it%s",
                        index, worker.pid, worker.exitcode, lived,
                        f" in {pause:g} s" if pause else "")
            deadline = time.monotonic() + pause
            while not self._stopping and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self._stopping:
                self._start(index)

    def _stop_workers(self) -> None:
        for worker in self._workers.values():
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.limits.shutdown_timeout + EXIT_GRACE_SECONDS
        for worker in self._workers.values():
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                log.warning("worker pid %s did not stop in time; killing it", worker.pid)
                worker.kill()
                worker.join(5)
