"""Farm settings: where Redis is, how keys are named, and the timing knobs.

Everything comes from the environment so that a worker needs nothing but the project and a
broker URL, and tests can shorten timeouts without code changes.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import redis

#: Loopback by default: a farm is opened to other hosts deliberately (bind + password).
DEFAULT_URL = "redis://127.0.0.1:6379/0"
#: The Celery queue builds travel on.
QUEUE = "forge-builds"
#: The Celery task name (sent by name: the coordinator never imports worker code).
TASK = "forge.build"
#: Every key the farm writes starts with this (kombu's own keys are separate).
PREFIX = "forge:"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def farm_url(url: str | None = None) -> str:
    """The explicit URL, else $FORGE_FARM, else Celery's $CELERY_BROKER_URL, else loopback."""
    return url or os.environ.get("FORGE_FARM") or os.environ.get("CELERY_BROKER_URL") or DEFAULT_URL


def visibility_timeout() -> int:
    """Seconds before an unacknowledged build (its worker died) is handed to another worker.

    Must exceed the longest build, or a slow build is started a second time elsewhere
    (harmless: the coordinator keeps the first result, but wasteful).
    """
    return _int("FORGE_FARM_VISIBILITY_TIMEOUT", 4 * 3600)


def restore_interval() -> int:
    """Seconds between a worker's sweeps for builds abandoned by dead workers."""
    return _int("FORGE_FARM_RESTORE_INTERVAL", 10)


def blob_ttl() -> int:
    """Seconds a transferred file stays in Redis (re-uploaded by the coordinator when needed)."""
    return _int("FORGE_FARM_BLOB_TTL", 24 * 3600)


def record_ttl() -> int:
    """Seconds build records and logs stay in Redis for `forge farm status`."""
    return _int("FORGE_FARM_RECORD_TTL", 7 * 24 * 3600)


def grace_seconds() -> float:
    """How long the coordinator waits for an unreachable Redis before stopping the run."""
    return _float("FORGE_FARM_GRACE", 120.0)


def max_deliveries() -> int:
    """A build whose worker died this many times is failed instead of handed out again."""
    return _int("FORGE_FARM_MAX_DELIVERIES", 3)


def worker_concurrency() -> int:
    """Builds one worker runs at once (builds are heavy: default one)."""
    return _int("FORGE_WORKER_CONCURRENCY", 1)


def worker_dir() -> Path:
    """The worker's own build root: blob cache and per-task trees (never shared)."""
    env = os.environ.get("FORGE_WORKER_DIR")
    if env:
        return Path(env).resolve()
    from forge.config import repo_root  # noqa: PLC0415

    state = os.environ.get("FORGE_STATE")
    base = Path(state) if state else repo_root() / ".forge"
    return (base / f"farm-worker-{socket.gethostname()}").resolve()


def redis_client(url: str) -> redis.Redis:
    """A redis-py client for the farm URL (password and rediss:// handled by redis-py)."""
    return redis.Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=5, health_check_interval=10,
        retry_on_timeout=False,
    )


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)
