"""Build claims in Redis: two coordinators on different machines that share one Redis and one
channel never build the same recipe at once (forge.scheduler.Claims covers one machine only).

A claim is `forge:claim:<channel id>:<recipe>` = the run id, taken with SET NX and an expiry
of FORGE_FARM_LOST_AFTER (30 s) that the coordinator's receive loop refreshes every second:
a coordinator that dies drops its claims within that bound, and the other run then takes
the recipe (or what was published meanwhile). The local flock is taken first, so embedded
runs on the same machine still see a farm run's claims. The channel id is
FORGE_FARM_CHANNEL_ID, else a hash of the channel's resolved path (the same mount point on
every coordinator).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import redis

from forge.jobs import BuildJob
from forge.scheduler import Claims

from . import settings

#: Extend our claim, or take it again if Redis lost it (restart); 1 while it is ours.
_REFRESH = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
#: Drop the claim only if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def channel_id(job: BuildJob) -> str | None:
    """Which channel a claim is about (None: the job does not build into a local channel)."""
    if os.environ.get("FORGE_FARM_CHANNEL_ID"):
        return os.environ["FORGE_FARM_CHANNEL_ID"]
    channel = Claims.channel_of(job)
    if channel is None:
        return None
    return hashlib.sha256(str(channel.resolve()).encode()).hexdigest()[:16]


def claim_key(channel: str, recipe: str) -> str:
    return settings.key("claim", channel, recipe)


class RedisClaims(Claims):
    """Claims held in the farm's Redis (and the local flock); refreshed by `refresh()`."""

    def __init__(self, client: redis.Redis, owner: str, ttl: float | None = None,
                 lock_root: Path | None = None) -> None:
        super().__init__(lock_root)
        self.r, self.owner = client, owner
        self.ttl_ms = int(1000 * (ttl if ttl is not None else settings.lost_after()))
        self._keys: dict[str, str] = {}  # recipe -> Redis key, while we hold it
        self._guard = threading.Lock()  # the scheduler takes/releases, the receive loop refreshes

    def take(self, job: BuildJob) -> bool:
        if job.recipe in self._keys:
            return True
        if not super().take(job):
            return False
        cid = channel_id(job)
        if cid is None:
            return True
        key = claim_key(cid, job.recipe)
        try:
            got = self.r.set(key, self.owner, nx=True, px=self.ttl_ms) or self.r.get(key) == self.owner.encode()
        except redis.RedisError:
            return True  # Redis away: build unclaimed (the executor rides out or reports the outage)
        if not got:
            super().release(job.recipe)
            return False
        with self._guard:
            self._keys[job.recipe] = key
        return True

    def release(self, name: str) -> None:
        with self._guard:
            key = self._keys.pop(name, None)
        if key is not None:
            try:
                self.r.eval(_RELEASE, 1, key, self.owner)
            except redis.RedisError:
                pass  # it expires by itself
        super().release(name)

    def held(self) -> list[str]:
        with self._guard:
            return sorted(self._keys)

    def refresh(self) -> list[str]:
        """Extend every claim we hold; returns the recipes another run took meanwhile (only
        possible if this coordinator could not refresh for longer than the expiry)."""
        with self._guard:
            keys = dict(self._keys)
        if not keys:
            return []
        pipe = self.r.pipeline(transaction=False)
        for key in keys.values():
            pipe.eval(_REFRESH, 1, key, self.owner, self.ttl_ms)
        return [name for name, ok in zip(keys, pipe.execute()) if not ok]
