"""CeleryExecutor: the coordinator's side of the farm, an Executor for forge.scheduler.

`submit` returns at once; two threads do the talking so the scheduler never blocks on Redis:
- the sender uploads the job's files as blobs and sends the task (re-sending when needed);
- the receiver waits on the run's reply list, verifies each package's sha256, stages it under
  <state>/farm/staging/<task>/<subdir>/<file>, writes the log into the job's usual log path,
  and resolves the future, so the scheduler publishes exactly as with the local executor.

Redis trouble: a run marker key (no persistence needed) tells the receiver when Redis lost
its data (restarted, flushed); every build still in flight is then re-sent under the same
task id (a duplicate result is ignored). If Redis stays unreachable for FORGE_FARM_GRACE
seconds, every pending build fails with a message saying to re-run the same command, which
rebuilds only what the channel still lacks.
"""

from __future__ import annotations

import json
import queue
import shutil
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TextIO

import redis
from kombu.exceptions import OperationalError

from forge.channel import Channel
from forge.config import ForgeConfig
from forge.errors import ForgeError
from forge.jobs import BuildJob, BuildOutcome

from . import settings
from .app import make_app
from forge.fsutil import write_atomic

from .blobs import BlobError, BlobStore, FileHasher
from .claims import RedisClaims
from .health import quarantine_key
from .payload import collect, make_payload
from .registry import Registry
from .safety import UnsafePath, check_package
from .worker import result_key

_NETWORK = (redis.RedisError, OperationalError, ConnectionError, OSError)


class FarmUnavailable(RuntimeError):
    """The farm's Redis has been unreachable for longer than the grace period."""


@dataclass
class _Pending:
    tid: str
    job: BuildJob
    future: "Future[BuildOutcome]"
    submitted: float = field(default_factory=time.monotonic)
    sent: bool = False
    sends: int = 0
    losses: int = 0  # workers lost (no heartbeat) while they had this build
    unheld_since: float | None = None  # taken off the queue, yet no live worker holds it nor runs it


