"""A graph built on real workers over Redis lands in the channel exactly as a local build."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.support.testlib import forge_repo_config
from forge import api
from workers.cli import app as farm_app
from workers.executor import CeleryExecutor
from workers.registry import Registry

from .conftest import Synth, assert_channel_consistent
from tests.support.farm import Workers


def diamond(synth: Synth, seconds: float = 1.0) -> None:
    """base -> (left, right) -> top: left and right can run on two workers at once."""
    synth.add("base", 0.2)
    synth.add("left", seconds, deps=("base",))
    synth.add("right", seconds, deps=("base",))
    synth.add("top", 0.2, deps=("left", "right"))


def test_graph_builds_on_two_workers_and_publishes(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    diamond(synth, seconds=2.0)
    workers.start_ready("w1", "w2")
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["top"], cfg, executor=ex)
    assert report.ok, {n: r.error for n, r in report.results.items()}
    assert report.by_status("built") == ["base", "left", "right", "top"]
    assert assert_channel_consistent(cfg.channel_dir) == {"base", "left", "right", "top"}
    # the parallel pair went to different workers (prefetch 1, acks late)
    by = {}
    for rec in Registry(redis_server.client()).recent():
        by[rec["recipe"]] = rec["worker"]
    assert by["left"] != by["right"], by
    # the coordinator kept each build's log in the usual place; the build ran in the worker's
    # own tree, with the channel mirrored there (no shared filesystem)
    for name in ("base", "left", "right", "top"):
        text = Path(report.results[name].log).read_text()
        assert f"synthetic {name} done" in text
        assert "== farm: task" in text
    top_log = Path(report.results["top"].log).read_text()
    assert str(cfg.channel_dir) not in top_log
    assert str(workers.base) in top_log
    # packages are verified copies, not the worker's files
    assert all(str(cfg.state_dir) in p for p in report.results["top"].packages)


def test_nothing_to_rebuild_second_time(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    synth.add("solo", 0.1)
    workers.start("w1")
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        assert api.build(["solo"], cfg, executor=ex).ok
        again = api.build(["solo"], cfg, executor=ex)
    assert again.results == {} and again.plan.to_build == []
    assert synth.count("solo") == 1


def test_status_and_log_commands(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    synth.add("shown", 0.1)
    synth.add("broken", 0.1, pre=["echo 'the tool is unhappy' >&2", "exit 3"])
    workers.start("w1")
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        api.build(["shown", "broken"], cfg, executor=ex)
    runner = CliRunner()
    res = runner.invoke(farm_app, ["status", "--farm", redis_server.url, "--logs"])
    assert res.exit_code == 0, res.output
    assert "1 worker(s)" in res.output and "w1@" in res.output
    assert "shown" in res.output and "built" in res.output
    assert "broken" in res.output and "failed" in res.output
    assert "synthetic shown done" in res.output or "OK" in res.output
    res = runner.invoke(farm_app, ["log", "broken", "--farm", redis_server.url])
    assert res.exit_code == 0
    assert "the tool is unhappy" in res.output
    res = runner.invoke(farm_app, ["log", "no-such-recipe", "--farm", redis_server.url])
    assert res.exit_code == 1
    from tests.support.farm import free_port

    res = runner.invoke(farm_app, ["status", "--farm", f"redis://:hunter2@127.0.0.1:{free_port()}/0"])
    assert res.exit_code == 1
    assert "cannot reach the farm's Redis" in res.output and "hunter2" not in res.output


def test_worker_command_runs_a_worker(synth: Synth, tmp_path: Path, redis_server) -> None:  # noqa: ANN001
    """`forge farm worker --broker URL` (the documented command) builds too."""
    import os
    import signal
    import subprocess
    import sys
    import time

    synth.add("via-cli", 0.1)
    wdir = tmp_path / "cliworker"
    wdir.mkdir()
    code = "from workers.cli import app; app()"
    log = open(wdir / "out.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", code, "worker", "--broker", redis_server.url,
                             "--work-dir", str(wdir), "-n", "cli@%h"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        cfg = synth.config()
        with CeleryExecutor(redis_server.url, cfg) as ex:
            report = api.build(["via-cli"], cfg, executor=ex)
        assert report.ok
        assert report.results["via-cli"].packages
        recs = Registry(redis_server.client()).find("via-cli")
        assert recs and recs[0]["worker"].startswith("cli@")
        assert (wdir / "blobs").is_dir()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0)


def test_builds_wait_for_a_late_worker_with_a_warning(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    """No worker yet: the coordinator says so, the build waits in Redis and runs when one starts."""
    import io
    import threading

    from .conftest import wait_for

    synth.add("patient", 0.1)
    cfg = synth.config()
    said = io.StringIO()
    with CeleryExecutor(redis_server.url, cfg, log=said) as ex:
        starter = threading.Thread(target=lambda: (wait_for(lambda: "no worker answers" in said.getvalue(),
                                                            timeout=30, what="the warning"),
                                                   workers.start("late")))
        starter.start()
        report = api.build(["patient"], cfg, executor=ex)
        starter.join()
    assert report.ok
    assert "forge worker --broker" in said.getvalue()
    assert Registry(redis_server.client()).find("patient")[0]["worker"].startswith("late@")


def test_real_sdist_recipe_travels_with_sources_and_wheelhouse(tmp_path: Path, workers: Workers, redis_server,
                                                               monkeypatch) -> None:  # noqa: ANN001
    """The repo's iniconfig recipe: its verified sdist and build wheels go through Redis, the
    worker installs from its own copy, tests resolve against the mirrored channel."""

    from forge.workspace import Workspace


    cache = tmp_path / "cache"  # its own: a fresh machine has nothing cached
    monkeypatch.setenv("FORGE_CACHE", str(cache))
    cfg = forge_repo_config(tmp_path / "channel", tmp_path / "state")
    src = Workspace(cfg).recipe("iniconfig").outputs[0].sources[0]
    # a fresh clone has no cached sdist: the coordinator's fetch phase downloads it first
    workers.start("w1")
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["iniconfig"], cfg, executor=ex)
    assert report.ok, {n: r.error for n, r in report.results.items()}
    assert (workers.base / "w1" / "blobs" / src.sha256).exists()  # the sdist reached the worker as a blob
    log = Path(report.results["iniconfig"].log).read_text()
    assert "forge-pip-install" in log or "pip install" in log
    assert str(workers.base / "w1" / "tasks") in log  # built in the worker's own tree
    assert {r.name for r in Workspace(cfg).channel.records()} >= {"iniconfig", "python"}


#: Shell that writes the pid of the warm build process running this build script to the probe.
WARM_PID = (
    "p=$$; while [ \"$p\" -gt 1 ]; do "
    "if tr '\\0' ' ' < /proc/$p/cmdline | grep -q forge.executors.warm; then echo $p >> {probe}; break; fi; "
    "p=$(awk '{{print $4}}' /proc/$p/stat); done"
)


def test_worker_builds_in_one_warm_process(synth: Synth, workers: Workers, redis_server) -> None:  # noqa: ANN001
    """A worker slot keeps one build process (rattler-build imported once), not one per build."""
    pids = synth.probe / "warm-pids"
    synth.add("warm-a", 0.1, pre=[WARM_PID.format(probe=pids)])
    synth.add("warm-b", 0.1, deps=("warm-a",), pre=[WARM_PID.format(probe=pids)])
    workers.start("w1")
    cfg = synth.config()
    with CeleryExecutor(redis_server.url, cfg) as ex:
        report = api.build(["warm-b"], cfg, executor=ex)
    assert report.ok, {n: r.error for n, r in report.results.items()}
    seen = pids.read_text().split()
    assert len(seen) == 2 and seen[0] == seen[1], seen
