"""Run a plan through an executor: each recipe starts as soon as its dependencies are
published, independent branches carry on past a failure, dependents of a failure are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import unquote, urlsplit

from .errors import ForgeError
from .executors.base import Executor
from .fsutil import try_lock, write_atomic
from .jobs import BuildJob, BuildOutcome


@dataclass
class RecipeResult:
    name: str
    status: str  # built | failed | skipped
    seconds: float = 0.0
    log: str | None = None
    error: str | None = None
    attempts: int = 0
    packages: list[str] = field(default_factory=list)


class Reporter(Protocol):
    def queued(self, names: list[str]) -> None: ...
    def started(self, name: str, job: BuildJob) -> None: ...
    def finished(self, result: RecipeResult) -> None: ...


class NullReporter:
    def queued(self, names: list[str]) -> None:
        pass

    def started(self, name: str, job: BuildJob) -> None:
        pass

    def finished(self, result: RecipeResult) -> None:
        pass


def dependents_of(deps: dict[str, set[str]], name: str) -> set[str]:
    out: set[str] = set()
    frontier = [name]
    while frontier:
        cur = frontier.pop()
        for r, d in deps.items():
            if cur in d and r not in out:
                out.add(r)
                frontier.append(r)
    return out


class Claims:
    """Build claims: a flock per (channel, recipe), held while a run builds the recipe, so two
    runs into one channel never build the same recipe at once; the second waits and then takes
    what the first published. The kernel drops a dead run's claims. The lock files live in
    the temp dir (`forge-claims/<channel hash>/<recipe>.lock`), not in the channel, which a
    failed build must leave untouched; so claims hold between runs on one machine. An executor
    with a `make_claims()` (the farm: a claim in Redis as well) extends them past one machine.
    """

    def __init__(self, lock_root: Path | None = None) -> None:
        self._held: dict[str, int] = {}
        self.lock_root = lock_root  # where the flocks live (None: `<tmp>/forge-claims`)

    @staticmethod
    def channel_of(job: BuildJob) -> Path | None:
        """The local channel directory the job builds against (None: not a local channel)."""
        url = urlsplit(job.channel_url)
        return Path(unquote(url.path)) if url.scheme == "file" else None

    def lock_dir(self, channel: Path) -> Path:
        digest = hashlib.sha256(str(channel.resolve()).encode()).hexdigest()[:16]
        return (self.lock_root or Path(tempfile.gettempdir()) / "forge-claims") / digest

    def take(self, job: BuildJob) -> bool:
        """Claim job.recipe without blocking: True if this run may build it now."""
        if job.recipe in self._held:
            return True
        channel = self.channel_of(job)
        if channel is None or not channel.is_dir():
            return True
        locks = self.lock_dir(channel)
        try:
            locks.mkdir(parents=True, exist_ok=True)
            fd = try_lock(locks / f"{job.recipe}.lock")
        except OSError:
            return True  # no shared temp dir: build unclaimed rather than not at all
        if fd is None:
            return False
        self._held[job.recipe] = fd
        return True

    def release(self, name: str) -> None:
        fd = self._held.pop(name, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    def release_all(self) -> None:
        for name in list(self._held):
            self.release(name)

    @classmethod
    def published(cls, job: BuildJob) -> bool:
        """All of the job's planned outputs are already in its channel (another run built them)."""
        channel = cls.channel_of(job)
        return channel is not None and bool(job.outputs) and all((channel / o).is_file() for o in job.outputs)


class Durations:
    """Seconds each recipe took when it last built, kept in `<state>/durations.json`, so the
    next run can put the longest remaining path first (unknown recipes count 1 s)."""

    FILE = "durations.json"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.seconds: dict[str, float] = {}
        self._changed = False
        if path is not None:
            try:
                data = json.loads(path.read_text())
                self.seconds = {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}
            except (OSError, ValueError, AttributeError):
                pass

    @classmethod
    def near(cls, job: BuildJob) -> "Durations":
        """The store of the state dir a job logs into (`<state>/logs/<recipe>/<file>`)."""
        logs = Path(job.log_path).parent.parent
        return cls(logs.parent / cls.FILE if logs.name == "logs" else None)

    def get(self, name: str, default: float = 1.0) -> float:
        return self.seconds.get(name, default)

    def record(self, name: str, seconds: float) -> None:
        if seconds > 0:
            self.seconds[name] = round(seconds, 3)
            self._changed = True

    def save(self) -> None:
        """Merge into the file (another run may have written meanwhile); best effort."""
        if self.path is None or not self._changed:
            return
        try:
            merged = {**Durations(self.path).seconds, **self.seconds}
            write_atomic(self.path, json.dumps(merged, indent=0, sort_keys=True))
        except OSError:
            pass


def longest_paths(order: list[str], deps: dict[str, set[str]], seconds: Callable[[str], float]) -> dict[str, float]:
    """Each recipe's own time plus the longest chain of dependents after it (its priority):
    starting the longest remaining path first is what keeps the makespan near the bound."""
    dependents: dict[str, list[str]] = {n: [] for n in deps}
    for n, ds in deps.items():
        for d in ds:
            if d in dependents:
                dependents[d].append(n)
    prio: dict[str, float] = {}
    for n in reversed([n for n in order if n in deps]):
        prio[n] = seconds(n) + max((prio[m] for m in dependents[n] if m in prio), default=0.0)
    return prio


