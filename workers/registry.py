"""Build records and live logs in Redis: what `forge farm status` shows.

Each build (one Celery task) has a hash `forge:build:<task id>` (recipe, state, worker,
times, error) and a string `forge:log:<task id>` the worker appends its log to while it
builds. A sorted set indexes builds by submission time. Everything expires after
FORGE_FARM_RECORD_TTL so Redis does not grow without bound.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from . import settings

INDEX = settings.key("builds")
STATES = ("queued", "running", "built", "failed", "refused", "cancelled", "lost")


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class Registry:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self.ttl = settings.record_ttl()

    @staticmethod
    def record_key(tid: str) -> str:
        return settings.key("build", tid)

    @staticmethod
    def log_key(tid: str) -> str:
        return settings.key("log", tid)

    def _set(self, tid: str, **fields: Any) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.record_key(tid), mapping={k: str(v) for k, v in fields.items() if v is not None})
        pipe.expire(self.record_key(tid), self.ttl)
        pipe.execute()

    def queued(self, tid: str, recipe: str, attempt: int, run: str) -> None:
        now = time.time()
        self._set(tid, recipe=recipe, attempt=attempt, run=run, state="queued", submitted=now)
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(INDEX, {tid: now})
        pipe.zremrangebyscore(INDEX, 0, now - self.ttl)
        pipe.execute()

    def running(self, tid: str, worker: str, delivery: int) -> None:
        self._set(tid, state="running", worker=worker, started=time.time(), delivery=delivery)

    def finished(self, tid: str, state: str, seconds: float = 0.0, error: str | None = None) -> None:
        self._set(tid, state=state, finished=time.time(), seconds=round(seconds, 3), error=error)

    def lost(self, tid: str, why: str) -> None:
        """The build's worker died: a later redelivery of this task is skipped (it was re-sent)."""
        self._set(tid, state="lost", finished=time.time(), error=why)

    def cancel(self, tids: list[str]) -> None:
        for tid in tids:
            if self.state(tid) in ("queued", "running"):
                self._set(tid, state="cancelled", finished=time.time())

    def state(self, tid: str) -> str | None:
        v = self.r.hget(self.record_key(tid), "state")
        return _s(v) if v is not None else None

    def delivery(self, tid: str) -> int:
        """Count one more delivery of this build to a worker (a redelivery means one died)."""
        k = settings.key("deliveries", tid)
        n = int(self.r.incr(k))
        self.r.expire(k, self.ttl)
        return n

    def append_log(self, tid: str, text: str) -> None:
        if text:
            pipe = self.r.pipeline(transaction=False)
            pipe.append(self.log_key(tid), text.encode("utf-8", "replace"))
            pipe.expire(self.log_key(tid), self.ttl)
            pipe.execute()

    def reset_log(self, tid: str, header: str) -> None:
        self.r.set(self.log_key(tid), header.encode(), ex=self.ttl)

    def log(self, tid: str) -> str:
        v = self.r.get(self.log_key(tid))
        return v.decode("utf-8", "replace") if v else ""

    def get(self, tid: str) -> dict[str, str]:
        raw = self.r.hgetall(self.record_key(tid))
        rec = {_s(k): _s(v) for k, v in raw.items()}
        if rec:
            rec["id"] = tid
        return rec

    def recent(self, limit: int = 50) -> list[dict[str, str]]:
        """The newest builds first (expired records are dropped from the index)."""
        tids = [_s(t) for t in self.r.zrevrange(INDEX, 0, limit - 1)]
        out = []
        for tid in tids:
            rec = self.get(tid)
            if rec:
                out.append(rec)
            else:
                self.r.zrem(INDEX, tid)
        return out

    def find(self, what: str, limit: int = 500) -> list[dict[str, str]]:
        """Builds whose task id or recipe is `what`, newest first."""
        return [r for r in self.recent(limit) if r.get("id") == what or r.get("recipe") == what]
