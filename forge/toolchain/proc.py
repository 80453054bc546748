"""Run a subprocess with its output appended to a log file, turning failure into
a ToolchainError that names the step, the log and the fix."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import step_failed

MAX_LOG_BYTES = 20 * 1024 * 1024


def run_logged(
    argv: Sequence[str],
    *,
    log_path: Path,
    what: str,
    hint: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    capture: bool = False,
    timeout: float | None = None,
) -> str:
    """Run argv; stdout+stderr go to log_path (and are returned if capture)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.is_file() and log_path.stat().st_size > MAX_LOG_BYTES:
        log_path.replace(log_path.with_name(log_path.name + ".1"))  # keep one old generation
    full_env = None if env is None else {**os.environ, **env}
    with open(log_path, "a", encoding="utf-8", errors="replace") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {what}\n$ {' '.join(argv)}\n")
        log.flush()
        try:
            res = subprocess.run(
                list(argv), cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture else log,
                stderr=subprocess.STDOUT, timeout=timeout, text=capture,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.write(f"!!! {exc}\n")
            raise step_failed(what, log_path, hint) from exc
        out = res.stdout if capture else ""
        if capture:
            log.write(out)
        log.write(f"=== exit {res.returncode}\n")
    if res.returncode != 0:
        raise step_failed(what, log_path, hint)
    return out
