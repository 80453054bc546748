"""`python -m forge.runner JOB.json OUTCOME.json`: build one job in a fresh process.

A process per build isolates rattler-build's global state and file descriptors, lets the
log capture everything, and survives py-rattler's occasional crash at interpreter exit
(the outcome file is written and flushed before the process ends).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .sandbox import run_job
from .jobs import BuildJob
from .fsutil import write_atomic


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    job = BuildJob.from_json(Path(args[0]).read_text())
    outcome = run_job(job)
    write_atomic(Path(args[1]), outcome.to_json())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
