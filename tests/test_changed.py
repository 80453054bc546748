"""forge changed: the recipes a commit touches plus their dependents, in build order."""

from __future__ import annotations

import subprocess
from pathlib import Path

from forge.changes import affected, ci_selection, core
from forge.config import ForgeConfig
from forge.workspace import Workspace


def _recipe(root: Path, name: str, run: list[str], *, tags: str = "") -> None:
    folder = root / "recipes" / name
    folder.mkdir(parents=True, exist_ok=True)
    reqs = "".join(f"    - {r}\n" for r in run)
    (folder / "recipe.yaml").write_text(
        f"package:\n  name: {name}\n  version: \"1.0\"\nbuild:\n  noarch: generic\n  script:\n    - echo {name}\n"
        + (f"requirements:\n  run:\n{reqs}" if run else "")
        + "tests:\n  - script:\n      - echo ok\n"
        + (f"extra:\n  tags: {tags}\n" if tags else "")
    )


#: the forge's platform recipes, which every repository has (tagged core, and they use the pins)
PLATFORM = {"python", "pyodide-abi"}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_changed_recipe_and_dependents(tmp_path: Path) -> None:
    _recipe(tmp_path, "base", [])
    _recipe(tmp_path, "mid", ["base"])
    _recipe(tmp_path, "top", ["mid"])
    _recipe(tmp_path, "alone", [])
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=t", "add", ".")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=t", "commit", "-qm", "one")
    ws = lambda: Workspace(ForgeConfig.load(root=tmp_path, channel_dir=tmp_path / "ch", state_dir=tmp_path / "st"))  # noqa: E731
    assert affected(ws(), "HEAD") == []
    (tmp_path / "recipes" / "mid" / "recipe.yaml").write_text(
        (tmp_path / "recipes" / "mid" / "recipe.yaml").read_text().replace("echo mid", "echo mid2"))
    assert affected(ws(), "HEAD") == ["mid", "top"]
    _recipe(tmp_path, "fresh", ["alone"])  # untracked new recipe counts as changed
    order = affected(ws(), "HEAD")
    assert set(order) == {"mid", "top", "fresh"} and order.index("mid") < order.index("top")
    (tmp_path / "conda_build_config.yaml").write_text("python:\n  - \"3.14\"\n")
    _git(tmp_path, "add", "conda_build_config.yaml")
    assert set(affected(ws(), "HEAD")) == {"base", "mid", "top", "alone", "fresh"} | PLATFORM


def test_ci_builds_the_core_set_plus_what_changed(tmp_path: Path) -> None:
    """`forge changed --core`: the recipes tagged core, plus a change's recipes and dependents."""
    _recipe(tmp_path, "base", [], tags="[core]")
    _recipe(tmp_path, "mid", ["base"])
    _recipe(tmp_path, "top", ["mid"], tags="[core, other]")
    _recipe(tmp_path, "alone", [])
    _recipe(tmp_path, "leaf", ["alone"])
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=t", "add", ".")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=t", "commit", "-qm", "one")
    ws = lambda: Workspace(ForgeConfig.load(root=tmp_path, channel_dir=tmp_path / "ch", state_dir=tmp_path / "st"))  # noqa: E731
    assert core(ws()) == {"base", "top"} | PLATFORM
    for base in (None, "HEAD"):
        order = ci_selection(ws(), base)
        assert set(order) == {"base", "top"} | PLATFORM and order.index("pyodide-abi") < order.index("python")
    (tmp_path / "recipes" / "alone" / "recipe.yaml").write_text(
        (tmp_path / "recipes" / "alone" / "recipe.yaml").read_text().replace("echo alone", "echo alone2"))
    order = ci_selection(ws(), "HEAD")
    assert set(order) == {"base", "top", "alone", "leaf"} | PLATFORM and order.index("alone") < order.index("leaf")


def test_the_recipes_every_ci_run_builds_are_tagged_core() -> None:
    """What the unmarked tests build (the cold numpy, the wasm channel, the lite kernel) is the
    repo's core set; a test building anything else carries @pytest.mark.recipes."""
    from tests.support.testlib import REPO, WASM_COMPILED  # noqa: PLC0415
    from tests.lite.conftest import TARGETS  # noqa: PLC0415

    tagged = core(Workspace(ForgeConfig.load(root=REPO)))
    assert {"numpy", "python", "pytest", *WASM_COMPILED, *TARGETS} <= tagged
    assert len(tagged) <= 20, "the core set is CI's small always-built set"
