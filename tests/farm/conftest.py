"""Fixtures for farm tests: a private redis-server, real Celery worker processes, and tiny
synthetic recipes whose build time and behaviour the test controls.

Nothing here is mocked: each test gets its own redis-server on a free loopback port and
starts `celery -A workers.app worker` subprocesses (own session, own work dir, so no shared
filesystem between "machines"), and kills them all at the end.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest

from forge.config import ForgeConfig
from tests.support.farm import RedisServer, Workers

REPO = Path(__file__).resolve().parents[2]
#: Default farm settings (a dead worker is found by its heartbeat, not the 4 h visibility
#: timeout); only the Redis grace is shortened. A test needing more sets it itself.
TEST_ENV = {
    "FORGE_FARM_GRACE": "60",
    # these tests count builds through probe files the scripts write outside their build, and
    # inject machine faults from a script (killing the build process): exactly what the sandbox
    # forbids, so the farm's own machinery is tested unsandboxed; tests/farm/test_sandbox.py and
    # tests/test_sandbox.py test the sandbox, through the farm and the embedded pool
    "FORGE_SANDBOX": "0",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "farm: needs redis-server and starts Celery workers (tests/farm)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/farm" in str(item.fspath):
            item.add_marker(pytest.mark.farm)
            if shutil.which("redis-server") is None:
                item.add_marker(pytest.mark.skip(reason="redis-server is not installed (apt-get install redis-server)"))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def workers(tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    for k, v in TEST_ENV.items():
        monkeypatch.setenv(k, v)
    pool = Workers(tmp_path / "workers", redis_server.url, dict(TEST_ENV))
    yield pool
    pool.stop_all()


class Synth:
    """Writes noarch: generic recipes that sleep, leave probe lines, and optionally misbehave.

    Probe lines (<probe>/<name>: 'start' / 'end') let a test count how often a recipe really
    built, across workers and runs.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.recipes = root / "recipes"
        self.probe = root / "probe"
        self.recipes.mkdir(parents=True, exist_ok=True)
        self.probe.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, seconds: float = 0.5, deps: tuple[str, ...] = (), pre: list[str] | None = None) -> None:
        script = [f"echo start >> {self.probe}/{name}", *(pre or []), f"sleep {seconds}",
                  "mkdir -p $PREFIX/share/synth", f"echo {name} > $PREFIX/share/synth/{name}.txt",
                  f"echo 'synthetic {name} done'", f"echo end >> {self.probe}/{name}"]
        lines = ["package:", f"  name: {name}", '  version: "1.0"', "build:", "  number: 0",
                 "  noarch: generic", "  script:"]
        lines += [f"    - {json_str(s)}" for s in script]
        if deps:
            lines += ["requirements:", "  host:"] + [f"    - {d}" for d in deps]
            lines += ["  run:"] + [f"    - {d}" for d in deps]
        d = self.recipes / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "recipe.yaml").write_text("\n".join(lines) + "\n")

    def count(self, name: str, what: str = "end") -> int:
        p = self.probe / name
        return p.read_text().split().count(what) if p.exists() else 0

    def started(self, name: str) -> bool:
        return self.count(name, "start") > 0

    def config(self) -> ForgeConfig:
        return ForgeConfig.load(root=self.root, recipes_dir=self.recipes, channel_dir=self.root / "channel",
                                state_dir=self.root / "state")


def json_str(s: str) -> str:
    import json  # noqa: PLC0415

    return json.dumps(s)


#: Shell that kills this build's process (a worker slot's warm `forge.executors.warm`, or a
#: fresh `forge.runner`): the build machine fails, not the recipe.
KILL_RUNNER = (
    "p=$$; while [ \"$p\" -gt 1 ]; do "
    "if tr '\\0' ' ' < /proc/$p/cmdline | grep -qE 'forge.runner|forge.executors.warm'; then kill -9 $p; exit 1; fi; "
    "p=$(awk '{print $4}' /proc/$p/stat); done"
)


#: Shell that kills the Celery pool process running this build (the worker's main process
#: survives and, with task_reject_on_worker_lost, puts the build back on the queue).
KILL_POOL_CHILD = (
    "p=$$; while [ \"$p\" -gt 1 ]; do "
    "if tr '\\0' ' ' < /proc/$p/cmdline | grep -q 'celery'; then kill -9 $p; exit 1; fi; "
    "p=$(awk '{print $4}' /proc/$p/stat); done"
)


@pytest.fixture
def synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Synth:
    monkeypatch.setenv("FORGE_SANDBOX", TEST_ENV["FORGE_SANDBOX"])  # its probe lines (TEST_ENV says why)
    return Synth(tmp_path / "repo")


def session_processes(sid: int) -> list[str]:
    """Live (not zombie) processes of session `sid`, as 'pid cmdline', read from /proc."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(f"{d.name} {(d / 'cmdline').read_bytes().replace(bytes(1), b' ').decode(errors='replace')}")
        except (OSError, ValueError, IndexError):
            continue
    return found


def wait_for(pred, timeout: float = 60, what: str = "condition") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def channel_files(channel: Path) -> dict[str, list[str]]:
    """subdir -> package files on disk (conda subdirs only: those with a repodata.json)."""
    out: dict[str, list[str]] = {}
    for sd in sorted(p for p in channel.iterdir() if (p / "repodata.json").is_file()):
        out[sd.name] = sorted(f.name for f in sd.iterdir() if f.name.endswith((".conda", ".tar.bz2")))
    return out


def assert_channel_consistent(channel: Path) -> set[str]:
    """No partial files, and each subdir's repodata lists exactly the packages on disk."""
    import json  # noqa: PLC0415

    names: set[str] = set()
    assert not list(channel.glob("*/.partial-*")), "half-published files in the channel"
    assert not list(channel.glob("*/.part-*")), "half-written files in the channel"
    assert not list(channel.glob(".index-*")), "leftover index shadow tree"
    for sd, files in channel_files(channel).items():
        data = json.loads((channel / sd / "repodata.json").read_text())
        listed = sorted(list(data.get("packages", {})) + list(data.get("packages.conda", {})))
        assert listed == files, f"{sd}: repodata {listed} != files {files}"
        names |= {data["packages.conda"][f]["name"] for f in data.get("packages.conda", {})}
    return names
