"""A build process that stays up between builds (what a farm worker slot runs builds in).

`python -m forge.executors.warm REPLY_FD` reads one request per line on stdin,
`<job.json> <outcome.json>`, builds it with builder.run_build_job (rattler-build imported
once, not once per build: a fresh `forge.runner` process costs 130-210 ms a build), writes
the outcome file atomically and answers `done` on the REPLY_FD pipe. The build's output goes
to its log (run_build_job redirects fds 1 and 2 while it builds). It is a plain subprocess,
not multiprocessing, because Celery's pool processes may not have multiprocessing children.

`WarmRunner` is the caller's side: one per worker slot, restarted when it dies; a build
whose process died comes back as a transient failure, exactly as with run_in_subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ..fsutil import write_atomic
from ..jobs import BuildJob, BuildOutcome
from .local import _died


def serve(reply_fd: int) -> None:
    """The warm process's loop (until stdin closes: its worker went away)."""
    import rattler_build  # noqa: F401, PLC0415  (the point: imported once)

    from ..sandbox import run_job  # noqa: PLC0415

    env, cwd = dict(os.environ), os.getcwd()
    for line in sys.stdin:
        job_file, out_file = line.split()
        os.environ.clear()  # what one build set (FORGE_SOURCES, FORGE_WHEELHOUSE...) must not leak
        os.environ.update(env)
        os.chdir(cwd)
        outcome = run_job(BuildJob.from_json(Path(job_file).read_text()))
        write_atomic(Path(out_file), outcome.to_json())
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(reply_fd, b"done\n")
    os._exit(0)  # py-rattler may crash at interpreter exit: leave without teardown


class WarmRunner:
    """One warm build process, started on first use and again after it dies."""

    def __init__(self, log: Path, python: str = sys.executable) -> None:
        self.log, self.python = log, python  # log: what the process says outside builds
        self._proc: subprocess.Popen | None = None
        self._replies: int | None = None

    def _start(self) -> None:
        self.close()
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self._proc = subprocess.Popen(
                [self.python, "-m", "forge.executors.warm", str(write_fd)], stdin=subprocess.PIPE,
                stdout=out, stderr=out, pass_fds=(write_fd,), env=env, text=True)
        os.close(write_fd)
        self._replies = read_fd

    def run(self, job: BuildJob) -> BuildOutcome:
        """Build `job` in the warm process (started if needed); like run_in_subprocess."""
        work = Path(job.work_dir)
        work.mkdir(parents=True, exist_ok=True)
        job_file, out_file = work / "job.json", work / "outcome.json"
        out_file.unlink(missing_ok=True)
        job_file.write_text(job.to_json())
        Path(job.log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(job.log_path).touch()
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        assert self._proc is not None and self._proc.stdin is not None and self._replies is not None
        start = time.monotonic()
        try:
            self._proc.stdin.write(f"{job_file} {out_file}\n")
            self._proc.stdin.flush()
            answer = os.read(self._replies, 64)  # b"" when the process died mid-build
        except (BrokenPipeError, OSError):
            answer = b""
        if answer.startswith(b"done") and out_file.exists():
            return BuildOutcome.from_json(out_file.read_text())
        try:
            code: int | None = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        return _died(job, f"the warm build process exited, status {code}", time.monotonic() - start)

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=10)
            if self._proc.stdin:
                self._proc.stdin.close()
        if self._replies is not None:
            os.close(self._replies)
        self._proc, self._replies = None, None


if __name__ == "__main__":
    serve(int(sys.argv[1]))