def run_graph(
    order: list[str],
    deps: dict[str, set[str]],
    prepare: Callable[[str, int], BuildJob],
    executor: Executor,
    publish: Callable[[BuildJob, BuildOutcome], None],
    reporter: Reporter | None = None,
    max_attempts: int = 2,
    durations: Durations | None = None,
    wait_fn: Callable[..., tuple[set[Future], set[Future]]] = wait,
    background_publish: bool = True,
) -> dict[str, RecipeResult]:
    """Schedule `order` (topological) with `deps` (edges among these recipes only).

    Ready recipes start longest-remaining-path first, at most `executor.slots` at a time, so a
    free slot always goes to the recipe the makespan depends on most. `durations` defaults to
    the store next to the jobs' logs; `wait_fn` lets the simulator (benchmarks/sim_schedule.py)
    run this very loop on a simulated clock (it passes `background_publish=False`).

    A finished build is published by one background thread (one writer, in finishing order)
    while this loop goes on filling the freed slot with the next ready build: only the
    build's dependents wait for its publish, not every other branch.
    """
    rep = reporter or NullReporter()
    pending = [n for n in order if n in deps]
    index = {n: i for i, n in enumerate(pending)}
    store = durations
    prio = longest_paths(order, deps, (store or Durations()).get)
    done: set[str] = set()
    results: dict[str, RecipeResult] = {}
    running: dict[Future, tuple[str, BuildJob]] = {}
    attempts: dict[str, int] = {}
    # a farm shares its claims between coordinators on many machines (in Redis); else one machine's flocks
    make_claims = getattr(executor, "make_claims", None)
    claims: Claims = make_claims() if callable(make_claims) else Claims()
    claiming: dict[str, BuildJob] = {}  # prepared, waiting for another run's claim on the recipe
    publishing: dict[Future, tuple[str, BuildJob, BuildOutcome]] = {}
    publisher = ThreadPoolExecutor(1, thread_name_prefix="forge-publish") if background_publish else None
    rep.queued(list(pending))

    def fail(name: str, error: str, seconds: float = 0.0, log: str | None = None) -> None:
        claims.release(name)
        results[name] = RecipeResult(name, "failed", seconds, log, error, attempts.get(name, 0))
        rep.finished(results[name])
        for dep in sorted(dependents_of(deps, name)):
            if dep in pending:
                pending.remove(dep)
                results[dep] = RecipeResult(dep, "skipped", error=f"needs '{name}', which failed")
                rep.finished(results[dep])

    def launch(name: str) -> None:
        nonlocal store, prio
        attempts[name] = attempts.get(name, 0) + 1
        try:
            job = prepare(name, attempts[name])
        except ForgeError as exc:
            fail(name, str(exc))
            return
        if store is None:  # first job: now we know where this run keeps its state
            store = Durations.near(job)
            prio = longest_paths(order, deps, store.get)
        if not claims.take(job):
            claiming[name] = job
            return
        rep.started(name, job)
        running[executor.submit(job)] = (name, job)

    def reclaim() -> None:
        """Start what another run stopped holding, or take what it published meanwhile."""
        for name, job in list(claiming.items()):
            if not claims.take(job):
                continue
            del claiming[name]
            if Claims.published(job):
                claims.release(name)
                done.add(name)
                results[name] = RecipeResult(name, "built", attempts=0, error="published by a concurrent run")
                rep.finished(results[name])
            else:
                rep.started(name, job)
                running[executor.submit(job)] = (name, job)

    def start_publish(name: str, job: BuildJob, outcome: BuildOutcome) -> None:
        if publisher is not None:
            publishing[publisher.submit(publish, job, outcome)] = (name, job, outcome)
            return
        fut: Future[None] = Future()
        try:
            publish(job, outcome)
            fut.set_result(None)
        except ForgeError as exc:
            fut.set_exception(exc)
        end_publish(fut, name, job, outcome)

    def end_publish(fut: Future, name: str, job: BuildJob, outcome: BuildOutcome) -> None:
        try:
            fut.result()
        except ForgeError as exc:
            fail(name, str(exc), outcome.seconds, outcome.log_path)
            return
        claims.release(name)
        if store is not None:
            store.record(name, outcome.seconds)
        done.add(name)
        results[name] = RecipeResult(name, "built", outcome.seconds, outcome.log_path,
                                     attempts=attempts[name], packages=outcome.packages)
        rep.finished(results[name])

    try:
        while pending or running or claiming or publishing:
            reclaim()
            ready = sorted((n for n in pending if deps[n] <= done), key=lambda n: (-prio.get(n, 0.0), index[n]))
            throttled = False
            for name in ready:
                if len(running) >= max(1, executor.slots):
                    throttled = True  # a farm's slots change as workers come and go: look again soon
                    break
                pending.remove(name)
                launch(name)
            if not running and not publishing:
                if claiming:
                    time.sleep(0.2)
                    continue
                break
            timeout = 0.2 if claiming else 1.0 if throttled else None
            finished, _ = wait_fn([*running, *publishing], timeout=timeout, return_when=FIRST_COMPLETED)
            for fut in finished:
                if fut in publishing:
                    end_publish(fut, *publishing.pop(fut))
                    continue
                name, job = running.pop(fut)
                try:
                    outcome = fut.result()
                except ForgeError:
                    raise  # the executor cannot work at all (e.g. a misconfigured farm): stop the run
                except Exception as exc:  # noqa: BLE001 — executor-level failure (lost worker, broker gone)
                    outcome = BuildOutcome(recipe=name, ok=False, transient=True,
                                           error=ForgeError("the executor failed", recipe=name, cause=str(exc)))
                if not outcome.ok and outcome.transient and attempts[name] < max_attempts:
                    launch(name)
                    continue
                if not outcome.ok:
                    fail(name, outcome.error_text or "failed", outcome.seconds, outcome.log_path)
                    continue
                start_publish(name, job, outcome)
    finally:
        if publisher is not None:  # a publish under way finishes (it is atomic either way)
            publisher.shutdown(wait=True, cancel_futures=True)
        claims.release_all()
        if store is not None:
            store.save()
        if running:
            executor.shutdown()
    return results

