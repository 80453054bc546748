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

from .conftest import Synth
from tests.support.farm import RedisServer, Workers


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


def test_tls_mismatch_named_both_ways(tmp_path: Path) -> None:
    """A real TLS redis-server (self-signed certificate for 127.0.0.1): a plain URL, and a
    rediss:// URL that cannot verify it, stop at once; the right rediss:// URL connects."""
    import shutil  # noqa: PLC0415
    import time  # noqa: PLC0415

    from tests.support.farm import free_port  # noqa: PLC0415

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                               "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file",
                               str(cert), "--tls-auth-clients", "no", "--save", "", "--dir", str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        good = f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}"
        deadline = time.monotonic() + 10
        while True:
            try:
                settings.check_redis(good)
                break
            except settings.FarmConfigError:
                raise
            except Exception:  # noqa: BLE001  (not listening yet, or no TLS in this redis-server)
                if server.poll() is not None:
                    pytest.skip("this redis-server has no TLS support")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with pytest.raises(settings.FarmConfigError, match="speaks TLS; use a rediss:// URL"):
            settings.check_redis(f"redis://127.0.0.1:{port}/0")
        with pytest.raises(settings.FarmConfigError, match="failed the TLS handshake .*certificate verify failed"):
            settings.check_redis(f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=required")
    finally:
        server.kill()
        server.wait(timeout=10)
