"""The embedded default: a pool of warm build processes on this machine, no Redis needed.

Each build runs in a pool process that has already imported rattler-build (what a fresh
process per build would pay again for every recipe). A process that dies mid-build breaks
the pool: the affected builds come back as transient failures (the scheduler retries them)
and the next submit starts a fresh pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..errors import ForgeError
from ..jobs import BuildJob, BuildOutcome


def run_in_subprocess(job: BuildJob, python: str = sys.executable) -> BuildOutcome:
    """Run `forge.runner` for one job in a fresh process (the Celery tasks use this)."""
    work = Path(job.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    job_file = work / "job.json"
    out_file = work / "outcome.json"
    out_file.unlink(missing_ok=True)
    job_file.write_text(job.to_json())
    start = time.monotonic()
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    Path(job.log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(job.log_path, "a", encoding="utf-8") as log:
        proc = subprocess.run(
            [python, "-m", "forge.runner", str(job_file), str(out_file)],
            stdout=log, stderr=log, env=env, check=False,
        )
    if out_file.exists():
        return BuildOutcome.from_json(out_file.read_text())
    return _died(job, f"status {proc.returncode}", time.monotonic() - start)


def _died(job: BuildJob, how: str, seconds: float = 0.0) -> BuildOutcome:
    return BuildOutcome(
        recipe=job.recipe, ok=False, log_path=job.log_path, seconds=seconds, transient=True,
        error=ForgeError(f"the build process died ({how}) before reporting", recipe=job.recipe,
                         file=job.recipe_file, log=job.log_path),
    )


def _ppid_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _start_watchdog(coordinator: int, every: float = 1.0) -> None:
    """Fork a small process that ends this build process's group once the coordinator is gone.

    A killed `forge build` (SIGKILL, or SIGTERM to its pid only) never reaches its pool, which
    leads its own process group; without this the pool would build on, orphaned. Not a thread:
    rattler-build holds the GIL while it builds. Not PR_SET_PDEATHSIG: that fires when the
    *thread* that spawned the process exits, and could not reach the build's own children."""
    pool = os.getpid()
    if os.fork() != 0:
        return
    try:
        while True:
            time.sleep(every)
            if os.getppid() != pool:  # the pool process ended normally: nothing to guard
                os._exit(0)
            if _ppid_of(pool) != coordinator:  # the pool was orphaned: end it and its builds
                os.killpg(pool, signal.SIGKILL)
    finally:
        os._exit(0)


def _warm() -> None:
    """Pool initializer: pay the imports once per process, not once per build.

    Each pool process leads its own process group, so that shutting down a busy pool (Ctrl-C)
    can end the process and whatever its build started (scripts, compilers) in one signal.
    """
    try:
        os.setpgrp()
    except OSError:
        pass
    _start_watchdog(os.getppid())
    import rattler_build  # noqa: F401, PLC0415

    from .. import builder  # noqa: F401, PLC0415


def _build(job_json: str) -> str:
    from ..sandbox import run_job  # noqa: PLC0415

    return run_job(BuildJob.from_json(job_json)).to_json()


class LocalExecutor:
    """Runs each job in a warm pool process, at most `jobs` at a time."""

    def __init__(self, jobs: int | None = None) -> None:
        self.slots = max(1, jobs or os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._in_flight = 0

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None or getattr(self._pool, "_broken", False):
                if self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = ProcessPoolExecutor(
                    max_workers=self.slots, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm,
                )
            return self._pool

    def submit(self, job: BuildJob) -> "Future[BuildOutcome]":
        result: Future[BuildOutcome] = Future()
        start = time.monotonic()

        def done(inner: Future) -> None:
            with self._lock:
                self._in_flight -= 1
            try:
                result.set_result(BuildOutcome.from_json(inner.result()))
            except BrokenProcessPool:
                result.set_result(_died(job, "the pool process exited", time.monotonic() - start))
            except BaseException as exc:  # noqa: BLE001
                result.set_result(_died(job, f"{type(exc).__name__}: {exc}", time.monotonic() - start))

        with self._lock:
            self._in_flight += 1
        try:
            inner = self._get_pool().submit(_build, job.to_json())
        except BrokenProcessPool:
            with self._lock:
                self._pool = None
            inner = self._get_pool().submit(_build, job.to_json())
        inner.add_done_callback(done)
        return result

    def shutdown(self) -> None:
        """Idle pools are joined (no leaked semaphores); busy ones (Ctrl-C) are killed with their
        builds, so no build process outlives the command or keeps its stdout/stderr open."""
        with self._lock:
            pool, self._pool = self._pool, None
            busy = self._in_flight > 0
        if pool is None:
            return
        if not busy:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        _kill_all(procs)


def _kill_all(procs: list) -> None:  # noqa: ANN001  (multiprocessing Process objects)
    """SIGKILL each pool process's group (its build's children too), then reap them."""
    for proc in procs:
        pid = proc.pid
        if pid is None:
            continue
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for proc in procs:
        proc.join(timeout=5)
