"""Permanent errors fail fast: a wrong password, database or TLS setting ends the coordinator
and a worker at once with one sentence (only a real outage waits for the grace period).
Real redis-server with --requirepass; the grace is set to 10 minutes so waiting would show."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from workers import settings
from workers.executor import CeleryExecutor

from .conftest import RedisServer, Synth, Workers


@pytest.fixture
def auth_server(tmp_path: Path) -> RedisServer:
    server = RedisServer(tmp_path / "redis-auth", password="pw-" + uuid.uuid4().hex[:8])
    server.start()
    yield server
    server.stop()


def test_wrong_password_db_or_tls_stop_the_coordinator_at_once(auth_server: RedisServer, synth: Synth,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_FARM_GRACE", "600")
    port, pw = auth_server.port, auth_server.password
    cases = {
        f"redis://:wrong@127.0.0.1:{port}/0": "rejected the credentials",
        f"redis://127.0.0.1:{port}/0": "rejected the credentials",  # no password at all
        f"redis://:{pw}@127.0.0.1:{port}/99": "has no such database",
        f"rediss://:{pw}@127.0.0.1:{port}/0": "speaks plain Redis, not TLS; use a redis:// URL",
    }
    for url, why in cases.items():
        with pytest.raises(settings.FarmConfigError, match=why) as info:
            CeleryExecutor(url, synth.config())
        text = str(info.value)
        assert text.startswith("the farm's Redis at ") and text.count("; ") >= 1 and pw not in text

    # the CLI: one line, exit 1, long before the 600 s grace (the timeout would fire first)
    synth.add("ff", 0.1)
    cfg = synth.config()
    env = {**os.environ, "FORGE_STATE": str(cfg.state_dir), "FORGE_FARM_GRACE": "600"}
    run = subprocess.run([sys.executable, "-m", "forge.cli", "build", "ff", "--farm",
                          f"redis://:wrong@127.0.0.1:{port}/0", "--channel", str(cfg.channel_dir),
                          "--recipes", str(cfg.recipes_dir)], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith(f"error: the farm's Redis at redis://:**@127.0.0.1:{port}/0 rejected the "
                                f"credentials"), run.stderr
    assert "Traceback" not in run.stderr and "wrong" not in lines[-1]


def test_worker_with_wrong_password_exits_with_one_sentence(auth_server: RedisServer, tmp_path: Path) -> None:
    pool = Workers(tmp_path / "workers", f"redis://:wrong@127.0.0.1:{auth_server.port}/0", {})
    proc = pool.start("w1", wait=False)
    try:
        assert proc.wait(timeout=90) == 1  # not retrying forever
    finally:
        pool.stop_all()
    log = pool.log("w1")
    assert "error: worker w1@" in log and "rejected the credentials" in log and "wrong" not in log
