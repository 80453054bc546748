"""The sandbox on a farm: the hostile probe recipe (tests/support/sandbox_probe.py) built by a real
Celery worker over Redis. The worker's environment holds the broker's URL (FORGE_FARM) and Redis
listens on loopback; inside the build neither is reachable, nothing is written outside the build,
and its background process dies with it."""

from __future__ import annotations

import pytest

from forge import api
from tests.support.farm import RedisServer, Workers
from tests.support.sandbox_probe import NAME, leftover, probe_recipe, results
from workers.executor import CeleryExecutor

from .conftest import Synth


def test_worker_builds_the_probe_in_its_sandbox(synth: Synth, workers: Workers, redis_server: RedisServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_SANDBOX", "1")  # the farm's other tests run unsandboxed (conftest)
    host = synth.root / "host"
    host.mkdir()
    marker = f"5{redis_server.port}.25"
    d = synth.recipes / NAME
    d.mkdir(parents=True)
    (d / "recipe.yaml").write_text(probe_recipe(writes={"host-tmp": host}, secret="FORGE_FARM",
                                                port=redis_server.port, marker=marker))
    workers.start_ready("w1")
    cfg = synth.config()
    assert cfg.sandbox
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build([NAME], cfg, executor=ex)
    assert report.ok, {n: r.error for n, r in report.results.items()}
    (pkg,) = (cfg.channel_dir / "noarch").glob(f"{NAME}-*.conda")
    got = results(pkg)
    assert {k: got[k] for k in ("write-host-tmp", "environment", "broker")} == {
        "write-host-tmp": "denied", "environment": "denied", "broker": "denied"}, got
    assert list(host.iterdir()) == []
    assert leftover(marker) == []
