"""Atomic publish: a publisher killed at any point leaves a channel whose repodata lists only
complete, verified files, and the next publish (or `forge index`) heals the leftovers;
concurrent publishers lose nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.testlib import assert_consistent, forge_cli, forge_env

PUBLISH = (
    "import os, sys\n"
    "from pathlib import Path\n"
    "from forge.channel import Channel\n"
    "Channel(Path(sys.argv[1])).publish([Path(p) for p in sys.argv[2:]])\n"
    "sys.stdout.flush()\n"
    "os._exit(0)\n"
)


def publish_proc(channel: Path, packages: list[Path], fault: str | None = None) -> subprocess.Popen:
    env = forge_env()
    if fault:
        env["FORGE_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-c", PUBLISH, str(channel), *map(str, packages)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def publish(channel: Path, packages: list[Path], fault: str | None = None) -> int:
    proc = publish_proc(channel, packages, fault)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode in (0, 86), out
    return proc.returncode


def names(channel: Path) -> set[str]:
    return {Path(k).name for k in assert_consistent(channel)}


@pytest.mark.parametrize("heal", ["publish", "index"])
@pytest.mark.parametrize("fault", ["publish-after-copy", "publish-before-index", "index-before-swap"])
def test_crash_during_publish(fault: str, heal: str, tiny_packages: list[Path], tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    first, victim, later = tiny_packages[0], tiny_packages[1], tiny_packages[2]
    assert publish(channel, [first]) == 0
    assert names(channel) == {first.name}

    assert publish(channel, [victim], fault=fault) == 86, "the fault must kill the publisher"
    # the crash leaves a consistent channel: only the earlier package is listed, fully intact
    assert names(channel) == {first.name}
    leftovers = {p.name for p in channel.rglob(".partial-*")} | {p.name for p in channel.glob(".index-*")}
    if fault == "publish-after-copy":
        # the temporary name carries the dead writer's pid: the next writer knows it may sweep it
        assert {re.sub(r"^\.partial-\d+-", ".partial-", n) for n in leftovers} == {f".partial-{victim.name}"}
        assert not (channel / "noarch" / victim.name).exists()
    elif fault == "index-before-swap":
        assert any(x.startswith(".index-") for x in leftovers)

    if heal == "publish":
        assert publish(channel, [later]) == 0
        expected = {first.name, later.name}
    else:
        proc = forge_cli("index", "--channel", str(channel))
        assert proc.returncode == 0, proc.stderr
        expected = {first.name}
    if fault != "publish-after-copy":
        # the victim's file was complete and in place: the reindex lists it
        expected.add(victim.name)
    assert names(channel) == expected
    assert not list(channel.rglob(".partial-*")) and not list(channel.glob(".index-*")), "leftovers swept"
    # publishing the victim again completes what the crash interrupted
    assert publish(channel, [victim]) == 0
    assert victim.name in names(channel)


def test_concurrent_publishers_lose_nothing(tiny_packages: list[Path], tmp_path: Path) -> None:
    """One process per package, all started at once against a channel that does not exist yet."""
    channel = tmp_path / "channel"
    procs = [publish_proc(channel, [pkg]) for pkg in tiny_packages]
    for proc in procs:
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, out
    assert names(channel) == {p.name for p in tiny_packages}
    assert not list(channel.rglob(".partial-*")) and not list(channel.glob(".index-*"))


def test_concurrent_publishers_while_crashing(tiny_packages: list[Path], tmp_path: Path) -> None:
    """Publishers that crash in the middle do not take the others' packages down with them."""
    channel = tmp_path / "channel"
    faults = [None, "publish-before-index", None, "index-before-swap", None, "publish-after-copy", None, None]
    procs = [publish_proc(channel, [pkg], fault) for pkg, fault in zip(tiny_packages, faults)]
    for proc, fault in zip(procs, faults):
        proc.communicate(timeout=180)
        assert proc.returncode == (86 if fault else 0)
    survivors = {p.name for p, f in zip(tiny_packages, faults) if f is None}
    assert survivors <= names(channel)
    proc = forge_cli("index", "--channel", str(channel))
    assert proc.returncode == 0, proc.stderr
    complete = {p.name for p, f in zip(tiny_packages, faults) if f != "publish-after-copy"}
    assert names(channel) == complete


def test_publish_copies_and_keeps_the_source(tiny_packages: list[Path], tmp_path: Path) -> None:
    staging = tmp_path / "staging" / "noarch"
    staging.mkdir(parents=True)
    pkg = Path(shutil.copy2(tiny_packages[3], staging))
    assert publish(tmp_path / "channel", [pkg]) == 0
    assert pkg.exists()
    rec = assert_consistent(tmp_path / "channel")[f"noarch/{pkg.name}"]
    assert rec["name"] == "tiny3" and rec["version"] == "1.0"
