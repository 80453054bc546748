"""A broken worker steps aside instead of sinking the run: it refuses to start when its own
health check fails, and a worker whose builds keep failing for reasons of its own (here: its
task directory turned into a file mid-run, a fault injected on purpose) gives each build back
to the queue and, after FORGE_WORKER_MAX_INFRA_FAILURES in a row, stops taking builds, which
the coordinator tells its user once."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from forge import api
from workers import health
from workers.executor import CeleryExecutor
from workers.health import quarantine_key
from workers.registry import Registry
from workers.status import farm_status

from .conftest import Synth, assert_channel_consistent, wait_for
from tests.support.farm import Workers


def test_worker_failing_its_health_check_does_not_start(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    bad = workers.base / "sick"
    bad.mkdir(parents=True)
    (bad / "tasks").write_text("not a directory\n")  # the work dir cannot hold task trees
    proc = workers.start("sick", wait=False)
    workers.start("well")
    synth.add("hc-a", 0.1)
    synth.add("hc-b", 0.1, deps=("hc-a",))
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["hc-b"], cfg, executor=ex)
    assert proc.wait(timeout=60) == 1
    log = workers.log("sick")
    assert "error: worker sick@" in log and "is not taking builds: the work dir" in log and "not writable" in log
    assert report.ok, {n: r.error for n, r in report.results.items()}
    assert {r["worker"].split("@")[0] for r in Registry(redis_server.client()).recent()} == {"well"}


def test_health_check_names_a_work_dir_that_is_a_file(tmp_path: Path) -> None:
    """A file where the work dir must be is named as such, not as an unwritable folder."""
    wdir = tmp_path / "work"
    wdir.write_text("a file, not a folder\n")
    assert f"the work dir {wdir} is a file, not a folder; pass a writable folder as --work-dir" in health.check(wdir)
    below = wdir / "sub"
    assert (f"{wdir}, above the work dir {below}, is a file, not a folder; pass a writable folder as --work-dir"
            in health.check(below))
    other = tmp_path / "folder"
    other.mkdir()
    (other / "tasks").write_text("not a directory\n")  # the folder is fine, its task tree is not: what the OS says
    assert [p for p in health.check(other) if "work dir" in p] == [
        f"the work dir {other} is not writable (File exists); pass a writable --work-dir"]


def test_worker_whose_work_dir_is_a_file_says_so(tmp_path: Path, redis_server) -> None:  # noqa: ANN001
    wdir = tmp_path / "work"
    wdir.write_text("a file, not a folder\n")
    proc = subprocess.Popen([sys.executable, "-m", "forge.cli", "worker", "--broker", redis_server.url, "--work-dir",
                             str(wdir), "-n", "filed@%h"], cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, errs = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 1, out + errs
    said = [ln for ln in errs.splitlines() if ln.startswith("error: worker filed@")]
    assert len(said) == 1 and "is not taking builds: " in said[0], errs
    assert f"the work dir {wdir} is a file, not a folder; pass a writable folder as --work-dir" in said[0]
    assert "not writable" not in errs


def test_worker_with_infrastructure_failures_quarantines_itself(synth: Synth, workers: Workers, redis_server,  # noqa: ANN001
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"q{i}" for i in range(4)]
    for n in names:
        synth.add(n, 0.1)
    workers.start("flaky", extra_env={"FORGE_WORKER_MAX_INFRA_FAILURES": "3"})
    tasks = workers.base / "flaky" / "tasks"
    shutil.rmtree(tasks, ignore_errors=True)
    tasks.write_text("the disk went bad\n")  # from now on every build fails on this machine
    client = redis_server.client()
    cfg = synth.config()

    def rescue() -> None:
        wait_for(lambda: client.exists(quarantine_key(f"flaky@{socket.gethostname()}")), timeout=90,
                 what="the flaky worker to quarantine itself")
        workers.start("good")

    t = threading.Thread(target=rescue)
    t.start()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(names, cfg, executor=ex)
    t.join()
    assert report.ok, {n: r.error for n, r in report.results.items()}
    assert all(r.attempts == 1 for r in report.results.values())  # given back, not failed and retried
    assert assert_channel_consistent(cfg.channel_dir) == set(names)
    builders = {r["worker"].split("@")[0] for r in Registry(client).recent() if r.get("state") == "built"}
    assert builders == {"good"}
    assert all(synth.count(n, "start") == 1 for n in names)
    assert workers.procs["flaky"].poll() is None  # alive, visible, but not taking builds
    st = {w.name.split("@")[0]: w for w in farm_status(redis_server.url, timeout=2.0).workers}
    assert st["good"].quarantined is None
    assert "3 infrastructure failures in a row" in (st["flaky"].quarantined or "")
    assert "not taking builds any more" in workers.log("flaky")
    said = capsys.readouterr().err  # the coordinator's own output (`forge build --farm` prints it the same way)
    lines = [ln for ln in said.splitlines() if "stopped taking builds" in ln]
    assert len(lines) == 1 and lines[0].startswith(
        f"farm: worker flaky@{socket.gethostname()} stopped taking builds (quarantined): 3 infrastructure failures "
        f"in a row, the last: "), said
    host = socket.gethostname()  # only healthy workers advertise slots to the coordinator
    wait_for(lambda: not client.exists(f"forge:slots:flaky@{host}"), timeout=15, what="flaky's slots to go")
    assert client.get(f"forge:slots:good@{host}") == b"1"

