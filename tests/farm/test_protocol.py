"""The protocol holds up: a malformed or foreign-version task gets an answer (the coordinator
never waits forever), a worker's packages must be exactly the planned outputs, and two
concurrent runs into one channel build a shared dependency once (a claim in the channel)."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import Future
from pathlib import Path


from forge import api
from forge.config import ForgeConfig
from forge.jobs import BuildJob
from workers import settings
from workers.app import make_app
from workers.blobs import BlobStore
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