class CeleryExecutor:
    """Runs jobs on Celery workers over Redis; packages come back as verified local files."""

    def __init__(self, farm_url: str, config: ForgeConfig, *, slots: int | None = None,
                 grace: float | None = None, log: TextIO | None = None) -> None:
        self.url = settings.farm_url(farm_url)
        self.config = config
        self._fixed_slots = slots  # None: as many as the live workers advertise (see slots)
        self._slots_seen = (0.0, 1)
        self.grace = settings.grace_seconds() if grace is None else grace
        self.run_id = uuid.uuid4().hex[:16]
        self.lost_after = settings.lost_after()
        try:  # a wrong password, database or TLS setting ends the run now, not after the grace
            settings.check_redis(self.url)
        except (redis.RedisError, OSError):
            pass  # an outage: ridden out for the grace period like any later one
        self.app = make_app(self.url)
        self.redis = settings.redis_client(self.url)
        self.blobs = BlobStore(self.redis)
        self.registry = Registry(self.redis)
        self.staging = config.state_dir / "farm" / "staging"
        self._log = log  # None: sys.stderr when saying it (a live progress display may have replaced it)
        self._hasher = FileHasher()
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._epoch_lock = threading.Lock()
        self._outbox: "queue.Queue[str]" = queue.Queue()
        self._stop = threading.Event()
        self._broken: str | None = None
        self._down_since: float | None = None
        self._epoch_key = settings.key("run", self.run_id)
        self._reply_key = settings.key("done", self.run_id)
        self._epoch_set = False
        self._checked_workers = False
        self.resends = 0  # builds re-sent because Redis lost them (for tests and reports)
        self.lost: list[tuple[str, str, float]] = []  # (recipe, lost worker, lost_after) per re-send
        self._claims: list[RedisClaims] = []
        self._workers_seen: set[str] = set()  # advertised slots or took a build of this run
        self._quarantined: dict[str, str] = {}  # worker -> why, said once per quarantine
        self._clean_staging()
        self._threads = [threading.Thread(target=self._send_loop, daemon=True, name="farm-send"),
                         threading.Thread(target=self._receive_loop, daemon=True, name="farm-receive")]
        for t in self._threads:
            t.start()

    # ----------------------------------------------------------------- Executor
    def submit(self, job: BuildJob) -> "Future[BuildOutcome]":
        fut: "Future[BuildOutcome]" = Future()
        if self._broken:
            fut.set_exception(FarmUnavailable(self._broken))
            return fut
        tid = f"{job.recipe}-{job.attempt}-{uuid.uuid4().hex[:10]}"
        with self._lock:
            self._pending[tid] = _Pending(tid, job, fut)
        self._outbox.put(tid)
        return fut

    def shutdown(self) -> None:
        """Stop; builds still queued or running are cancelled so no worker wastes time on them."""
        self._stop.set()
        with self._lock:
            left = list(self._pending.values())
            self._pending.clear()
        sent = [p.tid for p in left if p.sent]
        for p in left:
            p.future.cancel()
        if sent:
            try:
                self.registry.cancel(sent)
                self.app.control.revoke(sent)
            except Exception:  # noqa: BLE001  (best effort: cancelled records stop them anyway)
                pass
        for t in self._threads:
            t.join(timeout=2)

    close = shutdown

    def __enter__(self) -> "CeleryExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def slots(self) -> int:
        """Builds worth having in flight: twice the live workers' advertised slots (re-read
        every 2 s), at least 1 (a farm without workers still queues a build and warns).

        One build waiting per slot means a worker that finishes starts the next at once instead
        of idling through the coordinator's publish and send, while the queue stays short enough
        that the scheduler's critical-path order, not the queue's FIFO, decides what runs next.
        """
        if self._fixed_slots is not None:
            return self._fixed_slots
        at, n = self._slots_seen
        if time.monotonic() - at > 2.0:
            try:
                keys = list(self.redis.scan_iter(match=settings.key("slots", "*"), count=500))
                values = self.redis.mget(keys) if keys else []
                self._seen(k.decode()[len(settings.key("slots", "")):] for k in keys)
                n = max(1, 2 * sum(int(v) for v in values if v))
            except (redis.RedisError, ValueError):
                pass
            self._slots_seen = (time.monotonic(), n)
        return n

    def make_claims(self) -> RedisClaims:
        """The scheduler's build claims for a run on this farm: in Redis, so coordinators on other
        machines sharing this Redis and channel see them; refreshed by the receive loop."""
        claims = RedisClaims(self.redis, self.run_id, ttl=self.lost_after)
        self._claims.append(claims)
        return claims

    def workers(self, timeout: float = 1.0) -> list[str]:
        """Names of the workers answering a ping now."""
        replies = self.app.control.inspect(timeout=timeout).ping() or {}
        return sorted(replies)

    # ----------------------------------------------------------------- health
    def _say(self, text: str) -> None:
        print(f"farm: {text}", file=self._log or sys.stderr, flush=True)

    def _up(self) -> None:
        if self._down_since is not None:
            self._say(f"Redis at {self._safe_url()} is back after {time.monotonic() - self._down_since:.1f}s")
        self._down_since = None

    def _down(self, exc: BaseException) -> None:
        problem = settings.permanent_problem(self.url, exc)
        if problem and not self._broken:
            self._break(problem, fatal=True)
            return
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            self._say(f"lost Redis at {self._safe_url()} ({exc}); retrying for {self.grace:.0f}s")
        elif now - self._down_since > self.grace and not self._broken:
            self._break(f"the farm's Redis at {self._safe_url()} has been unreachable for "
                        f"{self.grace:.0f}s ({exc}); what was built is published, run the same "
                        f"command to resume")

    def _break(self, message: str, fatal: bool = False) -> None:
        """Fail every pending build; `fatal` (a configuration error) makes the scheduler stop the run."""
        self._broken = message
        self._say(message)
        with self._lock:
            left = list(self._pending.values())
            self._pending.clear()
        for p in left:
            if not p.future.done():
                p.future.set_exception(settings.FarmConfigError(message) if fatal else FarmUnavailable(message))

    def _safe_url(self) -> str:
        """The URL without its password (for messages)."""
        return settings.safe_url(self.url)

    # ----------------------------------------------------------------- sending
    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                tid = self._outbox.get(timeout=0.2)
            except queue.Empty:
                continue
            with self._lock:
                p = self._pending.get(tid)
            if p is None or p.sent or p.future.done():
                continue
            try:
                self._send(p)
                self._up()
            except _NETWORK as exc:
                self._down(exc)
                if not self._broken:
                    self._outbox.put(tid)
                    time.sleep(0.5)
            except (BlobError, UnsafePath, ValueError) as exc:
                self._resolve(p, BuildOutcome(recipe=p.job.recipe, ok=False, log_path=p.job.log_path,
                                              error=ForgeError("cannot send it to the farm", recipe=p.job.recipe,
                                                               cause=str(exc))))

    def _send(self, p: _Pending) -> None:
        self._ensure_epoch()
        snap = self.staging.parent / "send" / p.tid
        try:
            # the channel as one consistent snapshot: the scheduler publishes in the background,
            # so repodata.json may be replaced while this job's files are uploaded
            with Channel(self.config.channel_dir).lock():
                manifest, files = collect(p.job, self.config.channel_dir, self._hasher)
                for rel, sha in manifest.items():
                    if rel.startswith("channel/") and rel.endswith("/repodata.json"):
                        copy = snap / rel
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(files[sha], copy)
                        files[sha] = copy
        except OSError as exc:  # a file of the job vanished: not a network problem
            shutil.rmtree(snap, ignore_errors=True)
            raise ValueError(f"cannot read the job's files: {exc}") from None
        try:
            self.blobs.upload(files)
        finally:
            shutil.rmtree(snap, ignore_errors=True)
        if p.sends == 0:
            self.registry.queued(p.tid, p.job.recipe, p.job.attempt, self.run_id)
        self.app.send_task(settings.TASK, args=[make_payload(p.job, manifest, self.run_id)],
                           task_id=p.tid, queue=settings.QUEUE)
        p.sent = True
        p.sends += 1
        if not self._checked_workers:
            self._checked_workers = True
            threading.Thread(target=self._warn_without_workers, daemon=True, name="farm-ping").start()

    def _warn_without_workers(self) -> None:
        """Builds wait in the queue until a worker starts: say so rather than hang silently."""
        try:
            if not self.workers(timeout=2.0):
                self._say(f"no worker answers on {self._safe_url()}; builds wait in the queue until one "
                          f"starts (forge worker --broker {self._safe_url()})")
        except Exception:  # noqa: BLE001  (advice only)
            pass

    def _ensure_epoch(self) -> None:
        """Create the run marker; if it vanished, Redis lost its data: re-send what is in flight."""
        with self._epoch_lock:
            if self.redis.expire(self._epoch_key, 24 * 3600):
                return
            self.redis.set(self._epoch_key, str(time.time()), ex=24 * 3600)
            if not self._epoch_set:
                self._epoch_set = True
                return
            with self._lock:
                lost = [p for p in self._pending.values() if p.sent and not p.future.done()]
                for p in lost:
                    p.sent = False
        if lost:
            self.resends += len(lost)
            self._say(f"Redis lost its data (restarted?): re-sending {len(lost)} build(s): "
                      f"{', '.join(sorted(p.job.recipe for p in lost))}")
        for p in lost:
            self._outbox.put(p.tid)

    # ----------------------------------------------------------------- receiving
    def _receive_loop(self) -> None:
        last_check = 0.0
        while not self._stop.is_set():
            try:
                item = self.redis.blpop([self._reply_key], timeout=1)
                if item:
                    self._collect(item[1].decode())
                if time.monotonic() - last_check > 1.0 and self._epoch_set:
                    last_check = time.monotonic()
                    self._ensure_epoch()
                    self._refresh_claims()
                    self._check_heartbeats()
                    self._check_quarantines()
                self._up()
            except _NETWORK as exc:
                if self._stop.is_set():
                    return
                self._down(exc)
                time.sleep(0.5)

    def _refresh_claims(self) -> None:
        for claims in self._claims:
            taken = claims.refresh()
            if taken:
                self._say(f"another run took the build claim of {', '.join(taken)} (this coordinator could not "
                          f"refresh it for {self.lost_after:.0f}s)")

    def _check_heartbeats(self) -> None:
        """Re-send each build whose worker is gone, within about `lost_after`:

        - the record says running but the heartbeat is gone (the worker died mid-build). The
          record turns `running` only after the heartbeat key exists and the key is deleted only
          after the record is final, so one atomic read tells a dead worker from a done one;
        - the record still says queued, the message has left the broker's queue (a worker took
          it), yet no live worker holds it (`forge:held:<task>`, set when a worker receives a
          build and refreshed while it keeps it) on two checks in a row: the worker died between
          taking the build and marking it running. Without this the build would wait for the
          visibility timeout (4 h).
        """
        with self._lock:
            sent = [p for p in self._pending.values() if p.sent and not p.future.done()]
        if not sent:
            return
        pipe = self.redis.pipeline(transaction=True)
        for p in sent:
            pipe.hmget(Registry.record_key(p.tid), ["state", "worker"])
            pipe.exists(settings.beat_key(p.tid))
            pipe.exists(settings.held_key(p.tid))
        replies = pipe.execute()
        self._seen(worker.decode() for _, worker in replies[::3] if worker)
        unheld: list[_Pending] = []
        for i, p in enumerate(sent):
            (state, worker), beat, held = replies[3 * i], replies[3 * i + 1], replies[3 * i + 2]
            if state == b"running" and not beat:
                self._lost(p, (worker or b"?").decode())
            elif state == b"queued" and not held and not beat:
                unheld.append(p)
            else:
                p.unheld_since = None
        if not unheld:
            return
        queued = self._queued_messages()
        now = time.monotonic()
        for p in unheld:
            if p.tid.encode() in queued:
                p.unheld_since = None  # still waiting for a worker: nobody took it
            elif p.unheld_since is None:
                p.unheld_since = now  # taken but not (yet) held: a worker may be just receiving it
            elif now - p.unheld_since >= 3.0:
                p.unheld_since = None
                self._lost(p, "?", taken=True)

    def _seen(self, names: Iterable[str]) -> None:
        """Remember workers of this farm, to tell the user when one of them quarantines itself."""
        with self._lock:
            self._workers_seen.update(n for n in names if n and n != "?")

    def _check_quarantines(self) -> None:
        """Say once when a known worker stops taking builds (workers.health), which otherwise
        only its own log tells; a worker restarted healthy and quarantined again is said again."""
        with self._lock:
            names = sorted(self._workers_seen)
        if not names:
            return
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.get(quarantine_key(name))
        for name, why in zip(names, pipe.execute()):
            if why is None:
                self._quarantined.pop(name, None)
            elif name not in self._quarantined:
                self._quarantined[name] = why.decode(errors="replace")
                self._say(f"worker {name} stopped taking builds (quarantined): {self._quarantined[name]}")

    def _queued_messages(self) -> bytes:
        """The raw messages waiting in the build queue (kombu keeps one list per priority step)."""
        pipe = self.redis.pipeline(transaction=False)
        for name in settings.queue_keys():
            pipe.lrange(name, 0, -1)
        return b"\n".join(m for msgs in pipe.execute() for m in msgs)

    def _lost(self, p: _Pending, worker: str, taken: bool = False) -> None:
        """The worker building p died: mark its record lost and send the build again. `taken`:
        it died after taking the build off the queue and before marking it running."""
        old = p.tid
        why = (f"the worker that took it off the queue is gone (not held for {self.lost_after:.0f}s, never running)"
               if taken else f"worker {worker} sent no heartbeat for {self.lost_after:.0f}s")
        self.registry.lost(old, why)
        self.lost.append((p.job.recipe, worker, self.lost_after))
        p.losses += 1
        if p.losses >= settings.max_deliveries():
            self._resolve(p, BuildOutcome(
                recipe=p.job.recipe, ok=False, log_path=p.job.log_path, worker=worker,
                error=ForgeError(f"{p.losses} workers were lost while building it; not handing it out again "
                                 f"(FORGE_FARM_MAX_DELIVERIES={settings.max_deliveries()})", recipe=p.job.recipe,
                                 fix=f"see `forge farm log {p.job.recipe}`")))
            return
        new = f"{p.job.recipe}-{p.job.attempt}-{uuid.uuid4().hex[:10]}"
        with self._lock:
            if self._pending.pop(old, None) is None:
                return
            p.tid, p.sent, p.sends = new, False, 0
            self._pending[new] = p
        who = ("the worker that took it died before starting it" if taken
               else f"worker {worker} is lost (no heartbeat for {self.lost_after:.0f}s)")
        self._say(f"{who}: re-sending {p.job.recipe} as task {new}")
        self._outbox.put(new)

    def _collect(self, tid: str) -> None:
        with self._lock:
            p = self._pending.get(tid)
        if p is None or p.future.done():
            return  # a duplicate (redelivered build) or a cancelled one
        raw = self.redis.get(result_key(tid))
        if raw is None:
            return
        self._resolve(p, self._outcome(p, json.loads(raw)))

    def _resolve(self, p: _Pending, outcome: BuildOutcome) -> None:
        with self._lock:
            if self._pending.pop(p.tid, None) is None:
                return
        if not p.future.done():
            p.future.set_result(outcome)

    def _outcome(self, p: _Pending, res: dict[str, Any]) -> BuildOutcome:
        """Turn a worker's answer into a local outcome: verified packages, the log on disk."""
        job = p.job
        worker = str(res.get("worker", "?"))
        log = Path(job.log_path)
        log.parent.mkdir(parents=True, exist_ok=True)
        header = f"== farm: task {p.tid} on worker {worker} (delivery {res.get('delivery', 1)})\n"
        log.write_text(header + str(res.get("log", "")), encoding="utf-8")
        if res.get("refused"):
            return BuildOutcome(recipe=job.recipe, ok=False, log_path=str(log), worker=worker,
                                error=ForgeError(f"worker {worker} refused the build", recipe=job.recipe,
                                                 cause=str(res["refused"])))
        data = dict(res.get("outcome") or {})
        outcome = BuildOutcome.from_dict({**data, "packages": [], "log_path": str(log), "worker": worker})
        if outcome.error is not None and res.get("worker_log_path"):
            # the worker's log path means nothing here: the log now lives on this machine
            err, remote = outcome.error, str(res["worker_log_path"])
            if err.log == remote or (err.log is None and remote in err.message):
                err.log = str(log)
            err.message = err.message.replace(remote, str(log))
            err.cause = err.cause.replace(remote, str(log)) if err.cause else None
        if not outcome.ok:
            return outcome
        got = sorted(str(ref.get("path")) for ref in res.get("packages", []))
        if got != sorted(job.outputs):
            return BuildOutcome(
                recipe=job.recipe, ok=False, log_path=str(log), worker=worker, seconds=outcome.seconds,
                error=ForgeError(f"worker {worker} returned {', '.join(got) or 'no package'} but the plan is exactly "
                                 f"{', '.join(sorted(job.outputs))}", recipe=job.recipe,
                                 fix="nothing was published, check that worker's forge version"))
        try:
            outcome.packages = [self._stage(p.tid, ref) for ref in res.get("packages", [])]
        except (BlobError, UnsafePath) as exc:
            return BuildOutcome(recipe=job.recipe, ok=False, transient=True, log_path=str(log), worker=worker,
                                seconds=outcome.seconds,
                                error=ForgeError(f"a package from worker {worker} was refused", recipe=job.recipe,
                                                 cause=str(exc)))
        return outcome

    def _stage(self, tid: str, ref: dict[str, Any]) -> str:
        subdir, name = check_package(str(ref.get("path")))
        data = self.blobs.get(str(ref.get("sha256")))  # recomputes the sha256
        dest = self.staging / tid / subdir / name
        write_atomic(dest, data, fsync=True)
        return str(dest)

    def _clean_staging(self, older_than: float = 3600.0) -> None:
        if not self.staging.is_dir():
            return
        cutoff = time.time() - older_than
        for d in self.staging.iterdir():
            try:
                if d.stat().st_mtime < cutoff:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass
