"""The protocol holds up: a malformed or foreign-version task gets an answer (the coordinator
never waits forever), a worker's packages must be exactly the planned outputs, and two
concurrent runs into one channel build a shared dependency once (a claim per machine, and in
Redis for coordinators on different machines sharing one farm)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path


from forge import api
from forge.config import ForgeConfig
from forge.jobs import BuildJob
from workers import settings
from workers.app import make_app
from workers.blobs import BlobStore
from workers.claims import RedisClaims, channel_id, claim_key
from workers.executor import CeleryExecutor, _Pending
from workers.payload import make_payload
from workers.worker import result_key

from .conftest import Synth, assert_channel_consistent, wait_for
from tests.support.farm import Workers


def _job(**kw: object) -> BuildJob:
    base = dict(recipe="p", recipe_dir="/r", recipe_file="recipes/p/recipe.yaml", platforms=["noarch"],
                outputs=["noarch/p-1.0-h0_0.conda"], channel_url="file:///c", variant_file=None, sources=[],
                wheelhouse=None, work_dir="/w", log_path="/l")
    base.update(kw)
    return BuildJob(**base)  # type: ignore[arg-type]


def test_malformed_and_foreign_payloads_get_an_answer(workers: Workers, redis_server) -> None:  # noqa: ANN001
    workers.start("w1")
    client = redis_server.client()
    recipe = BlobStore(client).put(b"package: {name: p, version: '1'}\n")
    good = make_payload(_job(), {"recipe/recipe.yaml": recipe}, "proto")
    job_missing = {**good, "job": {k: v for k, v in good["job"].items() if k != "outputs"}}
    wrong_type = {**good, "job": {**good["job"], "outputs": "noarch/p-1.0-h0_0.conda"}}
    cases = {
        "v2": ({**good, "v": 2}, "payload version 2 is not 1"),
        "missing": (job_missing, "expected ["),
        "type": (wrong_type, "'outputs' is str"),
        "files": ({**good, "files": ["recipe/recipe.yaml"]}, "no file manifest"),
    }
    app = make_app(redis_server.url)
    tids = {}
    for case, (payload, _) in cases.items():
        tids[case] = f"proto-{case}-{uuid.uuid4().hex[:6]}"
        app.send_task(settings.TASK, args=[payload], task_id=tids[case], queue=settings.QUEUE)
    app.send_task(settings.TASK, args=[["not", "a", "mapping"]], task_id="proto-list", queue=settings.QUEUE)
    reply = settings.key("done", "proto")
    wait_for(lambda: client.llen(reply) == len(cases), timeout=60, what="an answer to every payload")
    for case, (_, why) in cases.items():
        res = json.loads(client.get(result_key(tids[case])))
        assert why in res["refused"], (case, res)
        assert client.hget(f"forge:build:{tids[case]}", "state") == b"refused"
    wait_for(lambda: client.hget("forge:build:proto-list", "state") == b"refused", timeout=30,
             what="the unanswerable payload to be recorded")
    assert workers.procs["w1"].poll() is None


def test_worker_packages_must_be_exactly_the_planned_outputs(synth: Synth, redis_server) -> None:  # noqa: ANN001
    cfg = synth.config()
    store_sha = BlobStore(redis_server.client()).put(b"pkg")
    planned = "noarch/p-1.0-h0_0.conda"
    job = _job(log_path=str(cfg.state_dir / "logs" / "p" / "1.log"))
    with CeleryExecutor(redis_server.url, cfg) as ex:
        def outcome(paths: list[str]):  # noqa: ANN202
            res = {"worker": "w", "outcome": {"recipe": "p", "ok": True},
                   "packages": [{"path": p, "sha256": store_sha} for p in paths]}
            return ex._outcome(_Pending("t-" + uuid.uuid4().hex[:6], job, Future()), res)

        extra = outcome([planned, "noarch/evil-1.0-h0_0.conda"])
        missing = outcome([])
        exact = outcome([planned])
    assert not extra.ok and "but the plan is exactly noarch/p-1.0-h0_0.conda" in str(extra.error)
    assert not missing.ok and "returned no package" in str(missing.error)
    assert exact.ok and [Path(p).name for p in exact.packages] == ["p-1.0-h0_0.conda"]


def test_two_concurrent_runs_build_a_shared_dependency_once(synth: Synth) -> None:
    synth.add("cl-base", 3.0)
    synth.add("cl-a", 0.1, deps=("cl-base",))
    synth.add("cl-b", 0.1, deps=("cl-base",))
    cfgs = [ForgeConfig.load(root=synth.root, recipes_dir=synth.recipes, channel_dir=synth.root / "channel",
                             state_dir=synth.root / f"state-{i}") for i in (1, 2)]
    cfgs[0].channel_dir.mkdir(parents=True, exist_ok=True)
    reports: dict[str, api.BuildReport] = {}

    def run(target: str, cfg: ForgeConfig) -> None:
        reports[target] = api.build([target], cfg, jobs=1, view=False)

    threads = [threading.Thread(target=run, args=args) for args in (("cl-a", cfgs[0]), ("cl-b", cfgs[1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert set(reports) == {"cl-a", "cl-b"}
    for r in reports.values():
        assert r.ok, {n: x.error for n, x in r.results.items()}
    assert synth.count("cl-base", "start") == 1  # built by one run, taken from the channel by the other
    by = sorted(r.results["cl-base"].error or "built here" for r in reports.values())
    assert by == ["built here", "published by a concurrent run"]
    assert assert_channel_consistent(cfgs[0].channel_dir) == {"cl-base", "cl-a", "cl-b"}
    assert not [p.name for p in cfgs[0].channel_dir.iterdir() if "claim" in p.name]  # claims live elsewhere
    kept = {**json.loads((cfgs[0].state_dir / "durations.json").read_text()),
            **json.loads((cfgs[1].state_dir / "durations.json").read_text())}
    assert kept["cl-base"] >= 3.0  # measured, for the next run's critical path


def test_build_claims_in_redis_hold_across_machines(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Two coordinators with separate local lock dirs (two machines): only Redis can keep them
    apart. A released claim is free at once; a dead coordinator's claim expires, a live one's
    refresh keeps it."""
    channel = tmp_path / "channel"
    channel.mkdir()
    job = _job(recipe="p", channel_url=channel.resolve().as_uri())
    r = redis_server.client()
    a = RedisClaims(r, "run-a", ttl=2.0, lock_root=tmp_path / "machine-a")
    b = RedisClaims(r, "run-b", ttl=2.0, lock_root=tmp_path / "machine-b")
    assert a.take(job)
    assert not b.take(job)  # machine b holds no flock on it: Redis refused
    assert r.get(claim_key(channel_id(job), "p")) == b"run-a"
    a.release("p")
    assert r.get(claim_key(channel_id(job), "p")) is None
    assert b.take(job)
    b.release("p")
    assert a.take(job)
    for _ in range(3):  # longer than the expiry, refreshed as the receive loop does
        time.sleep(1.0)
        assert a.refresh() == []
    assert not b.take(job)
    time.sleep(2.5)  # a stops refreshing (its coordinator died): the claim expires
    assert b.take(job)
    assert a.refresh() == ["p"]  # a learns another run took it
    assert r.get(claim_key(channel_id(job), "p")) == b"run-b"


