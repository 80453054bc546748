"""Ctrl-C on a real `forge build` (embedded pool, no farm): the message and the summary print,
exit 130, and no process the forge started outlives it (pool processes, the build's own
children, multiprocessing's resource tracker). The command runs in its own session, so
every descendant is found by its session id in /proc, whatever it reparented to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .conftest import Synth, session_processes, wait_for

MESSAGE = "interrupted: nothing half-published; run the same command to resume"


def test_ctrl_c_prints_message_and_summary_and_leaves_no_process(synth: Synth) -> None:
    synth.add("ic-first", 0.1)
    synth.add("ic-long", 120, deps=("ic-first",))
    synth.add("ic-top", 0.1, deps=("ic-long",))
    cfg = synth.config()
    env = {**os.environ, "FORGE_STATE": str(cfg.state_dir), "COLUMNS": "200"}
    env.pop("FORGE_FARM", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "forge.cli", "build", "ic-top", "-j", "2", "--channel", str(cfg.channel_dir),
         "--recipes", str(cfg.recipes_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: synth.started("ic-long"), timeout=180, what="ic-long to start")
        assert len(session_processes(proc.pid)) > 1  # the pool process and the build script exist
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # an impatient second Ctrl-C must not cut the clean-up short
        # communicate() returns only when nobody holds the pipes open any more
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        lines = [ln.strip() for ln in err.splitlines()]
        assert MESSAGE in lines, err
        assert "forge build summary" in err and any(ln.startswith("│ ic-first") and "built" in ln for ln in lines), err
        assert lines.index(MESSAGE) > next(i for i, ln in enumerate(lines) if "forge build summary" in ln)
        wait_for(lambda: not session_processes(proc.pid), timeout=15, what="every forge process to exit")
        assert synth.count("ic-long", "end") == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        for line in session_processes(proc.pid):
            os.kill(int(line.split()[0]), signal.SIGKILL)


def test_a_killed_coordinator_takes_its_pool_and_builds_with_it(synth: Synth) -> None:
    """SIGKILL to `forge build` alone (no clean-up can run): its pool processes lead their own
    process groups, so nothing forwards the signal; they notice the coordinator is gone and end
    themselves and the build they run."""
    synth.add("kc-long", 120)
    cfg = synth.config()
    env = {**os.environ, "FORGE_STATE": str(cfg.state_dir)}
    env.pop("FORGE_FARM", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "forge.cli", "build", "kc-long", "-j", "1", "--channel", str(cfg.channel_dir),
         "--recipes", str(cfg.recipes_dir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: synth.started("kc-long"), timeout=180, what="kc-long to start")
        assert len(session_processes(proc.pid)) > 1
        proc.kill()
        proc.wait(timeout=10)
        try:
            wait_for(lambda: not session_processes(proc.pid), timeout=15, what="the orphaned pool and its build to end")
        except TimeoutError:
            raise AssertionError(session_processes(proc.pid)) from None
        assert synth.count("kc-long", "end") == 0
    finally:
        for line in session_processes(proc.pid):
            os.kill(int(line.split()[0]), signal.SIGKILL)
