"""What the farm is doing: live workers, the queue, and recent builds with their logs."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import settings
from .app import make_app
from .registry import Registry


@dataclass
class WorkerInfo:
    name: str
    concurrency: int | None
    active: list[str] = field(default_factory=list)  # task ids running now
    quarantined: str | None = None  # why it stopped taking builds (workers.health)


@dataclass
class FarmStatus:
    url: str
    workers: list[WorkerInfo]
    queued: int  # messages waiting in the Celery queue
    builds: list[dict[str, str]]  # newest first (see workers.registry)

    def count(self, state: str) -> int:
        return sum(1 for b in self.builds if b.get("state") == state)


def queue_length(client, name: str = settings.QUEUE) -> int:  # noqa: ANN001
    """Messages waiting in the queue (kombu keeps one list per priority step)."""
    total = int(client.llen(name))
    for step in range(1, 10):
        total += int(client.llen(f"{name}\x06\x16{step}"))
    return total


def farm_status(url: str | None = None, *, limit: int = 50, timeout: float = 1.0) -> FarmStatus:
    url = settings.farm_url(url)
    client = settings.redis_client(url)
    client.ping()
    app = make_app(url)
    insp = app.control.inspect(timeout=timeout)
    pings = insp.ping() or {}
    stats = insp.stats() or {}
    active = insp.active() or {}
    from .health import quarantine_key  # noqa: PLC0415

    workers = []
    for name in sorted(pings):
        pool = (stats.get(name) or {}).get("pool") or {}
        conc = pool.get("max-concurrency")
        why = client.get(quarantine_key(name))
        workers.append(WorkerInfo(name, int(conc) if conc is not None else None,
                                  [t.get("id", "?") for t in active.get(name) or []],
                                  why.decode() if why else None))
    app.close()
    builds = Registry(client).recent(limit)
    for b in builds:
        if b.get("state") == "running" and not client.exists(settings.beat_key(b["id"])):
            # the record is the worker's last word; the heartbeat says whether it is still true
            b["state"] = "lost"
            b["error"] = b.get("error") or f"worker {b.get('worker', '?')} stopped sending heartbeats"
    return FarmStatus(url=url, workers=workers, queued=queue_length(client), builds=builds)


def build_log(what: str, url: str | None = None) -> list[tuple[dict[str, str], str]]:
    """(record, log text) of the builds whose task id or recipe is `what`, newest first."""
    client = settings.redis_client(settings.farm_url(url))
    reg = Registry(client)
    return [(rec, reg.log(rec["id"])) for rec in reg.find(what)]
