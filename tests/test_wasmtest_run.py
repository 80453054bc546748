"""forge.wasmtest._run: a test command that runs too long is stopped with everything it started
(a python-wasm test is bash running node: killing bash alone left node running on a core), and
the cause says it timed out rather than quoting an exit status (unit tier: bash and sleep only)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from forge import wasmtest

pytestmark = pytest.mark.unit


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat  # a zombie waiting for its reaper is gone for our purpose


def test_timed_out_command_and_its_children_are_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    with open(tmp_path / "log", "w") as log:
        rc = wasmtest._run(["bash", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], cwd=tmp_path,
                           env=dict(os.environ), log=log, timeout=1.0)
    assert rc is None
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the test's background child outlived the timeout"
    assert "timed out after 1s" in (tmp_path / "log").read_text()
    assert wasmtest._status(rc).startswith("did not finish within")


def test_exit_status_is_returned_as_is(tmp_path: Path) -> None:
    with open(tmp_path / "log", "w") as log:
        rc = wasmtest._run(["bash", "-c", "echo out; exit 3"], cwd=tmp_path, env=dict(os.environ), log=log)
    assert rc == 3
    assert wasmtest._status(rc) == "exited 3"
    assert "out" in (tmp_path / "log").read_text()