def test_two_coordinators_on_two_machines_build_a_shared_dependency_once(
        synth: Synth, workers: Workers, redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Two `forge build --farm` processes, each with its own temp dir (so no shared flock: two
    machines), one Redis, one channel: the shared dependency is built once."""
    synth.add("m-base", 3.0)
    synth.add("m-a", 0.1, deps=("m-base",))
    synth.add("m-b", 0.1, deps=("m-base",))
    workers.start("w1", wait=False)
    workers.start("w2", wait=False)
    workers.wait_ready("w1")
    workers.wait_ready("w2")
    channel = synth.root / "channel"
    channel.mkdir(parents=True, exist_ok=True)
    r = redis_server.client()
    seen: set[str] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.1):
            for k in r.scan_iter(match=settings.key("claim", "*")):
                seen.add(k.decode().rsplit(":", 1)[1])

    watcher = threading.Thread(target=watch)
    watcher.start()
    procs = []
    for target, machine in (("m-a", "one"), ("m-b", "two")):
        tmp = tmp_path / f"machine-{machine}"
        tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(tmp), "FORGE_STATE": str(tmp / "state")}
        env.pop("FORGE_ROOT", None)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "forge.cli", "build", target, "--farm", redis_server.url, "--channel",
             str(channel), "--recipes", str(synth.recipes)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=180) for p in procs]
    stop.set()
    watcher.join()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out + err
    assert synth.count("m-base", "start") == 1  # one machine built it, the other took it from the channel
    assert assert_channel_consistent(channel) == {"m-base", "m-a", "m-b"}
    assert "m-base" in seen  # the claim lived in Redis
    assert not list(r.scan_iter(match=settings.key("claim", "*")))  # and both runs released theirs
