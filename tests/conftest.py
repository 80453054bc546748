"""Session fixtures shared by the foundation tests.

* FORGE_CACHE points at a download cache this pytest session creates and fills itself
  (FORGE_TEST_CACHE names a folder to keep between runs, at the developer's own choice), so no
  test passes because an earlier run left sdists or wheels behind; build state (work dirs,
  logs) goes to temp dirs.
* `built_pytest`: the real `pytest` graph built once per session into a temp channel.
* `tiny_channel`: a few tiny noarch: generic packages built once per session (real .conda
  files for the publish tests, and a non-empty channel to prove failures leave it untouched).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from forge import api
from forge.config import ForgeConfig
from tests.forge_testlib import REPO, generic_recipe, make_repo

TINY = [f"tiny{i}" for i in range(8)]


@pytest.fixture(scope="session", autouse=True)
def _forge_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The session's own download cache (the forge reads FORGE_CACHE when it runs)."""
    os.environ["FORGE_CACHE"] = os.environ.get("FORGE_TEST_CACHE") or str(tmp_path_factory.mktemp("forge-cache"))


@dataclass
class Built:
    config: ForgeConfig
    report: api.BuildReport

    @property
    def channel(self) -> Path:
        return self.config.channel_dir


@pytest.fixture(scope="session")
def built_pytest(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`api.build(["pytest"])` from the repo's recipes into a fresh temp channel, once."""
    tmp = tmp_path_factory.mktemp("pytest-channel")
    cfg = ForgeConfig.load(root=REPO, recipes_dir=REPO / "recipes", channel_dir=tmp / "channel",
                           state_dir=tmp / "state")
    report = api.build(["pytest"], cfg, jobs=os.cpu_count() or 2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
    return Built(cfg, report)


@pytest.fixture(scope="session")
def tiny_channel(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Eight tiny noarch: generic packages, built with rattler-build into a temp channel."""
    root = tmp_path_factory.mktemp("tiny")
    cfg = make_repo(root, {n: generic_recipe(n) for n in TINY})
    report = api.build(list(TINY), cfg, jobs=2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
    return Built(cfg, report)


@pytest.fixture()
def tiny_packages(tiny_channel: Built) -> list[Path]:
    """The tiny .conda files (in <channel>/noarch/, as publish() expects)."""
    pkgs = sorted((tiny_channel.channel / "noarch").glob("tiny*.conda"))
    assert len(pkgs) == len(TINY)
    return pkgs


@pytest.fixture()
def populated_channel(tiny_channel: Built, tmp_path: Path) -> Path:
    """A private copy of the tiny channel: non-empty, with repodata and a publish lock."""
    dest = tmp_path / "channel"
    shutil.copytree(tiny_channel.channel, dest)
    return dest
