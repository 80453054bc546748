"""Every build in a sandbox (forge.sandbox), through the real CLI and the embedded pool: a hostile
recipe's writes, its look at the environment, its connection to a real redis-server and its
left-behind process all fail inside; the build root and the caches are unchanged; the build's
result is its script's; the log and the package's test record say it was sandboxed. The same
recipe with --no-sandbox shows each probe can tell (its attempts succeed), and a machine that
refuses namespaces gets one sentence and no build."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.farm import RedisServer
from tests.support.sandbox_probe import NAME, digest, leftover, probe_recipe, results
from tests.support.testlib import forge_cli, generic_recipe, make_repo, snapshot

from forge.locations import download_cache_dir

SECRET = "CELERY_BROKER_URL"


@pytest.fixture
def broker(tmp_path: Path):  # noqa: ANN201
    server = RedisServer(tmp_path / "redis", password="s3cret-broker-pw")
    server.start()
    yield server
    server.stop()


def _marker() -> str:
    return f"{4000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6:06d}"


def _record(channel: Path) -> dict:
    (path,) = (channel / "noarch").glob(f"{NAME}-*.tests.json")
    return json.loads(path.read_text())


def test_hostile_build_changes_nothing_outside_its_folder(tmp_path: Path, populated_channel: Path, broker) -> None:  # noqa: ANN001
    host = tmp_path / "host"
    host.mkdir()
    # the shared folders every build sees: the test's own build root and package cache (other
    # tests may use the machine's meanwhile) and this test session's download cache (the view
    # refresh after the build reads Pyodide from it, fetched when populated_channel was built)
    shared = {"buildroot": tmp_path / "buildroot", "cache": download_cache_dir(), "rattler-cache": tmp_path / "rattler"}
    for folder in (shared["buildroot"], shared["rattler-cache"]):
        (folder / "kept").mkdir(parents=True)
        (folder / "kept" / "file").write_text("as it was\n")
    assert any(shared["cache"].iterdir())
    writes = {"host-tmp": host, "channel": populated_channel, **shared}
    env = {SECRET: broker.url, "FORGE_BUILDROOT": str(shared["buildroot"]), "FORGE_CACHE": str(shared["cache"]),
           "RATTLER_CACHE_DIR": str(shared["rattler-cache"])}
    marker = _marker()
    make_repo(tmp_path, {NAME: probe_recipe(writes=writes, secret=SECRET, port=broker.port, marker=marker)})
    before = digest(*shared.values())
    channel_before = snapshot(populated_channel)

    proc = forge_cli("build", NAME, "--channel", str(populated_channel), "--recipes", str(tmp_path / "recipes"),
                     root=tmp_path, **env)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text  # the script exited 0: so did the build
    (pkg,) = (populated_channel / "noarch").glob(f"{NAME}-*.conda")
    got = results(pkg)
    # the build root and rattler's package cache are overlays: a write lands in the build's own
    # copy (emcc's cache, the chroot's mount points) and vanishes with it (the digest below)
    overlaid = {"buildroot", "rattler-cache"}
    assert {k: v for k, v in got.items() if k != "pid"} == {
        **{f"write-{name}": "ALLOWED" if name in overlaid else "denied" for name in writes},
        "environment": "denied", "broker": "denied"}, got
    assert leftover(marker) == []  # the sleep died with the build's PID namespace
    assert list(host.iterdir()) == []
    assert digest(*shared.values()) == before
    after = snapshot(populated_channel)  # the publish added the package (and reindexed); nothing else
    assert not [k for k in after if "forge-sandbox-probe" in k]
    assert {k: after[k] for k in channel_before if k.endswith(".conda")} == {
        k: v for k, v in channel_before.items() if k.endswith(".conda")}
    log = (tmp_path / "state" / "logs" / NAME / "latest.log").read_text()
    assert "== sandbox: on (mount, network, PID, IPC, UTS namespaces" in log
    assert f"overlays: {shared['buildroot']}, {shared['rattler-cache']}" in log
    assert all(rec["sandbox"] is True for rec in [_record(populated_channel)]), _record(populated_channel)


def test_no_sandbox_lets_the_same_probes_through(tmp_path: Path, populated_channel: Path, broker) -> None:  # noqa: ANN001
    """The control: unsandboxed (only into the test's own folder), every attempt succeeds."""
    host = tmp_path / "host"
    host.mkdir()
    marker = _marker()
    make_repo(tmp_path, {NAME: probe_recipe(writes={"host-tmp": host}, secret=SECRET, port=broker.port,
                                            marker=marker, background=False)})
    try:
        proc = forge_cli("build", NAME, "--no-sandbox", "--channel", str(populated_channel),
                         "--recipes", str(tmp_path / "recipes"), root=tmp_path, **{SECRET: broker.url})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (pkg,) = (populated_channel / "noarch").glob(f"{NAME}-*.conda")
        got = results(pkg)
        assert {k: got[k] for k in ("write-host-tmp", "environment", "broker")} == {
            "write-host-tmp": "ALLOWED", "environment": "ALLOWED", "broker": "ALLOWED"}, got
        assert (host / "forge-sandbox-probe").is_file()
        log = (tmp_path / "state" / "logs" / NAME / "latest.log").read_text()
        assert "== sandbox: off (--no-sandbox)" in log
        assert _record(populated_channel)["sandbox"] is False
    finally:
        subprocess.run(["pkill", "-f", f"sleep {marker}"], check=False)


def test_refused_namespaces_one_sentence_and_no_build(tmp_path: Path, populated_channel: Path) -> None:
    """A machine that refuses namespaces (injected: FORGE_FAULT=sandbox-refused) builds nothing
    unless told --no-sandbox, and says so in one sentence."""
    make_repo(tmp_path, {"plain": generic_recipe("plain")})
    before = snapshot(populated_channel)
    proc = forge_cli("build", "plain", "--channel", str(populated_channel), "--recipes", str(tmp_path / "recipes"),
                     root=tmp_path, FORGE_FAULT="sandbox-refused")
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    assert "Traceback" not in text
    assert ("builds run in a sandbox, and this machine refuses the Linux namespaces it needs "
            "(unshare: Operation not permitted); run `forge build --no-sandbox` (or set FORGE_SANDBOX=0) "
            "to build unsandboxed on this machine") in " ".join(text.split()), text
    assert snapshot(populated_channel) == before
    ok = forge_cli("build", "plain", "--no-sandbox", "--channel", str(populated_channel),
                   "--recipes", str(tmp_path / "recipes"), root=tmp_path, FORGE_FAULT="sandbox-refused")
    assert ok.returncode == 0, ok.stdout + ok.stderr
