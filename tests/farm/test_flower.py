"""Flower works against the farm: it lists the workers and the builds they ran."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from forge import api
from workers.executor import CeleryExecutor

from .conftest import Synth, wait_for
from tests.support.farm import Workers, free_port

pytest.importorskip("flower", reason="pip install flower to test it")


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_flower_sees_workers_and_builds(tmp_path: Path, synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    port = free_port()
    log = open(tmp_path / "flower.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app", "--broker", redis_server.url, "flower",
         f"--port={port}", "--address=127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **workers.env, "FLOWER_UNAUTHENTICATED_API": "1"},  # loopback only
    )
    try:
        workers.start("w1")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                _get(f"{base}/api/workers?refresh=1")
                return True
            except OSError:
                return False

        wait_for(up, timeout=60, what="flower")
        synth.add("seen", 0.1)
        cfg = synth.config()
        with CeleryExecutor(redis_server.url, cfg) as ex:
            assert api.build(["seen"], cfg, executor=ex).ok
        wait_for(lambda: any(t.get("name") == "forge.build" for t in _get(f"{base}/api/tasks").values()),
                 timeout=30, what="flower to see the build")
        names = _get(f"{base}/api/workers?refresh=1")
        assert any(n.startswith("w1@") for n in names)
        tasks = _get(f"{base}/api/tasks")
        assert any(t.get("state") == "SUCCESS" and t.get("name") == "forge.build" for t in tasks.values())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
