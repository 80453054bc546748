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
from tests.support.testlib import forge_repo_config, REPO, generic_recipe, make_repo

TINY = [f"tiny{i}" for i in range(8)]

#: The fast tier (`pytest -m unit`): modules whose tests need no build root, redis, node or
#: network (they pass under `unshare -n`); a test among them that builds a channel or fetches
#: (a fixture below, or the `network` marker) stays in the full tier.
UNIT_MODULES = {
    "tests.test_layering", "tests.test_artifacts", "tests.test_render", "tests.test_graph", "tests.test_changed",
    "tests.test_lint", "tests.toolchain.test_units", "tests.toolchain.test_pyconfig", "tests.toolchain.test_target_pins",
    "tests.toolchain.test_mirror", "tests.toolchain.test_buildroot_detect", "tests.pyodide_view.test_units",
    "tests.platform.test_wasmcheck", "tests.test_fsutil", "tests.test_errors", "tests.test_bump", "tests.test_debian_sources",
    "tests.test_buildreqs", "tests.test_pkgconfig", "tests.test_recipes_doc", "tests.test_wasmtest_run",
}
BUILDING_FIXTURES = {"tiny_channel", "tiny_packages", "populated_channel", "built_pytest"}


#: Test folders that share an expensive session build run on one xdist worker (the
#: scheduler below), so each build happens once per run: the cold numpy build (tests/numpy,
#: tests/authors), the cross-built wasm channel (platform, view, lite), the farm's redis.
GROUPS = {"numpy": "numpy", "authors": "numpy", "platform": "wasm", "pyodide_view": "wasm", "lite": "wasm",
          "farm": "farm"}


def _ci_recipes() -> set[str] | None:
    """Recipes whose tests this run includes: None = all (FORGE_TEST_RECIPES=all); otherwise the
    core-tagged ones plus what changed since FORGE_CI_BASE (as `forge changed --core`)."""
    if os.environ.get("FORGE_TEST_RECIPES") == "all":
        return None
    from forge.changes import ci_selection, core  # noqa: PLC0415
    from forge.workspace import Workspace  # noqa: PLC0415

    ws = Workspace(ForgeConfig.load(root=REPO))
    base = os.environ.get("FORGE_CI_BASE")
    return set(ci_selection(ws, base)) if base else core(ws)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's load-scope scheduler with GROUPS as the scopes: a folder's tests go to one
    worker, every other test is its own unit (xdist's loadgroup marks do not reach pytest 9's
    node ids, so the grouping is done here)."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415

    class FolderGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            parts = nodeid.split("::", 1)[0].split("/")
            return GROUPS[parts[1]] if len(parts) > 2 and parts[1] in GROUPS else nodeid

    return FolderGroups(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected: set[str] | None | bool = False
    folders = {p.name for p in (REPO / "recipes").iterdir()}
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__ in UNIT_MODULES and not BUILDING_FIXTURES & set(
                getattr(item, "fixturenames", ())) and not item.get_closest_marker("network"):
            item.add_marker(pytest.mark.unit)
        mark = item.get_closest_marker("recipes")
        if mark is None:
            continue
        unknown = set(mark.args) - folders
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.recipes names no recipe folder {sorted(unknown)}")
        if selected is False:
            selected = _ci_recipes()
        if selected is not None and not set(mark.args) & selected:
            item.add_marker(pytest.mark.skip(
                reason=f"builds {', '.join(mark.args)}: not in CI's core set nor changed since FORGE_CI_BASE "
                       "(FORGE_TEST_RECIPES=all runs it)"))


@pytest.fixture(scope="session", autouse=True)
def _forge_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The session's own download cache (the forge reads FORGE_CACHE when it runs)."""
    os.environ["FORGE_CACHE"] = os.environ.get("FORGE_TEST_CACHE") or str(tmp_path_factory.mktemp("forge-cache"))
    # forge subprocesses started from a temp dir work on this repository unless a test names
    # another (forge_cli(root=...)); test_graph checks the discovery from the working directory
    os.environ.setdefault("FORGE_ROOT", str(REPO))


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
    cfg = forge_repo_config(tmp / "channel", tmp / "state")
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
