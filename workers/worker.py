"""What a worker does with one task: check, materialise, build, send back.

The build itself is forge.executors.local.run_in_subprocess, exactly as on the coordinator's
machine; this module only moves files in and out and keeps the records. A result is written
to `forge:result:<task id>` and the task id pushed on the run's reply list; packages go to
Redis as sha256-addressed blobs that the coordinator verifies before staging them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, TypeVar

import redis

from forge.executors.local import run_in_subprocess
from forge.executors.warm import WarmRunner
from forge.errors import ForgeError
from forge.jobs import BuildJob, BuildOutcome

from . import health, settings
from .blobs import BlobCache, BlobError, BlobStore
from .payload import check_payload, materialize
from .registry import Registry
from .safety import UnsafePath, check_package, inside

T = TypeVar("T")


class GiveBack(Exception):
    """This machine, not the build, failed: put the build back on the queue for another worker."""


_warm: WarmRunner | None = None


def build(job: BuildJob, root: Path) -> BuildOutcome:
    """Build in this worker slot's warm process (rattler-build imported once per slot, not
    once per build); FORGE_WORKER_COLD=1 starts a fresh `forge.runner` per build instead."""
    global _warm
    if os.environ.get("FORGE_WORKER_COLD") == "1":
        return run_in_subprocess(job)
    if _warm is None:
        _warm = WarmRunner(root / f"warm-{os.getpid()}.log")
    return _warm.run(job)


def result_key(tid: str) -> str:
    return settings.key("result", tid)


def retrying(fn: Callable[[], T], seconds: float = 60.0) -> T:
    """Call fn, retrying while Redis is unreachable (a restart should not lose a finished build)."""
    deadline = time.monotonic() + seconds
    delay = 0.2
    while True:
        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


class LogStreamer:
    """Copies what the build appends to its log into Redis every half second (live logs)."""

    def __init__(self, path: Path, registry: Registry, tid: str) -> None:
        self.path, self.registry, self.tid = path, registry, tid
        self._pos = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="forge-log")

    def _pump(self) -> None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._pos)
                chunk = fh.read()
        except FileNotFoundError:
            return
        if chunk:
            self._pos += len(chunk)
            try:
                self.registry.append_log(self.tid, chunk.decode("utf-8", "replace"))
            except redis.RedisError:
                self._pos -= len(chunk)  # try again next time

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._pump()

    def __enter__(self) -> "LogStreamer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._pump()


class Heartbeat:
    """Keeps `forge:beat:<task>` alive while this process builds; the coordinator re-sends a
    running build whose heartbeat expired (its worker died), long before the visibility timeout."""

    def __init__(self, r: redis.Redis, tid: str, hostname: str) -> None:
        self.r, self.key, self.hostname = r, settings.beat_key(tid), hostname
        self.ttl = max(1, int(round(settings.lost_after())))
        self.interval = settings.heartbeat_interval()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="forge-beat")

    def beat(self) -> None:
        self.r.set(self.key, self.hostname, ex=self.ttl)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except redis.RedisError:
                pass  # Redis away: the coordinator rides that out on its own

    def __enter__(self) -> "Heartbeat":
        retrying(self.beat)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.r.delete(self.key)
        except redis.RedisError:
            pass


def _reply(r: redis.Redis, payload: dict[str, Any], tid: str, result: dict[str, Any]) -> None:
    ttl = settings.blob_ttl()  # read once by the coordinator; the log stays in forge:log:<task>

    def send() -> None:
        pipe = r.pipeline(transaction=True)
        pipe.set(result_key(tid), json.dumps(result), ex=ttl)
        pipe.rpush(payload["reply_to"], tid)
        pipe.expire(payload["reply_to"], ttl)
        pipe.execute()

    retrying(send)


def _upload_packages(outcome: BuildOutcome, output_dir: Path, store: BlobStore) -> list[dict[str, Any]]:
    """Each produced package as {path: <subdir>/<file>, sha256, size}, its bytes in Redis."""
    refs = []
    for p in map(Path, outcome.packages):
        if not inside(output_dir, p):
            raise UnsafePath(f"the build reported {p}, outside its output directory {output_dir}")
        rel = f"{p.parent.name}/{p.name}"
        check_package(rel)
        data = p.read_bytes()
        sha = retrying(lambda data=data: store.put(data))
        refs.append({"path": rel, "sha256": sha, "size": len(data)})
    return refs


def sweep(tasks: Path, older_than: float) -> None:
    """Remove task trees left by a worker that was killed (older than any live build)."""
    if not tasks.is_dir():
        return
    cutoff = time.time() - older_than
    for d in tasks.iterdir():
        try:
            if d.stat().st_mtime < cutoff:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def _infra_failure(r: redis.Redis, hostname: str, why: str) -> None:
    """Count a failure of this machine; after too many in a row, stop consuming builds."""
    if retrying(lambda: health.infra_failure(r, hostname, why)):
        from .app import app  # noqa: PLC0415

        print(f"worker {hostname}: not taking builds any more: {health.max_infra_failures()} infrastructure "
              f"failures in a row, the last: {why}", flush=True)
        app.control.cancel_consumer(settings.QUEUE, destination=[hostname])


def _give_back(r: redis.Redis, registry: Registry, tid: str, hostname: str, why: str) -> None:
    """Requeue the build (raising GiveBack) and stop consuming after too many such failures."""
    _infra_failure(r, hostname, why)
    pipe = r.pipeline(transaction=True)
    pipe.decr(settings.key("deliveries", tid))  # not a death: does not count against max deliveries
    pipe.hset(Registry.record_key(tid), mapping={"state": "queued", "error": f"given back by {hostname}: {why}"})
    retrying(pipe.execute)
    raise GiveBack(why)


def _refuse_malformed(r: redis.Redis, registry: Registry, payload: Any, tid: str, hostname: str,
                      exc: BaseException) -> dict[str, Any]:
    """Answer a payload this worker cannot read with `refused`, if it names a farm reply list."""
    why = str(exc) if isinstance(exc, UnsafePath) else f"malformed task payload ({type(exc).__name__}: {exc})"
    reply = payload.get("reply_to") if isinstance(payload, dict) else None
    result = {"task_id": tid, "worker": hostname, "delivery": 1, "refused": why}
    retrying(lambda: registry.finished(tid, "refused", error=why))
    if isinstance(reply, str) and reply.startswith(settings.key("done", "")) and ".." not in reply:
        _reply(r, {"reply_to": reply}, tid, result)
    return {"ok": False, "refused": why}


def _fault(point: str) -> None:
    """Fault injection for tests: FORGE_FAULT=<point> kills this whole worker (its process group)."""
    if os.environ.get("FORGE_FAULT") == point:
        os.killpg(os.getpgrp(), signal.SIGKILL)


def run_task(payload: dict[str, Any], *, task_id: str, hostname: str, url: str) -> dict[str, Any]:
    """Build one payload; always answers the coordinator unless Redis stays unreachable."""
    r = settings.redis_client(url)
    _fault("worker-took-build")  # between taking the build off the queue and marking it running
    try:
        return _run_task(r, payload, task_id=task_id, hostname=hostname)
    finally:
        try:
            r.delete(settings.held_key(task_id))  # this worker no longer holds it (see app._held)
        except redis.RedisError:
            pass  # it expires


def _run_task(r: redis.Redis, payload: dict[str, Any], *, task_id: str, hostname: str) -> dict[str, Any]:
    registry = Registry(r)
    store = BlobStore(r)
    state_now = retrying(lambda: registry.state(task_id))
    if state_now in ("cancelled", "lost"):
        return {"skipped": f"{state_now} by the coordinator"}
    try:
        check_payload(payload)
    except Exception as exc:  # noqa: BLE001  (malformed or foreign: answer, never hang the coordinator)
        return _refuse_malformed(r, registry, payload, task_id, hostname, exc)
    delivery = retrying(lambda: registry.delivery(task_id))
    recipe = str(payload["job"]["recipe"])
    result: dict[str, Any] = {"task_id": task_id, "worker": hostname, "delivery": delivery}
    if delivery > settings.max_deliveries():
        err = ForgeError(f"{delivery - 1} workers died while building it; not handing it out again "
                         f"(FORGE_FARM_MAX_DELIVERIES={settings.max_deliveries()})", recipe=recipe)
        result["outcome"] = BuildOutcome(recipe=recipe, ok=False, error=err, worker=hostname).to_dict()
        registry.finished(task_id, "failed", error=str(err))
        _reply(r, payload, task_id, result)
        return {"ok": False}
    with Heartbeat(r, task_id, hostname):  # set before the record says running, dropped after it says done
        return _build(r, registry, store, payload, result, task_id=task_id, hostname=hostname,
                      delivery=delivery, recipe=recipe)


def _build(r: redis.Redis, registry: Registry, store: BlobStore, payload: dict[str, Any],
           result: dict[str, Any], *, task_id: str, hostname: str, delivery: int, recipe: str) -> dict[str, Any]:
    retrying(lambda: registry.running(task_id, hostname, delivery))
    root = settings.worker_dir()
    sweep(root / "tasks", older_than=settings.visibility_timeout() + 3600)
    task_dir = root / "tasks" / f"{task_id}-{os.getpid()}-{delivery}"
    start = time.monotonic()
    state = "failed"
    try:
        try:
            job = materialize(payload, task_dir, BlobCache(root / "blobs"), store)
        except UnsafePath as exc:
            result["refused"] = str(exc)
            state = "refused"
            registry.finished(task_id, state, error=str(exc))
            _reply(r, payload, task_id, result)
            return {"ok": False, "refused": str(exc)}
        registry.reset_log(task_id, f"== worker {hostname}, delivery {delivery}\n")
        with LogStreamer(Path(job.log_path), registry, task_id):
            outcome = build(job, root)
        retrying(lambda: health.infra_ok(r, hostname))
        outcome.worker = hostname
        if outcome.ok:
            result["packages"] = _upload_packages(outcome, Path(job.work_dir) / "output", store)
        outcome.packages = []
        result["outcome"] = outcome.to_dict()
        result["log"] = Path(job.log_path).read_text(errors="replace") if Path(job.log_path).exists() else ""
        result["worker_log_path"] = job.log_path
        state = "built" if outcome.ok else "failed"
    except UnsafePath as exc:
        result["refused"] = str(exc)
        state = "refused"
    except OSError as exc:  # this machine's disk or work dir: give the build back, maybe step aside
        shutil.rmtree(task_dir, ignore_errors=True)
        _give_back(r, registry, task_id, hostname, f"{type(exc).__name__}: {exc}")
    except (BlobError, redis.RedisError) as exc:  # the transfer, not this machine: the coordinator re-sends
        result["outcome"] = BuildOutcome(
            recipe=recipe, ok=False, transient=True, worker=hostname, seconds=time.monotonic() - start,
            error=ForgeError(f"worker {hostname} could not run the build", recipe=recipe, cause=str(exc))).to_dict()
        result["log"] = traceback.format_exc()
    except Exception as exc:  # noqa: BLE001  (a bug here must still answer, not pass for a dead worker)
        why = f"{type(exc).__name__}: {exc}"
        _infra_failure(r, hostname, why)
        result["outcome"] = BuildOutcome(
            recipe=recipe, ok=False, transient=True, worker=hostname, seconds=time.monotonic() - start,
            error=ForgeError(f"worker {hostname} failed unexpectedly ({why})", recipe=recipe,
                             fix=f"see `forge farm log {recipe}`")).to_dict()
        result["log"] = traceback.format_exc()
    finally:
        shutil.rmtree(task_dir, ignore_errors=True)
    failure = BuildOutcome.from_dict(result["outcome"]).error_text if result.get("outcome") else None
    err = result.get("refused") or failure
    retrying(lambda: registry.finished(task_id, state, time.monotonic() - start, err))
    _reply(r, payload, task_id, result)
    return {"ok": state == "built", "state": state}
