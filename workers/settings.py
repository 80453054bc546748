"""Farm settings: where Redis is, how keys are named, and the timing knobs.

Everything comes from the environment so that a worker needs nothing but the project and a
broker URL, and tests can shorten timeouts without code changes.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import redis

from forge.errors import ForgeError

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


def lost_after() -> float:
    """Seconds without a heartbeat after which a running build's worker counts as lost.

    The coordinator then re-sends the build to another worker, independent of the
    (much longer) visibility timeout; raising it only delays recovery.
    """
    return _float("FORGE_FARM_LOST_AFTER", 30.0)


def heartbeat_interval() -> float:
    """Seconds between a building worker's heartbeats (a fraction of lost_after)."""
    return _float("FORGE_FARM_HEARTBEAT", max(0.5, min(5.0, lost_after() / 6)))


def worker_concurrency() -> int:
    """Builds one worker runs at once (builds are heavy: default one)."""
    return _int("FORGE_WORKER_CONCURRENCY", 1)


def worker_dir() -> Path:
    """The worker's own build root: blob cache and per-task trees (never shared)."""
    env = os.environ.get("FORGE_WORKER_DIR")
    if env:
        return Path(env).resolve()
    from forge.config import ForgeConfig  # noqa: PLC0415

    return (ForgeConfig.load().state_dir / f"farm-worker-{socket.gethostname()}").resolve()


def redis_client(url: str) -> redis.Redis:
    """A redis-py client for the farm URL (password and rediss:// handled by redis-py)."""
    return redis.Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=5, health_check_interval=10,
        retry_on_timeout=False,
    )


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


def beat_key(tid: str) -> str:
    """The heartbeat key of a running build: present while its worker is alive."""
    return key("beat", tid)


def held_key(tid: str) -> str:
    """Present while a live worker holds the build (received, not yet finished; TTL lost_after)."""
    return key("held", tid)


def queue_keys() -> list[str]:
    """The Redis lists kombu keeps the build queue in (one per priority step; 0 is the plain name)."""
    return [QUEUE] + [f"{QUEUE}\x06\x16{p}" for p in (3, 6, 9)]


class FarmConfigError(ForgeError):
    """Redis answered but refused us (password, database, TLS): waiting will not help."""


def safe_url(url: str) -> str:
    """The URL without its password (for messages)."""
    from kombu.utils.url import maybe_sanitize_url  # noqa: PLC0415

    return maybe_sanitize_url(url)


def permanent_problem(url: str, exc: BaseException) -> str | None:
    """One sentence if `exc` is a configuration error (not an outage), else None.

    Wrong password, wrong database and TLS mismatches fail the same way every time, so the
    coordinator and workers stop at once instead of riding them out like a restart.
    """
    text = str(exc)
    where = f"the farm's Redis at {safe_url(url)}"
    if isinstance(exc, (redis.AuthenticationError, redis.exceptions.AuthenticationWrongNumberOfArgsError,
                        redis.exceptions.NoPermissionError)) or "NOAUTH" in text or "WRONGPASS" in text \
            or "invalid password" in text or "invalid username-password" in text:
        return (f"{where} rejected the credentials ({text}); put the right password in the URL "
                f"(redis://:PASSWORD@host:port/db)")
    if "DB index is out of range" in text or "invalid DB index" in text:
        return f"{where} has no such database ({text}); use a database number the server has (default 0-15)"
    lowered = text.lower()  # only handshake verdicts: an SSL EOF mid-run is an outage like any other
    if "certificate verify failed" in lowered or "wrong version number" in lowered \
            or "hostname mismatch" in lowered or "unknown ca" in lowered:
        return (f"{where} failed the TLS handshake ({text}); use rediss:// only for a TLS port and fix the "
                f"certificate options (ssl_cert_reqs, ssl_ca_certs)")
    return None


def check_redis(url: str) -> None:
    """Ping the farm's Redis: FarmConfigError for a permanent problem, redis errors for outages."""
    if url.startswith("rediss://"):  # a plain server never finishes a TLS handshake: ask it plainly first
        problem = _tls_mismatch(url)
        if problem:
            raise FarmConfigError(problem)
    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        problem = permanent_problem(url, exc) or _tls_mismatch(url)
        if problem:
            raise FarmConfigError(problem) from None
        raise
    finally:
        client.close()


def _tls_mismatch(url: str) -> str | None:
    """Probe the port with the other protocol: a TLS/plain mismatch looks like an outage otherwise."""
    import ssl  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    where = f"the farm's Redis at {safe_url(url)}"
    try:
        with socket.create_connection((host, port), timeout=3) as sock:
            if parts.scheme == "rediss":
                sock.sendall(b"PING\r\n")
                if sock.recv(64)[:1] in (b"+", b"-"):
                    return f"{where} speaks plain Redis, not TLS; use a redis:// URL (or enable TLS on the server)"
            else:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with ctx.wrap_socket(sock, server_hostname=host):
                    return f"{where} speaks TLS; use a rediss:// URL"
    except (OSError, ssl.SSLError):
        return None
    return None
