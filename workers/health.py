"""A worker checks itself before it takes builds, and steps aside when its builds keep failing
for reasons of its own (Debian buildd's give-back): one broken machine must not eat a run.

- At start (`check`): the build root is complete, the work dir can be created and written,
  there is disk space, node runs (wasm tests). A failure is one sentence; the worker exits.
- While running (`infra_failure` / `infra_ok`): a build that fails for infrastructure reasons
  (materialising files, Redis, the disk: not the recipe) is given back to the queue and
  counted; after FORGE_WORKER_MAX_INFRA_FAILURES in a row the worker stops consuming builds
  (it stays up, visible as quarantined in `forge farm status`) and the builds go elsewhere.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import redis

from . import settings


def min_free_bytes() -> int:
    """Free space a worker needs in its work dir to take builds (FORGE_WORKER_MIN_FREE_MB, 1024)."""
    return int(os.environ.get("FORGE_WORKER_MIN_FREE_MB") or 1024) * 1024 * 1024


def max_infra_failures() -> int:
    """Infrastructure failures in a row after which a worker stops taking builds."""
    return int(os.environ.get("FORGE_WORKER_MAX_INFRA_FAILURES") or 3)


def check(work_dir: Path | None = None) -> list[str]:
    """What is wrong with this machine as a build worker (empty: healthy)."""
    from forge.toolchain.buildroot import MARKER  # noqa: PLC0415
    from forge.toolchain.paths import default_root_dir  # noqa: PLC0415

    problems: list[str] = []
    root = default_root_dir()
    if not (root / MARKER).is_file():
        problems.append(f"the build root {root} is missing or incomplete (run `forge toolchain create` "
                        f"or set FORGE_BUILDROOT)")
    wdir = work_dir or settings.worker_dir()
    try:
        (wdir / "tasks").mkdir(parents=True, exist_ok=True)
        probe = wdir / "tasks" / f".probe-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        problems.append(_unwritable(wdir, exc))
    else:
        free = shutil.disk_usage(wdir).free
        if free < min_free_bytes():
            problems.append(f"the work dir {wdir} has {free // 2**20} MB free, below "
                            f"FORGE_WORKER_MIN_FREE_MB={min_free_bytes() // 2**20}; free some space")
    if not shutil.which("node"):
        problems.append("node is not on PATH (the wasm tests need it); install Node.js")
    return problems


def _unwritable(wdir: Path, exc: OSError) -> str:
    """Why the work dir cannot hold builds: a file where a folder must be, else the OS's reason."""
    blocker = next((p for p in (wdir, *wdir.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        where = f"the work dir {wdir}" if blocker == wdir else f"{blocker}, above the work dir {wdir},"
        return f"{where} is a file, not a folder; pass a writable folder as --work-dir"
    return f"the work dir {wdir} is not writable ({exc.strerror or exc}); pass a writable --work-dir"


def _count_key(hostname: str) -> str:
    return settings.key("worker", hostname, "infra")


def quarantine_key(hostname: str) -> str:
    """Why a worker stopped taking builds (read by `forge farm status`)."""
    return settings.key("worker", hostname, "quarantine")


def infra_ok(r: redis.Redis, hostname: str) -> None:
    """A build ran (whatever its outcome): the machine works, reset the streak."""
    r.delete(_count_key(hostname))


def infra_failure(r: redis.Redis, hostname: str, why: str) -> bool:
    """Count one infrastructure failure; True when the worker must stop taking builds."""
    pipe = r.pipeline(transaction=True)
    pipe.incr(_count_key(hostname))
    pipe.expire(_count_key(hostname), 24 * 3600)
    n = int(pipe.execute()[0])
    if n < max_infra_failures():
        return False
    r.set(quarantine_key(hostname), f"{n} infrastructure failures in a row, the last: {why}",
          ex=settings.record_ttl())
    return True
