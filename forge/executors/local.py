"""The embedded default: a pool of build processes on this machine, no Redis needed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..jobs import BuildJob, BuildOutcome


def run_in_subprocess(job: BuildJob, python: str = sys.executable) -> BuildOutcome:
    """Run `forge.runner` for one job and read back its outcome (shared by the Celery tasks)."""
    work = Path(job.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    job_file = work / "job.json"
    out_file = work / "outcome.json"
    out_file.unlink(missing_ok=True)
    job_file.write_text(job.to_json())
    start = time.monotonic()
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    with open(job.log_path, "a", encoding="utf-8") as log:
        proc = subprocess.run(
            [python, "-m", "forge.runner", str(job_file), str(out_file)],
            stdout=log, stderr=log, env=env, check=False,
        )
    if out_file.exists():
        return BuildOutcome.from_json(out_file.read_text())
    return BuildOutcome(
        recipe=job.recipe, ok=False, log_path=job.log_path, seconds=time.monotonic() - start,
        transient=True,
        error=f"recipe '{job.recipe}' ({job.recipe_file}): the build process died with status "
              f"{proc.returncode} before reporting; see the log {job.log_path}",
    )


class LocalExecutor:
    """Runs each job in its own process, at most `jobs` at a time."""

    def __init__(self, jobs: int | None = None) -> None:
        self.slots = max(1, jobs or os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="forge-build")

    def submit(self, job: BuildJob) -> "Future[BuildOutcome]":
        return self._pool.submit(run_in_subprocess, job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
