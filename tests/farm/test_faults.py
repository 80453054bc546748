"""Faults survived, nothing lost: dead workers, flaky and broken builds, Redis restarts and an
interrupted coordinator, all with real redis-server and Celery worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from forge import api
from workers.executor import CeleryExecutor
from workers.registry import Registry
from workers.status import farm_status

from .conftest import KILL_POOL_CHILD, KILL_RUNNER, Synth, assert_channel_consistent, wait_for
from tests.support.farm import Workers


def running_on(redis_server, recipe: str) -> str | None:  # noqa: ANN001
    for rec in Registry(redis_server.client()).find(recipe):
        if rec.get("state") == "running":
            return rec.get("worker")
    return None


def test_worker_killed_mid_build_is_rerun_within_a_minute(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    """Default settings (visibility timeout 4 h): the coordinator sees the worker's heartbeat
    stop, shows the build as lost (never running on a dead worker) and re-sends it."""
    synth.add("k-base", 0.2)
    synth.add("k-slow", 4.0, deps=("k-base",))
    synth.add("k-top", 0.2, deps=("k-slow",))
    workers.start_ready("w1", "w2")
    cfg = synth.config()
    killed: list[tuple[str, str, float]] = []
    seen: list[str] = []

    def killer() -> None:
        wait_for(lambda: synth.started("k-slow") and running_on(redis_server, "k-slow"), what="k-slow to start")
        rec = next(r for r in Registry(redis_server.client()).find("k-slow") if r.get("state") == "running")
        victim = rec["worker"].split("@")[0]
        workers.kill(victim)  # SIGKILL to the worker's whole process group, build included
        killed.append((victim, rec["id"], time.monotonic()))

        def shown() -> str:
            return next(b for b in farm_status(redis_server.url).builds if b["id"] == rec["id"])["state"]

        wait_for(lambda: shown() != "running", timeout=60, what="status to stop showing a dead worker's build")
        seen.append(shown())

    t = threading.Thread(target=killer)
    t.start()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["k-top"], cfg, executor=ex)
    done = time.monotonic()
    t.join()
    assert killed, "the killer never found the build"
    victim, old_tid, when = killed[0]
    assert report.ok, {n: r.error for n, r in report.results.items()}
    print(f"run finished {done - when:.1f}s after the kill")
    assert done - when < 60, f"the run took {done - when:.1f}s after the kill"
    assert seen == ["lost"]
    assert assert_channel_consistent(cfg.channel_dir) == {"k-base", "k-slow", "k-top"}
    assert [(r, w.split("@")[0]) for r, w, _ in ex.lost] == [("k-slow", victim)]
    recs = {r["id"]: r for r in Registry(redis_server.client()).find("k-slow")}
    assert recs[old_tid]["state"] == "lost" and "heartbeat" in recs[old_tid]["error"]
    (new,) = [r for tid, r in recs.items() if tid != old_tid]
    survivor = new["worker"].split("@")[0]
    assert new["state"] == "built" and survivor != victim
    assert synth.count("k-slow", "start") == 2 and synth.count("k-slow", "end") == 1
    assert synth.count("k-base") == 1
    assert f"on worker {survivor}@" in Path(report.results["k-slow"].log).read_text()


def test_transient_retried_bounded_deterministic_not_retried(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    probe = synth.probe
    # dies once (its build process is killed), then builds
    synth.add("flaky", 0.1, pre=[f"if [ ! -e {probe}/flaky.died ]; then touch {probe}/flaky.died; {KILL_RUNNER}; fi"])
    # dies every time: retried a bounded number of times, then failed
    synth.add("doomed", 0.1, pre=[KILL_RUNNER])
    synth.add("after-doomed", 0.1, deps=("doomed",))
    # a recipe error: never retried
    synth.add("bad", 0.1, pre=["echo 'compiler says no' >&2", "exit 3"])
    synth.add("after-bad", 0.1, deps=("bad",))
    workers.start("w1")
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["flaky", "after-doomed", "after-bad"], cfg, executor=ex)
    r = report.results
    assert r["flaky"].status == "built" and r["flaky"].attempts == 2
    assert synth.count("flaky", "start") == 2
    assert r["doomed"].status == "failed" and r["doomed"].attempts == 2
    assert synth.count("doomed", "start") == 2
    assert "died" in r["doomed"].error
    assert r["after-doomed"].status == "skipped" and "doomed" in r["after-doomed"].error
    assert r["bad"].status == "failed" and r["bad"].attempts == 1
    assert synth.count("bad", "start") == 1
    assert r["after-bad"].status == "skipped"
    assert synth.count("after-bad", "start") == 0
    assert "compiler says no" in Path(r["bad"].log).read_text()
    assert assert_channel_consistent(cfg.channel_dir) == {"flaky"}


def test_build_that_keeps_killing_its_worker_is_bounded(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    """task_reject_on_worker_lost puts the build back when its pool process dies; after
    FORGE_FARM_MAX_DELIVERIES deliveries it is failed for good instead of looping forever."""
    synth.add("poison", 0.1, pre=[KILL_POOL_CHILD])
    synth.add("after-poison", 0.1, deps=("poison",))
    synth.add("bystander", 0.1)
    workers.start("w1", extra_env={"FORGE_FARM_MAX_DELIVERIES": "2"})
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["after-poison", "bystander"], cfg, executor=ex)
    r = report.results
    assert r["poison"].status == "failed" and r["poison"].attempts == 1
    assert "died while building it" in r["poison"].error
    assert synth.count("poison", "start") == 2  # delivered twice, then refused a third time
    assert r["after-poison"].status == "skipped"
    assert r["bystander"].status == "built"
    assert workers.procs["w1"].poll() is None  # the worker itself survived
    assert "WorkerLostError" in workers.log("w1")


def test_redis_restarted_mid_run_finishes(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    synth.add("r1", 0.2)
    synth.add("r2", 3.0, deps=("r1",))
    synth.add("r3", 0.2, deps=("r2",))
    workers.start_ready("w1", "w2")
    cfg = synth.config()

    def restart() -> None:
        wait_for(lambda: synth.started("r2"), what="r2 to start")
        redis_server.stop()  # SIGKILL, no persistence: queues, blobs and records are gone
        redis_server.start()

    t = threading.Thread(target=restart)
    t.start()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["r3"], cfg, executor=ex)
    t.join()
    assert ex.resends >= 1  # the coordinator noticed Redis had lost the in-flight build
    assert report.ok, {n: r.error for n, r in report.results.items()}
    assert assert_channel_consistent(cfg.channel_dir) == {"r1", "r2", "r3"}
    assert synth.count("r1") == 1  # published before the restart: never rebuilt


def test_redis_gone_too_long_stops_clearly_and_resumes(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    synth.add("g1", 0.2)
    synth.add("g2", 2.0, deps=("g1",))
    synth.add("g3", 0.2, deps=("g2",))
    workers.start("w1")
    cfg = synth.config()

    def outage() -> None:
        wait_for(lambda: synth.started("g2"), what="g2 to start")
        redis_server.stop()

    t = threading.Thread(target=outage)
    t.start()
    with CeleryExecutor(redis_server.url, cfg, grace=3.0) as ex:
        first = api.build(["g3"], cfg, executor=ex)
    t.join()
    assert first.results["g1"].status == "built"
    assert first.results["g2"].status == "failed"
    assert "unreachable" in first.results["g2"].error and "run the same command to resume" in first.results["g2"].error
    assert first.results["g3"].status == "skipped"
    assert assert_channel_consistent(cfg.channel_dir) == {"g1"}

    redis_server.start()  # same port; the worker reconnects by itself
    with CeleryExecutor(redis_server.url, cfg) as ex:
        second = api.build(["g3"], cfg, executor=ex)
    assert second.ok, {n: r.error for n, r in second.results.items()}
    assert sorted(second.results) == ["g2", "g3"]  # g1 was published: not rebuilt
    assert synth.count("g1") == 1
    assert assert_channel_consistent(cfg.channel_dir) == {"g1", "g2", "g3"}


def test_coordinator_interrupted_then_resumed(synth: Synth, workers: Workers, redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    synth.add("s1", 0.2)
    synth.add("s2", 4.0, deps=("s1",))
    synth.add("s3", 0.2, deps=("s2",))
    workers.start_ready("w1", "w2")
    cfg = synth.config()
    cmd = [sys.executable, "-m", "forge.cli", "build", "s3", "--farm", redis_server.url,
           "--channel", str(cfg.channel_dir), "--recipes", str(cfg.recipes_dir)]
    env = {**os.environ, "FORGE_STATE": str(cfg.state_dir)}  # the CLI keeps the repo root (variants)
    env.pop("FORGE_ROOT", None)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: synth.started("s2"), what="s2 to start")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: nothing half-published; run the same command to resume" in [
        ln.strip() for ln in err.splitlines()], err
    assert assert_channel_consistent(cfg.channel_dir) == {"s1"}
    assert Registry(redis_server.client()).find("s2")[0]["state"] == "cancelled"

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert assert_channel_consistent(cfg.channel_dir) == {"s1", "s2", "s3"}
    assert synth.count("s1") == 1


def test_worker_dying_after_taking_a_build_before_running_it(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    """Default settings (visibility timeout 4 h): a worker takes the build off the queue and
    dies before marking it running (injected: FORGE_FAULT kills its whole process group there).
    No heartbeat ever existed; the coordinator sees the build taken but held by no live worker
    and re-sends it within lost_after (+ a few seconds), not after the visibility timeout."""
    from workers import settings  # noqa: PLC0415

    synth.add("t-one", 0.2)
    workers.start("w1", extra_env={"FORGE_FAULT": "worker-took-build"})
    cfg = synth.config()
    died: list[float] = []

    def replace_worker() -> None:
        wait_for(lambda: workers.procs["w1"].poll() is not None, timeout=120, what="w1 to die")
        died.append(time.monotonic())
        workers.start("w2")

    t = threading.Thread(target=replace_worker)
    t.start()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["t-one"], cfg, executor=ex, view=False)
    done = time.monotonic()
    t.join()
    assert report.ok, {n: r.error for n, r in report.results.items()}
    took = done - died[0]
    print(f"run finished {took:.1f}s after the worker died (lost_after {settings.lost_after():.0f}s)")
    assert took < settings.lost_after() + 15, f"the run took {took:.1f}s after the worker died"
    recs = Registry(redis_server.client()).find("t-one")
    assert sorted(r["state"] for r in recs) == ["built", "lost"]
    (lost,) = [r for r in recs if r["state"] == "lost"]
    assert "never running" in lost["error"] and "worker" not in lost  # w1 never marked it running
    assert [r["worker"].split("@")[0] for r in recs if r["state"] == "built"] == ["w2"]
    assert synth.count("t-one", "start") == 1
    assert assert_channel_consistent(cfg.channel_dir) == {"t-one"}
